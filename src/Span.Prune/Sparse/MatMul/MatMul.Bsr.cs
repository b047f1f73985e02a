using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// BSR kernels. For an R×C block, each column c of the block loads the X row X[col0 + c, tile] once and feeds it to
// R accumulators (one per block row), so a load serves R FMAs instead of one as in CSR: the reason blocks win at
// larger batches. R = 8 keeps 8 rows × 2 vectors = 16 accumulators in registers, R = 4 keeps 8; each accumulator
// is one chain over (block, c) ascending, and there are enough chains to hide the FMA latency.
// Other R (including 1×C) walk the block row one row at a time with four chains dealt by c mod 4, combined as
// (a + b) + (c + d). Batch tiles are one or two vectors, outer; block rows inner.
public static partial class MatMul
{
    private static void BsrBlockRows(ref int rowPtr, ref int cols, ref float vals, int r, int c, int columns, ref float x, int xStride, ref float y, int batch, int br0, int br1)
    {
        for (int j = 0, w; j < batch; j += w)
        {
            BatchTile tile = NextBatchTile(batch - j, out w);
            ref float xp = ref Panel(ref x, xStride, columns, j);
            nint xs = PanelStride(xStride, w);
            switch (tile)
            {
                case BatchTile.V512x2: BsrTile<Simd512, Vector512<float>>(2, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                case BatchTile.V512x1: BsrTile<Simd512, Vector512<float>>(1, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                case BatchTile.V256x2: BsrTile<Simd256, Vector256<float>>(2, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                case BatchTile.V256x1: BsrTile<Simd256, Vector256<float>>(1, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                case BatchTile.V128x2: BsrTile<Simd128, Vector128<float>>(2, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                case BatchTile.V128x1: BsrTile<Simd128, Vector128<float>>(1, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
                default: BsrTile<SimdScalar, float>(1, ref rowPtr, ref cols, ref vals, r, c, ref xp, xs, ref y, batch, br0, br1, j); break;
            }
        }
    }

    private static void BsrTile<TS, TV>(int nr, ref int rowPtr, ref int cols, ref float vals, int r, int c, ref float x, nint xStride, ref float y, nint batch, int br0, int br1, nint j)
        where TS : struct, ISimd<TV> where TV : struct
    {
        ref float xj = ref x; // this tile's panel of X
        for (int br = br0; br < br1; br++)
        {
            int k0 = Unsafe.Add(ref rowPtr, br), k1 = Unsafe.Add(ref rowPtr, br + 1);
            ref float yb = ref Unsafe.Add(ref y, (nint)br * r * batch + j);
            if (r == 8)
            {
                if (nr == 2) Bsr8x2<TS, TV>(ref cols, ref vals, c, ref xj, xStride, ref yb, batch, k0, k1);
                else Bsr8x1<TS, TV>(ref cols, ref vals, c, ref xj, xStride, ref yb, batch, k0, k1);
            }
            else if (r == 4)
            {
                if (nr == 2) Bsr4x2<TS, TV>(ref cols, ref vals, c, ref xj, xStride, ref yb, batch, k0, k1);
                else Bsr4x1<TS, TV>(ref cols, ref vals, c, ref xj, xStride, ref yb, batch, k0, k1);
            }
            else
            {
                for (int i = 0; i < r; i++)
                {
                    if (nr == 2) BsrRow2<TS, TV>(ref cols, ref vals, i, r, c, ref xj, xStride, ref Unsafe.Add(ref yb, i * batch), k0, k1);
                    else BsrRow1<TS, TV>(ref cols, ref vals, i, r, c, ref xj, xStride, ref Unsafe.Add(ref yb, i * batch), k0, k1);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Bsr8x2<TS, TV>(ref int cols, ref float vals, int c, ref float x, nint xStride, ref float y, nint batch, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint o1 = c, o2 = 2 * o1, o3 = 3 * o1, o4 = 4 * o1, o5 = 5 * o1, o6 = 6 * o1, o7 = 7 * o1;
        nint v = TS.Width;
        TV a0 = TS.Zero, a1 = TS.Zero, b0 = TS.Zero, b1 = TS.Zero, c0 = TS.Zero, c1 = TS.Zero, d0 = TS.Zero, d1 = TS.Zero;
        TV e0 = TS.Zero, e1 = TS.Zero, f0 = TS.Zero, f1 = TS.Zero, g0 = TS.Zero, g1 = TS.Zero, h0 = TS.Zero, h1 = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, k * 8 * o1);
            ref float xr = ref Unsafe.Add(ref x, Unsafe.Add(ref cols, k) * o1 * xStride);
            for (nint q = 0; q < o1; q++)
            {
                ref float vq = ref Unsafe.Add(ref vb, q);
                TV x0 = TS.Load(ref xr), x1 = TS.Load(ref Unsafe.Add(ref xr, v));
                xr = ref Unsafe.Add(ref xr, xStride);
                TV w = TS.Broadcast(vq); a0 = TS.Fma(w, x0, a0); a1 = TS.Fma(w, x1, a1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o1)); b0 = TS.Fma(w, x0, b0); b1 = TS.Fma(w, x1, b1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o2)); c0 = TS.Fma(w, x0, c0); c1 = TS.Fma(w, x1, c1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o3)); d0 = TS.Fma(w, x0, d0); d1 = TS.Fma(w, x1, d1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o4)); e0 = TS.Fma(w, x0, e0); e1 = TS.Fma(w, x1, e1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o5)); f0 = TS.Fma(w, x0, f0); f1 = TS.Fma(w, x1, f1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o6)); g0 = TS.Fma(w, x0, g0); g1 = TS.Fma(w, x1, g1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o7)); h0 = TS.Fma(w, x0, h0); h1 = TS.Fma(w, x1, h1);
            }
        }
        TS.Store(a0, ref y); TS.Store(a1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(b0, ref y); TS.Store(b1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(c0, ref y); TS.Store(c1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(d0, ref y); TS.Store(d1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(e0, ref y); TS.Store(e1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(f0, ref y); TS.Store(f1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(g0, ref y); TS.Store(g1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(h0, ref y); TS.Store(h1, ref Unsafe.Add(ref y, v));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Bsr8x1<TS, TV>(ref int cols, ref float vals, int c, ref float x, nint xStride, ref float y, nint batch, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint o1 = c, o2 = 2 * o1, o3 = 3 * o1, o4 = 4 * o1, o5 = 5 * o1, o6 = 6 * o1, o7 = 7 * o1;
        TV a = TS.Zero, b = TS.Zero, cc = TS.Zero, d = TS.Zero, e = TS.Zero, f = TS.Zero, g = TS.Zero, h = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, k * 8 * o1);
            ref float xr = ref Unsafe.Add(ref x, Unsafe.Add(ref cols, k) * o1 * xStride);
            for (nint q = 0; q < o1; q++)
            {
                ref float vq = ref Unsafe.Add(ref vb, q);
                TV x0 = TS.Load(ref xr);
                xr = ref Unsafe.Add(ref xr, xStride);
                a = TS.Fma(TS.Broadcast(vq), x0, a);
                b = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o1)), x0, b);
                cc = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o2)), x0, cc);
                d = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o3)), x0, d);
                e = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o4)), x0, e);
                f = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o5)), x0, f);
                g = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o6)), x0, g);
                h = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o7)), x0, h);
            }
        }
        TS.Store(a, ref y); TS.Store(b, ref Unsafe.Add(ref y, batch)); TS.Store(cc, ref Unsafe.Add(ref y, 2 * batch)); TS.Store(d, ref Unsafe.Add(ref y, 3 * batch));
        TS.Store(e, ref Unsafe.Add(ref y, 4 * batch)); TS.Store(f, ref Unsafe.Add(ref y, 5 * batch)); TS.Store(g, ref Unsafe.Add(ref y, 6 * batch)); TS.Store(h, ref Unsafe.Add(ref y, 7 * batch));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Bsr4x2<TS, TV>(ref int cols, ref float vals, int c, ref float x, nint xStride, ref float y, nint batch, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint o1 = c, o2 = 2 * o1, o3 = 3 * o1;
        nint v = TS.Width;
        TV a0 = TS.Zero, a1 = TS.Zero, b0 = TS.Zero, b1 = TS.Zero, c0 = TS.Zero, c1 = TS.Zero, d0 = TS.Zero, d1 = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, k * 4 * o1);
            ref float xr = ref Unsafe.Add(ref x, Unsafe.Add(ref cols, k) * o1 * xStride);
            for (nint q = 0; q < o1; q++)
            {
                ref float vq = ref Unsafe.Add(ref vb, q);
                TV x0 = TS.Load(ref xr), x1 = TS.Load(ref Unsafe.Add(ref xr, v));
                xr = ref Unsafe.Add(ref xr, xStride);
                TV w = TS.Broadcast(vq); a0 = TS.Fma(w, x0, a0); a1 = TS.Fma(w, x1, a1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o1)); b0 = TS.Fma(w, x0, b0); b1 = TS.Fma(w, x1, b1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o2)); c0 = TS.Fma(w, x0, c0); c1 = TS.Fma(w, x1, c1);
                w = TS.Broadcast(Unsafe.Add(ref vq, o3)); d0 = TS.Fma(w, x0, d0); d1 = TS.Fma(w, x1, d1);
            }
        }
        TS.Store(a0, ref y); TS.Store(a1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(b0, ref y); TS.Store(b1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(c0, ref y); TS.Store(c1, ref Unsafe.Add(ref y, v)); y = ref Unsafe.Add(ref y, batch);
        TS.Store(d0, ref y); TS.Store(d1, ref Unsafe.Add(ref y, v));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Bsr4x1<TS, TV>(ref int cols, ref float vals, int c, ref float x, nint xStride, ref float y, nint batch, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint o1 = c, o2 = 2 * o1, o3 = 3 * o1;
        TV a = TS.Zero, b = TS.Zero, cc = TS.Zero, d = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, k * 4 * o1);
            ref float xr = ref Unsafe.Add(ref x, Unsafe.Add(ref cols, k) * o1 * xStride);
            for (nint q = 0; q < o1; q++)
            {
                ref float vq = ref Unsafe.Add(ref vb, q);
                TV x0 = TS.Load(ref xr);
                xr = ref Unsafe.Add(ref xr, xStride);
                a = TS.Fma(TS.Broadcast(vq), x0, a);
                b = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o1)), x0, b);
                cc = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o2)), x0, cc);
                d = TS.Fma(TS.Broadcast(Unsafe.Add(ref vq, o3)), x0, d);
            }
        }
        TS.Store(a, ref y); TS.Store(b, ref Unsafe.Add(ref y, batch)); TS.Store(cc, ref Unsafe.Add(ref y, 2 * batch)); TS.Store(d, ref Unsafe.Add(ref y, 3 * batch));
    }

    // Row i of every block of the block row; four chains dealt by the in-block column mod 4.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BsrRow2<TS, TV>(ref int cols, ref float vals, int i, int r, int c, ref float x, nint xStride, ref float y, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        TV a0 = TS.Zero, a1 = TS.Zero, b0 = TS.Zero, b1 = TS.Zero, c0 = TS.Zero, c1 = TS.Zero, d0 = TS.Zero, d1 = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, ((nint)k * r + i) * c);
            ref float xr = ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref cols, k) * c * xStride);
            nint q = 0;
            for (; q + 4 <= c; q += 4)
            {
                ref float xa = ref Unsafe.Add(ref xr, q * xStride);
                ref float xb = ref Unsafe.Add(ref xa, xStride);
                ref float xc = ref Unsafe.Add(ref xb, xStride);
                ref float xd = ref Unsafe.Add(ref xc, xStride);
                TV w = TS.Broadcast(Unsafe.Add(ref vb, q)); a0 = TS.Fma(w, TS.Load(ref xa), a0); a1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
                w = TS.Broadcast(Unsafe.Add(ref vb, q + 1)); b0 = TS.Fma(w, TS.Load(ref xb), b0); b1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xb, v)), b1);
                w = TS.Broadcast(Unsafe.Add(ref vb, q + 2)); c0 = TS.Fma(w, TS.Load(ref xc), c0); c1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xc, v)), c1);
                w = TS.Broadcast(Unsafe.Add(ref vb, q + 3)); d0 = TS.Fma(w, TS.Load(ref xd), d0); d1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xd, v)), d1);
            }
            for (; q < c; q++)
            {
                ref float xa = ref Unsafe.Add(ref xr, q * xStride);
                TV w = TS.Broadcast(Unsafe.Add(ref vb, q)); a0 = TS.Fma(w, TS.Load(ref xa), a0); a1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
            }
        }
        TS.Store(TS.Add(TS.Add(a0, b0), TS.Add(c0, d0)), ref y);
        TS.Store(TS.Add(TS.Add(a1, b1), TS.Add(c1, d1)), ref Unsafe.Add(ref y, v));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BsrRow1<TS, TV>(ref int cols, ref float vals, int i, int r, int c, ref float x, nint xStride, ref float y, int k0, int k1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        TV a = TS.Zero, b = TS.Zero, cc = TS.Zero, d = TS.Zero;
        for (int k = k0; k < k1; k++)
        {
            ref float vb = ref Unsafe.Add(ref vals, ((nint)k * r + i) * c);
            ref float xr = ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref cols, k) * c * xStride);
            nint q = 0;
            for (; q + 4 <= c; q += 4)
            {
                ref float xa = ref Unsafe.Add(ref xr, q * xStride);
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vb, q)), TS.Load(ref xa), a);
                b = TS.Fma(TS.Broadcast(Unsafe.Add(ref vb, q + 1)), TS.Load(ref Unsafe.Add(ref xa, xStride)), b);
                cc = TS.Fma(TS.Broadcast(Unsafe.Add(ref vb, q + 2)), TS.Load(ref Unsafe.Add(ref xa, 2 * xStride)), cc);
                d = TS.Fma(TS.Broadcast(Unsafe.Add(ref vb, q + 3)), TS.Load(ref Unsafe.Add(ref xa, 3 * xStride)), d);
            }
            for (; q < c; q++)
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vb, q)), TS.Load(ref Unsafe.Add(ref xr, q * xStride)), a);
        }
        TS.Store(TS.Add(TS.Add(a, b), TS.Add(cc, d)), ref y);
    }
}
