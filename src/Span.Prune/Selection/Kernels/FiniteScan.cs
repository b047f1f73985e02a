using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The selection copy with the NaN policy's check fused into it (the stand-alone check is
/// <see cref="Internal.FiniteScan"/>). A float is finite iff its magnitude bits <c>bits &amp; 0x7FFFFFFF</c> are below
/// <c>0x7F800000</c> (the ∞ pattern; NaNs lie above it), so one integer max over the magnitude bits decides a whole span.
/// The max is carried in several independent accumulators and the tail is scalar (a reduction never overlaps).
/// </summary>
internal static class FiniteCopy
{
    private const int InfinityBits = 0x7F800000;

    /// <summary>
    /// Copies <paramref name="n"/> values (or their magnitudes when <paramref name="magnitude"/>) and reports whether all
    /// were finite. The check rides on the copy (one max per vector), so the small-n selection path reads its input once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool CopyFinite(ref float source, ref float destination, nint n, bool magnitude)
    {
        ref int src = ref Unsafe.As<float, int>(ref source);
        ref int dst = ref Unsafe.As<float, int>(ref destination);
        nint i = 0;
        int maxBits = 0;
        int keepMask = magnitude ? int.MaxValue : -1;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var mag = Vector512.Create(int.MaxValue);
            var keep = Vector512.Create(keepMask);
            Vector512<int> m0 = Vector512<int>.Zero, m1 = m0;
            for (; i + 32 <= n; i += 32)
            {
                var a = Vector512.LoadUnsafe(ref src, (nuint)i);
                var b = Vector512.LoadUnsafe(ref src, (nuint)(i + 16));
                (a & keep).StoreUnsafe(ref dst, (nuint)i);
                (b & keep).StoreUnsafe(ref dst, (nuint)(i + 16));
                m0 = Vector512.Max(m0, a & mag);
                m1 = Vector512.Max(m1, b & mag);
            }
            maxBits = HorizontalMax(Vector512.Max(m0, m1));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var mag = Vector256.Create(int.MaxValue);
            var keep = Vector256.Create(keepMask);
            Vector256<int> m0 = Vector256<int>.Zero, m1 = m0;
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector256.LoadUnsafe(ref src, (nuint)i);
                var b = Vector256.LoadUnsafe(ref src, (nuint)(i + 8));
                (a & keep).StoreUnsafe(ref dst, (nuint)i);
                (b & keep).StoreUnsafe(ref dst, (nuint)(i + 8));
                m0 = Vector256.Max(m0, a & mag);
                m1 = Vector256.Max(m1, b & mag);
            }
            maxBits = HorizontalMax(Vector256.Max(m0, m1));
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var mag = Vector128.Create(int.MaxValue);
            var keep = Vector128.Create(keepMask);
            Vector128<int> m0 = Vector128<int>.Zero, m1 = m0;
            for (; i + 8 <= n; i += 8)
            {
                var a = Vector128.LoadUnsafe(ref src, (nuint)i);
                var b = Vector128.LoadUnsafe(ref src, (nuint)(i + 4));
                (a & keep).StoreUnsafe(ref dst, (nuint)i);
                (b & keep).StoreUnsafe(ref dst, (nuint)(i + 4));
                m0 = Vector128.Max(m0, a & mag);
                m1 = Vector128.Max(m1, b & mag);
            }
            maxBits = HorizontalMax(Vector128.Max(m0, m1));
        }
        for (; i < n; i++)
        {
            int bits = Unsafe.Add(ref src, i);
            Unsafe.Add(ref dst, i) = bits & keepMask;
            maxBits = Math.Max(maxBits, bits & int.MaxValue);
        }
        return maxBits < InfinityBits;
    }

    private static int HorizontalMax(Vector512<int> v) =>
        HorizontalMax(Vector256.Max(v.GetLower(), v.GetUpper()));

    private static int HorizontalMax(Vector256<int> v) =>
        HorizontalMax(Vector128.Max(v.GetLower(), v.GetUpper()));

    private static int HorizontalMax(Vector128<int> v) =>
        Math.Max(Math.Max(v.GetElement(0), v.GetElement(1)), Math.Max(v.GetElement(2), v.GetElement(3)));
}
