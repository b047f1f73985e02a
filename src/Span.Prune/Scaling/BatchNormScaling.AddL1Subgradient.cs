using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class BatchNormScaling
{
    /// <summary>
    /// Adds the subgradient of the sparsity penalty <c>λ·Σ|γ|</c> to the scale gradient:
    /// <c>gammaGradient[c] += λ·sign(γ_c)</c>, with <c>sign(0) = 0</c>.
    /// </summary>
    /// <param name="gamma">BatchNorm scales.</param>
    /// <param name="gammaGradient">The loss gradient with respect to <paramref name="gamma"/>, same length; updated in place.</param>
    /// <param name="lambda">Penalty strength λ ≥ 0 (Liu et al. use 1e-5 to 1e-4).</param>
    /// <remarks>
    /// <para><c>|γ|</c> has no derivative at 0; the subgradient chosen there is 0 (the minimum-norm element of
    /// <c>[−λ, λ]</c>), so a scale that is exactly zero is left where it is rather than pushed across zero.
    /// −0.0 is zero. With plain subgradient descent scales oscillate around zero instead of reaching it;
    /// <see cref="SoftThreshold"/> is the proximal alternative that sets them to exactly zero.</para>
    /// <para>The spans must not overlap. λ = 0 validates and returns.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">The lengths differ, the spans overlap, or an input holds NaN or ±Inf
    /// (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative, NaN or infinite.</exception>
    public static void AddL1Subgradient(ReadOnlySpan<float> gamma, Span<float> gammaGradient, float lambda)
    {
        if (gammaGradient.Length != gamma.Length) ThrowHelper.ThrowLengthMismatch(nameof(gammaGradient), gammaGradient.Length, gamma.Length);
        if (!(lambda >= 0f) || float.IsPositiveInfinity(lambda)) ThrowHelper.ThrowArgumentOutOfRange(nameof(lambda), "Lambda must be a finite non-negative number.");
        if (gamma.Overlaps(gammaGradient)) ThrowHelper.ThrowOverlap(nameof(gammaGradient));
        int bad = FiniteScan.IndexOfNonFinite(gamma);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gamma), bad);
        bad = FiniteScan.IndexOfNonFinite(gammaGradient);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gammaGradient), bad);
        if (lambda == 0f) return;

        ref float g = ref MemoryMarshal.GetReference(gamma);
        ref float d = ref MemoryMarshal.GetReference(gammaGradient);
        nuint length = (nuint)gamma.Length, i = 0;

        // λ·sign(γ) without multiplies or branches: λ (sign bit clear) takes γ's sign bit, then lanes where
        // γ == ±0 are cleared to +0. A read-modify-write, so no overlapping last vector (it would add λ twice).
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> lam = Vector512.Create(lambda), sign = Vector512.Create(-0f);
            for (; i + 16 <= length; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref g, i);
                Vector512<float> step = Vector512.AndNot((v & sign) | lam, Vector512.Equals(v, Vector512<float>.Zero));
                (Vector512.LoadUnsafe(ref d, i) + step).StoreUnsafe(ref d, i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> lam = Vector256.Create(lambda), sign = Vector256.Create(-0f);
            for (; i + 8 <= length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref g, i);
                Vector256<float> step = Vector256.AndNot((v & sign) | lam, Vector256.Equals(v, Vector256<float>.Zero));
                (Vector256.LoadUnsafe(ref d, i) + step).StoreUnsafe(ref d, i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> lam = Vector128.Create(lambda), sign = Vector128.Create(-0f);
            for (; i + 4 <= length; i += 4)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref g, i);
                Vector128<float> step = Vector128.AndNot((v & sign) | lam, Vector128.Equals(v, Vector128<float>.Zero));
                (Vector128.LoadUnsafe(ref d, i) + step).StoreUnsafe(ref d, i);
            }
        }
        for (; i < length; i++)
        {
            float v = Unsafe.Add(ref g, i);
            Unsafe.Add(ref d, i) += v > 0f ? lambda : v < 0f ? -lambda : 0f;
        }
    }
}
