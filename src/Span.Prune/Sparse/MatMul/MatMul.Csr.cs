using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// CSR kernels (int32 and 16-bit indices through one generic body; the index widening is a movsxd / movzx).
//
// SpMM (batch > 1), after XNNPACK's f32-spmm: each stored weight is broadcast against the contiguous row
// X[col, tile] and accumulated into a tile of Y[r, tile] held in registers. The batch is cut into tiles of one
// or two vectors (outer loop) and the rows are walked inside it, so one X panel (a contiguous, aligned copy of
// Columns × tile floats, 512 KiB at 4096 × 32) stays in L2 while the weights stream once per tile. A row's non-zeros are dealt round-robin
// to four accumulator sets, so four FMA chains are in flight instead of one (the FMA latency would otherwise
// cap a row at one non-zero per 4 cycles); the sets are combined as (a + b) + (c + d).
//
// SpMV (batch 1): the same four-chain scalar loop, or with 256-bit vectors x assembled 8 at a time from scalar
// loads into two vector accumulators (see CsrSpmv for why not a hardware gather). Either way a row's sum order is
// fixed by its structure and the machine alone, which is what makes the row-parallel variant bit-identical.
public static partial class MatMul
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

    // Batch 1 (SpMV). With 256-bit vectors: 16 non-zeros per step into two vector accumulators, the 8 x values of
    // each vector loaded one by one and inserted (vinsertps with a memory operand), then one 8-wide step more, a
    // fixed-order horizontal sum, and the leftover (< 8) non-zeros with scalar FMAs. Why not vgatherdps: on the
    // reference Zen 5 the AVX2 gather was 1.4× slower than these scalar loads (0.57 vs 0.41 ms for 4096², 90%
    // sparse, measured), and the JIT gives every gather the same destination register, whose merge semantics
    // chain the gathers of one step. The column indices are read two (int) or four (ushort) per 8-byte load, so
    // the load ports see about 1.6 loads per non-zero instead of 2.1 (0.38 vs 0.41 ms, measured); that is what
    // bounds this kernel, not the FMAs. Without 256-bit vectors: the four-chain scalar loop.
    private static void CsrSpmv<TIndex>(ref int rowPtr, ref TIndex cols, ref float vals, ref float x, ref float y, int r0, int r1)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (SimdLevel.Has256 && BitConverter.IsLittleEndian)
        {
            for (int r = r0; r < r1; r++)
                Unsafe.Add(ref y, r) = CsrRow256(ref cols, ref vals, ref x, Unsafe.Add(ref rowPtr, r), Unsafe.Add(ref rowPtr, r + 1));
        }
        else
        {
            CsrTile1<SimdScalar, float, TIndex>(ref rowPtr, ref cols, ref vals, ref x, 1, ref y, 1, r0, r1, 0);
        }
    }

    /// <summary>x at the 8 column indices starting at <paramref name="c"/>, indices read 8 bytes at a time (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LoadX8<TIndex>(ref float x, ref TIndex c) where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        ref byte b = ref Unsafe.As<TIndex, byte>(ref c);
        if (typeof(TIndex) == typeof(int))
        {
            ulong q0 = Unsafe.ReadUnaligned<ulong>(ref b), q1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, 8));
            ulong q2 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, 16)), q3 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, 24));
            return Vector256.Create(
                Unsafe.Add(ref x, (nint)(uint)q0), Unsafe.Add(ref x, (nint)(q0 >> 32)), Unsafe.Add(ref x, (nint)(uint)q1), Unsafe.Add(ref x, (nint)(q1 >> 32)),
                Unsafe.Add(ref x, (nint)(uint)q2), Unsafe.Add(ref x, (nint)(q2 >> 32)), Unsafe.Add(ref x, (nint)(uint)q3), Unsafe.Add(ref x, (nint)(q3 >> 32)));
        }
        else
        {
            ulong q0 = Unsafe.ReadUnaligned<ulong>(ref b), q1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, 8));
            return Vector256.Create(
                Unsafe.Add(ref x, (nint)(ushort)q0), Unsafe.Add(ref x, (nint)(ushort)(q0 >> 16)), Unsafe.Add(ref x, (nint)(ushort)(q0 >> 32)), Unsafe.Add(ref x, (nint)(q0 >> 48)),
                Unsafe.Add(ref x, (nint)(ushort)q1), Unsafe.Add(ref x, (nint)(ushort)(q1 >> 16)), Unsafe.Add(ref x, (nint)(ushort)(q1 >> 32)), Unsafe.Add(ref x, (nint)(q1 >> 48)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float CsrRow256<TIndex>(ref TIndex cols, ref float vals, ref float x, nint i, nint end)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        // Column indices are non-negative int32 or ushort (validated by the matrix constructors), so reading them
        // as unsigned is exact.
        Vector256<float> a = Vector256<float>.Zero, b = Vector256<float>.Zero;
        for (; i + 16 <= end; i += 16)
        {
            a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)i), LoadX8(ref x, ref Unsafe.Add(ref cols, i)), a);
            b = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)(i + 8)), LoadX8(ref x, ref Unsafe.Add(ref cols, i + 8)), b);
        }
        if (i + 8 <= end)
        {
            a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)i), LoadX8(ref x, ref Unsafe.Add(ref cols, i)), a);
            i += 8;
        }
        float s = Vector256.Sum(a + b);
        for (; i < end; i++) s = MultiplyAdd.Of(Unsafe.Add(ref vals, i), Unsafe.Add(ref x, nint.CreateTruncating(Unsafe.Add(ref cols, i))), s);
        return s;
    }
}
