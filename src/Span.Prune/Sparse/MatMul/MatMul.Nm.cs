using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// N:M kernels. A row holds exactly KeptPerRow entries; entry e of a row belongs to group e / N and sits at column
// (e / N)·M + index, so there are no row pointers. The group of an entry is computed by a pattern struct
// (e, e >> 1, or a division for N > 2) that the JIT specialises, so the common 1:M and 2:M cases cost a shift.
//
// SpMM (batch > 1): as CSR, broadcast each entry against X[column, tile], four accumulator chains dealt by entry
// mod 4 and combined as (a + b) + (c + d), batch tiles outer.
//
// SpMV (batch 1), 2:4 fast path: 16 entries cover 8 groups = 32 consecutive columns, so instead of a gather the
// kernel loads those 32 x values as two vectors and picks the 16 it needs with one two-source permute (vpermt2ps)
// whose lane index is 4·(lane/2) + stored position. AVX2 does the same on 8 entries with two single-source
// permutes and a blend. Other 1:M and 2:M patterns assemble x from scalar loads 8 entries at a time (see
// NmGatherRows); N > 2 use the four-chain loop.
public static partial class MatMul
{
    private interface INmGroups
    {
        static abstract nint Group(nint entry, int n);
    }

    private readonly struct OnePerGroup : INmGroups
    {
        public static nint Group(nint entry, int n) => entry;
    }

    private readonly struct TwoPerGroup : INmGroups
    {
        public static nint Group(nint entry, int n) => entry >> 1;
    }

    private readonly struct AnyPerGroup : INmGroups
    {
        public static nint Group(nint entry, int n) => entry / n;
    }

    private static void NmRows(ref float vals, ref byte idx, ref uint packed, int columns, int n, int m, ref float x, int xStride, ref float y, int batch, int r0, int r1)
    {
        if (n == 1) NmRows<OnePerGroup>(ref vals, ref idx, ref packed, columns, n, m, ref x, xStride, ref y, batch, r0, r1);
        else if (n == 2) NmRows<TwoPerGroup>(ref vals, ref idx, ref packed, columns, n, m, ref x, xStride, ref y, batch, r0, r1);
        else NmRows<AnyPerGroup>(ref vals, ref idx, ref packed, columns, n, m, ref x, xStride, ref y, batch, r0, r1);
    }

    private static void NmRows<TG>(ref float vals, ref byte idx, ref uint packed, int columns, int n, int m, ref float x, int xStride, ref float y, int batch, int r0, int r1)
        where TG : struct, INmGroups
    {
        int kept = columns / m * n;
        nint words = (kept + 15) / 16;
        if (batch == 1)
        {
            if (n == 2 && m == 4 && Avx512F.IsSupported && SimdLevel.Has512)
            {
                for (int r = r0; r < r1; r++)
                    Unsafe.Add(ref y, r) = Nm24Row512(ref Unsafe.Add(ref vals, (nint)r * kept), ref Unsafe.Add(ref idx, (nint)r * kept), ref Unsafe.Add(ref packed, r * words), kept, ref x);
                return;
            }
            if (n == 2 && m == 4 && Avx2.IsSupported && SimdLevel.Has256)
            {
                for (int r = r0; r < r1; r++)
                    Unsafe.Add(ref y, r) = Nm24Row256(ref Unsafe.Add(ref vals, (nint)r * kept), ref Unsafe.Add(ref idx, (nint)r * kept), ref Unsafe.Add(ref packed, r * words), kept, ref x);
                return;
            }
            if (n <= 2 && SimdLevel.Has256 && BitConverter.IsLittleEndian)
            {
                NmGatherRows<TG>(ref vals, ref idx, kept, m, ref x, ref y, r0, r1);
                return;
            }
        }
        for (int j = 0, w; j < batch; j += w)
        {
            BatchTile tile = NextBatchTile(batch - j, out w);
            ref float xp = ref Panel(ref x, xStride, columns, j);
            nint xs = PanelStride(xStride, w);
            switch (tile)
            {
                case BatchTile.V512x2: NmTile2<Simd512, Vector512<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V512x1: NmTile1<Simd512, Vector512<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V256x2: NmTile2<Simd256, Vector256<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V256x1: NmTile1<Simd256, Vector256<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V128x2: NmTile2<Simd128, Vector128<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                case BatchTile.V128x1: NmTile1<Simd128, Vector128<float>, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
                default: NmTile1<SimdScalar, float, TG>(ref vals, ref idx, kept, n, m, ref xp, xs, ref y, batch, r0, r1, j); break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void NmTile2<TS, TV, TG>(ref float vals, ref byte idx, int kept, int n, nint m, ref float x, nint xStride, ref float y, nint batch, int r0, int r1, nint j)
        where TS : struct, ISimd<TV> where TV : struct where TG : struct, INmGroups
    {
        nint v = TS.Width;
        ref float xj = ref x; // this tile's panel of X
        for (int r = r0; r < r1; r++)
        {
            ref float vr = ref Unsafe.Add(ref vals, (nint)r * kept);
            ref byte ir = ref Unsafe.Add(ref idx, (nint)r * kept);
            nint e = 0;
            TV a0 = TS.Zero, a1 = TS.Zero, b0 = TS.Zero, b1 = TS.Zero, c0 = TS.Zero, c1 = TS.Zero, d0 = TS.Zero, d1 = TS.Zero;
            for (; e + 4 <= kept; e += 4)
            {
                ref float xa = ref Unsafe.Add(ref xj, (TG.Group(e, n) * m + Unsafe.Add(ref ir, e)) * xStride);
                ref float xb = ref Unsafe.Add(ref xj, (TG.Group(e + 1, n) * m + Unsafe.Add(ref ir, e + 1)) * xStride);
                ref float xc = ref Unsafe.Add(ref xj, (TG.Group(e + 2, n) * m + Unsafe.Add(ref ir, e + 2)) * xStride);
                ref float xd = ref Unsafe.Add(ref xj, (TG.Group(e + 3, n) * m + Unsafe.Add(ref ir, e + 3)) * xStride);
                TV w = TS.Broadcast(Unsafe.Add(ref vr, e)); a0 = TS.Fma(w, TS.Load(ref xa), a0); a1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
                w = TS.Broadcast(Unsafe.Add(ref vr, e + 1)); b0 = TS.Fma(w, TS.Load(ref xb), b0); b1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xb, v)), b1);
                w = TS.Broadcast(Unsafe.Add(ref vr, e + 2)); c0 = TS.Fma(w, TS.Load(ref xc), c0); c1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xc, v)), c1);
                w = TS.Broadcast(Unsafe.Add(ref vr, e + 3)); d0 = TS.Fma(w, TS.Load(ref xd), d0); d1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xd, v)), d1);
            }
            for (; e < kept; e++)
            {
                ref float xa = ref Unsafe.Add(ref xj, (TG.Group(e, n) * m + Unsafe.Add(ref ir, e)) * xStride);
                TV w = TS.Broadcast(Unsafe.Add(ref vr, e)); a0 = TS.Fma(w, TS.Load(ref xa), a0); a1 = TS.Fma(w, TS.Load(ref Unsafe.Add(ref xa, v)), a1);
            }
            ref float yr = ref Unsafe.Add(ref y, r * batch + j);
            TS.Store(TS.Add(TS.Add(a0, b0), TS.Add(c0, d0)), ref yr);
            TS.Store(TS.Add(TS.Add(a1, b1), TS.Add(c1, d1)), ref Unsafe.Add(ref yr, v));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void NmTile1<TS, TV, TG>(ref float vals, ref byte idx, int kept, int n, nint m, ref float x, nint xStride, ref float y, nint batch, int r0, int r1, nint j)
        where TS : struct, ISimd<TV> where TV : struct where TG : struct, INmGroups
    {
        ref float xj = ref x; // this tile's panel of X
        for (int r = r0; r < r1; r++)
        {
            ref float vr = ref Unsafe.Add(ref vals, (nint)r * kept);
            ref byte ir = ref Unsafe.Add(ref idx, (nint)r * kept);
            nint e = 0;
            TV a = TS.Zero, b = TS.Zero, c = TS.Zero, d = TS.Zero;
            for (; e + 4 <= kept; e += 4)
            {
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vr, e)), TS.Load(ref Unsafe.Add(ref xj, (TG.Group(e, n) * m + Unsafe.Add(ref ir, e)) * xStride)), a);
                b = TS.Fma(TS.Broadcast(Unsafe.Add(ref vr, e + 1)), TS.Load(ref Unsafe.Add(ref xj, (TG.Group(e + 1, n) * m + Unsafe.Add(ref ir, e + 1)) * xStride)), b);
                c = TS.Fma(TS.Broadcast(Unsafe.Add(ref vr, e + 2)), TS.Load(ref Unsafe.Add(ref xj, (TG.Group(e + 2, n) * m + Unsafe.Add(ref ir, e + 2)) * xStride)), c);
                d = TS.Fma(TS.Broadcast(Unsafe.Add(ref vr, e + 3)), TS.Load(ref Unsafe.Add(ref xj, (TG.Group(e + 3, n) * m + Unsafe.Add(ref ir, e + 3)) * xStride)), d);
            }
            for (; e < kept; e++)
                a = TS.Fma(TS.Broadcast(Unsafe.Add(ref vr, e)), TS.Load(ref Unsafe.Add(ref xj, (TG.Group(e, n) * m + Unsafe.Add(ref ir, e)) * xStride)), a);
            TS.Store(TS.Add(TS.Add(a, b), TS.Add(c, d)), ref Unsafe.Add(ref y, r * batch + j));
        }
    }

    // Batch 1, N ≤ 2 (other than 2:4 on AVX-512/AVX2): x at columns Group(e)·M + index, 8 entries at a time
    // assembled from scalar loads (the 8 in-group indices read as one 8-byte word), two accumulators; the < 8
    // leftover entries are added with scalar FMAs after the horizontal sum. Scalar loads rather than vgatherdps for
    // the reason given at CsrSpmv (the gather was the slower of the two, measured for CSR on the reference Zen 5).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void NmGatherRows<TG>(ref float vals, ref byte idx, int kept, int m, ref float x, ref float y, int r0, int r1)
        where TG : struct, INmGroups
    {
        int n = typeof(TG) == typeof(OnePerGroup) ? 1 : 2;
        for (int r = r0; r < r1; r++)
        {
            ref float vr = ref Unsafe.Add(ref vals, (nint)r * kept);
            ref byte ir = ref Unsafe.Add(ref idx, (nint)r * kept);
            Vector256<float> a = Vector256<float>.Zero, b = Vector256<float>.Zero;
            nint e = 0;
            for (; e + 16 <= kept; e += 16)
            {
                a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vr, (nuint)e), NmLoadX8<TG>(ref x, m, ref ir, e), a);
                b = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vr, (nuint)(e + 8)), NmLoadX8<TG>(ref x, m, ref ir, e + 8), b);
            }
            if (e + 8 <= kept)
            {
                a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vr, (nuint)e), NmLoadX8<TG>(ref x, m, ref ir, e), a);
                e += 8;
            }
            float s = Vector256.Sum(a + b);
            for (; e < kept; e++) s = MultiplyAdd.Of(Unsafe.Add(ref vr, e), Unsafe.Add(ref x, TG.Group(e, n) * m + Unsafe.Add(ref ir, e)), s);
            Unsafe.Add(ref y, r) = s;
        }
    }

    /// <summary>x at the columns of entries e … e + 7 (e a multiple of 8), for N = 1 or 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> NmLoadX8<TG>(ref float x, nint m, ref byte ir, nint e) where TG : struct, INmGroups
    {
        int n = typeof(TG) == typeof(OnePerGroup) ? 1 : 2;
        // Group(e + t) = Group(e) + Group(t) because e is a multiple of 8 (≥ N); Group(t)·M folds to a constant multiple of M.
        ref float xe = ref Unsafe.Add(ref x, TG.Group(e, n) * m);
        ulong q = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ir, e)); // little-endian: byte t is entry e + t
        return Vector256.Create(
            Unsafe.Add(ref xe, (nint)(byte)q),
            Unsafe.Add(ref xe, TG.Group(1, n) * m + (nint)(byte)(q >> 8)),
            Unsafe.Add(ref xe, TG.Group(2, n) * m + (nint)(byte)(q >> 16)),
            Unsafe.Add(ref xe, TG.Group(3, n) * m + (nint)(byte)(q >> 24)),
            Unsafe.Add(ref xe, TG.Group(4, n) * m + (nint)(byte)(q >> 32)),
            Unsafe.Add(ref xe, TG.Group(5, n) * m + (nint)(byte)(q >> 40)),
            Unsafe.Add(ref xe, TG.Group(6, n) * m + (nint)(byte)(q >> 48)),
            Unsafe.Add(ref xe, TG.Group(7, n) * m + (nint)(q >> 56)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Nm24Row512(ref float vals, ref byte idx, ref uint packed, int kept, ref float x)
    {
        // Lane l of a 16-entry step reads group l/2, whose first column is 4·(l/2) within the 32-column window; its
        // position is bits 2l..2l+1 of the step's packed word.
        Vector512<int> groupBase = Vector512.Create(0, 0, 4, 4, 8, 8, 12, 12, 16, 16, 20, 20, 24, 24, 28, 28);
        Vector512<uint> shifts = Vector512.Create(0u, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        Vector512<uint> three = Vector512.Create(3u);
        Vector512<float> a = Vector512<float>.Zero, b = Vector512<float>.Zero;
        nint e = 0;
        for (; e + 32 <= kept; e += 32)
        {
            ref float xw = ref Unsafe.Add(ref x, 2 * e);
            Vector512<int> ia = (Avx512F.ShiftRightLogicalVariable(Vector512.Create(Unsafe.Add(ref packed, e >> 4)), shifts) & three).AsInt32() + groupBase;
            Vector512<int> ib = (Avx512F.ShiftRightLogicalVariable(Vector512.Create(Unsafe.Add(ref packed, (e >> 4) + 1)), shifts) & three).AsInt32() + groupBase;
            Vector512<float> xa = Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref xw), ia, Vector512.LoadUnsafe(ref xw, 16));
            Vector512<float> xb = Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref xw, 32), ib, Vector512.LoadUnsafe(ref xw, 48));
            a = MultiplyAdd.Of(Vector512.LoadUnsafe(ref vals, (nuint)e), xa, a);
            b = MultiplyAdd.Of(Vector512.LoadUnsafe(ref vals, (nuint)(e + 16)), xb, b);
        }
        if (e + 16 <= kept)
        {
            ref float xw = ref Unsafe.Add(ref x, 2 * e);
            Vector512<int> ia = (Avx512F.ShiftRightLogicalVariable(Vector512.Create(Unsafe.Add(ref packed, e >> 4)), shifts) & three).AsInt32() + groupBase;
            Vector512<float> xa = Avx512F.PermuteVar16x32x2(Vector512.LoadUnsafe(ref xw), ia, Vector512.LoadUnsafe(ref xw, 16));
            a = MultiplyAdd.Of(Vector512.LoadUnsafe(ref vals, (nuint)e), xa, a);
            e += 16;
        }
        float s = Vector512.Sum(a + b);
        for (; e < kept; e++) s = MultiplyAdd.Of(Unsafe.Add(ref vals, e), Unsafe.Add(ref x, (e >> 1) * 4 + Unsafe.Add(ref idx, e)), s);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Nm24Row256(ref float vals, ref byte idx, ref uint packed, int kept, ref float x)
    {
        // 8 entries = 4 groups = 16 columns: lanes 0–3 come from the first 8 columns, lanes 4–7 from the next 8.
        Vector256<int> groupBase = Vector256.Create(0, 0, 4, 4, 0, 0, 4, 4);
        Vector256<uint> lo = Vector256.Create(0u, 2, 4, 6, 8, 10, 12, 14), hi = lo + Vector256.Create(16u);
        Vector256<float> a = Vector256<float>.Zero, b = Vector256<float>.Zero;
        nint e = 0;
        for (; e + 16 <= kept; e += 16)
        {
            Vector256<uint> word = Vector256.Create(Unsafe.Add(ref packed, e >> 4));
            a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)e), Nm24Pick256(word, lo, ref Unsafe.Add(ref x, 2 * e), groupBase), a);
            b = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)(e + 8)), Nm24Pick256(word, hi, ref Unsafe.Add(ref x, 2 * e + 16), groupBase), b);
        }
        if (e + 8 <= kept)
        {
            Vector256<uint> word = Vector256.Create(Unsafe.Add(ref packed, e >> 4));
            a = MultiplyAdd.Of(Vector256.LoadUnsafe(ref vals, (nuint)e), Nm24Pick256(word, lo, ref Unsafe.Add(ref x, 2 * e), groupBase), a);
            e += 8;
        }
        float s = Vector256.Sum(a + b);
        for (; e < kept; e++) s = MultiplyAdd.Of(Unsafe.Add(ref vals, e), Unsafe.Add(ref x, (e >> 1) * 4 + Unsafe.Add(ref idx, e)), s);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Nm24Pick256(Vector256<uint> word, Vector256<uint> shifts, ref float xw, Vector256<int> groupBase)
    {
        Vector256<int> lanes = (Avx2.ShiftRightLogicalVariable(word, shifts) & Vector256.Create(3u)).AsInt32() + groupBase;
        Vector256<float> lo = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref xw), lanes);
        Vector256<float> hi = Avx2.PermuteVar8x32(Vector256.LoadUnsafe(ref xw, 8), lanes);
        return Avx.Blend(lo, hi, 0b1111_0000);
    }
}
