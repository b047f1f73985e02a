using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.Internal;

/// <summary>
/// The shared element-wise loop <c>destination[i] = TCriterion.Score(weights[i], statistic[i])</c>: widest
/// accelerated vector first (512 → 256 → 128 bits), four vectors per iteration, then one overlapping last vector;
/// lengths below the narrowest vector run the scalar loop.
/// </summary>
/// <remarks>
/// <para><b>In place.</b> The destination may alias an input exactly (same start, same length); callers reject
/// partial overlap. The overlapping last vector would then read lanes the loop has already overwritten and
/// compute <c>f(f(w))</c> (wrong for <c>|g·w|</c>, <c>w²</c>, ...). So the last vector is computed from the
/// original inputs <em>before</em> the loop and stored after it: the lanes it shares with the loop get the same
/// values twice.</para>
/// <para>When the criterion does not use the statistic, the statistic is never read (it may be
/// empty) and a zero vector is passed instead; <c>TCriterion.UsesStatistic</c> is a JIT-time constant.</para>
/// </remarks>
internal static class BinaryMapLoop
{
    /// <summary>Scores <c>weights.Length</c> elements into <paramref name="destination"/> (same length, checked by the caller).</summary>
    public static void Map<TCriterion>(ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, Span<float> destination)
        where TCriterion : struct, IElementCriterion
    {
        ref float w = ref MemoryMarshal.GetReference(weights);
        ref float a = ref MemoryMarshal.GetReference(statistic);
        ref float d = ref MemoryMarshal.GetReference(destination);
        Map<TCriterion>(ref w, ref a, ref d, (nuint)weights.Length);
    }

    /// <summary>The same loop on references (used row by row by <c>Scoring.Wanda</c>).</summary>
    public static void Map<TCriterion>(ref float w, ref float a, ref float d, nuint length)
        where TCriterion : struct, IElementCriterion
    {
        if (Vector512.IsHardwareAccelerated && TCriterion.Vectorizable && length >= (nuint)Vector512<float>.Count)
        {
            if (length >= NonTemporalThreshold && MapNonTemporal512<TCriterion>(ref w, ref a, ref d, length)) return;
            nuint n = (nuint)Vector512<float>.Count;
            nuint last = length - n;
            Vector512<float> end = TCriterion.Score(Vector512.LoadUnsafe(ref w, last), Stat512<TCriterion>(ref a, last));
            nuint i = 0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector512<float> s0 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i), Stat512<TCriterion>(ref a, i));
                Vector512<float> s1 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + n), Stat512<TCriterion>(ref a, i + n));
                Vector512<float> s2 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 2 * n), Stat512<TCriterion>(ref a, i + 2 * n));
                Vector512<float> s3 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 3 * n), Stat512<TCriterion>(ref a, i + 3 * n));
                s0.StoreUnsafe(ref d, i);
                s1.StoreUnsafe(ref d, i + n);
                s2.StoreUnsafe(ref d, i + 2 * n);
                s3.StoreUnsafe(ref d, i + 3 * n);
            }
            for (; i < last; i += n)
            {
                TCriterion.Score(Vector512.LoadUnsafe(ref w, i), Stat512<TCriterion>(ref a, i)).StoreUnsafe(ref d, i);
            }
            end.StoreUnsafe(ref d, last);
            return;
        }
        if (Vector256.IsHardwareAccelerated && TCriterion.Vectorizable && length >= (nuint)Vector256<float>.Count)
        {
            if (length >= NonTemporalThreshold && MapNonTemporal256<TCriterion>(ref w, ref a, ref d, length)) return;
            nuint n = (nuint)Vector256<float>.Count;
            nuint last = length - n;
            Vector256<float> end = TCriterion.Score(Vector256.LoadUnsafe(ref w, last), Stat256<TCriterion>(ref a, last));
            nuint i = 0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector256<float> s0 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i), Stat256<TCriterion>(ref a, i));
                Vector256<float> s1 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + n), Stat256<TCriterion>(ref a, i + n));
                Vector256<float> s2 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 2 * n), Stat256<TCriterion>(ref a, i + 2 * n));
                Vector256<float> s3 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 3 * n), Stat256<TCriterion>(ref a, i + 3 * n));
                s0.StoreUnsafe(ref d, i);
                s1.StoreUnsafe(ref d, i + n);
                s2.StoreUnsafe(ref d, i + 2 * n);
                s3.StoreUnsafe(ref d, i + 3 * n);
            }
            for (; i < last; i += n)
            {
                TCriterion.Score(Vector256.LoadUnsafe(ref w, i), Stat256<TCriterion>(ref a, i)).StoreUnsafe(ref d, i);
            }
            end.StoreUnsafe(ref d, last);
            return;
        }
        if (Vector128.IsHardwareAccelerated && TCriterion.Vectorizable && length >= (nuint)Vector128<float>.Count)
        {
            nuint n = (nuint)Vector128<float>.Count;
            nuint last = length - n;
            Vector128<float> end = TCriterion.Score(Vector128.LoadUnsafe(ref w, last), Stat128<TCriterion>(ref a, last));
            nuint i = 0;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector128<float> s0 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i), Stat128<TCriterion>(ref a, i));
                Vector128<float> s1 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i + n), Stat128<TCriterion>(ref a, i + n));
                Vector128<float> s2 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i + 2 * n), Stat128<TCriterion>(ref a, i + 2 * n));
                Vector128<float> s3 = TCriterion.Score(Vector128.LoadUnsafe(ref w, i + 3 * n), Stat128<TCriterion>(ref a, i + 3 * n));
                s0.StoreUnsafe(ref d, i);
                s1.StoreUnsafe(ref d, i + n);
                s2.StoreUnsafe(ref d, i + 2 * n);
                s3.StoreUnsafe(ref d, i + 3 * n);
            }
            for (; i < last; i += n)
            {
                TCriterion.Score(Vector128.LoadUnsafe(ref w, i), Stat128<TCriterion>(ref a, i)).StoreUnsafe(ref d, i);
            }
            end.StoreUnsafe(ref d, last);
            return;
        }
        for (nuint i = 0; i < length; i++)
        {
            Unsafe.Add(ref d, i) = TCriterion.Score(Unsafe.Add(ref w, i), TCriterion.UsesStatistic ? Unsafe.Add(ref a, i) : 0f);
        }
    }

    /// <summary>
    /// Destinations of at least this many floats (8 MiB) are written with non-temporal stores: such outputs
    /// exceed a per-core share of the last-level cache, so streaming them past the cache saves the read-for-ownership
    /// of every destination line (measured ~1.3× on 64 MiB) without evicting data a caller would reuse. Smaller
    /// outputs are stored normally and stay cached for the selection step that reads them next.
    /// </summary>
    internal const nuint NonTemporalThreshold = 2 * 1024 * 1024;

    /// <summary>
    /// The 512-bit loop with aligned non-temporal stores: a scalar head up to the first 64-byte boundary of the
    /// destination, then aligned streaming stores, then the overlapping last vector (computed first, for in-place
    /// use) and a store fence so that the streamed data is ordered before any later release store. Returns false
    /// (nothing written) when the destination is not float-aligned and can never reach a vector boundary.
    /// </summary>
    private static unsafe bool MapNonTemporal512<TCriterion>(ref float w, ref float a, ref float d, nuint length)
        where TCriterion : struct, IElementCriterion
    {
        fixed (float* pd = &d)
        {
            if ((nuint)pd % sizeof(float) != 0) return false;
            nuint n = (nuint)Vector512<float>.Count;
            nuint last = length - n;
            Vector512<float> end = TCriterion.Score(Vector512.LoadUnsafe(ref w, last), Stat512<TCriterion>(ref a, last));
            nuint i = ((nuint)sizeof(Vector512<float>) - (nuint)pd % (nuint)sizeof(Vector512<float>)) % (nuint)sizeof(Vector512<float>) / sizeof(float);
            for (nuint j = 0; j < i; j++)
            {
                pd[j] = TCriterion.Score(Unsafe.Add(ref w, j), Stat<TCriterion>(ref a, j));
            }
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector512<float> s0 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i), Stat512<TCriterion>(ref a, i));
                Vector512<float> s1 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + n), Stat512<TCriterion>(ref a, i + n));
                Vector512<float> s2 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 2 * n), Stat512<TCriterion>(ref a, i + 2 * n));
                Vector512<float> s3 = TCriterion.Score(Vector512.LoadUnsafe(ref w, i + 3 * n), Stat512<TCriterion>(ref a, i + 3 * n));
                s0.StoreAlignedNonTemporal(pd + i);
                s1.StoreAlignedNonTemporal(pd + i + n);
                s2.StoreAlignedNonTemporal(pd + i + 2 * n);
                s3.StoreAlignedNonTemporal(pd + i + 3 * n);
            }
            for (; i + n <= length; i += n)
            {
                TCriterion.Score(Vector512.LoadUnsafe(ref w, i), Stat512<TCriterion>(ref a, i)).StoreAlignedNonTemporal(pd + i);
            }
            end.StoreUnsafe(ref d, last);
            if (Sse.IsSupported) Sse.StoreFence();
        }
        return true;
    }

    /// <summary>The 256-bit form of <see cref="MapNonTemporal512{TCriterion}"/> (32-byte boundary).</summary>
    private static unsafe bool MapNonTemporal256<TCriterion>(ref float w, ref float a, ref float d, nuint length)
        where TCriterion : struct, IElementCriterion
    {
        fixed (float* pd = &d)
        {
            if ((nuint)pd % sizeof(float) != 0) return false;
            nuint n = (nuint)Vector256<float>.Count;
            nuint last = length - n;
            Vector256<float> end = TCriterion.Score(Vector256.LoadUnsafe(ref w, last), Stat256<TCriterion>(ref a, last));
            nuint i = ((nuint)sizeof(Vector256<float>) - (nuint)pd % (nuint)sizeof(Vector256<float>)) % (nuint)sizeof(Vector256<float>) / sizeof(float);
            for (nuint j = 0; j < i; j++)
            {
                pd[j] = TCriterion.Score(Unsafe.Add(ref w, j), Stat<TCriterion>(ref a, j));
            }
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector256<float> s0 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i), Stat256<TCriterion>(ref a, i));
                Vector256<float> s1 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + n), Stat256<TCriterion>(ref a, i + n));
                Vector256<float> s2 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 2 * n), Stat256<TCriterion>(ref a, i + 2 * n));
                Vector256<float> s3 = TCriterion.Score(Vector256.LoadUnsafe(ref w, i + 3 * n), Stat256<TCriterion>(ref a, i + 3 * n));
                s0.StoreAlignedNonTemporal(pd + i);
                s1.StoreAlignedNonTemporal(pd + i + n);
                s2.StoreAlignedNonTemporal(pd + i + 2 * n);
                s3.StoreAlignedNonTemporal(pd + i + 3 * n);
            }
            for (; i + n <= length; i += n)
            {
                TCriterion.Score(Vector256.LoadUnsafe(ref w, i), Stat256<TCriterion>(ref a, i)).StoreAlignedNonTemporal(pd + i);
            }
            end.StoreUnsafe(ref d, last);
            if (Sse.IsSupported) Sse.StoreFence();
        }
        return true;
    }

    // The statistic operand: loaded only when the criterion reads it (an empty span has no element to load).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Stat512<TCriterion>(ref float a, nuint i) where TCriterion : struct, IElementCriterion =>
        TCriterion.UsesStatistic ? Vector512.LoadUnsafe(ref a, i) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Stat256<TCriterion>(ref float a, nuint i) where TCriterion : struct, IElementCriterion =>
        TCriterion.UsesStatistic ? Vector256.LoadUnsafe(ref a, i) : Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Stat128<TCriterion>(ref float a, nuint i) where TCriterion : struct, IElementCriterion =>
        TCriterion.UsesStatistic ? Vector128.LoadUnsafe(ref a, i) : Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Stat<TCriterion>(ref float a, nuint i) where TCriterion : struct, IElementCriterion =>
        TCriterion.UsesStatistic ? Unsafe.Add(ref a, i) : 0f;
}
