using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>What one <see cref="SampleWindow.Filter{TKey}"/> pass counted.</summary>
internal struct WindowCounts
{
    /// <summary>Values <c>&lt; lo</c>.</summary>
    public long Below;

    /// <summary>Values <c>== lo</c>.</summary>
    public long EqualLo;

    /// <summary>Values strictly inside <c>(lo, hi)</c>; the pass gathers these (up to the capacity).</summary>
    public long Inside;

    /// <summary>Values <c>== hi</c> (0 when <c>lo == hi</c>).</summary>
    public long EqualHi;

    /// <summary>False when a NaN or ±∞ was seen.</summary>
    public bool Finite;
}

/// <summary>
/// Single-pass selection for large inputs (the sampling idea of Floyd and Rivest 1975): a stratified sample predicts a
/// value window <c>[lo, hi]</c> that holds the wanted rank with high probability; one streaming pass then counts the
/// values below, equal to either bound and inside the window, gathers only the inside values (AVX-512 compress), and
/// checks finiteness. When the rank is inside, introselect finishes on the small gathered window; when it falls on a
/// bound, the bound is the answer without any gather (this keeps heavy duplicates — e.g. the zeros of an already
/// sparse tensor — out of scratch). A miss (≈ 5·10⁻⁴ by the normal approximation of the sample rank) falls back to the exact radix path.
/// </summary>
/// <remarks>
/// Why: the radix path reads a large input twice (histogram, then gather of the rank's bin) and its histogram is bound
/// by scalar increments (≈ 0.4 ns per value on Zen 5); this pass is pure SIMD and reads the input once, so it runs at
/// memory bandwidth. Sample size ≈ n^(2/3)/2 balances the sampling cost (one cache miss per sample) against the window
/// size, which shrinks as 1/√s. The window spans ±3.5 standard deviations of the sample rank.
/// </remarks>
internal static class SampleWindow
{
    private const double Sigmas = 3.5;

    /// <summary>How many values to sample for <paramref name="n"/> inputs.</summary>
    public static int SampleSize(nint n)
    {
        double s = 0.5 * Math.Pow(n, 2.0 / 3.0);
        return (int)Math.Clamp(s, Math.Min(1024, n), 1 << 16);
    }

    /// <summary>
    /// Writes a stratified sample of <c>TKey.Value(src[i])</c> to <paramref name="sample"/>: one value from each of
    /// <c>sample.Length</c> equal blocks, at a hashed offset inside the block (deterministic, yet not aligned with any
    /// period the data may have).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Draw<TKey>(ref float src, nint n, Span<float> sample)
        where TKey : struct, IOrderKey
    {
        int s = sample.Length;
        nint block = n / s;
        for (int j = 0; j < s; j++)
        {
            uint h = (uint)j * 0x9E3779B1u;
            h ^= h >> 15;
            nint offset = (nint)((ulong)h * (ulong)block >> 32);
            sample[j] = TKey.Value(Unsafe.Add(ref src, (j * block) + offset));
        }
    }

    /// <summary>
    /// Picks the window for relative rank <paramref name="k"/> of <paramref name="n"/> from the sample (reordered), as
    /// two sample order statistics; a bound beyond the sample is ±∞.
    /// </summary>
    public static void Window(Span<float> sample, nint n, nint k, out float lo, out float hi)
    {
        int s = sample.Length;
        double q = (k + 0.5) / n;
        double center = q * s;
        double margin = (Sigmas * Math.Sqrt(s * q * (1 - q))) + 2;
        int rlo = (int)Math.Floor(center - margin);
        int rhi = (int)Math.Ceiling(center + margin);
        ref float smp = ref MemoryMarshal.GetReference(sample);
        lo = float.NegativeInfinity;
        hi = float.PositiveInfinity;
        int start = 0;
        if (rlo >= 0)
        {
            lo = Introselect.Select(ref smp, s, rlo, out _);
            start = rlo + 1;
        }
        if (rhi < s)
        {
            hi = rhi < start ? lo : Introselect.Select(ref Unsafe.Add(ref smp, start), s - start, rhi - start, out _);
        }
    }

    /// <summary>
    /// The single streaming pass: counts below / at lo / inside / at hi, gathers inside values into
    /// <paramref name="dst"/> while they fit in <paramref name="capacity"/>, and checks finiteness.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static WindowCounts Filter<TKey>(ref float src, nint n, float lo, float hi, ref float dst, nint capacity)
        where TKey : struct, IOrderKey
    {
        // When lo == hi the window is one value: count it once (as lo); NaN never compares equal.
        float hiEq = lo == hi ? float.NaN : hi;
        nint i = 0, count = 0;
        long below = 0, eqLo = 0, eqHi = 0;
        int maxBits = 0;
        if (Avx512F.IsSupported)
        {
            var vlo = Vector512.Create(lo);
            var vhi = Vector512.Create(hi);
            var vhiEq = Vector512.Create(hiEq);
            var mag = Vector512.Create(int.MaxValue);
            // Lane counters (subtracting all-ones lanes adds 1) stay far from overflow: a lane sees at most n/16 values.
            Vector512<int> accBelow = default, accLo = default, accHi = default, accMax = default;
            for (; i + 16 <= n; i += 16)
            {
                var v = TKey.Value(Vector512.LoadUnsafe(ref src, (nuint)i));
                accMax = Vector512.Max(accMax, v.AsInt32() & mag);
                accBelow -= Vector512.LessThan(v, vlo).AsInt32();
                accLo -= Vector512.Equals(v, vlo).AsInt32();
                accHi -= Vector512.Equals(v, vhiEq).AsInt32();
                var inside = Vector512.GreaterThan(v, vlo) & Vector512.LessThan(v, vhi);
                uint lanes = (uint)inside.ExtractMostSignificantBits();
                if (count + 16 <= capacity)
                {
                    Avx512F.Compress(v, inside, v).StoreUnsafe(ref dst, (nuint)count);
                    count += BitOperations.PopCount(lanes);
                }
                else
                {
                    count = WriteLanes(ref dst, count, capacity, lanes, v);
                }
            }
            // Lane counts sum to at most n < 2^31, so the int sums cannot overflow.
            below = Vector512.Sum(accBelow);
            eqLo = Vector512.Sum(accLo);
            eqHi = Vector512.Sum(accHi);
            maxBits = HorizontalMax(accMax);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vlo = Vector256.Create(lo);
            var vhi = Vector256.Create(hi);
            var vhiEq = Vector256.Create(hiEq);
            var mag = Vector256.Create(int.MaxValue);
            Vector256<int> accBelow = default, accLo = default, accHi = default, accMax = default;
            for (; i + 8 <= n; i += 8)
            {
                var v = TKey.Value(Vector256.LoadUnsafe(ref src, (nuint)i));
                accMax = Vector256.Max(accMax, v.AsInt32() & mag);
                accBelow -= Vector256.LessThan(v, vlo).AsInt32();
                accLo -= Vector256.Equals(v, vlo).AsInt32();
                accHi -= Vector256.Equals(v, vhiEq).AsInt32();
                uint lanes = (Vector256.GreaterThan(v, vlo) & Vector256.LessThan(v, vhi)).ExtractMostSignificantBits();
                if (count + 8 <= capacity && PermutePartition.IsSupported)
                {
                    PermutePartition.CompressLow(v, lanes).StoreUnsafe(ref dst, (nuint)count);
                    count += BitOperations.PopCount(lanes);
                }
                else
                {
                    count = WriteLanes(ref dst, count, capacity, lanes, v);
                }
            }
            below = Vector256.Sum(accBelow);
            eqLo = Vector256.Sum(accLo);
            eqHi = Vector256.Sum(accHi);
            maxBits = HorizontalMax(accMax);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vlo = Vector128.Create(lo);
            var vhi = Vector128.Create(hi);
            var vhiEq = Vector128.Create(hiEq);
            var mag = Vector128.Create(int.MaxValue);
            Vector128<int> accBelow = default, accLo = default, accHi = default, accMax = default;
            for (; i + 4 <= n; i += 4)
            {
                var v = TKey.Value(Vector128.LoadUnsafe(ref src, (nuint)i));
                accMax = Vector128.Max(accMax, v.AsInt32() & mag);
                accBelow -= Vector128.LessThan(v, vlo).AsInt32();
                accLo -= Vector128.Equals(v, vlo).AsInt32();
                accHi -= Vector128.Equals(v, vhiEq).AsInt32();
                uint lanes = (Vector128.GreaterThan(v, vlo) & Vector128.LessThan(v, vhi)).ExtractMostSignificantBits();
                if (lanes != 0) count = WriteLanes(ref dst, count, capacity, lanes, v);
            }
            below = Vector128.Sum(accBelow);
            eqLo = Vector128.Sum(accLo);
            eqHi = Vector128.Sum(accHi);
            maxBits = Math.Max(Math.Max(accMax.GetElement(0), accMax.GetElement(1)), Math.Max(accMax.GetElement(2), accMax.GetElement(3)));
        }
        for (; i < n; i++)
        {
            float v = TKey.Value(Unsafe.Add(ref src, i));
            maxBits = Math.Max(maxBits, BitConverter.SingleToInt32Bits(v) & int.MaxValue);
            if (v < lo) below++;
            if (v == lo) eqLo++;
            if (v == hiEq) eqHi++;
            if (v > lo && v < hi)
            {
                if (count < capacity) Unsafe.Add(ref dst, count) = v;
                count++;
            }
        }
        return new WindowCounts { Below = below, EqualLo = eqLo, Inside = count, EqualHi = eqHi, Finite = maxBits < 0x7F800000 };
    }

    // Exact-width writes of the set lanes (near the capacity, and on the paths without a compress).
    private static nint WriteLanes(ref float dst, nint count, nint capacity, uint lanes, Vector512<float> v)
    {
        for (; lanes != 0; lanes &= lanes - 1, count++)
        {
            if (count < capacity) Unsafe.Add(ref dst, count) = v.GetElement(BitOperations.TrailingZeroCount(lanes));
        }
        return count;
    }

    private static nint WriteLanes(ref float dst, nint count, nint capacity, uint lanes, Vector256<float> v)
    {
        for (; lanes != 0; lanes &= lanes - 1, count++)
        {
            if (count < capacity) Unsafe.Add(ref dst, count) = v.GetElement(BitOperations.TrailingZeroCount(lanes));
        }
        return count;
    }

    private static nint WriteLanes(ref float dst, nint count, nint capacity, uint lanes, Vector128<float> v)
    {
        for (; lanes != 0; lanes &= lanes - 1, count++)
        {
            if (count < capacity) Unsafe.Add(ref dst, count) = v.GetElement(BitOperations.TrailingZeroCount(lanes));
        }
        return count;
    }

    private static int HorizontalMax(Vector512<int> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        return HorizontalMax(m);
    }

    private static int HorizontalMax(Vector256<int> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return Math.Max(Math.Max(m.GetElement(0), m.GetElement(1)), Math.Max(m.GetElement(2), m.GetElement(3)));
    }
}
