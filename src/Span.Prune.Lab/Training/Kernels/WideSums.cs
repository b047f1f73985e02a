using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// Float reductions accumulated in double, for BatchNorm's per-channel statistics (PyTorch's CPU kernels accumulate
/// these in double too: <c>acc_type&lt;float, false&gt;</c>). Four vector accumulators in a fixed order: deterministic.
/// </summary>
/// <remarks>Each term is formed in float (one rounding) and widened; the reduction shape is a type argument so that
/// each variant compiles to its own loop.</remarks>
internal static class WideSums
{
    /// <summary><c>Σ x</c>.</summary>
    public static double Sum(ReadOnlySpan<float> x) => Run<SumTerm>(x, x, 0f);

    /// <summary><c>Σ (x − mean)²</c>.</summary>
    public static double CenteredSquares(ReadOnlySpan<float> x, float mean) => Run<SquareTerm>(x, x, mean);

    /// <summary><c>Σ (x − mean)·y</c>.</summary>
    public static double CenteredDot(ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("Lengths differ.", nameof(y));
        return Run<DotTerm>(x, y, mean);
    }

    private interface ITerm
    {
        static abstract Vector512<float> Of(Vector512<float> x, Vector512<float> y, Vector512<float> mean);
        static abstract Vector256<float> Of(Vector256<float> x, Vector256<float> y, Vector256<float> mean);
        static abstract float Of(float x, float y, float mean);
    }

    private readonly struct SumTerm : ITerm
    {
        public static Vector512<float> Of(Vector512<float> x, Vector512<float> y, Vector512<float> mean) => x;
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> y, Vector256<float> mean) => x;
        public static float Of(float x, float y, float mean) => x;
    }

    private readonly struct SquareTerm : ITerm
    {
        public static Vector512<float> Of(Vector512<float> x, Vector512<float> y, Vector512<float> mean) => (x - mean) * (x - mean);
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> y, Vector256<float> mean) => (x - mean) * (x - mean);
        public static float Of(float x, float y, float mean) => (x - mean) * (x - mean);
    }

    private readonly struct DotTerm : ITerm
    {
        public static Vector512<float> Of(Vector512<float> x, Vector512<float> y, Vector512<float> mean) => (x - mean) * y;
        public static Vector256<float> Of(Vector256<float> x, Vector256<float> y, Vector256<float> mean) => (x - mean) * y;
        public static float Of(float x, float y, float mean) => (x - mean) * y;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Run<T>(ReadOnlySpan<float> xs, ReadOnlySpan<float> ys, float mean) where T : struct, ITerm
    {
        ref float x = ref MemoryMarshal.GetReference(xs);
        ref float y = ref MemoryMarshal.GetReference(ys);
        int n = xs.Length, i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> m = Vector512.Create(mean);
            for (; i + 32 <= n; i += 32)
            {
                var (l0, h0) = Vector512.Widen(T.Of(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), m));
                var (l1, h1) = Vector512.Widen(T.Of(Vector512.LoadUnsafe(ref x, (nuint)i + 16), Vector512.LoadUnsafe(ref y, (nuint)i + 16), m));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            total = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 16)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> m = Vector256.Create(mean);
            for (; i + 16 <= n; i += 16)
            {
                var (l0, h0) = Vector256.Widen(T.Of(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), m));
                var (l1, h1) = Vector256.Widen(T.Of(Vector256.LoadUnsafe(ref x, (nuint)i + 8), Vector256.LoadUnsafe(ref y, (nuint)i + 8), m));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            total = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) total += T.Of(Unsafe.Add(ref x, i), Unsafe.Add(ref y, i), mean);
        return total;
    }
}
