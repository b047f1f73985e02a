using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

public static partial class Selection
{
    /// <summary>
    /// N:M semi-structured mask: every run of <paramref name="m"/> consecutive elements of every row keeps exactly the
    /// <paramref name="n"/> highest scores.
    /// </summary>
    /// <param name="scores">Element scores of a row-major 2-D view <c>[rows, rowLength]</c>; all finite.</param>
    /// <param name="rowLength">Elements per row (<c>In·kh·kw</c> for a convolution); must divide <c>scores.Length</c>.</param>
    /// <param name="n">Elements kept per group, in <c>[0, m]</c>.</param>
    /// <param name="m">Group length; must divide <paramref name="rowLength"/> (ragged groups are an error).</param>
    /// <param name="mask">Receives 1 (keep) or 0 (prune) per element, for the first <c>scores.Length</c> bytes.</param>
    /// <remarks>
    /// <para>Within each group the <c>m − n</c> lowest scores are pruned, ties pruned lowest index first — the exact-k
    /// rule of <see cref="LowestMask(ReadOnlySpan{float}, int, Span{byte}, Span{float})"/> applied per group, so every
    /// group keeps exactly <paramref name="n"/> elements. Because <paramref name="m"/> divides the row length, groups
    /// never cross rows. M = 4 (2:4, 1:4, 3:4) has a vectorised fast path.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="m"/> or <paramref name="rowLength"/> is not positive,
    /// or <paramref name="n"/> is outside <c>[0, m]</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="m"/> does not divide <paramref name="rowLength"/> (names
    /// <paramref name="m"/>); <paramref name="rowLength"/> does not divide the score count; <paramref name="mask"/> is
    /// too short or overlaps; a score is NaN or ±∞ (<paramref name="scores"/>).</exception>
    public static void NmMask(ReadOnlySpan<float> scores, int rowLength, int n, int m, Span<byte> mask)
    {
        if (m <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(m), "M must be positive.");
        if ((uint)n > (uint)m) ThrowHelper.ThrowArgumentOutOfRange(nameof(n), "N must be in [0, M].");
        if (rowLength <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rowLength), "The row length must be positive.");
        if (scores.Length % rowLength != 0)
            ThrowHelper.ThrowArgument(nameof(rowLength), $"The row length {rowLength} does not divide the {scores.Length} scores.");
        if (rowLength % m != 0) ThrowHelper.ThrowRaggedGroups(nameof(m), rowLength, m);
        if (mask.Length < scores.Length) ThrowHelper.ThrowDestinationTooShort(nameof(mask), mask.Length, scores.Length);
        if (SelectionCore.Overlaps(scores, mask)) ThrowHelper.ThrowOverlap(nameof(mask));
        SelectionCore.EnsureFinite(scores, nameof(scores));
        GroupRank.Mask(scores, n, m, mask);
    }

    /// <summary>
    /// N:M mask for a weight of shape <paramref name="shape"/> with an N:M <paramref name="granularity"/>: groups are runs
    /// of M along each row of the 2-D view <c>[Out, RowLength]</c>. See <see cref="NmMask(ReadOnlySpan{float}, int, int, int, Span{byte})"/>.
    /// </summary>
    /// <param name="scores">One finite score per element, <c>shape.ElementCount</c> of them.</param>
    /// <param name="shape">The weight shape.</param>
    /// <param name="granularity">An <see cref="GranularityKind.NM"/> granularity whose M divides the row length.</param>
    /// <param name="mask">Receives 1 (keep) or 0 (prune) per element.</param>
    /// <exception cref="ArgumentException"><paramref name="granularity"/> is not N:M or does not tile the shape;
    /// <paramref name="scores"/> has the wrong length or a NaN/±∞; <paramref name="mask"/> is too short or overlaps.</exception>
    public static void NmMask(ReadOnlySpan<float> scores, WeightShape shape, Granularity granularity, Span<byte> mask)
    {
        if (granularity.Kind != GranularityKind.NM)
            ThrowHelper.ThrowArgument(nameof(granularity), $"Expected an N:M granularity, got {granularity}.");
        granularity.Validate(shape);
        if (scores.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(scores), scores.Length, shape.ElementCount);
        NmMask(scores, shape.RowLength, granularity.N, granularity.M, mask);
    }
}
