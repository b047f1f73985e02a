using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// Unstructured magnitude pruning (<c>l1_unstructured</c>): zeroes the <c>round-half-even(s·n)</c> weights of
    /// smallest <c>|w|</c>, fused so that no score array is materialised. Working memory is rented.
    /// </summary>
    /// <param name="weights">Weights, pruned in place.</param>
    /// <param name="sparsity">Fraction to prune, in [0, 1].</param>
    /// <returns>What was pruned; the threshold is the largest pruned <c>|w|</c>.</returns>
    /// <remarks>
    /// <para>Equivalent to scoring <c>|w|</c>, <see cref="Selection.LowestMask(ReadOnlySpan{float}, int, Span{byte})"/>
    /// and <see cref="Masking.Apply(Span{float}, ReadOnlySpan{byte})"/>, but it selects on the magnitude keys <c>bits &amp; 0x7FFFFFFF</c> directly: large
    /// inputs take one window pass (threshold selection with the NaN/±∞ check fused in) and one masking pass; small ones
    /// copy <c>|w|</c> to scratch and introselect it. Ties at the threshold are pruned lowest index first.</para>
    /// <para>Nothing is written when a weight is NaN or ±∞.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty, or a weight is NaN or ±∞ (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Magnitude(Span<float> weights, double sparsity)
    {
        if (weights.IsEmpty) ThrowHelper.ThrowEmpty(nameof(weights));
        return MagnitudeCore(weights, Selection.PruneCount(weights.Length, sparsity), default);
    }

    /// <summary>As <see cref="Magnitude(Span{float}, double)"/>, with caller-owned working memory.</summary>
    /// <param name="weights">Weights, pruned in place.</param>
    /// <param name="sparsity">Fraction to prune, in [0, 1].</param>
    /// <param name="scratch">At least <see cref="Selection.ScratchLength(int)"/> of <c>weights.Length</c> floats, not
    /// overlapping <paramref name="weights"/>.</param>
    /// <returns>What was pruned; the threshold is the largest pruned <c>|w|</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty, a weight is NaN or ±∞ (nothing is
    /// written), or <paramref name="scratch"/> is too short or overlaps.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Magnitude(Span<float> weights, double sparsity, Span<float> scratch)
    {
        if (weights.IsEmpty) ThrowHelper.ThrowEmpty(nameof(weights));
        if (scratch.Length < Selection.ScratchLength(weights.Length)) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, Selection.ScratchLength(weights.Length));
        if (weights.Overlaps(scratch)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return MagnitudeCore(weights, Selection.PruneCount(weights.Length, sparsity), scratch);
    }

    /// <summary>The fused kernel with an exact count (tests drive it through every selection path).</summary>
    internal static PruneReport MagnitudeCore(Span<float> weights, int pruneCount, Span<float> scratch)
    {
        if ((uint)pruneCount > (uint)weights.Length) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, weights.Length);
        float t = float.NegativeInfinity;
        if (pruneCount == 0) SelectionCore.EnsureFinite(weights, nameof(weights));
        else
        {
            t = SelectionCore.Select<MagnitudeKey>(weights, pruneCount - 1, scratch, nameof(weights), out int less);
            ThresholdMask.ZeroWeights<MagnitudeKey>(weights, weights, t, pruneCount - less);
        }
        return new PruneReport(weights.Length, pruneCount, weights.Length, pruneCount, t);
    }
}
