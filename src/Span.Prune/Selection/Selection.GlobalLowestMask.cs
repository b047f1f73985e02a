using System.Buffers;
using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>
    /// Global exact-k selection across many tensors: prunes exactly <paramref name="pruneCount"/> units of the
    /// concatenated <paramref name="scores"/>, optionally capping how many any one segment (layer) may lose.
    /// </summary>
    /// <param name="scores">The scores of all segments, concatenated in segment order; all finite.</param>
    /// <param name="segmentLengths">Units per segment (each ≥ 0); they must sum to <c>scores.Length</c>.</param>
    /// <param name="pruneCount">Units to prune in total, in <c>[0, scores.Length]</c>.</param>
    /// <param name="mask">Receives 1 (keep) or 0 (prune) per unit, concatenated like <paramref name="scores"/>.</param>
    /// <param name="scratch">Working memory of at least <see cref="ScratchLength(int)"/> floats (for the total unit
    /// count), overlapping neither <paramref name="scores"/> nor <paramref name="mask"/>.</param>
    /// <param name="maxSegmentSparsity">The per-segment cap, finite in <c>[0, 1]</c>; 1 means uncapped.</param>
    /// <returns>A <see cref="PruneReport"/> over all scores as units: the pruned count and the largest pruned score (−∞ when nothing is pruned).</returns>
    /// <remarks>
    /// <para><b>Uncapped</b>: exactly <see cref="LowestMask(ReadOnlySpan{float}, int, Span{byte}, Span{float})"/> on the
    /// concatenation; ties at the threshold are pruned in global index order (segment order, then index).</para>
    /// <para><b>Capped</b>: segment <c>s</c> of <c>n_s</c> units loses at most <c>c_s = ⌊cap·n_s⌋</c> units, the floor
    /// taken on the decimal value of <paramref name="maxSegmentSparsity"/> (15 significant digits, so 0.29·100 is 29, not
    /// the 28 a binary product would floor to). The result is the greedy one: walk all units in ascending
    /// (score, global index) order and prune each unless its segment already lost <c>c_s</c>, until exactly
    /// <paramref name="pruneCount"/> are pruned. So a capped segment prunes its own <c>c_s</c> lowest units, and the
    /// units it could not give are taken from the others at a higher global threshold.</para>
    /// <para>Cost: one selection and one mask pass; with a cap, one counting pass more, and when a cap binds, one more
    /// selection over the uncapped segments per round of newly capped segments (rounds ≤ segment count, usually 1–2).
    /// Those extra selections take working memory from the shared array pool.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The segment lengths are negative or do not sum to <c>scores.Length</c>
    /// (<paramref name="segmentLengths"/>); the caps allow fewer than <paramref name="pruneCount"/> units in total
    /// (<paramref name="maxSegmentSparsity"/>); a score is NaN or ±∞; <paramref name="mask"/> or
    /// <paramref name="scratch"/> is too short or overlaps.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, scores.Length]</c>,
    /// or <paramref name="maxSegmentSparsity"/> is NaN, infinite or outside <c>[0, 1]</c>.</exception>
    public static PruneReport GlobalLowestMask(ReadOnlySpan<float> scores, ReadOnlySpan<int> segmentLengths, int pruneCount,
        Span<byte> mask, Span<float> scratch, double maxSegmentSparsity = 1.0)
    {
        ValidateGlobal(scores, segmentLengths, pruneCount, mask, maxSegmentSparsity);
        if (scratch.Length < scores.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, scores.Length);
        if (scores.Overlaps(scratch) || SelectionCore.Overlaps(scratch, mask)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return GlobalCore(scores, segmentLengths, pruneCount, mask, scratch, maxSegmentSparsity);
    }

    /// <summary>
    /// Global exact-k selection across many tensors with working memory from the shared array pool. See
    /// <see cref="GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, Span{float}, double)"/>.
    /// </summary>
    /// <param name="scores">The scores of all segments, concatenated in segment order; all finite.</param>
    /// <param name="segmentLengths">Units per segment (each ≥ 0); they must sum to <c>scores.Length</c>.</param>
    /// <param name="pruneCount">Units to prune in total, in <c>[0, scores.Length]</c>.</param>
    /// <param name="mask">Receives 1 (keep) or 0 (prune) per unit.</param>
    /// <param name="maxSegmentSparsity">The per-segment cap <c>⌊cap·n_s⌋</c>, finite in <c>[0, 1]</c>; 1 means uncapped.</param>
    /// <returns>A <see cref="PruneReport"/> over all scores as units: the pruned count and the largest pruned score (−∞ when nothing is pruned).</returns>
    /// <exception cref="ArgumentException">Bad segment lengths; infeasible caps; a NaN/±∞ score; <paramref name="mask"/> too short or overlapping.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> or <paramref name="maxSegmentSparsity"/> out of range.</exception>
    public static PruneReport GlobalLowestMask(ReadOnlySpan<float> scores, ReadOnlySpan<int> segmentLengths, int pruneCount,
        Span<byte> mask, double maxSegmentSparsity = 1.0)
    {
        ValidateGlobal(scores, segmentLengths, pruneCount, mask, maxSegmentSparsity);
        return GlobalCore(scores, segmentLengths, pruneCount, mask, default, maxSegmentSparsity);
    }

    private static void ValidateGlobal(ReadOnlySpan<float> scores, ReadOnlySpan<int> segmentLengths, int pruneCount,
        Span<byte> mask, double maxSegmentSparsity)
    {
        long sum = 0;
        foreach (int length in segmentLengths)
        {
            if (length < 0) ThrowHelper.ThrowArgument(nameof(segmentLengths), $"Segment length {length} is negative.");
            sum += length;
        }
        if (sum != scores.Length) ThrowHelper.ThrowSelectionSegmentLengths(nameof(segmentLengths), sum, scores.Length);
        ValidateMask(scores, pruneCount, mask);
        if (!(maxSegmentSparsity >= 0.0 && maxSegmentSparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(maxSegmentSparsity), maxSegmentSparsity);
        long capacity = 0;
        foreach (int length in segmentLengths) capacity += PruneRules.LayerCap(maxSegmentSparsity, length);
        if (capacity < pruneCount) ThrowHelper.ThrowSelectionCapsInfeasible(nameof(maxSegmentSparsity), capacity, pruneCount);
    }

    private static PruneReport GlobalCore(ReadOnlySpan<float> scores, ReadOnlySpan<int> segmentLengths, int pruneCount,
        Span<byte> mask, Span<float> scratch, double maxSegmentSparsity)
    {
        if (maxSegmentSparsity >= 1.0 || pruneCount == 0) return LowestMaskCore(scores, pruneCount, mask, scratch);
        SelectionCore.EnsureFinite(scores, nameof(scores));

        int segments = segmentLengths.Length;
        int[]? rentedCaps = null;
        // caps[s] ≥ 0: the cap of an active segment; caps[s] < 0: ~cap of a segment that hit its cap.
        Span<int> caps = segments <= 256 ? stackalloc int[segments] : (rentedCaps = ArrayPool<int>.Shared.Rent(segments)).AsSpan(0, segments);
        for (int s = 0; s < segments; s++) caps[s] = (int)PruneRules.LayerCap(maxSegmentSparsity, segmentLengths[s]);

        int remaining = pruneCount;
        int activeCount = scores.Length;
        float t = float.NegativeInfinity;
        int ties = 0;
        while (remaining > 0)
        {
            int less;
            if (activeCount == scores.Length)
            {
                t = SelectionCore.Select<SignedKey>(scores, remaining - 1, scratch, nameof(scores), out less);
            }
            else
            {
                // Rare: a cap bound. Select over the concatenated uncapped segments (copied; pooled working memory).
                float[] active = ArrayPool<float>.Shared.Rent(activeCount);
                int at = 0, offset = 0;
                for (int s = 0; s < segments; s++)
                {
                    if (caps[s] >= 0) scores.Slice(offset, segmentLengths[s]).CopyTo(active.AsSpan(at));
                    at += caps[s] >= 0 ? segmentLengths[s] : 0;
                    offset += segmentLengths[s];
                }
                t = SelectionCore.Select<SignedKey>(active.AsSpan(0, activeCount), remaining - 1, default, nameof(scores), out less);
                ArrayPool<float>.Shared.Return(active);
            }
            ties = remaining - less;

            // What each uncapped segment would lose at this threshold, ties handed out in global index order.
            bool newlyCapped = false;
            long quota = ties;
            int start = 0;
            for (int s = 0; s < segments; s++)
            {
                int length = segmentLengths[s];
                if (caps[s] >= 0)
                {
                    ThresholdMask.CountBelowEqual(scores.Slice(start, length), t, out long below, out long equal);
                    long take = TieQuota.Take(equal, long.MaxValue, ref quota);
                    if (below + take > caps[s])
                    {
                        // It would lose more than allowed at this threshold, and thresholds only rise from here.
                        remaining -= caps[s];
                        activeCount -= length;
                        caps[s] = ~caps[s];
                        newlyCapped = true;
                    }
                }
                start += length;
            }
            if (!newlyCapped) break;
            t = float.NegativeInfinity;
            ties = 0;
        }

        float threshold = remaining > 0 ? t : float.NegativeInfinity;
        int carry = ties, begin = 0;
        for (int s = 0; s < segments; s++)
        {
            int length = segmentLengths[s];
            ReadOnlySpan<float> segScores = scores.Slice(begin, length);
            Span<byte> segMask = mask.Slice(begin, length);
            if (caps[s] >= 0)
            {
                carry = ThresholdMask.WriteMask(segScores, t, carry, segMask);
            }
            else
            {
                PruneReport r = LowestMaskCore(segScores, ~caps[s], segMask, scratch);
                if (~caps[s] > 0) threshold = Math.Max(threshold, r.Threshold);
            }
            begin += length;
        }

        if (rentedCaps is not null) ArrayPool<int>.Shared.Return(rentedCaps);
        return new PruneReport(scores.Length, pruneCount, scores.Length, pruneCount, threshold);
    }
}
