using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// The random baseline: prunes <c>round-half-even(s·units)</c> units chosen uniformly at random from
    /// <paramref name="seed"/>, at any granularity except N:M (use <see cref="RandomNM"/>).
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Unit of pruning.</param>
    /// <param name="sparsity">Fraction of units to prune, in [0, 1].</param>
    /// <param name="seed">Seed of <see cref="Scoring.Random"/>; the same seed gives the same mask on every machine and ISA.</param>
    /// <param name="unitMask">Receives the unit mask, at least <c>granularity.UnitCount(shape)</c> bytes.</param>
    /// <returns>What was pruned; the threshold is the largest pruned random score.</returns>
    /// <exception cref="ArgumentException">Lengths, or the granularity is N:M or does not divide the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Random(Span<float> weights, WeightShape shape, Granularity granularity, double sparsity, ulong seed, Span<byte> unitMask)
    {
        if (granularity.Kind == GranularityKind.NM)
            ThrowHelper.ThrowArgument(nameof(granularity), "N:M fixes the kept count per group; use Pruning.RandomNM instead of a sparsity.");
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        int units = granularity.UnitCount(shape);
        if (unitMask.Length < units) ThrowHelper.ThrowDestinationTooShort(nameof(unitMask), unitMask.Length, units);
        unitMask = unitMask[..units];

        using SpanOwner<float> scores = SpanOwner<float>.Allocate(units);
        Scoring.Random(scores.Span, seed);
        SelectionResult r = Selection.LowestMask(scores.Span, Selection.PruneCount(units, sparsity), unitMask);
        Masking.ApplyUnitMask(weights, unitMask, shape, granularity);
        return new PruneReport(units, r.Pruned, weights.Length, (long)r.Pruned * granularity.UnitSize(shape), r.Threshold);
    }

    /// <summary>The random baseline at N:M: keeps N random weights of every M consecutive weights of a row.</summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="shape">The weight's shape; M must divide <c>shape.RowLength</c>.</param>
    /// <param name="granularity">An N:M granularity.</param>
    /// <param name="seed">Seed of <see cref="Scoring.Random"/>.</param>
    /// <param name="elementMask">Receives the element mask, at least <c>shape.ElementCount</c> bytes.</param>
    /// <returns>What was pruned (no single threshold: NaN).</returns>
    /// <exception cref="ArgumentException">Not N:M, M does not divide the row, or lengths.</exception>
    public static PruneReport RandomNM(Span<float> weights, WeightShape shape, Granularity granularity, ulong seed, Span<byte> elementMask)
    {
        if (granularity.Kind != GranularityKind.NM) ThrowHelper.ThrowArgument(nameof(granularity), $"Expected an N:M granularity, got {granularity}.");
        granularity.Validate(shape);
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (elementMask.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(elementMask), elementMask.Length, shape.ElementCount);
        elementMask = elementMask[..shape.ElementCount];

        using SpanOwner<float> scores = SpanOwner<float>.Allocate(weights.Length);
        Scoring.Random(scores.Span, seed);
        Selection.NmMask(scores.Span, shape, granularity, elementMask);
        Masking.Apply(weights, elementMask);
        long pruned = (long)weights.Length / granularity.M * (granularity.M - granularity.N);
        return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
    }
}
