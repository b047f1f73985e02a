using Span.Prune.Lab.Training;
using Span.Prune.Sparse;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Physically removes pruned units from a reference network with the core's unit-removal helpers
/// (<see cref="UnitRemoval.RemoveUnits"/>, <see cref="BatchNormParameters"/>), and checks that the smaller network
/// predicts exactly what the masked one does.
/// </summary>
/// <remarks>
/// A removed unit is one whose output is exactly zero after its nonlinearity in the masked network: its weight row,
/// bias (and BatchNorm γ, β) are zero. Removing it drops its row, its bias, its BatchNorm entries, and the consumer's
/// input columns it feeds (one column for a linear consumer, 3·3 for conv2, the 49 positions of the 7×7 map for the
/// classifier).
/// </remarks>
public static class NetworkShrink
{
    /// <summary>The cnn with the channels where <paramref name="keep1"/> / <paramref name="keep2"/> are 0 removed.</summary>
    /// <param name="source">The masked cnn (pruned channels zeroed).</param>
    /// <param name="keep1">One byte per conv1 channel, 1 = keep.</param>
    /// <param name="keep2">One byte per conv2 channel, 1 = keep.</param>
    /// <param name="maxBatch">Largest batch of the new network.</param>
    /// <returns>A <see cref="CnnNetwork"/> with the kept channel counts and the kept weights and statistics.</returns>
    public static CnnNetwork ShrinkCnn(CnnNetwork source, ReadOnlySpan<byte> keep1, ReadOnlySpan<byte> keep2, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(source);
        int c1 = source.Channels1, c2 = source.Channels2;
        if (keep1.Length != c1 || keep2.Length != c2) throw new ArgumentException("A keep mask does not match the channel count.");
        IReadOnlyList<PrunableLayer> l = source.Layers;
        ShrunkDense conv1 = Whole(l[0]), conv2 = Whole(l[1]), fc = Whole(l[2]);
        UnitRemoval first = UnitRemoval.RemoveUnits(conv1, conv2, keep1, Norm(l[0]), consumerKernelSize: 9);
        UnitRemoval second = UnitRemoval.RemoveUnits(first.Consumer, fc, keep2, Norm(l[1]), consumerKernelSize: 49);
        int k1 = first.Producer.Rows, k2 = second.Producer.Rows;
        var target = new CnnNetwork(maxBatch, k1, k2);
        IReadOnlyList<PrunableLayer> t = target.Layers;
        CopyChain(l, t, first, second, keep1, keep2);
        CopyNorm(first.Norm!, t[0]);
        CopyNorm(second.Norm!, t[1]);
        return target;
    }

    /// <summary>The mlp with the hidden neurons where <paramref name="keep1"/> / <paramref name="keep2"/> are 0 removed.</summary>
    /// <param name="source">The masked mlp (pruned neurons' rows and biases zeroed).</param>
    /// <param name="keep1">One byte per fc1 neuron, 1 = keep.</param>
    /// <param name="keep2">One byte per fc2 neuron, 1 = keep.</param>
    /// <param name="maxBatch">Largest batch of the new network.</param>
    /// <returns>An <see cref="MlpNetwork"/> with the kept widths and weights.</returns>
    public static MlpNetwork ShrinkMlp(MlpNetwork source, ReadOnlySpan<byte> keep1, ReadOnlySpan<byte> keep2, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (keep1.Length != source.Hidden1 || keep2.Length != source.Layers[1].Units) throw new ArgumentException("A keep mask does not match the layer width.");
        IReadOnlyList<PrunableLayer> l = source.Layers;
        UnitRemoval first = UnitRemoval.RemoveUnits(Whole(l[0]), Whole(l[1]), keep1);
        UnitRemoval second = UnitRemoval.RemoveUnits(first.Consumer, Whole(l[2]), keep2);
        var target = new MlpNetwork(maxBatch, first.Producer.Rows, second.Producer.Rows);
        CopyChain(l, target.Layers, first, second, keep1, keep2);
        return target;
    }

    /// <summary>
    /// Both networks are a chain of three layers with two removals between them: the shrunk weights of the removals
    /// and the kept entries of the two hidden layers' biases go to <paramref name="target"/>; the last bias is whole.
    /// </summary>
    private static void CopyChain(IReadOnlyList<PrunableLayer> source, IReadOnlyList<PrunableLayer> target,
        UnitRemoval first, UnitRemoval second, ReadOnlySpan<byte> keep1, ReadOnlySpan<byte> keep2)
    {
        Copy(first.Producer.Weights, target[0].Weight);
        Copy(second.Producer.Weights, target[1].Weight);
        Copy(second.Consumer.Weights, target[2].Weight);
        UnitRemoval.RemoveEntries(source[0].Bias.Values.Span, keep1, target[0].Bias.Values.Span);
        UnitRemoval.RemoveEntries(source[1].Bias.Values.Span, keep2, target[1].Bias.Values.Span);
        source[2].Bias.Values.Span.CopyTo(target[2].Bias.Values.Span);
    }

    /// <summary>
    /// Throws unless <paramref name="shrunk"/> predicts the same class as <paramref name="masked"/> on each of the
    /// <paramref name="count"/> images.
    /// </summary>
    /// <param name="masked">The full-size masked network.</param>
    /// <param name="shrunk">The network with the pruned units removed.</param>
    /// <param name="images">Pixels, <c>count·784</c>.</param>
    /// <param name="count">Images.</param>
    /// <exception cref="InvalidOperationException">A prediction differs (the message names the first image).</exception>
    public static void CheckSamePredictions(ReferenceNetwork masked, ReferenceNetwork shrunk, ReadOnlySpan<byte> images, int count)
    {
        ArgumentNullException.ThrowIfNull(masked);
        ArgumentNullException.ThrowIfNull(shrunk);
        byte[] a = new byte[count], b = new byte[count];
        masked.Predict(images, count, a);
        shrunk.Predict(images, count, b);
        int first = a.AsSpan().CommonPrefixLength(b);
        if (first < count)
            throw new InvalidOperationException($"The shrunk network predicts {b[first]} on image {first}, the masked one {a[first]}.");
    }

    /// <summary>Weights plus biases of a network's layers (BatchNorm parameters not counted, as in the dense rows).</summary>
    /// <param name="network">The network.</param>
    /// <returns>The parameter count.</returns>
    public static long Parameters(ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.Layers.Sum(l => (long)l.Weight.Length + l.Bias.Length);
    }

    /// <summary>Multiply-adds per image: weight elements times output positions (28² for conv1, 14² for conv2, 1 for a linear layer).</summary>
    /// <param name="network">The network.</param>
    /// <returns>MACs per image.</returns>
    public static long Macs(ReferenceNetwork network) => DenseExperiment.DenseMacs(network);

    private static ShrunkDense Whole(PrunableLayer layer) =>
        ShrunkDense.FromDense(layer.Weight.Values.Span, layer.Units, layer.Shape.RowLength, [], []);

    private static BatchNormParameters? Norm(PrunableLayer layer) => layer.BatchNormScale is null ? null
        : new BatchNormParameters(layer.BatchNormScale.Values.Span, layer.BatchNormShift!.Values.Span,
            layer.RunningMean!.Values.Span, layer.RunningVariance!.Values.Span);

    private static void Copy(ReadOnlySpan<float> values, NetworkTensor tensor)
    {
        if (values.Length != tensor.Length) throw new InvalidOperationException($"{tensor.Name}: {values.Length} values for {tensor.Length} elements.");
        values.CopyTo(tensor.Values.Span);
    }

    private static void CopyNorm(BatchNormParameters norm, PrunableLayer layer)
    {
        Copy(norm.Gamma, layer.BatchNormScale!);
        Copy(norm.Beta, layer.BatchNormShift!);
        Copy(norm.RunningMean, layer.RunningMean!);
        Copy(norm.RunningVariance, layer.RunningVariance!);
    }
}
