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
/// scores themselves; otherwise they live in a 4 KiB stack chunk that walks along the row, so no scratch is
/// rented and the accumulators stay in L1 while the R rows stream through.</item>
/// </list>
/// <para>Reductions are associative and commutative up to rounding (IGroupReduction contract), so the result
/// matches the definition within float rounding; the summation order depends on the vector width.</para>
/// </remarks>
internal static class GroupReduceLoop
{
    /// <summary>Per-column accumulators kept on the stack by the vertical strategy (4 KiB).</summary>
    private const int ChunkLength = 1024;

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
        ref float w = ref MemoryMarshal.GetReference(weights);
        // An unused statistic may be empty: point its reference at the weights so that no address is ever
        // formed from an empty span (it is never dereferenced, see BinaryMapLoop.Stat512).
        ref float a = ref TCriterion.UsesStatistic ? ref MemoryMarshal.GetReference(statistic) : ref w;
        ref float u = ref MemoryMarshal.GetReference(units);
        nuint length = (nuint)rowLength;
        nuint runLength = (nuint)blockCols;
        nuint unitsPerRow = (nuint)(rowLength / blockCols);
        int tileRows = rows / blockRows;

        if (UseHorizontal(blockRows, blockCols))
        {
            for (int o = 0; o < rows; o++)
            {
                bool first = o % blockRows == 0;
                ref float unitRow = ref Unsafe.Add(ref u, (nuint)(o / blockRows) * unitsPerRow);
                nuint rowStart = (nuint)o * length;
                for (nuint k = 0; k < unitsPerRow; k++)
                {
                    nuint start = rowStart + k * runLength;
                    float r = ReduceRun<TCriterion, TReduction>(ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), runLength);
                    ref float slot = ref Unsafe.Add(ref unitRow, k);
                    slot = first ? r : TReduction.Combine(slot, r);
                }
            }
        }
        else if (blockCols == 1)
        {
            for (int b = 0; b < tileRows; b++)
            {
                ref float acc = ref Unsafe.Add(ref u, (nuint)b * length);
                for (int r = 0; r < blockRows; r++)
                {
                    nuint start = (nuint)(b * blockRows + r) * length;
                    VerticalAccumulate<TCriterion, TReduction>(ref acc, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), length, r == 0);
                }
            }
        }
        else
        {
            Span<float> chunkSpan = stackalloc float[ChunkLength];
            ref float chunk = ref MemoryMarshal.GetReference(chunkSpan);
            nuint chunkLength = runLength * (nuint)(ChunkLength / blockCols);
            for (int b = 0; b < tileRows; b++)
            {
                ref float unitRow = ref Unsafe.Add(ref u, (nuint)b * unitsPerRow);
                for (nuint c0 = 0; c0 < length; c0 += chunkLength)
                {
                    nuint n = Math.Min(chunkLength, length - c0);
                    for (int r = 0; r < blockRows; r++)
                    {
                        nuint start = (nuint)(b * blockRows + r) * length + c0;
                        VerticalAccumulate<TCriterion, TReduction>(ref chunk, ref Unsafe.Add(ref w, start), ref Unsafe.Add(ref a, start), n, r == 0);
                    }
                    CombineRuns<TReduction>(ref chunk, n, runLength, ref Unsafe.Add(ref unitRow, c0 / runLength));
                }
            }
        }

        int count = blockRows * blockCols;
        for (int i = 0; i < units.Length; i++)
        {
            units[i] = TReduction.Finish(units[i], count);
        }
    }

    /// <summary>
    /// Horizontal when the runs are long enough to fill vectors and the per-run lane fold (about 8 operations)
    /// is small against the run: <c>8·R ≤ C</c>. Runs longer than the stack chunk must go horizontal.
    /// </summary>
    internal static bool UseHorizontal(int blockRows, int blockCols) =>
        blockCols > ChunkLength || (blockCols >= 16 && (long)blockRows * 8 <= blockCols);

    /// <summary>Reduces one contiguous run of <paramref name="length"/> element scores to an (unfinished) accumulator.</summary>
    internal static float ReduceRun<TCriterion, TReduction>(ref float w, ref float a, nuint length)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
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
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
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
        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
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
    /// <c>acc[j] = Accumulate(first ? Identity : acc[j], Score(w[j], a[j]))</c> for <c>j &lt; length</c>. The last
    /// vector overlaps the previous one; its already-updated lanes are blended back unchanged.
    /// </summary>
    internal static void VerticalAccumulate<TCriterion, TReduction>(ref float acc, ref float w, ref float a, nuint length, bool first)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
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
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
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
        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
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

    /// <summary><c>units[k] = Combine(acc[k·C], …, acc[k·C + C − 1])</c> for each of the <c>length / C</c> runs.</summary>
    private static void CombineRuns<TReduction>(ref float acc, nuint length, nuint runLength, ref float units)
        where TReduction : struct, IGroupReduction
    {
        for (nuint k = 0, start = 0; start < length; k++, start += runLength)
        {
            float r = Unsafe.Add(ref acc, start);
            for (nuint t = 1; t < runLength; t++)
            {
                r = TReduction.Combine(r, Unsafe.Add(ref acc, start + t));
            }
            Unsafe.Add(ref units, k) = r;
        }
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
