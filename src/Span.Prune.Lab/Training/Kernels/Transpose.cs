using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>Out-of-place matrix transpose, cache-blocked.</summary>
/// <remarks>
/// The training engine keeps activations feature-major (<c>[features × batch]</c>) so that the core's
/// <c>Y = W·X</c> runs the forward pass directly; the backward pass needs <c>Xᵀ</c> (for <c>dW = dY·Xᵀ</c>) and
/// <c>Wᵀ</c> (for <c>dX = Wᵀ·dY</c>), which this produces. 16×16 tiles keep both the read and the write side
/// within a few cache lines per tile; the copy is exact, so the result does not depend on the blocking.
/// </remarks>
internal static class Transpose
{
    private const int Tile = 16;

    /// <summary>Writes <c>destination[c·rows + r] = source[r·cols + c]</c>.</summary>
    public static void Run(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows));
        int n = rows * cols;
        if (source.Length < n) throw new ArgumentException("Source is shorter than rows·cols.", nameof(source));
        if (destination.Length < n) throw new ArgumentException("Destination is shorter than rows·cols.", nameof(destination));
        if (n == 0) return;
        if (rows == 1 || cols == 1)
        {
            // A vector's transpose is itself: one copy instead of n scalar moves (batch-1 inference transposes
            // every input image, and the scalar loop cost a fifth of a sparse forward pass).
            source[..n].CopyTo(destination);
            return;
        }
        ref float s = ref MemoryMarshal.GetReference(source);
        ref float d = ref MemoryMarshal.GetReference(destination);
        for (int r0 = 0; r0 < rows; r0 += Tile)
        {
            int r1 = Math.Min(r0 + Tile, rows);
            for (int c0 = 0; c0 < cols; c0 += Tile)
            {
                int c1 = Math.Min(c0 + Tile, cols);
                for (int c = c0; c < c1; c++)
                {
                    ref float dRow = ref Unsafe.Add(ref d, (nint)c * rows);
                    for (int r = r0; r < r1; r++)
                        Unsafe.Add(ref dRow, r) = Unsafe.Add(ref s, (nint)r * cols + c);
                }
            }
        }
    }
}
