using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// Prunes one layer at any granularity except N:M: unit scores with <typeparamref name="TCriterion"/> reduced by
    /// <typeparamref name="TReduction"/>, the lowest <c>round-half-even(s·units)</c> units pruned, the mask applied.
    /// </summary>
    /// <typeparam name="TCriterion">Element criterion, e.g. <see cref="MagnitudeCriterion"/>, <see cref="TaylorCriterion"/>, <see cref="ObdCriterion"/>.</typeparam>
    /// <typeparam name="TReduction">Group reduction, e.g. <see cref="L1Reduction"/>, <see cref="L2Reduction"/> (ignored for Element).</typeparam>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="statistic">Per-weight statistic the criterion reads (gradient, Hessian diagonal); empty if none.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Unit of pruning; use <see cref="NM{TCriterion}"/> for N:M.</param>
    /// <param name="sparsity">Fraction of units to prune, in [0, 1].</param>
    /// <param name="unitMask">Receives the unit mask (1 keep, 0 pruned), <c>granularity.UnitCount(shape)</c> bytes; keep
    /// it to re-apply after weight updates with <see cref="Masking.ApplyUnitMask"/>.</param>
    /// <exception cref="ArgumentException">Lengths, granularity (N:M, or not dividing the shape), or NaN/±∞ inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Layer<TCriterion, TReduction>(Span<float> weights, ReadOnlySpan<float> statistic, WeightShape shape,
        Granularity granularity, double sparsity, Span<byte> unitMask)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        unitMask = CheckUnits(weights, shape, granularity, unitMask, nameof(NM));
        Selection.PruneCount(unitMask.Length, sparsity); // the sparsity is checked before any work

        using SpanOwner<float> rented = SpanOwner<float>.Allocate(unitMask.Length);
        Span<float> scores = rented.Span;
        if (granularity.Kind == GranularityKind.Element) Scoring.Elementwise<TCriterion>(weights, statistic, scores);
        else Scoring.Group<TCriterion, TReduction>(weights, statistic, shape, granularity, scores);
        return SelectUnits(weights, scores, shape, granularity, sparsity, unitMask);
    }
}
