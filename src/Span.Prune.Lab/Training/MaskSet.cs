namespace Span.Prune.Lab.Training;

/// <summary>
/// Pruning masks over a network's trainable tensors, one byte per element (non-zero = keep, 0 = prune, the core's
/// <see cref="Masking"/> convention), re-applied by the trainer after every optimiser step so that pruned entries stay
/// exactly zero through fine-tuning.
/// </summary>
/// <remarks>
/// A tensor without a mask is left alone. <see cref="Restrict"/> intersects a new mask with the one already held, so
/// element and unit masks compose. <see cref="RestrictUnits"/> expands a per-output-unit mask to the unit's weight row
/// (every input, every kernel position), its bias and, when a BatchNorm follows, its γ and β.
/// </remarks>
public sealed class MaskSet
{
    private readonly byte[]?[] _masks;

    /// <summary>An empty mask set (everything kept) for <paramref name="network"/>.</summary>
    public MaskSet(ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        Network = network;
        _masks = new byte[network.Tensors.Count][];
    }

    /// <summary>The network whose tensors the masks cover.</summary>
    public ReferenceNetwork Network { get; }

    /// <summary>The mask of <paramref name="tensor"/>, or empty when it has none.</summary>
    public ReadOnlySpan<byte> MaskOf(NetworkTensor tensor) => _masks[Own(tensor).Index];

    /// <summary>Keeps only elements of <paramref name="tensor"/> where both the current mask and <paramref name="keep"/> are non-zero.</summary>
    /// <exception cref="ArgumentException">The tensor is not a trainable tensor of <see cref="Network"/>, or the length differs.</exception>
    public void Restrict(NetworkTensor tensor, ReadOnlySpan<byte> keep)
    {
        Own(tensor);
        if (!tensor.IsTrainable) throw new ArgumentException($"{tensor.Name} is a buffer, not a parameter.", nameof(tensor));
        if (keep.Length != tensor.Length) throw new ArgumentException($"Mask length {keep.Length} does not match {tensor.Name} ({tensor.Length}).", nameof(keep));
        byte[] mask = _masks[tensor.Index] ??= Ones(tensor.Length);
        for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(mask[i] != 0 && keep[i] != 0 ? 1 : 0);
    }

    /// <summary>
    /// Prunes whole output units of <paramref name="layer"/>: where <c>unitKeep[u] == 0</c>, weight row <c>u</c>,
    /// <c>bias[u]</c> and (if present) BatchNorm <c>γ[u]</c>, <c>β[u]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The layer is not of <see cref="Network"/>, or the length is not the unit count.</exception>
    public void RestrictUnits(PrunableLayer layer, ReadOnlySpan<byte> unitKeep)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if ((uint)layer.Index >= (uint)Network.Layers.Count || !ReferenceEquals(Network.Layers[layer.Index], layer))
            throw new ArgumentException("The layer belongs to another network.", nameof(layer));
        if (unitKeep.Length != layer.Units) throw new ArgumentException($"Unit mask length {unitKeep.Length} does not match {layer.Units} units.", nameof(unitKeep));
        byte[] rows = new byte[layer.Weight.Length];
        Masking.ExpandUnitMask(unitKeep, layer.Shape, Granularity.Row, rows);
        Restrict(layer.Weight, rows);
        Restrict(layer.Bias, unitKeep);
        if (layer.BatchNormScale is { } g) Restrict(g, unitKeep);
        if (layer.BatchNormShift is { } b) Restrict(b, unitKeep);
    }

    /// <summary>Removes every mask.</summary>
    public void Clear() => Array.Clear(_masks);

    /// <summary>Zeroes every masked element of the network's parameters (<see cref="Masking.Apply(Span{float}, ReadOnlySpan{byte})"/>).</summary>
    public void Apply()
    {
        for (int i = 0; i < _masks.Length; i++)
        {
            if (_masks[i] is { } mask) Masking.Apply(Network.Tensors[i].Values.Span, mask);
        }
    }

    /// <summary>Pruned elements over all masks.</summary>
    public long CountPruned()
    {
        long n = 0;
        foreach (var m in _masks)
            if (m is not null) n += m.Length - Masking.CountKept(m);
        return n;
    }

    private NetworkTensor Own(NetworkTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if ((uint)tensor.Index >= (uint)_masks.Length || !ReferenceEquals(Network.Tensors[tensor.Index], tensor))
            throw new ArgumentException("The tensor belongs to another network.", nameof(tensor));
        return tensor;
    }

    private static byte[] Ones(int n)
    {
        var a = new byte[n];
        a.AsSpan().Fill(1);
        return a;
    }
}
