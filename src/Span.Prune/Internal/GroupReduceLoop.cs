using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// The fused group-score kernel: evaluates <c>TCriterion</c> per element and folds the scores of each unit with
/// <c>TReduction</c>, in one read of the weights, without materialising element scores.
/// </summary>
/// <remarks>
/// <para>Every granularity is an R×C tiling of the 2-D view <c>[Out, L]</c>, <c>L = In·kh·kw</c>, numbered
/// row-major over tiles: Row = 1×L, Kernel = 1×(kh·kw), N:M = 1×M, Element = 1×1, Block = R×C, and Column =
/// Out×(kh·kw) (input channel <c>i</c> owns the columns <c>[i·kh·kw, (i+1)·kh·kw)</c> of every row). So one
/// kernel with two strategies serves them all:</para>
/// <list type="bullet">
/// <item><b>Horizontal</b> (long runs, few rows per tile: Row, wide blocks): each run of C contiguous elements
/// of a row is reduced with four independent vector accumulators and a masked last vector (an overlapping load
/// whose already-counted lanes are blended back, never counted twice), then folded across lanes.</item>
/// <item><b>Vertical</b> (short runs or tall tiles: Column, Kernel, N:M, small blocks): the R rows of a tile row
/// are accumulated lane by lane into per-column accumulators, vectorised along the row; afterwards each run of C
/// per-column accumulators is combined into its unit. For C = 1 the per-column accumulators are the unit
/// scores themselves; otherwise they live in a 4 KiB stack chunk of whole runs that walks along the row, so no
/// scratch is rented and the accumulators stay in L1 while the R rows stream through, four rows per pass.</item>
/// <item><b>Element</b> units are an element-wise map, <c>Finish(Accumulate(Identity, s), 1)</c>.</item>
/// </list>
/// <para>Reductions are associative and commutative up to rounding (IGroupReduction contract), so the result
/// matches the definition within float rounding; the summation order depends on the vector width.</para>
/// </remarks>
internal static class GroupReduceLoop
{
    /// <summary>
    /// Per-column accumulators of the vertical strategy, on the stack (4 KiB, L1-resident). For tiles of many rows
    /// each row is then read in pieces of up to 4 KiB; a whole-row chunk (pooled) measured no faster on a
    /// 512×512×3×3 Column score, so no scratch is rented.
    /// </summary>
    private const int ChunkCapacity = 1024;

    /// <summary>
    /// Writes the finished score of every R×C tile of <paramref name="weights"/> (<c>rows × rowLength</c>,
    /// row-major) to <paramref name="units"/>. Shapes, lengths, overlap and finiteness are checked by the caller.
    /// </summary>
    public static void Reduce<TCriterion, TReduction>(
        ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, int rows, int rowLength,
        int blockRows, int blockCols, Span<float> units)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        if (blockRows == 1 && blockCols == 1)
        {
            // Element units: Finish(Accumulate(Identity, s), 1) is itself an element-wise map, one pass.
            BinaryMapLoop.Map<ElementUnit<TCriterion, TReduction>>(weights, statistic, units);
            return;
        }

        ref float w = ref MemoryMarshal.GetReference(weights);
        // An unused statistic may be empty: point its reference at the weights so that no address is ever
        // formed from an empty span (it is never dereferenced, see BinaryMapLoop.Stat512).
        ref float a = ref TCriterion.UsesStatistic ? ref MemoryMarshal.GetReference(statistic) : ref w;
        ref float u = ref MemoryMarshal.GetReference(units);
        nuint length = (nuint)rowLength;
        nuint runLength = (nuint)blockCols;
        nuint unitsPerRow = (nuint)(rowLength / blockCols);
        int tileRows = rows / blockRows;
        int count = blockRows * blockCols;

        if (UseHorizontal(blockRows, blockCols))
        {
            for (int o = 0; o < rows; o++)
            {
                bool first = o % blockRows == 0, last = o % blockRows == blockRows - 1;
                ref float unitRow = ref Unsafe.Add(ref u, (nuint)(o / blockRows) * unitsPerRow);
                nuint rowStart = (nuint)o * length;
                for (nuint k = 0; k < unitsPerRow; k++)
                {
                    nuint start = rowStart + k * runLength;
                    float r = ReduceRun<TCriterion, TReduction>(ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), runLength);
                    ref float slot = ref Unsafe.Add(ref unitRow, k);
                    if (!first) r = TReduction.Combine(slot, r);
                    slot = last ? TReduction.Finish(r, count) : r;
                }
            }
        }
        else if (blockCols == 1)
        {
            // The tile's per-column accumulators are its unit scores: accumulate R rows, then finish them.
            for (int b = 0; b < tileRows; b++)
            {
                ref float acc = ref Unsafe.Add(ref u, (nuint)b * length);
                nuint start = (nuint)(b * blockRows) * length;
                AccumulateRows<TCriterion, TReduction>(ref acc, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), length, length, blockRows);
                FinishInPlace<TReduction>(ref acc, length, count);
            }
        }
        else
        {
            // Per-column accumulators for a chunk of whole runs, then one combine per run.
            int chunkLength = ChunkLength(rowLength, blockCols);
            Span<float> chunkSpan = stackalloc float[ChunkCapacity];
            ref float chunk = ref MemoryMarshal.GetReference(chunkSpan);
            for (int b = 0; b < tileRows; b++)
            {
                ref float unitRow = ref Unsafe.Add(ref u, (nuint)b * unitsPerRow);
                for (nuint c0 = 0; c0 < length; c0 += (nuint)chunkLength)
                {
                    nuint n = Math.Min((nuint)chunkLength, length - c0);
                    nuint start = (nuint)(b * blockRows) * length + c0;
                    AccumulateRows<TCriterion, TReduction>(ref chunk, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), n, length, blockRows);
                    CombineRuns<TReduction>(ref chunk, n, runLength, ref Unsafe.Add(ref unitRow, c0 / runLength), count);
                }
            }
        }
    }

    /// <summary>
    /// Horizontal when the runs are long enough to fill vectors and the per-run lane fold (about 8 operations)
    /// is small against the run: <c>8·R ≤ C</c>. Runs longer than the accumulator chunk must go horizontal.
    /// </summary>
    internal static bool UseHorizontal(int blockRows, int blockCols) =>
        blockCols > ChunkCapacity || (blockCols >= 16 && (long)blockRows * 8 <= blockCols);

    /// <summary>Accumulator chunk length of the vertical strategy: whole runs of C, at most <see cref="ChunkCapacity"/>.</summary>
    internal static int ChunkLength(int rowLength, int blockCols) =>
        Math.Min(rowLength, ChunkCapacity) / blockCols * blockCols;

    /// <summary>Reduces one contiguous run of <paramref name="length"/> element scores to an (unfinished) accumulator.</summary>
    internal static float ReduceRun<TCriterion, TReduction>(ref float w, ref float a, nuint length)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector512<float>.Count)
        {
            nuint n = (nuint)Vector512<float>.Count;
            Vector512<float> acc0 = Vector512.Create(TReduction.Identity), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i)));
                acc1 = TReduction.Accumulate(acc1, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat512<TCriterion>(ref a, i + n)));
                acc2 = TReduction.Accumulate(acc2, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 2 * n), BinaryMapLoop.Stat512<TCriterion>(ref a, i + 2 * n)));
                acc3 = TReduction.Accumulate(acc3, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 3 * n), BinaryMapLoop.Stat512<TCriterion>(ref a, i + 3 * n)));
            }
            for (; i + n <= length; i += n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i)));
            }
            if (i < length)
            {
                // Masked tail: reload the last full vector and keep only the lanes not yet counted.
                nuint last = length - n;
                Vector512<float> s = TCriterion.Score(Vector512.LoadUnsafe(ref w, last), BinaryMapLoop.Stat512<TCriterion>(ref a, last));
                Vector512<float> fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
                acc1 = Vector512.ConditionalSelect(fresh, TReduction.Accumulate(acc1, s), acc1);
            }
            return Fold<TReduction>(TReduction.Combine(TReduction.Combine(acc0, acc1), TReduction.Combine(acc2, acc3)));
        }
        if (Vector256.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector256<float>.Count)
        {
            nuint n = (nuint)Vector256<float>.Count;
            Vector256<float> acc0 = Vector256.Create(TReduction.Identity), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i)));
                acc1 = TReduction.Accumulate(acc1, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat256<TCriterion>(ref a, i + n)));
                acc2 = TReduction.Accumulate(acc2, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 2 * n), BinaryMapLoop.Stat256<TCriterion>(ref a, i + 2 * n)));
                acc3 = TReduction.Accumulate(acc3, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 3 * n), BinaryMapLoop.Stat256<TCriterion>(ref a, i + 3 * n)));
            }
            for (; i + n <= length; i += n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i)));
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector256<float> s = TCriterion.Score(Vector256.LoadUnsafe(ref w, last), BinaryMapLoop.Stat256<TCriterion>(ref a, last));
                Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
                acc1 = Vector256.ConditionalSelect(fresh, TReduction.Accumulate(acc1, s), acc1);
            }
            return Fold<TReduction>(TReduction.Combine(TReduction.Combine(acc0, acc1), TReduction.Combine(acc2, acc3)));
        }
        if (Vector128.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector128<float>.Count)
        {
            nuint n = (nuint)Vector128<float>.Count;
            Vector128<float> acc0 = Vector128.Create(TReduction.Identity), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector128.LoadUnsafe(ref w, i), BinaryMapLoop.Stat128<TCriterion>(ref a, i)));
                acc1 = TReduction.Accumulate(acc1, TCriterion.Score(Vector128.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat128<TCriterion>(ref a, i + n)));
                acc2 = TReduction.Accumulate(acc2, TCriterion.Score(Vector128.LoadUnsafe(ref w, i + 2 * n), BinaryMapLoop.Stat128<TCriterion>(ref a, i + 2 * n)));
                acc3 = TReduction.Accumulate(acc3, TCriterion.Score(Vector128.LoadUnsafe(ref w, i + 3 * n), BinaryMapLoop.Stat128<TCriterion>(ref a, i + 3 * n)));
            }
            for (; i + n <= length; i += n)
            {
                acc0 = TReduction.Accumulate(acc0, TCriterion.Score(Vector128.LoadUnsafe(ref w, i), BinaryMapLoop.Stat128<TCriterion>(ref a, i)));
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector128<float> s = TCriterion.Score(Vector128.LoadUnsafe(ref w, last), BinaryMapLoop.Stat128<TCriterion>(ref a, last));
                Vector128<float> fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
                acc1 = Vector128.ConditionalSelect(fresh, TReduction.Accumulate(acc1, s), acc1);
            }
            return Fold<TReduction>(TReduction.Combine(TReduction.Combine(acc0, acc1), TReduction.Combine(acc2, acc3)));
        }
        float accumulator = TReduction.Identity;
        for (; i < length; i++)
        {
            accumulator = TReduction.Accumulate(accumulator, TCriterion.Score(Unsafe.Add(ref w, i), BinaryMapLoop.Stat<TCriterion>(ref a, i)));
        }
        return accumulator;
    }

    /// <summary>
    /// Accumulates <paramref name="rowCount"/> rows (<paramref name="stride"/> apart) into the per-column
    /// accumulators, starting from the identity: four rows per pass over the accumulators, so that each vector of
    /// accumulators is loaded and stored once per four rows instead of once per row.
    /// </summary>
    private static void AccumulateRows<TCriterion, TReduction>(ref float acc, ref float w, ref float a, nuint length, nuint stride, int rowCount)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        int r = 0;
        if (Vector256.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector256<float>.Count)
        {
            for (; r + 4 <= rowCount; r += 4)
            {
                nuint start = (nuint)r * stride;
                VerticalAccumulate4<TCriterion, TReduction>(ref acc, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), length, stride, r == 0);
            }
        }
        for (; r < rowCount; r++)
        {
            nuint start = (nuint)r * stride;
            VerticalAccumulate<TCriterion, TReduction>(ref acc, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), length, r == 0);
        }
    }

    /// <summary>
    /// Four rows at once: <c>acc[j] = Accumulate(…Accumulate(first ? Identity : acc[j], s₀[j])…, s₃[j])</c>. The
    /// rows are folded in order, so the result equals four single-row passes bit for bit. Callers guarantee that
    /// 256-bit vectors are accelerated and <c>length ≥ 8</c>.
    /// </summary>
    private static void VerticalAccumulate4<TCriterion, TReduction>(ref float acc, ref float w, ref float a, nuint length, nuint stride, bool first)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        nuint s1 = stride, s2 = 2 * stride, s3 = 3 * stride;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector512<float>.Count)
        {
            nuint n = (nuint)Vector512<float>.Count;
            Vector512<float> identity = Vector512.Create(TReduction.Identity);
            for (; i + n <= length; i += n)
            {
                Vector512<float> v = first ? identity : Vector512.LoadUnsafe(ref acc, i);
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + s1), BinaryMapLoop.Stat512<TCriterion>(ref a, i + s1)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + s2), BinaryMapLoop.Stat512<TCriterion>(ref a, i + s2)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, i + s3), BinaryMapLoop.Stat512<TCriterion>(ref a, i + s3)));
                v.StoreUnsafe(ref acc, i);
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector512<float> old = Vector512.LoadUnsafe(ref acc, last);
                Vector512<float> v = first ? identity : old;
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, last), BinaryMapLoop.Stat512<TCriterion>(ref a, last)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, last + s1), BinaryMapLoop.Stat512<TCriterion>(ref a, last + s1)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, last + s2), BinaryMapLoop.Stat512<TCriterion>(ref a, last + s2)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector512.LoadUnsafe(ref w, last + s3), BinaryMapLoop.Stat512<TCriterion>(ref a, last + s3)));
                Vector512<float> fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
                Vector512.ConditionalSelect(fresh, v, old).StoreUnsafe(ref acc, last);
            }
            return;
        }
        {
            nuint n = (nuint)Vector256<float>.Count;
            Vector256<float> identity = Vector256.Create(TReduction.Identity);
            for (; i + n <= length; i += n)
            {
                Vector256<float> v = first ? identity : Vector256.LoadUnsafe(ref acc, i);
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + s1), BinaryMapLoop.Stat256<TCriterion>(ref a, i + s1)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + s2), BinaryMapLoop.Stat256<TCriterion>(ref a, i + s2)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, i + s3), BinaryMapLoop.Stat256<TCriterion>(ref a, i + s3)));
                v.StoreUnsafe(ref acc, i);
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector256<float> old = Vector256.LoadUnsafe(ref acc, last);
                Vector256<float> v = first ? identity : old;
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, last), BinaryMapLoop.Stat256<TCriterion>(ref a, last)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, last + s1), BinaryMapLoop.Stat256<TCriterion>(ref a, last + s1)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, last + s2), BinaryMapLoop.Stat256<TCriterion>(ref a, last + s2)));
                v = TReduction.Accumulate(v, TCriterion.Score(Vector256.LoadUnsafe(ref w, last + s3), BinaryMapLoop.Stat256<TCriterion>(ref a, last + s3)));
                Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
                Vector256.ConditionalSelect(fresh, v, old).StoreUnsafe(ref acc, last);
            }
        }
    }

    /// <summary>
    /// <c>acc[j] = Accumulate(first ? Identity : acc[j], Score(w[j], a[j]))</c> for <c>j &lt; length</c>. The last
    /// vector overlaps the previous one; its already-updated lanes are blended back unchanged.
    /// </summary>
    internal static void VerticalAccumulate<TCriterion, TReduction>(ref float acc, ref float w, ref float a, nuint length, bool first)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector512<float>.Count)
        {
            nuint n = (nuint)Vector512<float>.Count;
            Vector512<float> identity = Vector512.Create(TReduction.Identity);
            if (first)
            {
                for (; i + n <= length; i += n)
                {
                    Vector512<float> s = TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i));
                    TReduction.Accumulate(identity, s).StoreUnsafe(ref acc, i);
                }
            }
            else
            {
                for (; i + 2 * n <= length; i += 2 * n)
                {
                    Vector512<float> s0 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i));
                    Vector512<float> s1 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat512<TCriterion>(ref a, i + n));
                    TReduction.Accumulate(Vector512.LoadUnsafe(ref acc, i), s0).StoreUnsafe(ref acc, i);
                    TReduction.Accumulate(Vector512.LoadUnsafe(ref acc, i + n), s1).StoreUnsafe(ref acc, i + n);
                }
                for (; i + n <= length; i += n)
                {
                    Vector512<float> s = TCriterion.Score(Vector512.LoadUnsafe(ref w, i), BinaryMapLoop.Stat512<TCriterion>(ref a, i));
                    TReduction.Accumulate(Vector512.LoadUnsafe(ref acc, i), s).StoreUnsafe(ref acc, i);
                }
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector512<float> s = TCriterion.Score(Vector512.LoadUnsafe(ref w, last), BinaryMapLoop.Stat512<TCriterion>(ref a, last));
                Vector512<float> old = Vector512.LoadUnsafe(ref acc, last);
                Vector512<float> fresh = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create((int)(i - last))).AsSingle();
                Vector512.ConditionalSelect(fresh, TReduction.Accumulate(first ? identity : old, s), old).StoreUnsafe(ref acc, last);
            }
            return;
        }
        if (Vector256.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector256<float>.Count)
        {
            nuint n = (nuint)Vector256<float>.Count;
            Vector256<float> identity = Vector256.Create(TReduction.Identity);
            if (first)
            {
                for (; i + n <= length; i += n)
                {
                    Vector256<float> s = TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i));
                    TReduction.Accumulate(identity, s).StoreUnsafe(ref acc, i);
                }
            }
            else
            {
                for (; i + 2 * n <= length; i += 2 * n)
                {
                    Vector256<float> s0 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i));
                    Vector256<float> s1 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat256<TCriterion>(ref a, i + n));
                    TReduction.Accumulate(Vector256.LoadUnsafe(ref acc, i), s0).StoreUnsafe(ref acc, i);
                    TReduction.Accumulate(Vector256.LoadUnsafe(ref acc, i + n), s1).StoreUnsafe(ref acc, i + n);
                }
                for (; i + n <= length; i += n)
                {
                    Vector256<float> s = TCriterion.Score(Vector256.LoadUnsafe(ref w, i), BinaryMapLoop.Stat256<TCriterion>(ref a, i));
                    TReduction.Accumulate(Vector256.LoadUnsafe(ref acc, i), s).StoreUnsafe(ref acc, i);
                }
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector256<float> s = TCriterion.Score(Vector256.LoadUnsafe(ref w, last), BinaryMapLoop.Stat256<TCriterion>(ref a, last));
                Vector256<float> old = Vector256.LoadUnsafe(ref acc, last);
                Vector256<float> fresh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create((int)(i - last))).AsSingle();
                Vector256.ConditionalSelect(fresh, TReduction.Accumulate(first ? identity : old, s), old).StoreUnsafe(ref acc, last);
            }
            return;
        }
        if (Vector128.IsHardwareAccelerated && TCriterion.Vectorizable && TReduction.Vectorizable && length >= (nuint)Vector128<float>.Count)
        {
            nuint n = (nuint)Vector128<float>.Count;
            Vector128<float> identity = Vector128.Create(TReduction.Identity);
            if (first)
            {
                for (; i + n <= length; i += n)
                {
                    Vector128<float> s = TCriterion.Score(Vector128.LoadUnsafe(ref w, i), BinaryMapLoop.Stat128<TCriterion>(ref a, i));
                    TReduction.Accumulate(identity, s).StoreUnsafe(ref acc, i);
                }
            }
            else
            {
                for (; i + 2 * n <= length; i += 2 * n)
                {
                    Vector128<float> s0 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i), BinaryMapLoop.Stat128<TCriterion>(ref a, i));
                    Vector128<float> s1 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i + n), BinaryMapLoop.Stat128<TCriterion>(ref a, i + n));
                    TReduction.Accumulate(Vector128.LoadUnsafe(ref acc, i), s0).StoreUnsafe(ref acc, i);
                    TReduction.Accumulate(Vector128.LoadUnsafe(ref acc, i + n), s1).StoreUnsafe(ref acc, i + n);
                }
                for (; i + n <= length; i += n)
                {
                    Vector128<float> s = TCriterion.Score(Vector128.LoadUnsafe(ref w, i), BinaryMapLoop.Stat128<TCriterion>(ref a, i));
                    TReduction.Accumulate(Vector128.LoadUnsafe(ref acc, i), s).StoreUnsafe(ref acc, i);
                }
            }
            if (i < length)
            {
                nuint last = length - n;
                Vector128<float> s = TCriterion.Score(Vector128.LoadUnsafe(ref w, last), BinaryMapLoop.Stat128<TCriterion>(ref a, last));
                Vector128<float> old = Vector128.LoadUnsafe(ref acc, last);
                Vector128<float> fresh = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create((int)(i - last))).AsSingle();
                Vector128.ConditionalSelect(fresh, TReduction.Accumulate(first ? identity : old, s), old).StoreUnsafe(ref acc, last);
            }
            return;
        }
        for (; i < length; i++)
        {
            ref float slot = ref Unsafe.Add(ref acc, i);
            slot = TReduction.Accumulate(first ? TReduction.Identity : slot, TCriterion.Score(Unsafe.Add(ref w, i), BinaryMapLoop.Stat<TCriterion>(ref a, i)));
        }
    }

    /// <summary>
    /// <c>units[k] = Finish(Combine(acc[k·C], …, acc[k·C + C − 1]), count)</c> for each of the <c>length / C</c> runs.
    /// Runs of 2, 4, 8 or 16 are combined inside vector registers: log₂C shuffle-and-combine steps leave each run's
    /// result in its first lane, and a permute packs those lanes for one store. Other run lengths are combined
    /// element by element (they arise for 3×3 kernels and odd blocks, where R rows amortise the fold).
    /// </summary>
    private static void CombineRuns<TReduction>(ref float acc, nuint length, nuint runLength, ref float units, int count)
        where TReduction : struct, IGroupReduction
    {
        nuint i = 0, k = 0;
        if (Vector512.IsHardwareAccelerated && TReduction.Vectorizable && runLength is 2 or 4 or 8 or 16)
        {
            nuint n = (nuint)Vector512<float>.Count;
            nuint perVector = n / runLength;
            for (; i + n <= length; i += n, k += perVector)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref acc, i);
                v = TReduction.Combine(v, Vector512.Shuffle(v, Vector512.Create(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14)));
                if (runLength >= 4) v = TReduction.Combine(v, Vector512.Shuffle(v, Vector512.Create(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)));
                if (runLength >= 8) v = TReduction.Combine(v, Vector512.Shuffle(v, Vector512.Create(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11)));
                if (runLength >= 16) v = TReduction.Combine(v, Vector512.Shuffle(v, Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)));
                v = TReduction.Finish(v, count);
                switch (runLength)
                {
                    case 2:
                        Vector512.Shuffle(v, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14)).GetLower().StoreUnsafe(ref units, k);
                        break;
                    case 4:
                        Vector512.Shuffle(v, Vector512.Create(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12)).GetLower().GetLower().StoreUnsafe(ref units, k);
                        break;
                    case 8:
                        Unsafe.Add(ref units, k) = v.ToScalar();
                        Unsafe.Add(ref units, k + 1) = v.GetElement(8);
                        break;
                    default:
                        Unsafe.Add(ref units, k) = v.ToScalar();
                        break;
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated && TReduction.Vectorizable && runLength is 2 or 4 or 8)
        {
            nuint n = (nuint)Vector256<float>.Count;
            nuint perVector = n / runLength;
            for (; i + n <= length; i += n, k += perVector)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref acc, i);
                v = TReduction.Combine(v, Vector256.Shuffle(v, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6)));
                if (runLength >= 4) v = TReduction.Combine(v, Vector256.Shuffle(v, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5)));
                if (runLength >= 8) v = TReduction.Combine(v, Vector256.Shuffle(v, Vector256.Create(4, 5, 6, 7, 0, 1, 2, 3)));
                v = TReduction.Finish(v, count);
                switch (runLength)
                {
                    case 2:
                        Vector256.Shuffle(v, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6)).GetLower().StoreUnsafe(ref units, k);
                        break;
                    case 4:
                        Unsafe.Add(ref units, k) = v.ToScalar();
                        Unsafe.Add(ref units, k + 1) = v.GetElement(4);
                        break;
                    default:
                        Unsafe.Add(ref units, k) = v.ToScalar();
                        break;
                }
            }
        }
        for (; i < length; i += runLength, k++)
        {
            float r = Unsafe.Add(ref acc, i);
            for (nuint t = 1; t < runLength; t++)
            {
                r = TReduction.Combine(r, Unsafe.Add(ref acc, i + t));
            }
            Unsafe.Add(ref units, k) = TReduction.Finish(r, count);
        }
    }

    /// <summary>
    /// <c>acc[j] = Finish(acc[j], count)</c>. Finish is not idempotent (√√x ≠ √x), so the overlapping last vector is
    /// computed from the unfinished values before the loop and stored after it, as in <see cref="BinaryMapLoop"/>.
    /// </summary>
    private static void FinishInPlace<TReduction>(ref float acc, nuint length, int count)
        where TReduction : struct, IGroupReduction
    {
        if (Vector512.IsHardwareAccelerated && TReduction.Vectorizable && length >= (nuint)Vector512<float>.Count)
        {
            nuint n = (nuint)Vector512<float>.Count, last = length - n;
            Vector512<float> end = TReduction.Finish(Vector512.LoadUnsafe(ref acc, last), count);
            for (nuint i = 0; i < last; i += n)
                TReduction.Finish(Vector512.LoadUnsafe(ref acc, i), count).StoreUnsafe(ref acc, i);
            end.StoreUnsafe(ref acc, last);
            return;
        }
        if (Vector256.IsHardwareAccelerated && TReduction.Vectorizable && length >= (nuint)Vector256<float>.Count)
        {
            nuint n = (nuint)Vector256<float>.Count, last = length - n;
            Vector256<float> end = TReduction.Finish(Vector256.LoadUnsafe(ref acc, last), count);
            for (nuint i = 0; i < last; i += n)
                TReduction.Finish(Vector256.LoadUnsafe(ref acc, i), count).StoreUnsafe(ref acc, i);
            end.StoreUnsafe(ref acc, last);
            return;
        }
        if (Vector128.IsHardwareAccelerated && TReduction.Vectorizable && length >= (nuint)Vector128<float>.Count)
        {
            nuint n = (nuint)Vector128<float>.Count, last = length - n;
            Vector128<float> end = TReduction.Finish(Vector128.LoadUnsafe(ref acc, last), count);
            for (nuint i = 0; i < last; i += n)
                TReduction.Finish(Vector128.LoadUnsafe(ref acc, i), count).StoreUnsafe(ref acc, i);
            end.StoreUnsafe(ref acc, last);
            return;
        }
        for (nuint i = 0; i < length; i++)
        {
            Unsafe.Add(ref acc, i) = TReduction.Finish(Unsafe.Add(ref acc, i), count);
        }
    }

    /// <summary>A one-element unit as an element criterion: <c>Finish(Accumulate(Identity, Score(w, a)), 1)</c>.</summary>
    private readonly struct ElementUnit<TCriterion, TReduction> : IElementCriterion
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        public static bool UsesStatistic => TCriterion.UsesStatistic;

        public static bool Vectorizable => TCriterion.Vectorizable && TReduction.Vectorizable;

        public static float Score(float weight, float statistic) =>
            TReduction.Finish(TReduction.Accumulate(TReduction.Identity, TCriterion.Score(weight, statistic)), 1);

        public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) =>
            TReduction.Finish(TReduction.Accumulate(Vector128.Create(TReduction.Identity), TCriterion.Score(weight, statistic)), 1);

        public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) =>
            TReduction.Finish(TReduction.Accumulate(Vector256.Create(TReduction.Identity), TCriterion.Score(weight, statistic)), 1);

        public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) =>
            TReduction.Finish(TReduction.Accumulate(Vector512.Create(TReduction.Identity), TCriterion.Score(weight, statistic)), 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold<TReduction>(Vector512<float> v) where TReduction : struct, IGroupReduction =>
        Fold<TReduction>(TReduction.Combine(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold<TReduction>(Vector256<float> v) where TReduction : struct, IGroupReduction =>
        Fold<TReduction>(TReduction.Combine(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold<TReduction>(Vector128<float> v) where TReduction : struct, IGroupReduction =>
        TReduction.Combine(
            TReduction.Combine(v.GetElement(0), v.GetElement(1)),
            TReduction.Combine(v.GetElement(2), v.GetElement(3)));
}
