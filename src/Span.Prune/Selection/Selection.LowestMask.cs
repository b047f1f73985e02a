using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>
    /// Writes a keep/prune mask that prunes exactly <paramref name="pruneCount"/> units: the lowest scores, ties at the
    /// threshold pruned lowest index first.
    /// </summary>
    /// <param name="scores">One finite score per unit; higher = more important.</param>
    /// <param name="pruneCount">Units to prune, in <c>[0, scores.Length]</c> (see <see cref="PruneCount"/>).</param>
    /// <param name="mask">Receives <c>1</c> (keep) or <c>0</c> (prune) for the first <c>scores.Length</c> units.</param>
    /// <param name="scratch">Working memory of at least <see cref="ScratchLength(int)"/> floats, overlapping neither
    /// <paramref name="scores"/> nor <paramref name="mask"/>.</param>
    /// <returns>A <see cref="PruneReport"/> over the scores as units (<c>UnitCount = ElementCount = scores.Length</c>): the pruned count and the threshold <c>t</c> (largest pruned score; −∞ when nothing is pruned).</returns>
    /// <remarks>
    /// <para>Rule: with <c>t</c> the <c>pruneCount</c>-th smallest score, prune every unit with <c>s &lt; t</c>, then the
    /// units with <c>s == t</c> in ascending index order until exactly <paramref name="pruneCount"/> are pruned. This is
    /// identical to pruning the first <paramref name="pruneCount"/> (score, index) pairs of a stable ascending sort.</para>
    /// <para>Cost: one selection (see <see cref="KthSmallest(ReadOnlySpan{float}, int, Span{float})"/>) and one vectorised
    /// compare-and-narrow pass. The mask is written only after all scores were checked to be finite.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A score is NaN or ±∞ (<paramref name="scores"/>); <paramref name="mask"/> or
    /// <paramref name="scratch"/> is too short or overlaps an input.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, scores.Length]</c>.</exception>
    public static PruneReport LowestMask(ReadOnlySpan<float> scores, int pruneCount, Span<byte> mask, Span<float> scratch)
    {
        ValidateMask(scores, pruneCount, mask);
        if (scratch.Length < scores.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, scores.Length);
        if (scores.Overlaps(scratch) || SelectionCore.Overlaps(scratch, mask)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return LowestMaskCore(scores, pruneCount, mask, scratch);
    }

    /// <summary>
    /// Writes a keep/prune mask that prunes exactly <paramref name="pruneCount"/> units, with working memory from the
    /// shared array pool. See <see cref="LowestMask(ReadOnlySpan{float}, int, Span{byte}, Span{float})"/> for the rule.
    /// </summary>
    /// <param name="scores">One finite score per unit; higher = more important.</param>
    /// <param name="pruneCount">Units to prune, in <c>[0, scores.Length]</c>.</param>
    /// <param name="mask">Receives <c>1</c> (keep) or <c>0</c> (prune) for the first <c>scores.Length</c> units.</param>
    /// <returns>The report over the scores as units: the pruned count and the threshold (largest pruned score; −∞ when nothing is pruned).</returns>
    /// <exception cref="ArgumentException">A score is NaN or ±∞; <paramref name="mask"/> is too short or overlaps <paramref name="scores"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, scores.Length]</c>.</exception>
    public static PruneReport LowestMask(ReadOnlySpan<float> scores, int pruneCount, Span<byte> mask)
    {
        ValidateMask(scores, pruneCount, mask);
        return LowestMaskCore(scores, pruneCount, mask, default);
    }

    private static void ValidateMask(ReadOnlySpan<float> scores, int pruneCount, Span<byte> mask)
    {
        if (mask.Length < scores.Length) ThrowHelper.ThrowDestinationTooShort(nameof(mask), mask.Length, scores.Length);
        if (SelectionCore.Overlaps(scores, mask)) ThrowHelper.ThrowOverlap(nameof(mask));
        if ((uint)pruneCount > (uint)scores.Length) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, scores.Length);
    }

    private static PruneReport LowestMaskCore(ReadOnlySpan<float> scores, int pruneCount, Span<byte> mask, Span<float> scratch)
    {
        float t = float.NegativeInfinity;
        int ties = 0;
        if (pruneCount == 0)
        {
            SelectionCore.EnsureFinite(scores, nameof(scores));
        }
        else
        {
            t = SelectionCore.Select<SignedKey>(scores, pruneCount - 1, scratch, nameof(scores), out int less);
            ties = pruneCount - less;
        }
        ThresholdMask.WriteMask(scores, t, ties, mask);
        return new PruneReport(scores.Length, pruneCount, scores.Length, pruneCount, t);
    }
}
