using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// Matrix-vector kernels of <see cref="SlicedCsr"/>: per slice pair, two accumulators of one row per lane; per window,
/// x held in registers and fetched for each step by a permute of the step's column offsets.
/// </summary>
/// <remarks>
/// Every path computes the same bits: each row's entries summed one after the other in column order with
/// <see cref="MultiplyAdd"/> (see <see cref="SlicedCsr"/> for why padding changes nothing). The vector paths need
/// the layout's shape (16 × 31 for AVX-512, 8 × 15 for AVX2); any other shape runs the scalar path.
/// </remarks>
internal static class SlicedCsrKernels
{
    /// <summary>Which kernel runs; tests force each one.</summary>
    internal enum Path { Auto, Scalar, V256, V512 }

    public static void Multiply(SlicedCsr m, ReadOnlySpan<float> x, Span<float> y, int threads, Path path)
    {
        if (m.Rows == 0) return;
        bool has512 = Avx512F.IsSupported && Vector512.IsHardwareAccelerated && m.Lanes == 16 && m.Window == 31;
        bool has256 = Avx2.IsSupported && Vector256.IsHardwareAccelerated && m.Lanes == 8 && m.Window == 15;
        path = path switch
        {
            Path.Auto => has512 ? Path.V512 : has256 ? Path.V256 : Path.Scalar,
            Path.V512 when !has512 => Path.Scalar,
            Path.V256 when !has256 => Path.Scalar,
            _ => path,
        };
        if (threads <= 1 || m.Pairs < 2) Run(m, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), path, 0, m.Pairs);
        else unsafe
        {
            fixed (float* px = x) fixed (float* py = y)
                RowParallel.For(m.Pairs, threads, new ParallelKernel(m, px, py, path));
        }
    }

    private static void Run(SlicedCsr m, ref float x, ref float y, Path path, int pair0, int pair1)
    {
        switch (path)
        {
            case Path.V512: Pairs<Simd512, Permute512, Vector512<float>>(m, ref x, ref y, pair0, pair1); break;
            case Path.V256: Pairs<Simd256, Permute256, Vector256<float>>(m, ref x, ref y, pair0, pair1); break;
            default: PairsScalar(m, ref x, ref y, pair0, pair1); break;
        }
    }

    private readonly unsafe struct ParallelKernel(SlicedCsr m, float* x, float* y, Path path) : IRowRangeKernel
    {
        public int Boundary(int chunk, int chunks) => RowParallel.EvenBoundary(chunk, chunks, m.Pairs, 1);

        public void Run(int start, int end) => SlicedCsrKernels.Run(m, ref *x, ref *y, path, start, end);
    }

    /// <summary>
    /// Windows whose two registers (<paramref name="width"/> floats from column <c>b·window</c>) lie inside x; the
    /// others (at most two) read <paramref name="tail"/>, a zero-padded copy of x from column <c>full·window</c>.
    /// </summary>
    private static int FillTail(ref float x, int columns, int window, int width, Span<float> tail)
    {
        int full = columns >= width ? (columns - width) / window + 1 : 0;
        tail.Clear();
        for (int c = full * window, i = 0; c < columns; c++, i++) tail[i] = Unsafe.Add(ref x, c);
        return full;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float WindowOf(ref float x, int b, int window, int full, ref float tail) =>
        ref b < full ? ref Unsafe.Add(ref x, (nint)b * window) : ref Unsafe.Add(ref tail, (nint)(b - full) * window);

    /// <summary>
    /// The vector path, written once for both widths: L = <typeparamref name="TS"/>'s width lanes, windows of
    /// 2·L − 1 columns held in two registers (the last lane of the upper one is the padding slot, cleared in every
    /// window), each step's x gathered by <typeparamref name="TW"/>'s permute of its column offsets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pairs<TS, TW, TV>(SlicedCsr m, ref float x, ref float y, int pair0, int pair1)
        where TS : struct, ISimd<TV> where TW : struct, IWindowPermute<TV> where TV : struct
    {
        int L = TS.Width, W = 2 * L - 1;
        // Fixed-size buffers (sized for the widest path) so that the frame is laid out at compile time.
        Span<float> tailBuffer = stackalloc float[3 * 2 * 16], lanesBuffer = stackalloc float[2 * 16];
        Span<float> tail = tailBuffer[..(3 * 2 * L)], lanes = lanesBuffer[..(2 * L)];
        int full = FillTail(ref x, m.Columns, W, 2 * L, tail);
        ref float tailRef = ref MemoryMarshal.GetReference(tail);
        ref byte steps = ref MemoryMarshal.GetReference(m.Steps);
        ref byte offsets = ref MemoryMarshal.GetReference(m.Offsets);
        ref float values = ref MemoryMarshal.GetReference(m.Values);
        int windows = m.Windows;
        for (int q = pair0; q < pair1; q++)
        {
            TV a = TS.Zero, c = TS.Zero;
            nint p = (nint)m.PairStarts[q] * L;
            ref byte st = ref Unsafe.Add(ref steps, (nint)q * windows * 2);
            for (int b = 0; b < windows; b++)
            {
                int nA = Unsafe.Add(ref st, 2 * b), nB = Unsafe.Add(ref st, 2 * b + 1);
                if ((nA | nB) == 0) continue;
                ref float xw = ref WindowOf(ref x, b, W, full, ref tailRef);
                TV lo = TS.Load(ref xw), hi = TW.ClearLastLane(TS.Load(ref Unsafe.Add(ref xw, L)));
                int both = Math.Min(nA, nB), t = 0;
                for (; t < both; t++, p += 2 * L)
                {
                    a = TS.Fma(TS.Load(ref Unsafe.Add(ref values, p)), TW.Gather(lo, hi, ref offsets, p), a);
                    c = TS.Fma(TS.Load(ref Unsafe.Add(ref values, p + L)), TW.Gather(lo, hi, ref offsets, p + L), c);
                }
                for (; t < nA; t++, p += L) a = TS.Fma(TS.Load(ref Unsafe.Add(ref values, p)), TW.Gather(lo, hi, ref offsets, p), a);
                for (; t < nB; t++, p += L) c = TS.Fma(TS.Load(ref Unsafe.Add(ref values, p)), TW.Gather(lo, hi, ref offsets, p), c);
            }
            TS.Store(a, ref MemoryMarshal.GetReference(lanes));
            TS.Store(c, ref Unsafe.Add(ref MemoryMarshal.GetReference(lanes), L));
            Scatter(m.LaneRows.Slice(q * 2 * L, 2 * L), lanes, ref y);
        }
    }

    /// <summary>The one width-specific step of <see cref="Pairs{TS, TW, TV}"/>: x at a step's column offsets.</summary>
    private interface IWindowPermute<TV> where TV : struct
    {
        /// <summary>The upper register with its last lane (the padding slot, offset 2·L − 1) set to +0.</summary>
        static abstract TV ClearLastLane(TV hi);

        /// <summary>x at the L offsets of the step at <paramref name="p"/>, from the window's two registers.</summary>
        static abstract TV Gather(TV lo, TV hi, ref byte offsets, nint p);
    }

    /// <summary>AVX-512: one two-register permute (padding's offset 31 reads the cleared slot).</summary>
    private readonly struct Permute512 : IWindowPermute<Vector512<float>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> ClearLastLane(Vector512<float> hi) =>
            hi & Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Gather(Vector512<float> lo, Vector512<float> hi, ref byte offsets, nint p) =>
            Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref offsets, (nuint)p)), hi);
    }

    /// <summary>AVX2: a permute of each half of the 16-column window, the half chosen by offset bit 3 (shifted into
    /// the sign bit, which is what the blend reads).</summary>
    private readonly struct Permute256 : IWindowPermute<Vector256<float>>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> ClearLastLane(Vector256<float> hi) => hi & Vector256.Create(-1, -1, -1, -1, -1, -1, -1, 0).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Gather(Vector256<float> lo, Vector256<float> hi, ref byte offsets, nint p)
        {
            Vector256<int> o = Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref offsets, p))).AsByte());
            return Avx.BlendVariable(Avx2.PermuteVar8x32(lo, o), Avx2.PermuteVar8x32(hi, o), Avx2.ShiftLeftLogical(o, 28).AsSingle());
        }
    }

    /// <summary>The reference path, in the same order as the vector ones: lane by lane, step by step, padding skipped.</summary>
    private static void PairsScalar(SlicedCsr m, ref float x, ref float y, int pair0, int pair1)
    {
        int L = m.Lanes, W = m.Window, windows = m.Windows;
        Span<float> acc = stackalloc float[2 * L];
        ReadOnlySpan<byte> steps = m.Steps, offsets = m.Offsets;
        ReadOnlySpan<float> values = m.Values;
        for (int q = pair0; q < pair1; q++)
        {
            acc.Clear();
            int p = m.PairStarts[q];
            for (int b = 0; b < windows; b++)
            {
                int nA = steps[(q * windows + b) * 2], nB = steps[(q * windows + b) * 2 + 1], both = Math.Min(nA, nB);
                for (int t = 0; t < nA + nB; t++, p++)
                {
                    int h = t < 2 * both ? t & 1 : (nA > nB ? 0 : 1);
                    for (int l = 0; l < L; l++)
                    {
                        int o = offsets[p * L + l];
                        if (o == W) continue; // padding: (−0)·(+0) would add nothing
                        acc[h * L + l] = MultiplyAdd.Of(values[p * L + l], Unsafe.Add(ref x, (nint)b * W + o), acc[h * L + l]);
                    }
                }
            }
            Scatter(m.LaneRows.Slice(q * 2 * L, 2 * L), acc, ref y);
        }
    }

    private static void Scatter(ReadOnlySpan<int> rows, ReadOnlySpan<float> lanes, ref float y)
    {
        for (int l = 0; l < rows.Length; l++)
        {
            int r = rows[l];
            if (r >= 0) Unsafe.Add(ref y, r) = lanes[l];
        }
    }
}
