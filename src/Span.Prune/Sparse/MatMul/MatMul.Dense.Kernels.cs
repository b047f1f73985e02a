using System.Runtime.CompilerServices;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Register-blocked micro-kernels of the dense GEMM Y[MR × P] (+)= W[MR × k] · X[k × P], P = NR vectors.
// Each step of k broadcasts one weight per row against NR contiguous vectors of the same X row, so every X
// vector loaded feeds MR FMAs and every broadcast feeds NR FMAs; the MR·NR accumulators stay in registers for
// the whole k range. Every output element is computed by the same sequence of fused multiply-adds in ascending
// k whatever MR, NR or the tile it lands in, which is why any row partition gives bit-identical results.
public static partial class MatMul
{
    // MR = 4 rows × NR = 4 vectors: 16 accumulators + 4 X vectors + 1 broadcast.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Micro4x4<TS, TV>(ref float w, nint wStride, ref float x, nint xStride, ref float y, nint yStride, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        ref float w1 = ref Unsafe.Add(ref w, wStride);
        ref float w2 = ref Unsafe.Add(ref w, 2 * wStride);
        ref float w3 = ref Unsafe.Add(ref w, 3 * wStride);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        ref float y2 = ref Unsafe.Add(ref y, 2 * yStride);
        ref float y3 = ref Unsafe.Add(ref y, 3 * yStride);
        TV c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (accumulate)
        {
            c00 = TS.Load(ref y); c01 = TS.Load(ref Unsafe.Add(ref y, v)); c02 = TS.Load(ref Unsafe.Add(ref y, 2 * v)); c03 = TS.Load(ref Unsafe.Add(ref y, 3 * v));
            c10 = TS.Load(ref y1); c11 = TS.Load(ref Unsafe.Add(ref y1, v)); c12 = TS.Load(ref Unsafe.Add(ref y1, 2 * v)); c13 = TS.Load(ref Unsafe.Add(ref y1, 3 * v));
            c20 = TS.Load(ref y2); c21 = TS.Load(ref Unsafe.Add(ref y2, v)); c22 = TS.Load(ref Unsafe.Add(ref y2, 2 * v)); c23 = TS.Load(ref Unsafe.Add(ref y2, 3 * v));
            c30 = TS.Load(ref y3); c31 = TS.Load(ref Unsafe.Add(ref y3, v)); c32 = TS.Load(ref Unsafe.Add(ref y3, 2 * v)); c33 = TS.Load(ref Unsafe.Add(ref y3, 3 * v));
        }
        else
        {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = TS.Zero;
        }
        for (nint p = 0; p < k; p++)
        {
            TV x0 = TS.Load(ref x), x1 = TS.Load(ref Unsafe.Add(ref x, v)), x2 = TS.Load(ref Unsafe.Add(ref x, 2 * v)), x3 = TS.Load(ref Unsafe.Add(ref x, 3 * v));
            x = ref Unsafe.Add(ref x, xStride);
            TV b = TS.Broadcast(Unsafe.Add(ref w, p));
            c00 = TS.Fma(b, x0, c00); c01 = TS.Fma(b, x1, c01); c02 = TS.Fma(b, x2, c02); c03 = TS.Fma(b, x3, c03);
            b = TS.Broadcast(Unsafe.Add(ref w1, p));
            c10 = TS.Fma(b, x0, c10); c11 = TS.Fma(b, x1, c11); c12 = TS.Fma(b, x2, c12); c13 = TS.Fma(b, x3, c13);
            b = TS.Broadcast(Unsafe.Add(ref w2, p));
            c20 = TS.Fma(b, x0, c20); c21 = TS.Fma(b, x1, c21); c22 = TS.Fma(b, x2, c22); c23 = TS.Fma(b, x3, c23);
            b = TS.Broadcast(Unsafe.Add(ref w3, p));
            c30 = TS.Fma(b, x0, c30); c31 = TS.Fma(b, x1, c31); c32 = TS.Fma(b, x2, c32); c33 = TS.Fma(b, x3, c33);
        }
        TS.Store(c00, ref y); TS.Store(c01, ref Unsafe.Add(ref y, v)); TS.Store(c02, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c03, ref Unsafe.Add(ref y, 3 * v));
        TS.Store(c10, ref y1); TS.Store(c11, ref Unsafe.Add(ref y1, v)); TS.Store(c12, ref Unsafe.Add(ref y1, 2 * v)); TS.Store(c13, ref Unsafe.Add(ref y1, 3 * v));
        TS.Store(c20, ref y2); TS.Store(c21, ref Unsafe.Add(ref y2, v)); TS.Store(c22, ref Unsafe.Add(ref y2, 2 * v)); TS.Store(c23, ref Unsafe.Add(ref y2, 3 * v));
        TS.Store(c30, ref y3); TS.Store(c31, ref Unsafe.Add(ref y3, v)); TS.Store(c32, ref Unsafe.Add(ref y3, 2 * v)); TS.Store(c33, ref Unsafe.Add(ref y3, 3 * v));
    }

    // MR = 6 rows × NR = 4 vectors: 24 accumulators + 4 X vectors + 1 broadcast = 29 of the 32 AVX-512 registers
    // (only instantiated for Vector512; AVX2 has 16 registers and uses 4×4 instead).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Micro6x4<TS, TV>(ref float w, nint wStride, ref float x, nint xStride, ref float y, nint yStride, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        ref float w1 = ref Unsafe.Add(ref w, wStride);
        ref float w2 = ref Unsafe.Add(ref w, 2 * wStride);
        ref float w3 = ref Unsafe.Add(ref w, 3 * wStride);
        ref float w4 = ref Unsafe.Add(ref w, 4 * wStride);
        ref float w5 = ref Unsafe.Add(ref w, 5 * wStride);
        TV c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53;
        if (accumulate)
        {
            ref float yr = ref y;
            c00 = TS.Load(ref yr); c01 = TS.Load(ref Unsafe.Add(ref yr, v)); c02 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c03 = TS.Load(ref Unsafe.Add(ref yr, 3 * v)); yr = ref Unsafe.Add(ref yr, yStride);
            c10 = TS.Load(ref yr); c11 = TS.Load(ref Unsafe.Add(ref yr, v)); c12 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c13 = TS.Load(ref Unsafe.Add(ref yr, 3 * v)); yr = ref Unsafe.Add(ref yr, yStride);
            c20 = TS.Load(ref yr); c21 = TS.Load(ref Unsafe.Add(ref yr, v)); c22 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c23 = TS.Load(ref Unsafe.Add(ref yr, 3 * v)); yr = ref Unsafe.Add(ref yr, yStride);
            c30 = TS.Load(ref yr); c31 = TS.Load(ref Unsafe.Add(ref yr, v)); c32 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c33 = TS.Load(ref Unsafe.Add(ref yr, 3 * v)); yr = ref Unsafe.Add(ref yr, yStride);
            c40 = TS.Load(ref yr); c41 = TS.Load(ref Unsafe.Add(ref yr, v)); c42 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c43 = TS.Load(ref Unsafe.Add(ref yr, 3 * v)); yr = ref Unsafe.Add(ref yr, yStride);
            c50 = TS.Load(ref yr); c51 = TS.Load(ref Unsafe.Add(ref yr, v)); c52 = TS.Load(ref Unsafe.Add(ref yr, 2 * v)); c53 = TS.Load(ref Unsafe.Add(ref yr, 3 * v));
        }
        else
        {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = TS.Zero;
            c30 = c31 = c32 = c33 = c40 = c41 = c42 = c43 = c50 = c51 = c52 = c53 = TS.Zero;
        }
        for (nint p = 0; p < k; p++)
        {
            TV x0 = TS.Load(ref x), x1 = TS.Load(ref Unsafe.Add(ref x, v)), x2 = TS.Load(ref Unsafe.Add(ref x, 2 * v)), x3 = TS.Load(ref Unsafe.Add(ref x, 3 * v));
            x = ref Unsafe.Add(ref x, xStride);
            TV b = TS.Broadcast(Unsafe.Add(ref w, p));
            c00 = TS.Fma(b, x0, c00); c01 = TS.Fma(b, x1, c01); c02 = TS.Fma(b, x2, c02); c03 = TS.Fma(b, x3, c03);
            b = TS.Broadcast(Unsafe.Add(ref w1, p));
            c10 = TS.Fma(b, x0, c10); c11 = TS.Fma(b, x1, c11); c12 = TS.Fma(b, x2, c12); c13 = TS.Fma(b, x3, c13);
            b = TS.Broadcast(Unsafe.Add(ref w2, p));
            c20 = TS.Fma(b, x0, c20); c21 = TS.Fma(b, x1, c21); c22 = TS.Fma(b, x2, c22); c23 = TS.Fma(b, x3, c23);
            b = TS.Broadcast(Unsafe.Add(ref w3, p));
            c30 = TS.Fma(b, x0, c30); c31 = TS.Fma(b, x1, c31); c32 = TS.Fma(b, x2, c32); c33 = TS.Fma(b, x3, c33);
            b = TS.Broadcast(Unsafe.Add(ref w4, p));
            c40 = TS.Fma(b, x0, c40); c41 = TS.Fma(b, x1, c41); c42 = TS.Fma(b, x2, c42); c43 = TS.Fma(b, x3, c43);
            b = TS.Broadcast(Unsafe.Add(ref w5, p));
            c50 = TS.Fma(b, x0, c50); c51 = TS.Fma(b, x1, c51); c52 = TS.Fma(b, x2, c52); c53 = TS.Fma(b, x3, c53);
        }
        TS.Store(c00, ref y); TS.Store(c01, ref Unsafe.Add(ref y, v)); TS.Store(c02, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c03, ref Unsafe.Add(ref y, 3 * v)); y = ref Unsafe.Add(ref y, yStride);
        TS.Store(c10, ref y); TS.Store(c11, ref Unsafe.Add(ref y, v)); TS.Store(c12, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c13, ref Unsafe.Add(ref y, 3 * v)); y = ref Unsafe.Add(ref y, yStride);
        TS.Store(c20, ref y); TS.Store(c21, ref Unsafe.Add(ref y, v)); TS.Store(c22, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c23, ref Unsafe.Add(ref y, 3 * v)); y = ref Unsafe.Add(ref y, yStride);
        TS.Store(c30, ref y); TS.Store(c31, ref Unsafe.Add(ref y, v)); TS.Store(c32, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c33, ref Unsafe.Add(ref y, 3 * v)); y = ref Unsafe.Add(ref y, yStride);
        TS.Store(c40, ref y); TS.Store(c41, ref Unsafe.Add(ref y, v)); TS.Store(c42, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c43, ref Unsafe.Add(ref y, 3 * v)); y = ref Unsafe.Add(ref y, yStride);
        TS.Store(c50, ref y); TS.Store(c51, ref Unsafe.Add(ref y, v)); TS.Store(c52, ref Unsafe.Add(ref y, 2 * v)); TS.Store(c53, ref Unsafe.Add(ref y, 3 * v));
    }

    // MR = 6 rows × NR = 2 vectors: 12 accumulators + 2 X vectors + 1 broadcast (fits the 16 registers of AVX2).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Micro6x2<TS, TV>(ref float w, nint wStride, ref float x, nint xStride, ref float y, nint yStride, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        ref float w1 = ref Unsafe.Add(ref w, wStride);
        ref float w2 = ref Unsafe.Add(ref w, 2 * wStride);
        ref float w3 = ref Unsafe.Add(ref w, 3 * wStride);
        ref float w4 = ref Unsafe.Add(ref w, 4 * wStride);
        ref float w5 = ref Unsafe.Add(ref w, 5 * wStride);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        ref float y2 = ref Unsafe.Add(ref y, 2 * yStride);
        ref float y3 = ref Unsafe.Add(ref y, 3 * yStride);
        ref float y4 = ref Unsafe.Add(ref y, 4 * yStride);
        ref float y5 = ref Unsafe.Add(ref y, 5 * yStride);
        TV c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (accumulate)
        {
            c00 = TS.Load(ref y); c01 = TS.Load(ref Unsafe.Add(ref y, v));
            c10 = TS.Load(ref y1); c11 = TS.Load(ref Unsafe.Add(ref y1, v));
            c20 = TS.Load(ref y2); c21 = TS.Load(ref Unsafe.Add(ref y2, v));
            c30 = TS.Load(ref y3); c31 = TS.Load(ref Unsafe.Add(ref y3, v));
            c40 = TS.Load(ref y4); c41 = TS.Load(ref Unsafe.Add(ref y4, v));
            c50 = TS.Load(ref y5); c51 = TS.Load(ref Unsafe.Add(ref y5, v));
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = TS.Zero;
        }
        for (nint p = 0; p < k; p++)
        {
            TV x0 = TS.Load(ref x), x1 = TS.Load(ref Unsafe.Add(ref x, v));
            x = ref Unsafe.Add(ref x, xStride);
            TV b = TS.Broadcast(Unsafe.Add(ref w, p));
            c00 = TS.Fma(b, x0, c00); c01 = TS.Fma(b, x1, c01);
            b = TS.Broadcast(Unsafe.Add(ref w1, p));
            c10 = TS.Fma(b, x0, c10); c11 = TS.Fma(b, x1, c11);
            b = TS.Broadcast(Unsafe.Add(ref w2, p));
            c20 = TS.Fma(b, x0, c20); c21 = TS.Fma(b, x1, c21);
            b = TS.Broadcast(Unsafe.Add(ref w3, p));
            c30 = TS.Fma(b, x0, c30); c31 = TS.Fma(b, x1, c31);
            b = TS.Broadcast(Unsafe.Add(ref w4, p));
            c40 = TS.Fma(b, x0, c40); c41 = TS.Fma(b, x1, c41);
            b = TS.Broadcast(Unsafe.Add(ref w5, p));
            c50 = TS.Fma(b, x0, c50); c51 = TS.Fma(b, x1, c51);
        }
        TS.Store(c00, ref y); TS.Store(c01, ref Unsafe.Add(ref y, v));
        TS.Store(c10, ref y1); TS.Store(c11, ref Unsafe.Add(ref y1, v));
        TS.Store(c20, ref y2); TS.Store(c21, ref Unsafe.Add(ref y2, v));
        TS.Store(c30, ref y3); TS.Store(c31, ref Unsafe.Add(ref y3, v));
        TS.Store(c40, ref y4); TS.Store(c41, ref Unsafe.Add(ref y4, v));
        TS.Store(c50, ref y5); TS.Store(c51, ref Unsafe.Add(ref y5, v));
    }

    // MR = 8 rows × NR = 1 vector: 8 independent accumulators hide the FMA latency (4 cycles × 2 pipes).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Micro8x1<TS, TV>(ref float w, nint wStride, ref float x, nint xStride, ref float y, nint yStride, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        ref float w1 = ref Unsafe.Add(ref w, wStride);
        ref float w2 = ref Unsafe.Add(ref w, 2 * wStride);
        ref float w3 = ref Unsafe.Add(ref w, 3 * wStride);
        ref float w4 = ref Unsafe.Add(ref w, 4 * wStride);
        ref float w5 = ref Unsafe.Add(ref w, 5 * wStride);
        ref float w6 = ref Unsafe.Add(ref w, 6 * wStride);
        ref float w7 = ref Unsafe.Add(ref w, 7 * wStride);
        ref float y1 = ref Unsafe.Add(ref y, yStride);
        ref float y2 = ref Unsafe.Add(ref y, 2 * yStride);
        ref float y3 = ref Unsafe.Add(ref y, 3 * yStride);
        ref float y4 = ref Unsafe.Add(ref y, 4 * yStride);
        ref float y5 = ref Unsafe.Add(ref y, 5 * yStride);
        ref float y6 = ref Unsafe.Add(ref y, 6 * yStride);
        ref float y7 = ref Unsafe.Add(ref y, 7 * yStride);
        TV c0, c1, c2, c3, c4, c5, c6, c7;
        if (accumulate)
        {
            c0 = TS.Load(ref y); c1 = TS.Load(ref y1); c2 = TS.Load(ref y2); c3 = TS.Load(ref y3);
            c4 = TS.Load(ref y4); c5 = TS.Load(ref y5); c6 = TS.Load(ref y6); c7 = TS.Load(ref y7);
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = TS.Zero;
        }
        for (nint p = 0; p < k; p++)
        {
            TV x0 = TS.Load(ref x);
            x = ref Unsafe.Add(ref x, xStride);
            c0 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w, p)), x0, c0);
            c1 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w1, p)), x0, c1);
            c2 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w2, p)), x0, c2);
            c3 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w3, p)), x0, c3);
            c4 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w4, p)), x0, c4);
            c5 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w5, p)), x0, c5);
            c6 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w6, p)), x0, c6);
            c7 = TS.Fma(TS.Broadcast(Unsafe.Add(ref w7, p)), x0, c7);
        }
        TS.Store(c0, ref y); TS.Store(c1, ref y1); TS.Store(c2, ref y2); TS.Store(c3, ref y3);
        TS.Store(c4, ref y4); TS.Store(c5, ref y5); TS.Store(c6, ref y6); TS.Store(c7, ref y7);
    }

    // One row × nv vectors, vector by vector: only for the ragged last rows of a row range.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroRow<TS, TV>(int nv, ref float w, ref float x, nint xStride, ref float y, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        for (int j = 0; j < nv; j++)
        {
            ref float xj = ref Unsafe.Add(ref x, j * TS.Width);
            ref float yj = ref Unsafe.Add(ref y, j * TS.Width);
            TV c = accumulate ? TS.Load(ref yj) : TS.Zero;
            for (nint p = 0; p < k; p++)
                c = TS.Fma(TS.Broadcast(Unsafe.Add(ref w, p)), TS.Load(ref Unsafe.Add(ref xj, p * xStride)), c);
            TS.Store(c, ref yj);
        }
    }
}
