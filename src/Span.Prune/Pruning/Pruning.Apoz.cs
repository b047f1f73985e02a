using CommunityToolkit.HighPerformance.Buffers;
using System.Numerics.Tensors;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// APoZ (Hu et al. 2016, "Network Trimming"): prunes the <c>round-half-even(s·Out)</c> output units (rows) whose
    /// activations are most often zero after the nonlinearity.
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place: a pruned unit's row becomes zero.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="apoz">Average Percentage of Zeros per output unit, <c>shape.Out</c> finite values (from
    /// <see cref="ActivationAccumulator.CopyApozTo"/>).</param>
    /// <param name="sparsity">Fraction of units to prune, in [0, 1].</param>
    /// <param name="rowMask">Receives the unit mask (1 keep, 0 pruned), at least <c>shape.Out</c> bytes; re-apply it with
    /// <see cref="Masking.ApplyUnitMask"/> and <see cref="Granularity.Row"/>, and zero the unit's bias too.</param>
    /// <returns>What was pruned; the threshold is the smallest pruned APoZ.</returns>
    /// <remarks>The score is −APoZ (negation is exact, so the order of the APoZ values is kept bit for bit): the highest
    /// APoZ goes first, ties at the threshold lowest index first.</remarks>
    /// <exception cref="ArgumentException">Lengths, or NaN/±∞ in <paramref name="apoz"/> (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Apoz(Span<float> weights, WeightShape shape, ReadOnlySpan<float> apoz, double sparsity, Span<byte> rowMask)
    {
        CheckWeights(weights, shape);
        if (apoz.Length != shape.Out) ThrowHelper.ThrowLengthMismatch(nameof(apoz), apoz.Length, shape.Out);
        rowMask = CheckRows(rowMask, shape, nameof(rowMask));
        int bad = FiniteScan.IndexOfNonFinite(apoz);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(apoz), bad);

        using SpanOwner<float> scores = SpanOwner<float>.Allocate(shape.Out);
        TensorPrimitives.Negate(apoz, scores.Span);
        PruneReport report = SelectUnits(weights, scores.Span, shape, Granularity.Row, sparsity, rowMask);
        return report with { Threshold = -report.Threshold };
    }
}
