using Span.Prune.Internal;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// The per-channel passes of BatchNorm, optionally fused with the ReLU that follows it: the forward affine map
/// <c>y = max(x·α + β', 0)</c>, the backward reduction <c>(Σ dy', Σ (x−μ)·dy')</c> in one pass (double accumulators),
/// and the input gradient <c>dx = dy'·a + (x·b + c)</c>, where <c>dy' = dy</c> or, fused, <c>dy·[y &gt; 0]</c>.
/// </summary>
/// <remarks>Fusing saves one full pass over the activation in each direction. Vector and scalar paths use the same
/// per-element operations (fused multiply-adds in the same order), so the results do not depend on the width.</remarks>
internal static class BatchNormKernels
{
    /// <summary><c>y = max(fma(x, alpha, beta), 0)</c>; in place allowed.</summary>
    public static void AffineRelu(ReadOnlySpan<float> x, float alpha, float beta, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Destination is too short.", nameof(y));
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a = Vector512.Create(alpha), b = Vector512.Create(beta);
            for (; i + 16 <= n; i += 16)
                Vector512.Max(MultiplyAdd.Of(Vector512.LoadUnsafe(ref px, (nuint)i), a, b), Vector512<float>.Zero).StoreUnsafe(ref py, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a = Vector256.Create(alpha), b = Vector256.Create(beta);
            for (; i + 8 <= n; i += 8)
                Vector256.Max(MultiplyAdd.Of(Vector256.LoadUnsafe(ref px, (nuint)i), a, b), Vector256<float>.Zero).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref py, i) = Math.Max(MultiplyAdd.Of(Unsafe.Add(ref px, i), alpha, beta), 0f);
    }

    /// <summary>One pass: <c>sum = Σ dy'</c>, <c>dot = Σ (x − mean)·dy'</c>; <paramref name="y"/> empty = no mask.</summary>
    public static void Reduce(ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, out double sum, out double dot)
    {
        if (y.IsEmpty) Reduce<NoMask>(x, mean, dy, dy, out sum, out dot);
        else Reduce<ReluMask>(x, mean, dy, y, out sum, out dot);
    }

    /// <summary><c>dx = fma(x, b, fma(dy', a, c))</c>; <paramref name="y"/> empty = no mask; <paramref name="dx"/> may alias <paramref name="dy"/>.</summary>
    public static void InputGradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> y, float a, float b, float c, Span<float> dx)
    {
        if (y.IsEmpty) InputGradient<NoMask>(x, dy, dy, a, b, c, dx);
        else InputGradient<ReluMask>(x, dy, y, a, b, c, dx);
    }

    private interface IMask
    {
        static abstract Vector512<float> Apply(Vector512<float> dy, Vector512<float> y);
        static abstract Vector256<float> Apply(Vector256<float> dy, Vector256<float> y);
        static abstract float Apply(float dy, float y);
    }

    private readonly struct NoMask : IMask
    {
        public static Vector512<float> Apply(Vector512<float> dy, Vector512<float> y) => dy;
        public static Vector256<float> Apply(Vector256<float> dy, Vector256<float> y) => dy;
        public static float Apply(float dy, float y) => dy;
    }

    private readonly struct ReluMask : IMask
    {
        public static Vector512<float> Apply(Vector512<float> dy, Vector512<float> y) => dy & Vector512.GreaterThan(y, Vector512<float>.Zero);
        public static Vector256<float> Apply(Vector256<float> dy, Vector256<float> y) => dy & Vector256.GreaterThan(y, Vector256<float>.Zero);
        public static float Apply(float dy, float y) => y > 0f ? dy : 0f;
    }

    private static void Reduce<TMask>(ReadOnlySpan<float> xs, float mean, ReadOnlySpan<float> dys, ReadOnlySpan<float> ys, out double sum, out double dot)
        where TMask : struct, IMask
    {
        int n = xs.Length;
        if (dys.Length != n || ys.Length != n) throw new ArgumentException("Lengths differ.", nameof(dys));
        ref float x = ref MemoryMarshal.GetReference(xs);
        ref float dy = ref MemoryMarshal.GetReference(dys);
        ref float y = ref MemoryMarshal.GetReference(ys);
        int i = 0;
        double s = 0, d = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<double> s0 = default, s1 = default, d0 = default, d1 = default;
            Vector512<float> m = Vector512.Create(mean);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> g = TMask.Apply(Vector512.LoadUnsafe(ref dy, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i));
                var (gl, gh) = Vector512.Widen(g);
                var (pl, ph) = Vector512.Widen((Vector512.LoadUnsafe(ref x, (nuint)i) - m) * g);
                s0 += gl; s1 += gh; d0 += pl; d1 += ph;
            }
            s = Vector512.Sum(s0 + s1);
            d = Vector512.Sum(d0 + d1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> s0 = default, s1 = default, d0 = default, d1 = default;
            Vector256<float> m = Vector256.Create(mean);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> g = TMask.Apply(Vector256.LoadUnsafe(ref dy, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i));
                var (gl, gh) = Vector256.Widen(g);
                var (pl, ph) = Vector256.Widen((Vector256.LoadUnsafe(ref x, (nuint)i) - m) * g);
                s0 += gl; s1 += gh; d0 += pl; d1 += ph;
            }
            s = Vector256.Sum(s0 + s1);
            d = Vector256.Sum(d0 + d1);
        }
        for (; i < n; i++)
        {
            float g = TMask.Apply(Unsafe.Add(ref dy, i), Unsafe.Add(ref y, i));
            s += g;
            d += (Unsafe.Add(ref x, i) - mean) * g;
        }
        sum = s;
        dot = d;
    }

    private static void InputGradient<TMask>(ReadOnlySpan<float> xs, ReadOnlySpan<float> dys, ReadOnlySpan<float> ys, float a, float b, float c, Span<float> dxs)
        where TMask : struct, IMask
    {
        int n = xs.Length;
        if (dys.Length != n || ys.Length != n || dxs.Length < n) throw new ArgumentException("Lengths differ.", nameof(dys));
        ref float x = ref MemoryMarshal.GetReference(xs);
        ref float dy = ref MemoryMarshal.GetReference(dys);
        ref float y = ref MemoryMarshal.GetReference(ys);
        ref float dx = ref MemoryMarshal.GetReference(dxs);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b), vc = Vector512.Create(c);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> g = TMask.Apply(Vector512.LoadUnsafe(ref dy, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i));
                MultiplyAdd.Of(Vector512.LoadUnsafe(ref x, (nuint)i), vb, MultiplyAdd.Of(g, va, vc)).StoreUnsafe(ref dx, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b), vc = Vector256.Create(c);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> g = TMask.Apply(Vector256.LoadUnsafe(ref dy, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i));
                MultiplyAdd.Of(Vector256.LoadUnsafe(ref x, (nuint)i), vb, MultiplyAdd.Of(g, va, vc)).StoreUnsafe(ref dx, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float g = TMask.Apply(Unsafe.Add(ref dy, i), Unsafe.Add(ref y, i));
            Unsafe.Add(ref dx, i) = MultiplyAdd.Of(Unsafe.Add(ref x, i), b, MultiplyAdd.Of(g, a, c));
        }
    }
}
