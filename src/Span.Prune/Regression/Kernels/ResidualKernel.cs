using Span.Prune.Internal;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// <c>Σ_{n,o} (Y[n, o] − Σ_i X[n, i]·V[i, o])²</c> for <c>X [rows, depth]</c>, <c>V [depth, outputs]</c>,
/// <c>Y [rows, outputs]</c>, all row-major: the squared reconstruction residual of a layer, without storing the
/// <c>rows×outputs</c> prediction.
/// </summary>
/// <remarks>
/// <para>GEMM-style micro-kernel: a tile of 4 rows × 2 vectors of outputs keeps 8 accumulators; each step over
/// <c>i</c> loads 2 vectors of <c>V[i, ·]</c> and broadcasts 4 scalars <c>X[n, i]</c> for 8 fused multiply-adds, so there is no
/// horizontal reduction per prediction (a dot-product formulation needs one per output and dominates at small depth).
/// 11 registers: fits AVX2's 16 and AVX-512's 32. Column blocks go down the width ladder 512 → 256 → 128 → scalar;
/// a partial group of rows reuses the last row (its results are discarded).</para>
/// <para>Precision: predictions accumulate in float over the depth (the rounding is ~√depth·2⁻²⁴ of the terms); the
/// squares of one tile are summed in float and tiles are added in double.</para>
/// </remarks>
internal static class ResidualKernel
{
    public static double SumOfSquares(ReadOnlySpan<float> x, ReadOnlySpan<float> v, ReadOnlySpan<float> y, int rows, int depth, int outputs)
    {
        // Bounds are checked once here; the loops are unchecked.
        x = x.Slice(0, rows * depth);
        v = v.Slice(0, depth * outputs);
        y = y.Slice(0, rows * outputs);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float vr = ref MemoryMarshal.GetReference(v);
        ref float yr = ref MemoryMarshal.GetReference(y);
        double total = 0;
        int c0 = 0;
        if (Vector512.IsHardwareAccelerated) c0 = Columns512(ref xr, ref vr, ref yr, rows, depth, outputs, c0, ref total);
        if (Vector256.IsHardwareAccelerated) c0 = Columns256(ref xr, ref vr, ref yr, rows, depth, outputs, c0, ref total);
        if (Vector128.IsHardwareAccelerated) c0 = Columns128(ref xr, ref vr, ref yr, rows, depth, outputs, c0, ref total);
        for (int n = 0; n < rows; n++)
        {
            for (int c = c0; c < outputs; c++)
            {
                float prediction = 0;
                for (int i = 0; i < depth; i++) prediction += Unsafe.Add(ref xr, n * depth + i) * Unsafe.Add(ref vr, i * outputs + c);
                double e = Unsafe.Add(ref yr, n * outputs + c) - prediction;
                total += e * e;
            }
        }
        return total;
    }

    private static int Columns512(ref float x, ref float v, ref float y, int rows, int depth, int outputs, int c0, ref double total)
    {
        int w = Vector512<float>.Count;
        for (; c0 + 2 * w <= outputs; c0 += 2 * w)
        {
            for (int n = 0; n < rows; n += 4)
            {
                int n1 = Math.Min(n + 1, rows - 1), n2 = Math.Min(n + 2, rows - 1), n3 = Math.Min(n + 3, rows - 1);
                ref float x0 = ref Unsafe.Add(ref x, n * depth);
                ref float x1 = ref Unsafe.Add(ref x, n1 * depth);
                ref float x2 = ref Unsafe.Add(ref x, n2 * depth);
                ref float x3 = ref Unsafe.Add(ref x, n3 * depth);
                Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
                Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
                ref float vc = ref Unsafe.Add(ref v, c0);
                for (int i = 0; i < depth; i++)
                {
                    ref float vi = ref Unsafe.Add(ref vc, i * outputs);
                    Vector512<float> v0 = Vector512.LoadUnsafe(ref vi), v1 = Vector512.LoadUnsafe(ref vi, (nuint)w);
                    Vector512<float> b = Vector512.Create(Unsafe.Add(ref x0, i));
                    a00 = MultiplyAdd.Of(b, v0, a00); a01 = MultiplyAdd.Of(b, v1, a01);
                    b = Vector512.Create(Unsafe.Add(ref x1, i));
                    a10 = MultiplyAdd.Of(b, v0, a10); a11 = MultiplyAdd.Of(b, v1, a11);
                    b = Vector512.Create(Unsafe.Add(ref x2, i));
                    a20 = MultiplyAdd.Of(b, v0, a20); a21 = MultiplyAdd.Of(b, v1, a21);
                    b = Vector512.Create(Unsafe.Add(ref x3, i));
                    a30 = MultiplyAdd.Of(b, v0, a30); a31 = MultiplyAdd.Of(b, v1, a31);
                }
                Vector512<float> sq = Square512(ref y, n, outputs, c0, w, a00, a01);
                if (n + 1 < rows) sq += Square512(ref y, n1, outputs, c0, w, a10, a11);
                if (n + 2 < rows) sq += Square512(ref y, n2, outputs, c0, w, a20, a21);
                if (n + 3 < rows) sq += Square512(ref y, n3, outputs, c0, w, a30, a31);
                total += Vector128.Sum(sq.GetLower().GetLower() + sq.GetLower().GetUpper() + sq.GetUpper().GetLower() + sq.GetUpper().GetUpper());
            }
        }
        return c0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Square512(ref float y, int n, int outputs, int c0, int w, Vector512<float> p0, Vector512<float> p1)
    {
        ref float yn = ref Unsafe.Add(ref y, n * outputs + c0);
        Vector512<float> e0 = Vector512.LoadUnsafe(ref yn) - p0, e1 = Vector512.LoadUnsafe(ref yn, (nuint)w) - p1;
        return e0 * e0 + e1 * e1;
    }

    private static int Columns256(ref float x, ref float v, ref float y, int rows, int depth, int outputs, int c0, ref double total)
    {
        int w = Vector256<float>.Count;
        for (; c0 + 2 * w <= outputs; c0 += 2 * w)
        {
            for (int n = 0; n < rows; n += 4)
            {
                int n1 = Math.Min(n + 1, rows - 1), n2 = Math.Min(n + 2, rows - 1), n3 = Math.Min(n + 3, rows - 1);
                ref float x0 = ref Unsafe.Add(ref x, n * depth);
                ref float x1 = ref Unsafe.Add(ref x, n1 * depth);
                ref float x2 = ref Unsafe.Add(ref x, n2 * depth);
                ref float x3 = ref Unsafe.Add(ref x, n3 * depth);
                Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
                Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
                ref float vc = ref Unsafe.Add(ref v, c0);
                for (int i = 0; i < depth; i++)
                {
                    ref float vi = ref Unsafe.Add(ref vc, i * outputs);
                    Vector256<float> v0 = Vector256.LoadUnsafe(ref vi), v1 = Vector256.LoadUnsafe(ref vi, (nuint)w);
                    Vector256<float> b = Vector256.Create(Unsafe.Add(ref x0, i));
                    a00 = MultiplyAdd.Of(b, v0, a00); a01 = MultiplyAdd.Of(b, v1, a01);
                    b = Vector256.Create(Unsafe.Add(ref x1, i));
                    a10 = MultiplyAdd.Of(b, v0, a10); a11 = MultiplyAdd.Of(b, v1, a11);
                    b = Vector256.Create(Unsafe.Add(ref x2, i));
                    a20 = MultiplyAdd.Of(b, v0, a20); a21 = MultiplyAdd.Of(b, v1, a21);
                    b = Vector256.Create(Unsafe.Add(ref x3, i));
                    a30 = MultiplyAdd.Of(b, v0, a30); a31 = MultiplyAdd.Of(b, v1, a31);
                }
                Vector256<float> sq = Square256(ref y, n, outputs, c0, w, a00, a01);
                if (n + 1 < rows) sq += Square256(ref y, n1, outputs, c0, w, a10, a11);
                if (n + 2 < rows) sq += Square256(ref y, n2, outputs, c0, w, a20, a21);
                if (n + 3 < rows) sq += Square256(ref y, n3, outputs, c0, w, a30, a31);
                total += Vector128.Sum(sq.GetLower() + sq.GetUpper());
            }
        }
        return c0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Square256(ref float y, int n, int outputs, int c0, int w, Vector256<float> p0, Vector256<float> p1)
    {
        ref float yn = ref Unsafe.Add(ref y, n * outputs + c0);
        Vector256<float> e0 = Vector256.LoadUnsafe(ref yn) - p0, e1 = Vector256.LoadUnsafe(ref yn, (nuint)w) - p1;
        return e0 * e0 + e1 * e1;
    }

    private static int Columns128(ref float x, ref float v, ref float y, int rows, int depth, int outputs, int c0, ref double total)
    {
        int w = Vector128<float>.Count;
        for (; c0 + 2 * w <= outputs; c0 += 2 * w)
        {
            for (int n = 0; n < rows; n += 4)
            {
                int n1 = Math.Min(n + 1, rows - 1), n2 = Math.Min(n + 2, rows - 1), n3 = Math.Min(n + 3, rows - 1);
                ref float x0 = ref Unsafe.Add(ref x, n * depth);
                ref float x1 = ref Unsafe.Add(ref x, n1 * depth);
                ref float x2 = ref Unsafe.Add(ref x, n2 * depth);
                ref float x3 = ref Unsafe.Add(ref x, n3 * depth);
                Vector128<float> a00 = default, a01 = default, a10 = default, a11 = default;
                Vector128<float> a20 = default, a21 = default, a30 = default, a31 = default;
                ref float vc = ref Unsafe.Add(ref v, c0);
                for (int i = 0; i < depth; i++)
                {
                    ref float vi = ref Unsafe.Add(ref vc, i * outputs);
                    Vector128<float> v0 = Vector128.LoadUnsafe(ref vi), v1 = Vector128.LoadUnsafe(ref vi, (nuint)w);
                    Vector128<float> b = Vector128.Create(Unsafe.Add(ref x0, i));
                    a00 = MultiplyAdd.Of(b, v0, a00); a01 = MultiplyAdd.Of(b, v1, a01);
                    b = Vector128.Create(Unsafe.Add(ref x1, i));
                    a10 = MultiplyAdd.Of(b, v0, a10); a11 = MultiplyAdd.Of(b, v1, a11);
                    b = Vector128.Create(Unsafe.Add(ref x2, i));
                    a20 = MultiplyAdd.Of(b, v0, a20); a21 = MultiplyAdd.Of(b, v1, a21);
                    b = Vector128.Create(Unsafe.Add(ref x3, i));
                    a30 = MultiplyAdd.Of(b, v0, a30); a31 = MultiplyAdd.Of(b, v1, a31);
                }
                Vector128<float> sq = Square128(ref y, n, outputs, c0, w, a00, a01);
                if (n + 1 < rows) sq += Square128(ref y, n1, outputs, c0, w, a10, a11);
                if (n + 2 < rows) sq += Square128(ref y, n2, outputs, c0, w, a20, a21);
                if (n + 3 < rows) sq += Square128(ref y, n3, outputs, c0, w, a30, a31);
                total += Vector128.Sum(sq);
            }
        }
        return c0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Square128(ref float y, int n, int outputs, int c0, int w, Vector128<float> p0, Vector128<float> p1)
    {
        ref float yn = ref Unsafe.Add(ref y, n * outputs + c0);
        Vector128<float> e0 = Vector128.LoadUnsafe(ref yn) - p0, e1 = Vector128.LoadUnsafe(ref yn, (nuint)w) - p1;
        return e0 * e0 + e1 * e1;
    }
}
