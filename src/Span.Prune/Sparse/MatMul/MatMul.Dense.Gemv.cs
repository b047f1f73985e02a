using System.Runtime.CompilerServices;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Dense GEMV y = W·x (batch 1). W is read exactly once, so the kernel is bound by memory bandwidth; it walks
// four rows at a time (four sequential streams the prefetcher follows) with two accumulators per row so the
// FMA latency never limits it. Every row, in a 4-row block or alone, is reduced in the same order: two vector
// accumulators over [0, 2V·⌊n/2V⌋), one more vector into the first, a fixed-order horizontal sum of their sum,
// then the scalar tail with fused multiply-adds, so results do not depend on how rows are partitioned.
public static partial class MatMul
{
    private static void GemvRows<TS, TV>(ref float w, int cols, ref float x, ref float y, int r0, int r1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int r = r0;
        for (; r + 4 <= r1; r += 4)
            Gemv4<TS, TV>(ref Unsafe.Add(ref w, (nint)r * cols), cols, ref x, ref Unsafe.Add(ref y, r));
        for (; r < r1; r++)
            Unsafe.Add(ref y, r) = Gemv1<TS, TV>(ref Unsafe.Add(ref w, (nint)r * cols), cols, ref x);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Gemv4<TS, TV>(ref float w0, nint n, ref float x, ref float y)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        ref float w1 = ref Unsafe.Add(ref w0, n);
        ref float w2 = ref Unsafe.Add(ref w0, 2 * n);
        ref float w3 = ref Unsafe.Add(ref w0, 3 * n);
        TV a0 = TS.Zero, b0 = TS.Zero, a1 = TS.Zero, b1 = TS.Zero, a2 = TS.Zero, b2 = TS.Zero, a3 = TS.Zero, b3 = TS.Zero;
        nint i = 0;
        for (; i + 2 * v <= n; i += 2 * v)
        {
            TV xa = TS.Load(ref Unsafe.Add(ref x, i)), xb = TS.Load(ref Unsafe.Add(ref x, i + v));
            a0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i)), xa, a0); b0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i + v)), xb, b0);
            a1 = TS.Fma(TS.Load(ref Unsafe.Add(ref w1, i)), xa, a1); b1 = TS.Fma(TS.Load(ref Unsafe.Add(ref w1, i + v)), xb, b1);
            a2 = TS.Fma(TS.Load(ref Unsafe.Add(ref w2, i)), xa, a2); b2 = TS.Fma(TS.Load(ref Unsafe.Add(ref w2, i + v)), xb, b2);
            a3 = TS.Fma(TS.Load(ref Unsafe.Add(ref w3, i)), xa, a3); b3 = TS.Fma(TS.Load(ref Unsafe.Add(ref w3, i + v)), xb, b3);
        }
        if (i + v <= n)
        {
            TV xa = TS.Load(ref Unsafe.Add(ref x, i));
            a0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i)), xa, a0);
            a1 = TS.Fma(TS.Load(ref Unsafe.Add(ref w1, i)), xa, a1);
            a2 = TS.Fma(TS.Load(ref Unsafe.Add(ref w2, i)), xa, a2);
            a3 = TS.Fma(TS.Load(ref Unsafe.Add(ref w3, i)), xa, a3);
            i += v;
        }
        float s0 = TS.Sum(TS.Add(a0, b0)), s1 = TS.Sum(TS.Add(a1, b1)), s2 = TS.Sum(TS.Add(a2, b2)), s3 = TS.Sum(TS.Add(a3, b3));
        for (; i < n; i++)
        {
            float xi = Unsafe.Add(ref x, i);
            s0 = MultiplyAdd.Of(Unsafe.Add(ref w0, i), xi, s0);
            s1 = MultiplyAdd.Of(Unsafe.Add(ref w1, i), xi, s1);
            s2 = MultiplyAdd.Of(Unsafe.Add(ref w2, i), xi, s2);
            s3 = MultiplyAdd.Of(Unsafe.Add(ref w3, i), xi, s3);
        }
        y = s0;
        Unsafe.Add(ref y, 1) = s1;
        Unsafe.Add(ref y, 2) = s2;
        Unsafe.Add(ref y, 3) = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Gemv1<TS, TV>(ref float w0, nint n, ref float x)
        where TS : struct, ISimd<TV> where TV : struct
    {
        nint v = TS.Width;
        TV a0 = TS.Zero, b0 = TS.Zero;
        nint i = 0;
        for (; i + 2 * v <= n; i += 2 * v)
        {
            a0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i)), TS.Load(ref Unsafe.Add(ref x, i)), a0);
            b0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i + v)), TS.Load(ref Unsafe.Add(ref x, i + v)), b0);
        }
        if (i + v <= n)
        {
            a0 = TS.Fma(TS.Load(ref Unsafe.Add(ref w0, i)), TS.Load(ref Unsafe.Add(ref x, i)), a0);
            i += v;
        }
        float s0 = TS.Sum(TS.Add(a0, b0));
        for (; i < n; i++) s0 = MultiplyAdd.Of(Unsafe.Add(ref w0, i), Unsafe.Add(ref x, i), s0);
        return s0;
    }
}
