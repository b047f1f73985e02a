using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Span.Prune.Internal;

namespace Span.Prune.SelectionKernels;

/// <summary>Which selection strategy <see cref="SelectionCore"/> uses; benchmarks and tests force each one.</summary>
internal enum SelectionPath
{
    Auto,
    Introselect,
    Radix,
    SampleWindow,
}

/// <summary>
/// Exact order statistics of the compared values (<see cref="IOrderKey.Value(float)"/>) of a span, plus the count of values
/// strictly below the answer (what the exact-k masks need to size their tie quota).
/// </summary>
/// <remarks>
/// <para>Small inputs: copy to scratch with a fused finiteness check, then introselect.</para>
/// <para>Large inputs (<see cref="LargeThreshold"/>): one <see cref="SampleWindow"/> pass (sample-predicted window,
/// counts, gather, finiteness), then introselect on the window. If the rank misses the window, the exact radix path
/// runs: a 16-bit histogram with a fused finiteness check, a gather of the rank's bin, introselect on it.</para>
/// <para>Scratch comes from the caller when it is long enough, otherwise from <see cref="ArrayPool{T}.Shared"/>; the
/// large paths rent only about the size of the window or bin.</para>
/// <para>The kernels are <see cref="MethodImplOptions.AggressiveOptimization"/>: they run long loops but are called
/// rarely (once per tensor per pruning step), so tiered compilation would run them as on-stack-replacement code, which
/// spills the vector accumulators (measured: the 1 M-value window pass took 0.47 ms as OSR code, 0.16 ms optimised).</para>
/// </remarks>
internal static class SelectionCore
{
    /// <summary>
    /// Inputs at least this long take the large-input path. Measured with AVX-512 on Zen 5: at 16 Ki values introselect
    /// on a copy and the sample window tie (~5 µs); at 32 Ki the window is ahead, at 64 Ki twice as fast.
    /// </summary>
    internal const int LargeThreshold = 1 << 15;

    /// <summary>Test and benchmark hook: forces a path on this thread.</summary>
    [ThreadStatic] internal static SelectionPath t_path;

    /// <summary>
    /// The zero-based <paramref name="k"/>-th smallest compared value of <paramref name="source"/>. Throws
    /// <see cref="ArgumentException"/> naming <paramref name="paramName"/> (and the first bad index) on NaN/±∞, before
    /// the caller writes anything. A zero result is returned as +0.
    /// </summary>
    public static float Select<TKey>(ReadOnlySpan<float> source, int k, Span<float> scratch, string paramName, out int countLess)
        where TKey : struct, IOrderKey
    {
        Debug.Assert((uint)k < (uint)source.Length);
        nint n = source.Length;
        ref float src = ref MemoryMarshal.GetReference(source);
        float[]? rented = null;
        float value;
        nint less;

        SelectionPath path = t_path;
        bool large = path == SelectionPath.Auto ? n >= LargeThreshold : path != SelectionPath.Introselect;
        if (large && path != SelectionPath.Radix
            && TrySampleWindow<TKey>(source, k, scratch, paramName, out value, out countLess))
        {
            return value == 0f ? 0f : value;
        }

        if (large)
        {
            uint[] histArray = ArrayPool<uint>.Shared.Rent(RadixBucket.Bins);
            Span<uint> hist = histArray.AsSpan(0, RadixBucket.Bins);
            hist.Clear();
            RadixBucket.Histogram<TKey>(ref src, n, ref MemoryMarshal.GetReference(hist));
            bool bad = RadixBucket.HasNonFinite<TKey>(hist);
            long below = 0, count = 0;
            float lo = 0, hi = 0;
            if (!bad) RadixBucket.Locate<TKey>(hist, k, out below, out count, out lo, out hi);
            ArrayPool<uint>.Shared.Return(histArray);
            if (bad) ThrowHelper.ThrowNotFinite(paramName, FiniteScan.IndexOfNonFinite(source));

            Span<float> bin = scratch.Length >= count ? scratch : (rented = ArrayPool<float>.Shared.Rent((int)count));
            ref float b = ref MemoryMarshal.GetReference(bin);
            nint gathered = RadixBucket.Gather<TKey>(ref src, n, lo, hi, ref b, (nint)count);
            Debug.Assert(gathered == count);
            value = Introselect.Select(ref b, gathered, (nint)(k - below), out less);
            less += (nint)below;
        }
        else
        {
            Span<float> copy = scratch.Length >= n ? scratch : (rented = ArrayPool<float>.Shared.Rent((int)n));
            ref float c = ref MemoryMarshal.GetReference(copy);
            if (!FiniteCopy.CopyFinite(ref src, ref c, n, magnitude: typeof(TKey) == typeof(MagnitudeKey)))
            {
                if (rented is not null) ArrayPool<float>.Shared.Return(rented);
                ThrowHelper.ThrowNotFinite(paramName, FiniteScan.IndexOfNonFinite(source));
            }
            value = Introselect.Select(ref c, n, k, out less);
        }

        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        countLess = (int)less;
        return value == 0f ? 0f : value;
    }

    /// <summary>
    /// The <see cref="SampleWindow"/> path; false when the rank missed the window (or the window outgrew pooled
    /// memory), in which case the caller runs the exact radix path. Throws on NaN/±∞.
    /// </summary>
    private static bool TrySampleWindow<TKey>(ReadOnlySpan<float> source, int k, Span<float> scratch, string paramName,
        out float value, out int countLess)
        where TKey : struct, IOrderKey
    {
        nint n = source.Length;
        ref float src = ref MemoryMarshal.GetReference(source);
        int s = SampleWindow.SampleSize(n);
        bool callerScratch = scratch.Length >= n;
        float[]? rented = null;
        Span<float> sample = callerScratch ? scratch.Slice(scratch.Length - s, s) : (rented = ArrayPool<float>.Shared.Rent(s)).AsSpan(0, s);
        SampleWindow.Draw<TKey>(ref src, n, sample);
        SampleWindow.Window(sample, n, k, out float lo, out float hi);

        Span<float> window = scratch;
        if (!callerScratch)
        {
            // Size pooled memory from the sample's estimate of the window, with a wide margin; overflow means a miss.
            int inSample = 0;
            foreach (float x in sample) inSample += x > lo && x < hi ? 1 : 0;
            long estimate = (long)((double)inSample / s * n);
            int capacity = (int)Math.Min(n, (2 * estimate) + 4096);
            if (rented!.Length < capacity)
            {
                ArrayPool<float>.Shared.Return(rented);
                rented = ArrayPool<float>.Shared.Rent(capacity);
            }
            window = rented;
        }

        ref float w = ref MemoryMarshal.GetReference(window);
        WindowCounts c = SampleWindow.Filter<TKey>(ref src, n, lo, hi, ref w, window.Length);
        if (!c.Finite)
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
            ThrowHelper.ThrowNotFinite(paramName, FiniteScan.IndexOfNonFinite(source));
        }

        bool hit = true;
        long r = k - c.Below;
        if (r < 0)
        {
            hit = false;
            value = 0;
            countLess = 0;
        }
        else if (r < c.EqualLo)
        {
            value = lo;
            countLess = (int)c.Below;
        }
        else if ((r -= c.EqualLo) < c.Inside)
        {
            if (c.Inside > window.Length)
            {
                hit = false;
                value = 0;
                countLess = 0;
            }
            else
            {
                value = Introselect.Select(ref w, (nint)c.Inside, (nint)r, out nint less);
                countLess = (int)(c.Below + c.EqualLo + less);
            }
        }
        else if ((r -= c.Inside) < c.EqualHi)
        {
            value = hi;
            countLess = (int)(c.Below + c.EqualLo + c.Inside);
        }
        else
        {
            hit = false;
            value = 0;
            countLess = 0;
        }

        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        if (!hit) t_sampleMisses++;
        return hit;
    }

    /// <summary>Test hook: sample-window misses (fallbacks to the radix path) on this thread.</summary>
    [ThreadStatic] internal static int t_sampleMisses;

    /// <summary>True when the float and byte spans share memory (mask and score overlap check).</summary>
    public static bool Overlaps(ReadOnlySpan<float> values, ReadOnlySpan<byte> bytes) => MemoryMarshal.AsBytes(values).Overlaps(bytes);

    /// <summary>True when the float and key spans share memory.</summary>
    public static bool Overlaps(ReadOnlySpan<float> values, ReadOnlySpan<ulong> keys) => MemoryMarshal.AsBytes(values).Overlaps(MemoryMarshal.AsBytes(keys));

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> when a value is NaN or ±∞.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnsureFinite(ReadOnlySpan<float> values, string paramName)
    {
        int bad = FiniteScan.IndexOfNonFinite(values);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(paramName, bad);
    }
}
