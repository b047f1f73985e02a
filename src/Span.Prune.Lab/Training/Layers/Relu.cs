using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>ReLU, <c>y = max(x, 0)</c>, stateless and in-place capable.</summary>
/// <remarks>Backward uses the output: <c>dx = dy</c> where <c>y &gt; 0</c>, else 0 (PyTorch's choice of 0 at x = 0).</remarks>
public static class Relu
{
    /// <summary><c>y = max(x, 0)</c>; <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary><c>dx = y &gt; 0 ? dy : 0</c>; <paramref name="dx"/> may be <paramref name="dy"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (dy.Length != y.Length || dx.Length < y.Length) throw new ArgumentException("Lengths differ.", nameof(dy));
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pdx = ref MemoryMarshal.GetReference(dx);
        int n = y.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var keep = Vector512.GreaterThan(Vector512.LoadUnsafe(ref py, (nuint)i), Vector512<float>.Zero);
                (Vector512.LoadUnsafe(ref pdy, (nuint)i) & keep).StoreUnsafe(ref pdx, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var keep = Vector256.GreaterThan(Vector256.LoadUnsafe(ref py, (nuint)i), Vector256<float>.Zero);
                (Vector256.LoadUnsafe(ref pdy, (nuint)i) & keep).StoreUnsafe(ref pdx, (nuint)i);
            }
        }
        for (; i < n; i++) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
}
