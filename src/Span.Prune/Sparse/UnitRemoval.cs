using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// The layers after removing units, and the operations that remove them. Structural dependencies between layers: an
/// output unit of one layer is an input of the next, so removing it must remove the matching weights everywhere it
/// appears (the dependency graph of Torch-Pruning, for a chain).
/// </summary>
/// <param name="Producer">The producing layer with the removed rows gone.</param>
/// <param name="Consumer">The consuming layer with the matching input columns gone.</param>
/// <param name="Norm">The BatchNorm in between with the matching channels gone (null when there was none).</param>
public readonly record struct UnitRemoval(ShrunkDense Producer, ShrunkDense Consumer, BatchNormParameters? Norm)
{
    /// <summary>
    /// Removes output units of <paramref name="producer"/> (its rows), the entries of <paramref name="norm"/> for the
    /// same channels, and the input columns of <paramref name="consumer"/> they feed.
    /// </summary>
    /// <param name="producer">Layer A; its current row <c>j</c> is unit <c>j</c>.</param>
    /// <param name="consumer">Layer B; unit <c>j</c> feeds its current columns <c>[j·K, (j+1)·K)</c>, K = <paramref name="consumerKernelSize"/>.</param>
    /// <param name="keep">One byte per current unit of A, 1 = keep (length <c>producer.Rows</c>).</param>
    /// <param name="norm">Optional BatchNorm between A and B (length <c>producer.Rows</c>).</param>
    /// <param name="consumerKernelSize">Columns of B per unit: 1 for a linear layer, kh·kw for a convolution (OIHW, 2-D view).</param>
    /// <returns>The shrunk layers; the inputs are not modified.</returns>
    /// <exception cref="ArgumentException">The unit counts of the three layers and the mask disagree.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="consumerKernelSize"/> is not positive.</exception>
    public static UnitRemoval RemoveUnits(ShrunkDense producer, ShrunkDense consumer, ReadOnlySpan<byte> keep, BatchNormParameters? norm = null, int consumerKernelSize = 1)
    {
        ArgumentNullException.ThrowIfNull(producer);
        ArgumentNullException.ThrowIfNull(consumer);
        if (consumerKernelSize <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(consumerKernelSize), "The kernel size must be positive.");
        int units = producer.Rows;
        if (keep.Length != units) ThrowHelper.ThrowLengthMismatch(nameof(keep), keep.Length, units);
        if ((long)units * consumerKernelSize != consumer.Columns)
            ThrowHelper.ThrowArgument(nameof(consumer), $"The consumer has {consumer.Columns} columns but the producer has {units} units × kernel size {consumerKernelSize}.");
        if (norm is not null && norm.Count != units) ThrowHelper.ThrowLengthMismatch(nameof(norm), norm.Count, units);

        byte[] columnKeep = new byte[consumer.Columns];
        for (int j = 0; j < units; j++)
            columnKeep.AsSpan(j * consumerKernelSize, consumerKernelSize).Fill(keep[j] != 0 ? (byte)1 : (byte)0);
        return new UnitRemoval(producer.RemoveRows(keep), consumer.RemoveColumns(columnKeep), norm?.RemoveUnits(keep));
    }

    /// <summary>Copies <c>vector[i]</c> for every <c>keep[i] != 0</c>, in order (for a bias or any per-unit vector).</summary>
    /// <returns>The number of entries written.</returns>
    /// <exception cref="ArgumentException">The lengths differ, or <paramref name="destination"/> is shorter than the kept count.</exception>
    public static int RemoveEntries(ReadOnlySpan<float> vector, ReadOnlySpan<byte> keep, Span<float> destination)
    {
        if (keep.Length != vector.Length) ThrowHelper.ThrowLengthMismatch(nameof(keep), keep.Length, vector.Length);
        int kept = Masking.CountKept(keep);
        if (destination.Length < kept) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, kept);
        for (int i = 0, k = 0; i < vector.Length; i++) if (keep[i] != 0) destination[k++] = vector[i];
        return kept;
    }
}
