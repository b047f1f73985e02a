using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The radix pre-pass of large selections: histogram the top 16 bits of the order-preserving keys, find the bin that
/// holds the wanted rank, and gather only that bin's values (a vectorised filter) for introselect.
/// </summary>
/// <remarks>
/// <para>Why 16 bits: real weights and scores span a few octaves, and 16 key bits keep 7–8 mantissa bits, so the
/// rank's bin holds ~0.1–1% of the input while the histogram (256 KiB of counts) stays hot. The histogram pass reads
/// the input once (keys are made 16 lanes at a time, then counted with scalar increments — there is no fast SIMD
/// scatter-add); the gather pass reads it once more and writes only the small bin.</para>
/// <para>NaN policy: the NaN/∞ keys land in bins that hold nothing else (<see cref="IOrderKey.FirstFiniteBin"/>), so
/// the histogram doubles as the finiteness check — look at those bins after the pass, before anything is written.</para>
/// </remarks>
internal static class RadixBucket
{
    public const int Bins = 1 << 16;

    /// <summary>Counts the keys of <c>src[0..n)</c> into <paramref name="hist"/> (which must be zeroed, length <see cref="Bins"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Histogram<TKey>(ref float src, nint n, ref uint hist)
        where TKey : struct, IOrderKey
    {
        ref uint bits = ref Unsafe.As<float, uint>(ref src);
        int shift = TKey.BinShift;
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Bins of 64 values are made with SIMD into a small stack buffer, then counted.
            Span<uint> buffer = stackalloc uint[64];
            ref uint b = ref buffer[0];
            for (; i + 64 <= n; i += 64)
            {
                Vector512.ShiftRightLogical(TKey.Key(Vector512.LoadUnsafe(ref bits, (nuint)i)), shift).StoreUnsafe(ref b, 0);
                Vector512.ShiftRightLogical(TKey.Key(Vector512.LoadUnsafe(ref bits, (nuint)(i + 16))), shift).StoreUnsafe(ref b, 16);
                Vector512.ShiftRightLogical(TKey.Key(Vector512.LoadUnsafe(ref bits, (nuint)(i + 32))), shift).StoreUnsafe(ref b, 32);
                Vector512.ShiftRightLogical(TKey.Key(Vector512.LoadUnsafe(ref bits, (nuint)(i + 48))), shift).StoreUnsafe(ref b, 48);
                Count64(ref hist, ref b);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Span<uint> buffer = stackalloc uint[64];
            ref uint b = ref buffer[0];
            for (; i + 64 <= n; i += 64)
            {
                for (nuint j = 0; j < 64; j += 8)
                {
                    Vector256.ShiftRightLogical(TKey.Key(Vector256.LoadUnsafe(ref bits, (nuint)i + j)), shift).StoreUnsafe(ref b, j);
                }
                Count64(ref hist, ref b);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref hist, (nint)(TKey.Key(Unsafe.Add(ref bits, i)) >> shift))++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Count64(ref uint hist, ref uint b)
    {
        for (nint j = 0; j < 64; j += 4)
        {
            Unsafe.Add(ref hist, (nint)Unsafe.Add(ref b, j))++;
            Unsafe.Add(ref hist, (nint)Unsafe.Add(ref b, j + 1))++;
            Unsafe.Add(ref hist, (nint)Unsafe.Add(ref b, j + 2))++;
            Unsafe.Add(ref hist, (nint)Unsafe.Add(ref b, j + 3))++;
        }
    }

    /// <summary>True when a bin reserved for NaN/±∞ is not empty.</summary>
    public static bool HasNonFinite<TKey>(ReadOnlySpan<uint> hist)
        where TKey : struct, IOrderKey
    {
        uint bad = 0;
        for (int j = 0; j < TKey.FirstFiniteBin; j++) bad |= hist[j];
        for (int j = TKey.LastFiniteBin + 1; j < Bins; j++) bad |= hist[j];
        return bad != 0;
    }

    /// <summary>
    /// Finds the bin holding zero-based <paramref name="rank"/>: <paramref name="below"/> values lie in lower bins and
    /// <paramref name="count"/> in the bin; <paramref name="lo"/>..<paramref name="hi"/> is the bin's closed value range.
    /// For <see cref="SignedKey"/> the −0 and +0 bins are merged into one range, because ±0 compare equal.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Locate<TKey>(ReadOnlySpan<uint> hist, long rank, out long below, out long count, out float lo, out float hi)
        where TKey : struct, IOrderKey
    {
        long cumulative = 0;
        int bin = 0;
        // Skip whole blocks of 64 bins with a SIMD sum, then walk the block that holds the rank.
        ref uint h = ref Unsafe.AsRef(in hist[0]);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; bin < Bins; bin += 64)
            {
                var s = Vector512.LoadUnsafe(ref h, (nuint)bin) + Vector512.LoadUnsafe(ref h, (nuint)(bin + 16))
                      + Vector512.LoadUnsafe(ref h, (nuint)(bin + 32)) + Vector512.LoadUnsafe(ref h, (nuint)(bin + 48));
                long blockSum = Vector512.Sum(s);
                if (cumulative + blockSum > rank) break;
                cumulative += blockSum;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; bin < Bins; bin += 32)
            {
                var s = Vector256.LoadUnsafe(ref h, (nuint)bin) + Vector256.LoadUnsafe(ref h, (nuint)(bin + 8))
                      + Vector256.LoadUnsafe(ref h, (nuint)(bin + 16)) + Vector256.LoadUnsafe(ref h, (nuint)(bin + 24));
                long blockSum = Vector256.Sum(s);
                if (cumulative + blockSum > rank) break;
                cumulative += blockSum;
            }
        }
        while (cumulative + hist[bin] <= rank)
        {
            cumulative += hist[bin];
            bin++;
        }

        int first = bin, last = bin;
        if (typeof(TKey) == typeof(SignedKey) && (bin == 0x7FFF || bin == 0x8000))
        {
            first = 0x7FFF;
            last = 0x8000;
            if (bin == 0x8000) cumulative -= hist[0x7FFF];
        }
        below = cumulative;
        count = 0;
        for (int j = first; j <= last; j++) count += hist[j];
        int shift = TKey.BinShift;
        lo = TKey.ValueOfKey((uint)first << shift);
        hi = TKey.ValueOfKey(((uint)last << shift) | ((1u << shift) - 1));
    }

    /// <summary>
    /// Copies the compared values (<see cref="IOrderKey.Value(float)"/>) of <c>src[0..n)</c> that lie in
    /// <c>[lo, hi]</c> to <paramref name="dst"/>, in index order; returns how many. Writes never pass
    /// <paramref name="capacity"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static nint Gather<TKey>(ref float src, nint n, float lo, float hi, ref float dst, nint capacity)
        where TKey : struct, IOrderKey
    {
        nint i = 0, count = 0;
        if (Avx512F.IsSupported)
        {
            var vlo = Vector512.Create(lo);
            var vhi = Vector512.Create(hi);
            for (; i + 16 <= n; i += 16)
            {
                var v = TKey.Value(Vector512.LoadUnsafe(ref src, (nuint)i));
                var m = Vector512.GreaterThanOrEqual(v, vlo) & Vector512.LessThanOrEqual(v, vhi);
                if (m.AsUInt32() == Vector512<uint>.Zero) continue;
                uint lanes = (uint)m.ExtractMostSignificantBits();
                if (count + 16 <= capacity)
                {
                    Avx512F.Compress(v, m, v).StoreUnsafe(ref dst, (nuint)count);
                    count += BitOperations.PopCount(lanes);
                }
                else
                {
                    count = WriteLanes<TKey>(ref dst, count, lanes, ref Unsafe.Add(ref src, i));
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            for (; i + 8 <= n; i += 8)
            {
                var v = TKey.Value(Vector256.LoadUnsafe(ref src, (nuint)i));
                uint lanes = (Vector256.GreaterThanOrEqual(v, vlo) & Vector256.LessThanOrEqual(v, vhi)).ExtractMostSignificantBits();
                if (lanes != 0) count = WriteLanes<TKey>(ref dst, count, lanes, ref Unsafe.Add(ref src, i));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vlo = Vector128.Create(lo);
            var vhi = Vector128.Create(hi);
            for (; i + 4 <= n; i += 4)
            {
                var v = TKey.Value(Vector128.LoadUnsafe(ref src, (nuint)i));
                uint lanes = (Vector128.GreaterThanOrEqual(v, vlo) & Vector128.LessThanOrEqual(v, vhi)).ExtractMostSignificantBits();
                if (lanes != 0) count = WriteLanes<TKey>(ref dst, count, lanes, ref Unsafe.Add(ref src, i));
            }
        }
        for (; i < n; i++)
        {
            float v = TKey.Value(Unsafe.Add(ref src, i));
            if (v >= lo && v <= hi) Unsafe.Add(ref dst, count++) = v;
        }
        return count;
    }

    private static nint WriteLanes<TKey>(ref float dst, nint count, uint lanes, ref float src)
        where TKey : struct, IOrderKey
    {
        while (lanes != 0)
        {
            int lane = BitOperations.TrailingZeroCount(lanes);
            Unsafe.Add(ref dst, count++) = TKey.Value(Unsafe.Add(ref src, lane));
            lanes &= lanes - 1;
        }
        return count;
    }
}
