using Span.Prune.Sparse;
namespace Span.Prune.Lab.Training.Kernels;

/// <summary>The engine's one door to the core's dense GEMM <c>Y = W·X</c> (single- or multi-threaded, bit-identical).</summary>
internal static class Gemm
{
    public static void Multiply(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        if (threads > 1) MatMul.MultiplyParallel(w, rows, cols, x, y, batch, threads);
        else MatMul.Multiply(w, rows, cols, x, y, batch);
    }
}
