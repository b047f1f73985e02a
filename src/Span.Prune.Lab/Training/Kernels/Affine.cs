using Span.Prune.Internal;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary><c>y = x·a + b</c> with scalar <c>a</c>, <c>b</c> (one fused multiply-add per element; in place allowed).</summary>
internal static class Affine
{
    public static void Run(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Destination is too short.", nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i + 16 <= n; i += 16)
                MultiplyAdd.Of(Vector512.LoadUnsafe(ref px, (nuint)i), va, vb).StoreUnsafe(ref py, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b);
            for (; i + 8 <= n; i += 8)
                MultiplyAdd.Of(Vector256.LoadUnsafe(ref px, (nuint)i), va, vb).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++) y[i] = MultiplyAdd.Of(x[i], a, b);
    }
}
