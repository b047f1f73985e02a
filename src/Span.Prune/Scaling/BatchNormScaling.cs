using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Network Slimming (Liu et al. 2017, "Learning Efficient Convolutional Networks through Network Slimming"):
/// the BatchNorm scale <c>γ_c</c> of each channel is its importance. Training with an L1 penalty
/// <c>λ·Σ|γ|</c> drives unimportant scales to zero; the channels with the smallest <c>|γ|</c> are pruned, and
/// <see cref="Fold"/> merges the BatchNorm into the preceding layer so the pruned layer can be shrunk physically.
/// </summary>
/// <remarks>
/// Every operation is element-wise over channels and SIMD. NaN policy: a NaN or ±Inf input throws
/// <see cref="ArgumentException"/> naming the parameter before anything is written.
/// </remarks>
public static partial class BatchNormScaling
{
    /// <summary>Channel importance <c>scores[c] = |γ_c|</c> (higher = more important; prune the lowest).</summary>
    /// <param name="gamma">BatchNorm scales, one per channel.</param>
    /// <param name="scores">At least <c>gamma.Length</c> elements; only the first <c>gamma.Length</c> are written.
    /// It may be <paramref name="gamma"/> itself (exact in-place); any other overlap is rejected.</param>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is too short or partially overlaps
    /// <paramref name="gamma"/>, or <paramref name="gamma"/> holds NaN or ±Inf (nothing is written).</exception>
    public static void Scores(ReadOnlySpan<float> gamma, Span<float> scores)
    {
        if (scores.Length < gamma.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scores), scores.Length, gamma.Length);
        scores = scores[..gamma.Length];
        if (gamma.Overlaps(scores, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(nameof(scores));
        int bad = FiniteScan.IndexOfNonFinite(gamma);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gamma), bad);

        // |x| is a pure element-wise map (clear the sign bit), which TensorPrimitives already vectorises,
        // including exact in-place use.
        System.Numerics.Tensors.TensorPrimitives.Abs(gamma, scores);
    }
}
