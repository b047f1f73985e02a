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
        unitMask = CheckUnits(weights, shape, granularity, unitMask, nameof(RandomNM));
        Selection.PruneCount(unitMask.Length, sparsity); // the sparsity is checked before any work
        using SpanOwner<float> scores = SpanOwner<float>.Allocate(unitMask.Length);
        Scoring.Random(scores.Span, seed);
        return SelectUnits(weights, scores.Span, shape, granularity, sparsity, unitMask);
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
        elementMask = CheckNM(weights, shape, granularity, elementMask);
        using SpanOwner<float> scores = SpanOwner<float>.Allocate(weights.Length);
        Scoring.Random(scores.Span, seed);
        return SelectNM(weights, scores.Span, shape, granularity, elementMask);
    }
}
