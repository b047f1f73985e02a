using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>The scratch length (in floats) that the selection operations need for <paramref name="unitCount"/> units.</summary>
    /// <param name="unitCount">The number of values or units (≥ 0).</param>
    /// <returns><paramref name="unitCount"/>: small inputs are copied and partitioned in place; large ones use at most the size of one radix bin.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unitCount"/> is negative.</exception>
    public static int ScratchLength(int unitCount)
    {
        if (unitCount < 0) ThrowHelper.ThrowSelectionNegative(nameof(unitCount), unitCount);
        return unitCount;
    }

    /// <summary>
    /// The <paramref name="k"/>-th smallest value (zero-based): the value that would be at index <paramref name="k"/>
    /// after an ascending sort. <paramref name="values"/> is not modified.
    /// </summary>
    /// <param name="values">The values; all finite.</param>
    /// <param name="k">The zero-based rank, in <c>[0, values.Length)</c>.</param>
    /// <param name="scratch">Working memory of at least <see cref="ScratchLength(int)"/> floats, not overlapping
    /// <paramref name="values"/>; its contents afterwards are unspecified.</param>
    /// <returns>The order statistic. <c>−0</c> and <c>+0</c> compare equal; a zero result is returned as <c>+0</c>.</returns>
    /// <remarks>
    /// <para>Algorithm: introselect — quickselect with a median-of-3 (ninther) pivot and a three-way, AVX-512 compress
    /// (AVX2 permute-table, scalar) partition, falling back to median-of-medians pivots when the depth budget
    /// <c>2·⌊log2 n⌋</c> is spent or partitions keep being lopsided, so the worst case is O(n).</para>
    /// <para>From 32 Ki values on, one streaming pass replaces the copy: a stratified sample (≈ n^(2/3)/2 values) predicts
    /// a value window around rank <paramref name="k"/>; the pass counts the values below and at the window bounds,
    /// gathers the few inside it (AVX-512 compress), and checks finiteness; introselect finishes on the window. If the
    /// rank misses the window (rare), an exact radix pre-pass runs: float bits map to order-preserving keys (negatives:
    /// flip every bit; positives: set the sign bit), the top 16 key bits are histogrammed — NaN/±∞ land in bins of
    /// their own, so the histogram is the finiteness check — and only the bin holding the rank is gathered and
    /// introselected. Small inputs check finiteness during the copy.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a NaN or ±∞ (the message names the
    /// first such index); <paramref name="scratch"/> is too short or overlaps <paramref name="values"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside <c>[0, values.Length)</c>.</exception>
    public static float KthSmallest(ReadOnlySpan<float> values, int k, Span<float> scratch)
    {
        ValidateKth(values, k);
        if (scratch.Length < values.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scratch), scratch.Length, values.Length);
        if (values.Overlaps(scratch)) ThrowHelper.ThrowOverlap(nameof(scratch));
        return SelectionCore.Select<SignedKey>(values, k, scratch, nameof(values), out _);
    }

    /// <summary>
    /// The <paramref name="k"/>-th smallest value (zero-based), with working memory from <see cref="System.Buffers.ArrayPool{T}.Shared"/>
    /// (no allocation once the pool is warm). See <see cref="KthSmallest(ReadOnlySpan{float}, int, Span{float})"/>.
    /// </summary>
    /// <param name="values">The values; all finite.</param>
    /// <param name="k">The zero-based rank, in <c>[0, values.Length)</c>.</param>
    /// <returns>The order statistic (a zero result is returned as <c>+0</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is outside <c>[0, values.Length)</c>.</exception>
    public static float KthSmallest(ReadOnlySpan<float> values, int k)
    {
        ValidateKth(values, k);
        return SelectionCore.Select<SignedKey>(values, k, default, nameof(values), out _);
    }

    private static void ValidateKth(ReadOnlySpan<float> values, int k)
    {
        if (values.IsEmpty) ThrowHelper.ThrowEmpty(nameof(values));
        if ((uint)k >= (uint)values.Length) ThrowHelper.ThrowSelectionRank(nameof(k), k, values.Length);
    }
}
