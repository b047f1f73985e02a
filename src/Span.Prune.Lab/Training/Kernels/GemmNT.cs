using Span.Prune.Internal;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// <c>C = A·Bᵀ</c> with both operands row-major over the shared dimension: <c>C[i, j] = Σ_k A[i, k]·B[j, k]</c>.
/// </summary>
/// <remarks>
/// <para>The weight gradient of a layer is <c>dW = dY·Xᵀ</c>, where <c>dY</c> is <c>[out × n]</c> and <c>X</c> (or the
/// im2col matrix) is <c>[in × n]</c>, both with <c>n</c> contiguous. The core's <c>Y = W·X</c> would need <c>Xᵀ</c>
/// materialised first; this kernel reads both operands in place instead, as dot products of contiguous rows. It wins
/// when <c>n</c> is long (a convolution's <c>n = batch·H·W</c>); for the MLP's <c>n = 64</c> the horizontal sums
/// cost more than the transpose, so the engine transposes there (measured, see the Training README notes).</para>
/// <para>Blocking: 4 rows of A × 4 rows of B, 16 vector accumulators, 8 loads per 16 fused multiply-adds. Every output
/// owns one accumulator: FMAs over whole vectors in ascending k, then a horizontal sum, then the scalar tail in ascending
/// k — the same sequence in the edge path, so the bits do not depend on the blocking or on the thread split.</para>
/// </remarks>
internal static class GemmNT
{
    /// <summary>Computes <c>C[m × n] = A[m × k]·B[n × k]ᵀ</c> (C overwritten).</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "Dimensions must not be negative.");
        if (a.Length < m * k) throw new ArgumentException("A is shorter than m·k.", nameof(a));
        if (b.Length < n * k) throw new ArgumentException("B is shorter than n·k.", nameof(b));
        if (c.Length < m * n) throw new ArgumentException("C is shorter than m·n.", nameof(c));
        if (m == 0 || n == 0) return;
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pc = ref MemoryMarshal.GetReference(c);
        if (Vector512.IsHardwareAccelerated) Rows<V512>(ref pa, ref pb, ref pc, n, k, 0, m);
        else if (Vector256.IsHardwareAccelerated) Rows<V256>(ref pa, ref pb, ref pc, n, k, 0, m);
        else Rows<V128>(ref pa, ref pb, ref pc, n, k, 0, m);
    }

    private static void Rows<TV>(ref float a, ref float b, ref float c, int n, int k, int i0, int i1)
        where TV : struct, IVec<TV>
    {
        int w = TV.Width;
        int kv = k - k % w; // whole-vector part of k
        int i = i0;
        for (; i + 4 <= i1; i += 4)
        {
            ref float a0 = ref Unsafe.Add(ref a, (nint)i * k);
            ref float a1 = ref Unsafe.Add(ref a0, k);
            ref float a2 = ref Unsafe.Add(ref a1, k);
            ref float a3 = ref Unsafe.Add(ref a2, k);
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                ref float b0 = ref Unsafe.Add(ref b, (nint)j * k);
                ref float b1 = ref Unsafe.Add(ref b0, k);
                ref float b2 = ref Unsafe.Add(ref b1, k);
                ref float b3 = ref Unsafe.Add(ref b2, k);
                TV c00 = default, c01 = default, c02 = default, c03 = default;
                TV c10 = default, c11 = default, c12 = default, c13 = default;
                TV c20 = default, c21 = default, c22 = default, c23 = default;
                TV c30 = default, c31 = default, c32 = default, c33 = default;
                for (nint p = 0; p < kv; p += w)
                {
                    TV x0 = TV.Load(ref a0, p), x1 = TV.Load(ref a1, p), x2 = TV.Load(ref a2, p), x3 = TV.Load(ref a3, p);
                    TV y = TV.Load(ref b0, p);
                    c00 = TV.Fma(x0, y, c00); c10 = TV.Fma(x1, y, c10); c20 = TV.Fma(x2, y, c20); c30 = TV.Fma(x3, y, c30);
                    y = TV.Load(ref b1, p);
                    c01 = TV.Fma(x0, y, c01); c11 = TV.Fma(x1, y, c11); c21 = TV.Fma(x2, y, c21); c31 = TV.Fma(x3, y, c31);
                    y = TV.Load(ref b2, p);
                    c02 = TV.Fma(x0, y, c02); c12 = TV.Fma(x1, y, c12); c22 = TV.Fma(x2, y, c22); c32 = TV.Fma(x3, y, c32);
                    y = TV.Load(ref b3, p);
                    c03 = TV.Fma(x0, y, c03); c13 = TV.Fma(x1, y, c13); c23 = TV.Fma(x2, y, c23); c33 = TV.Fma(x3, y, c33);
                }
                ref float r0 = ref Unsafe.Add(ref c, (nint)i * n + j);
                ref float r1 = ref Unsafe.Add(ref r0, n);
                ref float r2 = ref Unsafe.Add(ref r1, n);
                ref float r3 = ref Unsafe.Add(ref r2, n);
                r0 = Finish(c00, ref a0, ref b0, kv, k); Unsafe.Add(ref r0, 1) = Finish(c01, ref a0, ref b1, kv, k); Unsafe.Add(ref r0, 2) = Finish(c02, ref a0, ref b2, kv, k); Unsafe.Add(ref r0, 3) = Finish(c03, ref a0, ref b3, kv, k);
                r1 = Finish(c10, ref a1, ref b0, kv, k); Unsafe.Add(ref r1, 1) = Finish(c11, ref a1, ref b1, kv, k); Unsafe.Add(ref r1, 2) = Finish(c12, ref a1, ref b2, kv, k); Unsafe.Add(ref r1, 3) = Finish(c13, ref a1, ref b3, kv, k);
                r2 = Finish(c20, ref a2, ref b0, kv, k); Unsafe.Add(ref r2, 1) = Finish(c21, ref a2, ref b1, kv, k); Unsafe.Add(ref r2, 2) = Finish(c22, ref a2, ref b2, kv, k); Unsafe.Add(ref r2, 3) = Finish(c23, ref a2, ref b3, kv, k);
                r3 = Finish(c30, ref a3, ref b0, kv, k); Unsafe.Add(ref r3, 1) = Finish(c31, ref a3, ref b1, kv, k); Unsafe.Add(ref r3, 2) = Finish(c32, ref a3, ref b2, kv, k); Unsafe.Add(ref r3, 3) = Finish(c33, ref a3, ref b3, kv, k);
            }
            for (; j < n; j++)
            {
                ref float bj = ref Unsafe.Add(ref b, (nint)j * k);
                for (int r = 0; r < 4; r++)
                {
                    ref float ar = ref Unsafe.Add(ref a, (nint)(i + r) * k);
                    Unsafe.Add(ref c, (nint)(i + r) * n + j) = Dot<TV>(ref ar, ref bj, kv, k);
                }
            }
        }
        for (; i < i1; i++)
        {
            ref float ai = ref Unsafe.Add(ref a, (nint)i * k);
            for (int j = 0; j < n; j++)
                Unsafe.Add(ref c, (nint)i * n + j) = Dot<TV>(ref ai, ref Unsafe.Add(ref b, (nint)j * k), kv, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot<TV>(ref float x, ref float y, int kv, int k) where TV : struct, IVec<TV>
    {
        TV acc = default;
        for (nint p = 0; p < kv; p += TV.Width) acc = TV.Fma(TV.Load(ref x, p), TV.Load(ref y, p), acc);
        return Finish(acc, ref x, ref y, kv, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TV>(TV acc, ref float x, ref float y, int kv, int k) where TV : struct, IVec<TV>
    {
        float s = TV.Sum(acc);
        for (int p = kv; p < k; p++) s = MultiplyAdd.Of(Unsafe.Add(ref x, p), Unsafe.Add(ref y, p), s);
        return s;
    }

    private interface IVec<TSelf> where TSelf : struct, IVec<TSelf>
    {
        static abstract int Width { get; }
        static abstract TSelf Load(ref float source, nint offset);
        static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
        static abstract float Sum(TSelf value);
    }

    private readonly struct V512(Vector512<float> v) : IVec<V512>
    {
        private readonly Vector512<float> _v = v;
        public static int Width => Vector512<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Load(ref float source, nint offset) => new(Vector512.LoadUnsafe(ref source, (nuint)offset));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Fma(V512 a, V512 b, V512 c) => new(MultiplyAdd.Of(a._v, b._v, c._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V512 value) => Vector512.Sum(value._v);
    }

    private readonly struct V256(Vector256<float> v) : IVec<V256>
    {
        private readonly Vector256<float> _v = v;
        public static int Width => Vector256<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Load(ref float source, nint offset) => new(Vector256.LoadUnsafe(ref source, (nuint)offset));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Fma(V256 a, V256 b, V256 c) => new(MultiplyAdd.Of(a._v, b._v, c._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V256 value) => Vector256.Sum(value._v);
    }

    private readonly struct V128(Vector128<float> v) : IVec<V128>
    {
        private readonly Vector128<float> _v = v;
        public static int Width => Vector128<float>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Load(ref float source, nint offset) => new(Vector128.LoadUnsafe(ref source, (nuint)offset));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V128 Fma(V128 a, V128 b, V128 c) => new(MultiplyAdd.Of(a._v, b._v, c._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(V128 value) => Vector128.Sum(value._v);
    }
}
