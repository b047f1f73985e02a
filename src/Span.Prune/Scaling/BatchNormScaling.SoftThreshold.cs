using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class BatchNormScaling
{
    /// <summary>
    /// The proximal step of the L1 penalty, in place: <c>γ ← sign(γ)·max(|γ| − τ, 0)</c>.
    /// </summary>
    /// <param name="gamma">BatchNorm scales, updated in place.</param>
    /// <param name="threshold">τ ≥ 0. After an SGD step with learning rate <c>lr</c> on the loss without the
    /// penalty, <c>τ = lr·λ</c> makes the pair a proximal-gradient step on <c>loss + λ·Σ|γ|</c>.</param>
    /// <remarks>
    /// <para>Unlike the subgradient (<see cref="AddL1Subgradient"/>), the proximal step sets every scale with
    /// <c>|γ| ≤ τ</c> to exactly zero, so channels really die during sparsity training.</para>
    /// <para>Computed as <c>γ − clamp(γ, −τ, τ)</c>, which equals the formula bit for bit (the one subtraction
    /// <c>|γ| − τ</c> rounds the same with either sign) and makes zeroed scales +0.0 for τ &gt; 0.
    /// τ = 0 leaves γ unchanged.</para>
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="gamma"/> holds NaN or ±Inf (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is negative, NaN or infinite.</exception>
    public static void SoftThreshold(Span<float> gamma, float threshold)
    {
        if (!(threshold >= 0f) || float.IsPositiveInfinity(threshold)) ThrowHelper.ThrowArgumentOutOfRange(nameof(threshold), "The threshold must be a finite non-negative number.");
        int bad = FiniteScan.IndexOfNonFinite(gamma);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gamma), bad);
        if (threshold == 0f) return;

        ref float g = ref MemoryMarshal.GetReference(gamma);
        nuint length = (nuint)gamma.Length, i = 0;

        // MinNative/MaxNative are single instructions; inputs are finite and τ > 0, so no NaN or ±0 tie can
        // make their platform-specific edge cases matter. The map is not idempotent (applying it twice
        // subtracts 2τ), so no overlapping last vector.
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> hi = Vector512.Create(threshold), lo = -hi;
            for (; i + 16 <= length; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref g, i);
                (v - Vector512.MaxNative(Vector512.MinNative(v, hi), lo)).StoreUnsafe(ref g, i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> hi = Vector256.Create(threshold), lo = -hi;
            for (; i + 8 <= length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref g, i);
                (v - Vector256.MaxNative(Vector256.MinNative(v, hi), lo)).StoreUnsafe(ref g, i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> hi = Vector128.Create(threshold), lo = -hi;
            for (; i + 4 <= length; i += 4)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref g, i);
                (v - Vector128.MaxNative(Vector128.MinNative(v, hi), lo)).StoreUnsafe(ref g, i);
            }
        }
        for (; i < length; i++)
        {
            float v = Unsafe.Add(ref g, i);
            Unsafe.Add(ref g, i) = v - Math.Max(Math.Min(v, threshold), -threshold);
        }
    }
}
