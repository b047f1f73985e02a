using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// Per-feature sums of squares of activation rows, <c>sums[j] += x[j]²</c>, for the Wanda input norms.
/// Each float is widened to double before it is squared and added, so a sum over many tokens carries about
/// 2⁻⁵³ relative rounding per addition instead of 2⁻²⁴; the only float rounding is the final norm.
/// </summary>
internal static class SquareSumLoop
{
    /// <summary>Features per stack chunk of double accumulators (4 KiB).</summary>
    private const int StackChunkLength = 512;

    /// <summary>
    /// Largest chunk of double accumulators (64 KiB, from ArrayPool beyond the stack chunk): each token row is then
    /// read in contiguous runs of up to 32 KiB. Walking 2 KiB pieces down rows that are many KiB apart was measured
    /// ~2.5× slower on [4096, 4096] activations.
    /// </summary>
    private const int MaxChunkLength = 8 * 1024;

    /// <summary>
    /// <c>norms[j] = √Σ_t x[t, j]²</c> over the rows of a <c>[tokens, features]</c> matrix, one chunk of features at
    /// a time with its double accumulators in L1/L2 while every token row streams through.
    /// </summary>
    public static void Norms(ReadOnlySpan<float> activations, int features, Span<float> norms)
    {
        int chunkLength = Math.Min(features, MaxChunkLength);
        double[]? rented = null;
        Span<double> chunkSpan = chunkLength <= StackChunkLength
            ? stackalloc double[StackChunkLength]
            : (rented = ArrayPool<double>.Shared.Rent(chunkLength));
        ref double sums = ref MemoryMarshal.GetReference(chunkSpan);
        ref float x = ref MemoryMarshal.GetReference(activations);
        nuint tokens = (nuint)(activations.Length / features);
        nuint stride = (nuint)features;
        for (int c0 = 0; c0 < features; c0 += chunkLength)
        {
            int n = Math.Min(chunkLength, features - c0);
            chunkSpan[..n].Clear();
            for (nuint t = 0; t < tokens; t++)
            {
                Accumulate(ref sums, ref Unsafe.Add(ref x, t * stride + (nuint)c0), (nuint)n);
            }
            for (int j = 0; j < n; j++)
            {
                norms[c0 + j] = (float)Math.Sqrt(chunkSpan[j]);
            }
        }
        if (rented is not null) ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary><c>sums[j] += (double)x[j]·x[j]</c> for <c>j &lt; length</c>.</summary>
    private static void Accumulate(ref double sums, ref float x, nuint length)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            nuint n = (nuint)Vector512<float>.Count;
            nuint h = (nuint)Vector512<double>.Count;
            for (; i + n <= length; i += n)
            {
                (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.LoadUnsafe(ref x, i));
                (Vector512.LoadUnsafe(ref sums, i) + lo * lo).StoreUnsafe(ref sums, i);
                (Vector512.LoadUnsafe(ref sums, i + h) + hi * hi).StoreUnsafe(ref sums, i + h);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            nuint n = (nuint)Vector256<float>.Count;
            nuint h = (nuint)Vector256<double>.Count;
            for (; i + n <= length; i += n)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref x, i));
                (Vector256.LoadUnsafe(ref sums, i) + lo * lo).StoreUnsafe(ref sums, i);
                (Vector256.LoadUnsafe(ref sums, i + h) + hi * hi).StoreUnsafe(ref sums, i + h);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            nuint n = (nuint)Vector128<float>.Count;
            nuint h = (nuint)Vector128<double>.Count;
            for (; i + n <= length; i += n)
            {
                (Vector128<double> lo, Vector128<double> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref x, i));
                (Vector128.LoadUnsafe(ref sums, i) + lo * lo).StoreUnsafe(ref sums, i);
                (Vector128.LoadUnsafe(ref sums, i + h) + hi * hi).StoreUnsafe(ref sums, i + h);
            }
        }
        // Scalar tail (fewer than 4 features): accumulation is not idempotent, so no overlapping vector.
        for (; i < length; i++)
        {
            double v = Unsafe.Add(ref x, i);
            Unsafe.Add(ref sums, i) += v * v;
        }
    }
}
