using System.Runtime.InteropServices;
using Span.Prune.Internal;
using Span.Prune.RegressionKernels;

namespace Span.Prune;

/// <summary>
/// Regression-based channel pruning (He, Zhang, Sun 2017, "Channel Pruning for Accelerating Very Deep Neural
/// Networks"): from sampled layer inputs and target outputs, choose which input channels to keep (LASSO or greedy
/// forward selection), then refit the kept weights by least squares.
/// </summary>
/// <remarks>
/// <para><b>Data layout</b> (all row-major float spans; <c>N</c> = <c>samples</c>,
/// <c>C = shape.In</c> input channels, <c>K = shape.KernelSize</c> elements per channel, <c>O = shape.Out</c>,
/// <c>D = C·K = shape.RowLength</c>):</para>
/// <list type="bullet">
/// <item><c>inputs</c> X: <c>[N, C·K]</c>. One row per sample; channel c owns columns <c>[c·K, (c+1)·K)</c>. For a linear
/// layer K = 1 and a row is the layer input. For a convolution a row is one im2col patch, ordered channel-major then
/// kernel row then kernel column — the same order as a row of the OIHW weight viewed as <c>[O, I·kh·kw]</c>
/// (<see cref="WeightShape.RowLength"/>), so <c>y = W·x</c> per sample.</item>
/// <item><c>weights</c> W: <c>[O, C·K]</c>, the layer weight viewed 2-D (linear <c>[out, in]</c>, or OIHW flattened).</item>
/// <item><c>targets</c> Y: <c>[N, O]</c>, the outputs to reconstruct: the layer's own outputs <c>X·Wᵀ</c>, or, in the
/// He et al. form, the unpruned network's outputs for the same samples (so errors of earlier pruned layers are
/// corrected too).</item>
/// </list>
/// <para><b>Model.</b> The contribution of channel c is <c>Z_c = X_c·W_cᵀ ∈ R^{N×O}</c> (<c>X_c</c>, <c>W_c</c>: the K columns
/// of channel c), so <c>X·Wᵀ = Σ_c Z_c</c>, and selection fits <c>Y ≈ Σ_c β_c Z_c</c> with at most <c>keep</c> non-zero β.
/// Selection needs only <c>G_ab = ⟨Z_a, Z_b⟩_F</c> and <c>r_c = ⟨Z_c, Y⟩_F</c>, obtained from <c>XᵀX</c>, <c>WᵀW</c> and
/// <c>XᵀY</c> without forming any <c>Z_c</c>: O(N·D² + N·D·O) time, O(N·D + N·O + D·O) scratch.</para>
/// <para><b>Numerics.</b> Products of float data are summed in float over chunks of 512 samples and the chunk sums in
/// double; everything after (Gram matrices, coordinate descent, Cholesky) is double. Outputs are deterministic for a
/// given machine and vector width.</para>
/// <para><b>NaN policy and validation.</b> Lengths and ranges are checked first (<see cref="ArgumentException"/> /
/// <see cref="ArgumentOutOfRangeException"/> naming the parameter), then overlaps (outputs and scratch must not
/// overlap the inputs or each other; only <c>refitted</c> may be exactly <c>weights</c>), then NaN/±∞ in X, W, Y
/// (<see cref="ArgumentException"/> naming the span) — all before anything is written.</para>
/// <para><b>Scratch</b> (the library's one rule): each operation comes as a pair of overloads, one taking a
/// <c>Span&lt;double&gt; scratch</c> of at least the length its <c>…ScratchLength</c> method returns, one without, which
/// rents from the shared pool (no allocation in steady state either way).</para>
/// </remarks>
public static partial class ChannelRegression
{
    /// <summary>Default ridge of <see cref="Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/>: ρ = 1e-6 × mean diagonal of <c>X_keptᵀX_kept</c>.</summary>
    public const double DefaultRelativeRidge = 1e-6;

    /// <summary>Checks the shape, the sample count and the three input lengths; returns <c>D = C·K</c>.</summary>
    private static void ValidateProblem(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets, WeightShape shape, int samples)
    {
        ValidateShape(shape, samples);
        if (inputs.Length != samples * shape.RowLength) ThrowHelper.ThrowLengthMismatch(nameof(inputs), inputs.Length, samples * shape.RowLength);
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (targets.Length != samples * shape.Out) ThrowHelper.ThrowLengthMismatch(nameof(targets), targets.Length, samples * shape.Out);
    }

    private static void ValidateShape(WeightShape shape, int samples)
    {
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (samples < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(samples), "At least one sample is required.");
        long elements = Math.Max((long)samples * shape.RowLength, (long)samples * shape.Out);
        if (elements > Array.MaxLength) ThrowHelper.ThrowProblemTooLarge(nameof(samples), elements);
    }

    private static void ValidateKeep(int keep, int channels)
    {
        if (keep < 1 || keep > channels) ThrowHelper.ThrowChannelCount(nameof(keep), keep, channels);
    }

    /// <summary>Scratch lengths are computed in 64 bits and must fit one array.</summary>
    private static int CheckedScratchLength(long length)
    {
        if (length > Array.MaxLength) ThrowHelper.ThrowProblemTooLarge("samples", length);
        return (int)length;
    }

    private static void ValidateScratch(Span<double> scratch, int required)
    {
        if (scratch.Length < required) ThrowHelper.ThrowScratchTooShort(nameof(scratch), scratch.Length, required);
    }

    /// <summary>Outputs must not share memory with any input (compared as bytes, so spans of different types are caught).</summary>
    private static void ThrowIfOverlapsInputs<T>(
        ReadOnlySpan<T> output, string paramName, ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets)
        where T : struct
    {
        if (Overlaps(output, inputs) || Overlaps(output, weights) || Overlaps(output, targets)) ThrowHelper.ThrowOverlap(paramName);
    }

    private static bool Overlaps<T, TOther>(ReadOnlySpan<T> a, ReadOnlySpan<TOther> b)
        where T : struct
        where TOther : struct =>
        MemoryMarshal.AsBytes(a).Overlaps(MemoryMarshal.AsBytes(b));

    /// <summary>NaN policy: X, W, Y must be finite; checked in one vectorised pass each, before any write.</summary>
    private static void ValidateFinite(ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets)
    {
        int bad = FiniteScan.IndexOfNonFinite(inputs);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(inputs), bad);
        bad = FiniteScan.IndexOfNonFinite(weights);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(weights), bad);
        bad = FiniteScan.IndexOfNonFinite(targets);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(targets), bad);
    }

    /// <summary><c>√(residual / total)</c>, with 0/0 = 0 and x/0 = +∞.</summary>
    private static double RelativeNorm(double residualSquares, double totalSquares) =>
        totalSquares > 0 ? Math.Sqrt(Math.Max(residualSquares, 0) / totalSquares)
        : residualSquares > 0 ? double.PositiveInfinity : 0.0;
}
