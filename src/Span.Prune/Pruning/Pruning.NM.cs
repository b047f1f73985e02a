using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// N:M semi-structured pruning: in every run of M consecutive weights of a row, keeps the N of highest
    /// <typeparamref name="TCriterion"/> score (ties: the lower index is pruned first).
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="statistic">Per-weight statistic the criterion reads; empty if none.</param>
    /// <param name="shape">The weight's shape; M must divide <c>shape.RowLength</c>.</param>
    /// <param name="granularity">An N:M granularity.</param>
    /// <param name="elementMask">Receives the element mask, <c>shape.ElementCount</c> bytes.</param>
    /// <exception cref="ArgumentException">Not N:M, M does not divide the row, lengths, or NaN/±∞ inputs.</exception>
    public static PruneReport NM<TCriterion>(Span<float> weights, ReadOnlySpan<float> statistic, WeightShape shape,
        Granularity granularity, Span<byte> elementMask)
        where TCriterion : struct, IElementCriterion
    {
        elementMask = CheckNM(weights, shape, granularity, elementMask);
        using SpanOwner<float> scores = SpanOwner<float>.Allocate(weights.Length);
        Scoring.Elementwise<TCriterion>(weights, statistic, scores.Span);
        return SelectNM(weights, scores.Span, shape, granularity, elementMask);
    }
}
