using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Narrow batches (2 … 8) on AVX-512. The GEMM micro-kernels fill a vector with batch lanes, so at batch 8 a
// 512-bit register would be half empty and the 256-bit 8-row kernel (one broadcast load per FMA) ran at 67 GFLOPS.
// Here the batch is rounded up to B = 2, 4 or 8 lanes (extra lanes are zero and never stored) and one 512-bit
// register holds G = 16 / B consecutive k-steps of all batch columns instead:
//   packed X, per group of G k-steps:  lane j·G + t = X[k0 + t, j]       (t < G, j < batch)
//   broadcast of W[r, k0 .. k0+G):     lane j·G + t = W[r, k0 + t]       (vbroadcastsd / f32x4 / f32x8)
// so one FMA does G k-steps of a row at once and W is read exactly once, as in a GEMV. The G lanes of a batch
// column are added at the end in a fixed order, (l0 + l1) [+ (l2 + l3)] …, pairwise. Eight rows share each loaded
// X group (eight independent accumulators hide the FMA latency); a leftover row runs the same per-row sequence, so
// the result of a row never depends on the block it lands in. k beyond the last full group is padded with zeros
// in both operands (a copy of W's row tail on the stack, so no read past the row).
public static partial class MatMul
{
    /// <summary>Whether <paramref name="batch"/> runs the grouped-k kernel on this machine.</summary>
    private static bool IsNarrow(int batch) => Avx512DQ.IsSupported && SimdLevel.Has512 && batch >= 2 && batch <= 8;

    /// <summary>Lanes per k-step: the batch rounded up to 2, 4 or 8 (extra lanes hold zeros and are not stored).</summary>
    private static int NarrowLanes(int batch) => batch <= 2 ? 2 : batch <= 4 ? 4 : 8;

    /// <summary>Floats of packed X for <see cref="PackNarrow"/>: one 16-float vector per group of G k-steps.</summary>
    private static int NarrowPackedLength(int cols, int batch)
    {
        int g = 16 / NarrowLanes(batch);
        return (cols + g - 1) / g * 16;
    }

    /// <summary>X <c>[cols × batch]</c> → groups of G k-steps, lane <c>j·G + t</c> = <c>X[k0 + t, j]</c>, zero past <paramref name="cols"/> and <paramref name="batch"/>.</summary>
    private static void PackNarrow(ref float x, int cols, int batch, Span<float> packed)
    {
        int g = 16 / NarrowLanes(batch);
        packed.Clear();
        for (int k = 0; k < cols; k++)
        {
            int block = k / g * 16, t = k % g;
            for (int j = 0; j < batch; j++)
                packed[block + j * g + t] = Unsafe.Add(ref x, (nint)k * batch + j);
        }
    }

    private static void NarrowRows(ref float w, int cols, ref float packed, ref float y, int batch, int r0, int r1)
    {
        switch (NarrowLanes(batch))
        {
            case 2: NarrowRows<Group8>(ref w, cols, ref packed, ref y, batch, r0, r1); break;
            case 4: NarrowRows<Group4>(ref w, cols, ref packed, ref y, batch, r0, r1); break;
            default: NarrowRows<Group2>(ref w, cols, ref packed, ref y, batch, r0, r1); break;
        }
    }

    private static void NarrowRows<TG>(ref float w, int cols, ref float packed, ref float y, int batch, int r0, int r1) where TG : struct, IGroup
    {
        Span<float> accumulators = stackalloc float[8 * 16];
        ref float acc = ref MemoryMarshal.GetReference(accumulators);
        int r = r0;
        for (; r + 8 <= r1; r += 8)
        {
            Narrow8<TG>(ref w, cols, ref packed, ref acc, r);
            ReduceNarrow(ref acc, 8, TG.G, ref Unsafe.Add(ref y, (nint)r * batch), batch);
        }
        for (; r < r1; r++)
        {
            Narrow1<TG>(ref w, cols, ref packed, ref acc, r);
            ReduceNarrow(ref acc, 1, TG.G, ref Unsafe.Add(ref y, (nint)r * batch), batch);
        }
    }

    /// <summary>G consecutive weights broadcast so that lane <c>j·G + t</c> holds weight t.</summary>
    private interface IGroup
    {
        static abstract int G { get; }

        static abstract Vector512<float> Broadcast(ref float w);

        /// <summary>The same pattern from the first G lanes of <paramref name="first"/>.</summary>
        static abstract Vector512<float> Spread(Vector256<float> first);
    }

    private readonly struct Group2 : IGroup
    {
        public static int G => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Broadcast(ref float w) => Vector512.Create(Unsafe.ReadUnaligned<double>(ref Unsafe.As<float, byte>(ref w))).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Spread(Vector256<float> first) => Vector512.Create(first.AsDouble().ToScalar()).AsSingle();
    }

    private readonly struct Group4 : IGroup
    {
        public static int G => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector512<float> Broadcast(ref float w)
        {
            return Avx512F.BroadcastVector128ToVector512((float*)Unsafe.AsPointer(ref w)); // W is pinned by the caller
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Spread(Vector256<float> first)
        {
            Vector128<float> v = first.GetLower();
            return Vector512.Create(Vector256.Create(v, v), Vector256.Create(v, v));
        }
    }

    private readonly struct Group8 : IGroup
    {
        public static int G => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector512<float> Broadcast(ref float w)
        {
            return Avx512DQ.BroadcastVector256ToVector512((float*)Unsafe.AsPointer(ref w)); // W is pinned by the caller
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Spread(Vector256<float> first) => Vector512.Create(first, first);
    }

    /// <summary>Weights <c>W[r, k0 ..)</c> of the last, partial group, zero-padded to G (never reads past the row).</summary>
    /// <remarks>
    /// Built from conditional scalar loads rather than a stack copy or a call: a call inside the kernel clobbers every
    /// vector register, and the JIT then spilled all eight accumulators to the stack on every step of the main loop.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailBroadcast<TG>(ref float wRow, int k0, int cols) where TG : struct, IGroup
    {
        ref float w = ref Unsafe.Add(ref wRow, k0);
        int len = cols - k0; // 1 … G − 1
        Vector256<float> t = Vector256.Create(
            w, len > 1 ? Unsafe.Add(ref w, 1) : 0f, len > 2 ? Unsafe.Add(ref w, 2) : 0f, len > 3 ? Unsafe.Add(ref w, 3) : 0f,
            len > 4 ? Unsafe.Add(ref w, 4) : 0f, len > 5 ? Unsafe.Add(ref w, 5) : 0f, len > 6 ? Unsafe.Add(ref w, 6) : 0f, 0f);
        return TG.Spread(t);
    }

    /// <summary>
    /// Y[r + i, j] = Σ_t lane <c>j·G + t</c> of accumulator i (16 floats each in <paramref name="acc"/>), added pairwise
    /// in a fixed order: ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), as far as G reaches.
    /// </summary>
    /// <remarks>Separate from the kernels on purpose: lane extraction inside them made the JIT keep the accumulators in memory.</remarks>
    private static void ReduceNarrow(ref float acc, int rowsInBlock, int g, ref float y, int batch)
    {
        for (int i = 0; i < rowsInBlock; i++)
        {
            ref float a = ref Unsafe.Add(ref acc, i * 16);
            ref float yr = ref Unsafe.Add(ref y, i * batch);
            for (int j = 0; j < batch; j++)
            {
                ref float l = ref Unsafe.Add(ref a, j * g);
                float s = l + Unsafe.Add(ref l, 1);
                if (g >= 4) s += Unsafe.Add(ref l, 2) + Unsafe.Add(ref l, 3);
                if (g == 8) s += (Unsafe.Add(ref l, 4) + Unsafe.Add(ref l, 5)) + (Unsafe.Add(ref l, 6) + Unsafe.Add(ref l, 7));
                Unsafe.Add(ref yr, j) = s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Narrow8<TG>(ref float w, int cols, ref float packed, ref float acc, int r) where TG : struct, IGroup
    {
        nint n = cols, g = TG.G;
        ref float w0 = ref Unsafe.Add(ref w, r * n);
        ref float w1 = ref Unsafe.Add(ref w0, n);
        ref float w2 = ref Unsafe.Add(ref w0, 2 * n);
        ref float w3 = ref Unsafe.Add(ref w0, 3 * n);
        ref float w4 = ref Unsafe.Add(ref w0, 4 * n);
        ref float w5 = ref Unsafe.Add(ref w0, 5 * n);
        ref float w6 = ref Unsafe.Add(ref w0, 6 * n);
        ref float w7 = ref Unsafe.Add(ref w0, 7 * n);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        ref float xp = ref packed;
        nint k = 0;
        for (; k + g <= n; k += g)
        {
            Vector512<float> xv = Vector512.LoadUnsafe(ref xp);
            xp = ref Unsafe.Add(ref xp, 16);
            c0 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w0, k)), xv, c0);
            c1 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w1, k)), xv, c1);
            c2 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w2, k)), xv, c2);
            c3 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w3, k)), xv, c3);
            c4 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w4, k)), xv, c4);
            c5 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w5, k)), xv, c5);
            c6 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w6, k)), xv, c6);
            c7 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w7, k)), xv, c7);
        }
        if (k < n)
        {
            Vector512<float> xv = Vector512.LoadUnsafe(ref xp);
            int k0 = (int)k;
            c0 = MultiplyAdd.Of(TailBroadcast<TG>(ref w0, k0, cols), xv, c0);
            c1 = MultiplyAdd.Of(TailBroadcast<TG>(ref w1, k0, cols), xv, c1);
            c2 = MultiplyAdd.Of(TailBroadcast<TG>(ref w2, k0, cols), xv, c2);
            c3 = MultiplyAdd.Of(TailBroadcast<TG>(ref w3, k0, cols), xv, c3);
            c4 = MultiplyAdd.Of(TailBroadcast<TG>(ref w4, k0, cols), xv, c4);
            c5 = MultiplyAdd.Of(TailBroadcast<TG>(ref w5, k0, cols), xv, c5);
            c6 = MultiplyAdd.Of(TailBroadcast<TG>(ref w6, k0, cols), xv, c6);
            c7 = MultiplyAdd.Of(TailBroadcast<TG>(ref w7, k0, cols), xv, c7);
        }
        c0.StoreUnsafe(ref acc);
        c1.StoreUnsafe(ref acc, 16);
        c2.StoreUnsafe(ref acc, 32);
        c3.StoreUnsafe(ref acc, 48);
        c4.StoreUnsafe(ref acc, 64);
        c5.StoreUnsafe(ref acc, 80);
        c6.StoreUnsafe(ref acc, 96);
        c7.StoreUnsafe(ref acc, 112);
    }

    // One row: the same FMA sequence per row as Narrow8, so a row's bits do not depend on the block it lands in.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow1<TG>(ref float w, int cols, ref float packed, ref float acc, int r) where TG : struct, IGroup
    {
        nint n = cols, g = TG.G;
        ref float w0 = ref Unsafe.Add(ref w, r * n);
        Vector512<float> c0 = default;
        ref float xp = ref packed;
        nint k = 0;
        for (; k + g <= n; k += g)
        {
            c0 = MultiplyAdd.Of(TG.Broadcast(ref Unsafe.Add(ref w0, k)), Vector512.LoadUnsafe(ref xp), c0);
            xp = ref Unsafe.Add(ref xp, 16);
        }
        if (k < n) c0 = MultiplyAdd.Of(TailBroadcast<TG>(ref w0, (int)k, cols), Vector512.LoadUnsafe(ref xp), c0);
        c0.StoreUnsafe(ref acc);
    }
}
