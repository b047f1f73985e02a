using System.Numerics.Tensors;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class BatchNormScaling
{
    /// <summary>
    /// Folds an inference-mode BatchNorm into the layer before it, in place, so that the layer alone computes
    /// <c>BN(layer(x))</c>. Used to shrink a pruned layer physically: fold, then drop the pruned output rows.
    /// </summary>
    /// <param name="weights">The layer's weight in the 2-D view <c>[Out, RowLength]</c> (linear <c>[out, in]</c>,
    /// convolution OIHW); <c>shape.ElementCount</c> elements, scaled in place.</param>
    /// <param name="bias">The layer's bias, <c>shape.Out</c> elements, replaced in place. A layer without a bias
    /// passes zeros (folding creates one).</param>
    /// <param name="shape">The weight shape; <c>Out</c> is the BatchNorm's channel count.</param>
    /// <param name="gamma">BatchNorm scale γ, <c>Out</c> elements.</param>
    /// <param name="beta">BatchNorm shift β, <c>Out</c> elements.</param>
    /// <param name="runningMean">BatchNorm running mean μ, <c>Out</c> elements.</param>
    /// <param name="runningVar">BatchNorm running variance σ², <c>Out</c> elements, non-negative.</param>
    /// <param name="epsilon">BatchNorm ε (PyTorch default 1e-5), finite and non-negative.</param>
    /// <remarks>
    /// <para>Per output channel <c>o</c>, with <c>s_o = γ_o / √(σ²_o + ε)</c>:
    /// <c>W[o, :] ← s_o·W[o, :]</c> and <c>b_o ← s_o·(b_o − μ_o) + β_o</c> (that is <c>β − μγ/σ</c> when b = 0).</para>
    /// <para><c>s_o</c> is computed in double and rounded once to float for the weight scaling
    /// (<c>W' = fl(s·W)</c>, one rounding per weight); the bias is formed entirely in double and rounded once.
    /// A degenerate BatchNorm whose <c>|s·w|</c> exceeds <see cref="float.MaxValue"/> yields ±Inf weights.</para>
    /// <para>Validation (nothing is written on error): lengths; <paramref name="epsilon"/>; overlap (the read-only
    /// BatchNorm spans must not overlap <paramref name="weights"/> or <paramref name="bias"/>, nor those two each
    /// other); NaN/±Inf in any input; then a negative variance, or <c>σ² + ε = 0</c>, names
    /// <paramref name="runningVar"/>.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length is wrong, spans overlap, an input holds NaN or ±Inf, or a
    /// variance is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative, NaN or infinite.</exception>
    public static void Fold(Span<float> weights, Span<float> bias, WeightShape shape,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        float epsilon = 1e-5f)
    {
        int channels = shape.Out;
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (bias.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(bias), bias.Length, channels);
        if (gamma.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(gamma), gamma.Length, channels);
        if (beta.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(beta), beta.Length, channels);
        if (runningMean.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(runningMean), runningMean.Length, channels);
        if (runningVar.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(runningVar), runningVar.Length, channels);
        if (!(epsilon >= 0f) || float.IsPositiveInfinity(epsilon)) ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), "Epsilon must be a finite non-negative number.");

        ReadOnlySpan<float> w = weights, b = bias;
        if (w.Overlaps(b)) ThrowHelper.ThrowOverlap(nameof(bias));
        if (gamma.Overlaps(w) || gamma.Overlaps(b)) ThrowHelper.ThrowOverlap(nameof(gamma));
        if (beta.Overlaps(w) || beta.Overlaps(b)) ThrowHelper.ThrowOverlap(nameof(beta));
        if (runningMean.Overlaps(w) || runningMean.Overlaps(b)) ThrowHelper.ThrowOverlap(nameof(runningMean));
        if (runningVar.Overlaps(w) || runningVar.Overlaps(b)) ThrowHelper.ThrowOverlap(nameof(runningVar));

        int bad;
        if ((bad = FiniteScan.IndexOfNonFinite(w)) >= 0) ThrowHelper.ThrowNotFinite(nameof(weights), bad);
        if ((bad = FiniteScan.IndexOfNonFinite(b)) >= 0) ThrowHelper.ThrowNotFinite(nameof(bias), bad);
        if ((bad = FiniteScan.IndexOfNonFinite(gamma)) >= 0) ThrowHelper.ThrowNotFinite(nameof(gamma), bad);
        if ((bad = FiniteScan.IndexOfNonFinite(beta)) >= 0) ThrowHelper.ThrowNotFinite(nameof(beta), bad);
        if ((bad = FiniteScan.IndexOfNonFinite(runningMean)) >= 0) ThrowHelper.ThrowNotFinite(nameof(runningMean), bad);
        if ((bad = FiniteScan.IndexOfNonFinite(runningVar)) >= 0) ThrowHelper.ThrowNotFinite(nameof(runningVar), bad);
        for (int o = 0; o < channels; o++)
        {
            float v = runningVar[o];
            if (!(v >= 0f) || (double)v + epsilon <= 0.0) ThrowHelper.ThrowVarianceNotPositive(nameof(runningVar), o, v, epsilon);
        }

        // Channels are few and rows long: the per-channel arithmetic is scalar double, the row scaling is the
        // vectorised TensorPrimitives multiply (in place).
        int rowLength = shape.RowLength;
        for (int o = 0; o < channels; o++)
        {
            double scale = gamma[o] / Math.Sqrt((double)runningVar[o] + epsilon);
            Span<float> row = weights.Slice(o * rowLength, rowLength);
            TensorPrimitives.Multiply(row, (float)scale, row);
            bias[o] = (float)(scale * ((double)bias[o] - runningMean[o]) + beta[o]);
        }
    }
}
