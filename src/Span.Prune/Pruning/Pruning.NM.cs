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
        if (granularity.Kind != GranularityKind.NM) ThrowHelper.ThrowArgument(nameof(granularity), $"Expected an N:M granularity, got {granularity}.");
        granularity.Validate(shape);
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (elementMask.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(elementMask), elementMask.Length, shape.ElementCount);
        elementMask = elementMask[..shape.ElementCount];

        using SpanOwner<float> rented = SpanOwner<float>.Allocate(weights.Length);
        Span<float> scores = rented.Span.Slice(0, weights.Length);
        Scoring.Elementwise<TCriterion>(weights, statistic, scores);
        Selection.NmMask(scores, shape, granularity, elementMask);
        Masking.Apply(weights, elementMask);
        long pruned = (long)weights.Length / granularity.M * (granularity.M - granularity.N);
        return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
    }
}
