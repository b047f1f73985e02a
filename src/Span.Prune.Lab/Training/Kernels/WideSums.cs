using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// Float reductions accumulated in double, for BatchNorm's per-channel statistics (PyTorch's CPU kernels accumulate
/// these in double too: <c>acc_type&lt;float, false&gt;</c>). Four vector accumulators in a fixed order: deterministic.
/// </summary>
internal static class WideSums
{
    /// <summary><c>Σ x</c>.</summary>
    public static double Sum(ReadOnlySpan<float> x) => Run(x, x, 0f, Mode.Sum);

    /// <summary><c>Σ (x − mean)²</c>.</summary>
    public static double CenteredSquares(ReadOnlySpan<float> x, float mean) => Run(x, x, mean, Mode.Squares);

    /// <summary><c>Σ (x − mean)·y</c>.</summary>
    public static double CenteredDot(ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("Lengths differ.", nameof(y));
        return Run(x, y, mean, Mode.Dot);
    }

    private enum Mode { Sum, Squares, Dot }

    private static double Run(ReadOnlySpan<float> xs, ReadOnlySpan<float> ys, float mean, Mode mode)
    {
        ref float x = ref MemoryMarshal.GetReference(xs);
        ref float y = ref MemoryMarshal.GetReference(ys);
        int n = xs.Length, i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> m = Vector512.Create(mean);
            for (; i + 32 <= n; i += 32)
            {
                var (l0, h0) = Vector512.Widen(Term(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), m, mode));
                var (l1, h1) = Vector512.Widen(Term(Vector512.LoadUnsafe(ref x, (nuint)i + 16), Vector512.LoadUnsafe(ref y, (nuint)i + 16), m, mode));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            total = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> m = Vector256.Create(mean);
            for (; i + 16 <= n; i += 16)
            {
                var (l0, h0) = Vector256.Widen(Term(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), m, mode));
                var (l1, h1) = Vector256.Widen(Term(Vector256.LoadUnsafe(ref x, (nuint)i + 8), Vector256.LoadUnsafe(ref y, (nuint)i + 8), m, mode));
                a0 += l0; a1 += h0; a2 += l1; a3 += h1;
            }
            total = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++)
        {
            float xv = Unsafe.Add(ref x, i);
            total += mode switch
            {
                Mode.Sum => xv,
                Mode.Squares => (double)(xv - mean) * (xv - mean),
                _ => (double)(xv - mean) * Unsafe.Add(ref y, i),
            };
        }
        return total;
    }

    // Products in float, as the sums' terms: (x − mean) is exact enough, and its square or product rounds once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Term(Vector512<float> x, Vector512<float> y, Vector512<float> mean, Mode mode) => mode switch
    {
        Mode.Sum => x,
        Mode.Squares => (x - mean) * (x - mean),
        _ => (x - mean) * y,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Term(Vector256<float> x, Vector256<float> y, Vector256<float> mean, Mode mode) => mode switch
    {
        Mode.Sum => x,
        Mode.Squares => (x - mean) * (x - mean),
        _ => (x - mean) * y,
    };
}
