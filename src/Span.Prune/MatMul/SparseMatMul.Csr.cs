using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune;

// CSR kernels (int32 and 16-bit indices through one generic body; the index widening is a movsxd / movzx).
//
// SpMM (batch > 1), after XNNPACK's f32-spmm: each stored weight is broadcast against the contiguous row
// X[col, tile] and accumulated into a tile of Y[r, tile] held in registers. The batch is cut into tiles of one
// or two vectors (outer loop) and the rows are walked inside it, so one X panel (a contiguous, aligned copy of
// Columns × tile floats, 512 KiB at 4096 × 32) stays in L2 while the weights stream once per tile. A row's non-zeros are dealt round-robin
// to four accumulator sets, so four FMA chains are in flight instead of one (the FMA latency would otherwise
// cap a row at one non-zero per 4 cycles); the sets are combined as (a + b) + (c + d).
//
// SpMV (batch 1): the same four-chain scalar loop, or with AVX2 a gather of x at 8 column indices into two
// vector accumulators (.NET has no 512-bit gather). Either way a row's sum order is fixed by its structure alone,
// which is what makes the row-parallel variant bit-identical.
public static partial class SparseMatMul
{
    private static void CsrRows<TIndex>(ref int rowPtr, ref TIndex cols, ref float vals, int columns, ref float x, int xStride, ref float y, int batch, int r0, int r1)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (batch == 1)
        {
            CsrSpmv(ref rowPtr, ref cols, ref vals, ref x, ref y, r0, r1);
            return;
        }
        for (int j = 0, w; j < batch; j += w)
        {
            BatchTile tile = NextBatchTile(batch - j, out w);
            ref float xp = ref Panel(ref x, xStride, columns, j);
            nint xs = PanelStride(xStride, w);
            switch (tile)
            {
                case BatchTile.V512x2: CsrTile2<Simd512, Vector512<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V512x1: CsrTile1<Simd512, Vector512<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V256x2: CsrTile2<Simd256, Vector256<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V256x1: CsrTile1<Simd256, Vector256<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V128x2: CsrTile2<Simd128, Vector128<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V128x1: CsrTile1<Simd128, Vector128<float>, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
                default: CsrTile1<SimdScalar, float, TIndex>(ref rowPtr, ref cols, ref vals, ref xp, xs, ref y, batch, r0, r1, j); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CsrTile2<TS, TV, TIndex>(ref int rowPtr, ref TIndex cols, ref float vals, ref float x, nint xStride, ref float y, nint batch, int r0, int r1, nint j)
        where TS : struct, ISimd<TV> where TV : struct where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        nint v = TS.Width;
        ref float xj = ref x; // this tile's panel of X
        for (int r = r0; r < r1; r++)
        {
            nint i = Unsafe.Add(ref rowPtr, r), end = Unsafe.Add(ref rowPtr, r + 1);
            TV a0 = TS.Zero, a1 = TS.Zero, b0 = TS.Zero, b1 = TS.Zero, c0 = TS.Zero, c1 = TS.Zero, d0 = TS.Zero, d1 = TS.Zero;
            for (; i + 4 <= end; i += 4)
            {
                ref float xa = ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i)) * xStride);
                ref float xb = ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 1)) * xStride);
                ref float xc = ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 2)) * xStride);
                ref float xd = ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 3)) * xStride);
                TV wa = TS.Broadcast(Unsafe.Add(ref vals, i)), wb = TS.Broadcast(Unsafe.Add(ref vals, i + 1));
                TV wc = TS.Broadcast(Unsafe.Add(ref vals, i + 2)), wd = TS.Broadcast(Unsafe.Add(ref vals, i + 3));
                a0 = TS.Fma(wa, TS.Load(ref xa), a0); a1 = TS.Fma(wa, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
                b0 = TS.Fma(wb, TS.Load(ref xb), b0); b1 = TS.Fma(wb, TS.Load(ref Unsafe.Add(ref xb, v)), b1);
                c0 = TS.Fma(wc, TS.Load(ref xc), c0); c1 = TS.Fma(wc, TS.Load(ref Unsafe.Add(ref xc, v)), c1);
                d0 = TS.Fma(wd, TS.Load(ref xd), d0); d1 = TS.Fma(wd, TS.Load(ref Unsafe.Add(ref xd, v)), d1);
            }
            for (; i < end; i++)
            {
                ref float xa = ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i)) * xStride);
                TV wa = TS.Broadcast(Unsafe.Add(ref vals, i));
                a0 = TS.Fma(wa, TS.Load(ref xa), a0); a1 = TS.Fma(wa, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
            }
            ref float yr = ref Unsafe.Add(ref y, r * batch + j);
            TS.Store(TS.Add(TS.Add(a0, b0), TS.Add(c0, d0)), ref yr);
            TS.Store(TS.Add(TS.Add(a1, b1), TS.Add(c1, d1)), ref Unsafe.Add(ref yr, v));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CsrTile1<TS, TV, TIndex>(ref int rowPtr, ref TIndex cols, ref float vals, ref float x, nint xStride, ref float y, nint batch, int r0, int r1, nint j)
        where TS : struct, ISimd<TV> where TV : struct where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        ref float xj = ref x; // this tile's panel of X
        for (int r = r0; r < r1; r++)
        {
            nint i = Unsafe.Add(ref rowPtr, r), end = Unsafe.Add(ref rowPtr, r + 1);
            TV a = TS.Zero, b = TS.Zero, c = TS.Zero, d = TS.Zero;
            for (; i + 4 <= end; i += 4)
            {
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vals, i)), TS.Load(ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i)) * xStride)), a);
                b = TS.Fma(TS.Broadcast(Unsafe.Add(ref vals, i + 1)), TS.Load(ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 1)) * xStride)), b);
                c = TS.Fma(TS.Broadcast(Unsafe.Add(ref vals, i + 2)), TS.Load(ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 2)) * xStride)), c);
                d = TS.Fma(TS.Broadcast(Unsafe.Add(ref vals, i + 3)), TS.Load(ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i + 3)) * xStride)), d);
            }
            for (; i < end; i++)
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vals, i)), TS.Load(ref Unsafe.Add(ref xj, nint.CreateTruncating(Unsafe.Add(ref cols, i)) * xStride)), a);
            TS.Store(TS.Add(TS.Add(a, b), TS.Add(c, d)), ref Unsafe.Add(ref y, r * batch + j));
        }
    }

    // Batch 1. AVX2: 16 non-zeros per step, two gathers of 8 x values into two accumulators; otherwise the
    // four-chain scalar loop. The leftover (< 8) non-zeros of a row are added with scalar FMAs after the horizontal sum.
    private static unsafe void CsrSpmv<TIndex>(ref int rowPtr, ref TIndex cols, ref float vals, ref float x, ref float y, int r0, int r1)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (Avx2.IsSupported && SimdLevel.Has256)
        {
            fixed (float* px = &x)
                for (int r = r0; r < r1; r++)
                    Unsafe.Add(ref y, r) = CsrRowGather256(ref cols, ref vals, px, Unsafe.Add(ref rowPtr, r), Unsafe.Add(ref rowPtr, r + 1));
        }
        else
        {
            CsrTile1<SimdScalar, float, TIndex>(ref rowPtr, ref cols, ref vals, ref x, 1, ref y, 1, r0, r1, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LoadIndices8<TIndex>(ref TIndex p) where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (typeof(TIndex) == typeof(int)) return Vector256.LoadUnsafe(ref Unsafe.As<TIndex, int>(ref p));
        return Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<TIndex, ushort>(ref p)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe float CsrRowGather256<TIndex>(ref TIndex cols, ref float vals, float* x, nint i, nint end)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        Vector256<float> a = Vector256<float>.Zero, b = Vector256<float>.Zero;
        for (; i + 16 <= end; i += 16)
        {
            Vector256<float> ga = Avx2.GatherVector256(x, LoadIndices8(ref Unsafe.Add(ref cols, i)), sizeof(float));
            Vector256<float> gb = Avx2.GatherVector256(x, LoadIndices8(ref Unsafe.Add(ref cols, i + 8)), sizeof(float));
            a = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vals, (nuint)i), ga, a);
            b = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vals, (nuint)(i + 8)), gb, b);
        }
        if (i + 8 <= end)
        {
            Vector256<float> ga = Avx2.GatherVector256(x, LoadIndices8(ref Unsafe.Add(ref cols, i)), sizeof(float));
            a = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref vals, (nuint)i), ga, a);
            i += 8;
        }
        float s = Vector256.Sum(a + b);
        for (; i < end; i++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref vals, i), x[nint.CreateTruncating(Unsafe.Add(ref cols, i))], s);
        return s;
    }
}
