using Span.Prune.Internal;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// Register-blocked micro-kernel of the cross products: eight dot products <c>a_r · b_c</c> (4 rows of a, 2 rows of b)
/// in one pass. Each step loads 6 vectors and issues 8 fused multiply-adds into 8 independent accumulators, instead of
/// the 2 loads per multiply-add of a single dot product, so the loop is bound by FMA throughput rather than by loads.
/// </summary>
/// <remarks>
/// Register budget: 8 accumulators + 2 b vectors + 1 a vector = 11, which fits the 16 registers of AVX2 as well as the
/// 32 of AVX-512. The tail (length not a multiple of the vector width) is scalar, never an overlapping vector, because
/// this is a reduction. Lane sums are float (at most <see cref="CrossProducts.Chunk"/>/width products each); the caller
/// adds the eight results into its double accumulators.
/// </remarks>
internal static class DotKernel4x2
{
    /// <summary>
    /// <c>tile[r·tileStride + c] += Σ_{n&lt;length} a[r·aStride + n]·b[c·bStride + n]</c> for <c>r &lt; 4</c>, <c>c &lt; 2</c>.
    /// The caller guarantees that all four a rows and both b rows hold <paramref name="length"/> elements.
    /// </summary>
    public static void Accumulate(
        ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int bStride, int length, Span<double> tile, int tileStride)
    {
        // Bounds are checked once here (slicing throws if a row would run past the span); the loops below are unchecked.
        a = a.Slice(0, 3 * aStride + length);
        b = b.Slice(0, bStride + length);
        tile = tile.Slice(0, 3 * tileStride + 2);
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float a1 = ref Unsafe.Add(ref a0, aStride);
        ref float a2 = ref Unsafe.Add(ref a1, aStride);
        ref float a3 = ref Unsafe.Add(ref a2, aStride);
        ref float b0 = ref MemoryMarshal.GetReference(b);
        ref float b1 = ref Unsafe.Add(ref b0, bStride);
        nuint n = (nuint)length, i = 0;
        float s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;

        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<float>.Count)
        {
            Vector512<float> v00 = default, v01 = default, v10 = default, v11 = default;
            Vector512<float> v20 = default, v21 = default, v30 = default, v31 = default;
            for (nuint w = (nuint)Vector512<float>.Count; i + w <= n; i += w)
            {
                Vector512<float> y0 = Vector512.LoadUnsafe(ref b0, i), y1 = Vector512.LoadUnsafe(ref b1, i);
                Vector512<float> x = Vector512.LoadUnsafe(ref a0, i);
                v00 = MultiplyAdd.Of(x, y0, v00); v01 = MultiplyAdd.Of(x, y1, v01);
                x = Vector512.LoadUnsafe(ref a1, i);
                v10 = MultiplyAdd.Of(x, y0, v10); v11 = MultiplyAdd.Of(x, y1, v11);
                x = Vector512.LoadUnsafe(ref a2, i);
                v20 = MultiplyAdd.Of(x, y0, v20); v21 = MultiplyAdd.Of(x, y1, v21);
                x = Vector512.LoadUnsafe(ref a3, i);
                v30 = MultiplyAdd.Of(x, y0, v30); v31 = MultiplyAdd.Of(x, y1, v31);
            }
            s00 = Sum(v00); s01 = Sum(v01); s10 = Sum(v10); s11 = Sum(v11);
            s20 = Sum(v20); s21 = Sum(v21); s30 = Sum(v30); s31 = Sum(v31);
        }
        else if (Vector256.IsHardwareAccelerated && n >= (nuint)Vector256<float>.Count)
        {
            Vector256<float> v00 = default, v01 = default, v10 = default, v11 = default;
            Vector256<float> v20 = default, v21 = default, v30 = default, v31 = default;
            for (nuint w = (nuint)Vector256<float>.Count; i + w <= n; i += w)
            {
                Vector256<float> y0 = Vector256.LoadUnsafe(ref b0, i), y1 = Vector256.LoadUnsafe(ref b1, i);
                Vector256<float> x = Vector256.LoadUnsafe(ref a0, i);
                v00 = MultiplyAdd.Of(x, y0, v00); v01 = MultiplyAdd.Of(x, y1, v01);
                x = Vector256.LoadUnsafe(ref a1, i);
                v10 = MultiplyAdd.Of(x, y0, v10); v11 = MultiplyAdd.Of(x, y1, v11);
                x = Vector256.LoadUnsafe(ref a2, i);
                v20 = MultiplyAdd.Of(x, y0, v20); v21 = MultiplyAdd.Of(x, y1, v21);
                x = Vector256.LoadUnsafe(ref a3, i);
                v30 = MultiplyAdd.Of(x, y0, v30); v31 = MultiplyAdd.Of(x, y1, v31);
            }
            s00 = Sum(v00); s01 = Sum(v01); s10 = Sum(v10); s11 = Sum(v11);
            s20 = Sum(v20); s21 = Sum(v21); s30 = Sum(v30); s31 = Sum(v31);
        }
        else if (Vector128.IsHardwareAccelerated && n >= (nuint)Vector128<float>.Count)
        {
            Vector128<float> v00 = default, v01 = default, v10 = default, v11 = default;
            Vector128<float> v20 = default, v21 = default, v30 = default, v31 = default;
            for (nuint w = (nuint)Vector128<float>.Count; i + w <= n; i += w)
            {
                Vector128<float> y0 = Vector128.LoadUnsafe(ref b0, i), y1 = Vector128.LoadUnsafe(ref b1, i);
                Vector128<float> x = Vector128.LoadUnsafe(ref a0, i);
                v00 = MultiplyAdd.Of(x, y0, v00); v01 = MultiplyAdd.Of(x, y1, v01);
                x = Vector128.LoadUnsafe(ref a1, i);
                v10 = MultiplyAdd.Of(x, y0, v10); v11 = MultiplyAdd.Of(x, y1, v11);
                x = Vector128.LoadUnsafe(ref a2, i);
                v20 = MultiplyAdd.Of(x, y0, v20); v21 = MultiplyAdd.Of(x, y1, v21);
                x = Vector128.LoadUnsafe(ref a3, i);
                v30 = MultiplyAdd.Of(x, y0, v30); v31 = MultiplyAdd.Of(x, y1, v31);
            }
            s00 = Sum(v00); s01 = Sum(v01); s10 = Sum(v10); s11 = Sum(v11);
            s20 = Sum(v20); s21 = Sum(v21); s30 = Sum(v30); s31 = Sum(v31);
        }

        for (; i < n; i++)
        {
            float y0 = Unsafe.Add(ref b0, i), y1 = Unsafe.Add(ref b1, i);
            float x0 = Unsafe.Add(ref a0, i), x1 = Unsafe.Add(ref a1, i), x2 = Unsafe.Add(ref a2, i), x3 = Unsafe.Add(ref a3, i);
            s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
            s20 += x2 * y0; s21 += x2 * y1; s30 += x3 * y0; s31 += x3 * y1;
        }

        tile[0] += s00; tile[1] += s01;
        tile[tileStride] += s10; tile[tileStride + 1] += s11;
        tile[2 * tileStride] += s20; tile[2 * tileStride + 1] += s21;
        tile[3 * tileStride] += s30; tile[3 * tileStride + 1] += s31;
    }

    // Horizontal sums fold halves first (512 → 256 → 128 bits: one extract and one add each) and reduce only the last
    // 128 bits across lanes. Vector512.Sum reduces each 128-bit quarter separately, which costs about three times the
    // instructions; with 8 accumulators per call that was half the kernel's time at length 256.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector512<float> v) => Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector256<float> v) => Vector128.Sum(v.GetLower() + v.GetUpper());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sum(Vector128<float> v) => Vector128.Sum(v);
}
