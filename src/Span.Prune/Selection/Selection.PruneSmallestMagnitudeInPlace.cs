using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>
    /// Magnitude pruning end to end: zeroes exactly <paramref name="pruneCount"/> weights with the smallest <c>|w|</c>,
    /// ties at the threshold pruned lowest index first, without materialising the scores.
    /// </summary>
    /// <param name="weights">The weights, all finite; modified in place.</param>
    /// <param name="pruneCount">Weights to prune, in <c>[0, weights.Length]</c>.</param>
    /// <param name="scratch">Working memory of at least <see cref="ScratchLength(int)"/> floats, not overlapping <paramref name="weights"/>.</param>
    /// <returns>The magnitude threshold <c>t = |w|</c> of the largest pruned weight (−∞ when nothing is pruned) and the pruned count.</returns>
    /// <remarks>
    /// <para>Equivalent to <c>PruneLowestInPlace(weights, |weights|, pruneCount)</c> (torch's <c>l1_unstructured</c>
    /// followed by <c>remove</c>, with a deterministic tie rule), selecting on the magnitude keys
    /// <c>bits &amp; 0x7FFFFFFF</c> directly. Large inputs take two passes over the weights: one window pass (selection
    /// of the threshold with the NaN/±∞ check fused in, see <see cref="KthSmallest(ReadOnlySpan{float}, int, Span{float})"/>)
    /// and one masking pass. Small inputs copy <c>|w|</c> to scratch and introselect it.</para>
    /// <para>Nothing is written when a weight is NaN or ±∞.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A weight is NaN or ±∞ (<paramref name="weights"/>); <paramref name="scratch"/>
    /// is too short or overlaps.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, weights.Length]</c>.</exception>
    public static SelectionResult PruneSmallestMagnitudeInPlace(Span<float> weights, int pruneCount, Span<float> scratch)
    {
        if ((uint)pruneCount > (uint)weights.Length) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, weights.Length);
        if (scratch.Length < weights.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, weights.Length);
        if (weights.Overlaps(scratch)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return PruneMagnitudeCore(weights, pruneCount, scratch);
    }

    /// <summary>
    /// Magnitude pruning end to end with working memory from the shared array pool (no allocation once warm; the large
    /// path rents only about the size of the selection window). See <see cref="PruneSmallestMagnitudeInPlace(Span{float}, int, Span{float})"/>.
    /// </summary>
    /// <param name="weights">The weights, all finite; modified in place.</param>
    /// <param name="pruneCount">Weights to prune, in <c>[0, weights.Length]</c>.</param>
    /// <returns>The magnitude threshold (−∞ when nothing is pruned) and the pruned count.</returns>
    /// <exception cref="ArgumentException">A weight is NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pruneCount"/> is outside <c>[0, weights.Length]</c>.</exception>
    public static SelectionResult PruneSmallestMagnitudeInPlace(Span<float> weights, int pruneCount)
    {
        if ((uint)pruneCount > (uint)weights.Length) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, weights.Length);
        return PruneMagnitudeCore(weights, pruneCount, default);
    }

    private static SelectionResult PruneMagnitudeCore(Span<float> weights, int pruneCount, Span<float> scratch)
    {
        if (pruneCount == 0)
        {
            SelectionCore.EnsureFinite(weights, nameof(weights));
            return new SelectionResult(float.NegativeInfinity, 0);
        }
        float t = SelectionCore.Select<MagnitudeKey>(weights, pruneCount - 1, scratch, nameof(weights), out int less);
        ThresholdMask.ZeroWeights<MagnitudeKey>(weights, weights, t, pruneCount - less);
        return new SelectionResult(t, pruneCount);
    }
}
