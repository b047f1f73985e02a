using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>
    /// Zeroes exactly <paramref name="pruneCount"/> weights: those with the lowest scores, ties at the threshold pruned
    /// lowest index first (the rule of <see cref="LowestMask(ReadOnlySpan{float}, int, Span{byte}, Span{float})"/>).
    /// </summary>
    /// <param name="weights">The weights, modified in place.</param>
    /// <param name="scores">One finite score per weight. May be exactly the same memory as <paramref name="weights"/>
    /// (then the lowest signed weights are pruned); any other overlap is rejected.</param>
    /// <param name="pruneCount">Weights to prune, in <c>[0, weights.Length]</c>.</param>
    /// <param name="scratch">Working memory of at least <see cref="ScratchLength(int)"/> floats, overlapping neither span.</param>
    /// <returns>The threshold (largest pruned score; −∞ when nothing is pruned) and the pruned count.</returns>
    /// <remarks>Pruned weights become <c>+0</c>. Already-zero weights count as pruned only if selected by their score.</remarks>
    /// <exception cref="ArgumentException">Lengths differ (<paramref name="scores"/>); a score is NaN or ±∞; the spans
    /// overlap other than exactly; <paramref name="scratch"/> is too short or overlaps.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, weights.Length]</c>.</exception>
    public static SelectionResult PruneLowestInPlace(Span<float> weights, ReadOnlySpan<float> scores, int pruneCount, Span<float> scratch)
    {
        ValidatePruneLowest(weights, scores, pruneCount);
        if (scratch.Length < scores.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, scores.Length);
        if (scores.Overlaps(scratch) || weights.Overlaps(scratch)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return PruneLowestCore(weights, scores, pruneCount, scratch);
    }

    /// <summary>
    /// Zeroes exactly <paramref name="pruneCount"/> weights with the lowest scores, with working memory from the shared
    /// array pool. See <see cref="PruneLowestInPlace(Span{float}, ReadOnlySpan{float}, int, Span{float})"/>.
    /// </summary>
    /// <param name="weights">The weights, modified in place.</param>
    /// <param name="scores">One finite score per weight (may be exactly <paramref name="weights"/>).</param>
    /// <param name="pruneCount">Weights to prune, in <c>[0, weights.Length]</c>.</param>
    /// <returns>The threshold (largest pruned score; −∞ when nothing is pruned) and the pruned count.</returns>
    /// <exception cref="ArgumentException">Lengths differ; a score is NaN or ±∞; the spans overlap other than exactly.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, weights.Length]</c>.</exception>
    public static SelectionResult PruneLowestInPlace(Span<float> weights, ReadOnlySpan<float> scores, int pruneCount)
    {
        ValidatePruneLowest(weights, scores, pruneCount);
        return PruneLowestCore(weights, scores, pruneCount, default);
    }

    private static void ValidatePruneLowest(Span<float> weights, ReadOnlySpan<float> scores, int pruneCount)
    {
        if (scores.Length != weights.Length) ThrowHelper.ThrowLengthMismatch(nameof(scores), scores.Length, weights.Length);
        if (scores.Overlaps(weights, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(nameof(weights));
        if ((uint)pruneCount > (uint)weights.Length) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, weights.Length);
    }

    private static SelectionResult PruneLowestCore(Span<float> weights, ReadOnlySpan<float> scores, int pruneCount, Span<float> scratch)
    {
        if (pruneCount == 0)
        {
            SelectionCore.EnsureFinite(scores, nameof(scores));
            return new SelectionResult(float.NegativeInfinity, 0);
        }
        float t = SelectionCore.Select<SignedKey>(scores, pruneCount - 1, scratch, nameof(scores), out int less);
        ThresholdMask.ZeroWeights<SignedKey>(weights, scores, t, pruneCount - less);
        return new SelectionResult(t, pruneCount);
    }
}
