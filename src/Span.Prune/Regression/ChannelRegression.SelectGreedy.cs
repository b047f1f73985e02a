using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.RegressionKernels;

namespace Span.Prune;

public static partial class ChannelRegression
{
    /// <summary>
    /// Doubles of scratch <see cref="SelectGreedy(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double})"/> needs:
    /// <c>C² + C + max((D·N + O·N + D·O)/2 + 1024, C·keep + 2C + 2·keep)</c>.
    /// </summary>
    /// <param name="shape">The layer weight shape.</param>
    /// <param name="samples">Number of samples N.</param>
    /// <param name="keep">Channels to keep, in <c>[1, C]</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> or <paramref name="keep"/> is out of range.</exception>
    internal static int GreedyScratchLength(WeightShape shape, int samples, int keep)
    {
        ValidateShape(shape, samples);
        ValidateKeep(keep, shape.In);
        return CheckedScratchLength(GreedyScratch(shape, samples, keep));
    }

    private static long GreedyScratch(WeightShape shape, int samples, int keep) =>
        (long)shape.In * shape.In + shape.In
        + Math.Max(ChannelGram.ScratchLength(samples, shape.RowLength, shape.Out), ForwardSelection.ScratchLength(shape.In, keep));

    /// <summary>
    /// Chooses exactly <paramref name="keep"/> input channels by forward stepwise regression on the channel
    /// contributions: each step adds the channel that most lowers the least-squares residual of the chosen set.
    /// </summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> layer weight.</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keep">Channels to keep, in <c>[1, C]</c>.</param>
    /// <param name="keepMask">At least C bytes; the first C receive 1 for the kept channels, 0 for the others.</param>
    /// <param name="coefficients">At least C; the first C receive the least-squares β of the kept channels (0 for pruned ones).</param>
    /// <returns>The kept count and the relative residual of the β-scaled model.</returns>
    /// <remarks>
    /// <para>Forward selection (orthogonal least squares) on <c>Y ≈ Σ_{c∈S} β_c Z_c</c>: with S chosen so far and β_S
    /// refitted by least squares at every step, the channel added is <c>argmax_c h_c² / d_c</c>, where
    /// <c>h_c = ⟨Z_c, Y − Σ_{b∈S} β_b Z_b⟩</c> and <c>d_c</c> is the squared norm of the part of <c>Z_c</c> orthogonal to the
    /// span of <c>{Z_b : b ∈ S}</c>; <c>h_c² / d_c</c> is exactly the drop in <c>‖Y − Σ β Z‖_F²</c>. Ties go to the
    /// lowest index. It is computed as an incrementally pivoted Cholesky factorisation of the channel Gram matrix
    /// G: O(C·t) at step t (at most O(C²) per step), O(C·keep) memory. A channel whose contribution is zero, or lies in the
    /// span of the chosen set up to 1e-6 of its energy (the rounding level of G), is taken only when nothing else remains,
    /// with β = 0.</para>
    /// <para>Greedy does not revisit choices (a backward pass would cost O(C³)); with keep = |S| it recovers a planted
    /// support S when the contributions are not too correlated, like the LASSO.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not match, an output or the scratch overlaps an input, or X, W, Y
    /// hold NaN/±∞ (ParamName names the span), or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1 or <paramref name="keep"/> outside <c>[1, C]</c>.</exception>
    internal static GreedySelection SelectGreedy(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients) =>
        SelectGreedyCore(inputs, weights, targets, shape, samples, keep, keepMask, coefficients, default, pooled: true);

    /// <summary>As <see cref="SelectGreedy(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double})"/>, with caller-owned working memory.</summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> layer weight.</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keep">Channels to keep, in <c>[1, C]</c>.</param>
    /// <param name="keepMask">At least C bytes; the first C receive 1 for the kept channels, 0 for the others.</param>
    /// <param name="coefficients">At least C; the first C receive the least-squares β of the kept channels (0 for pruned ones).</param>
    /// <param name="scratch">At least <see cref="GreedyScratchLength"/> doubles, not overlapping any other argument.</param>
    /// <returns>The kept count and the relative residual of the β-scaled model.</returns>
    /// <exception cref="ArgumentException">A length does not match, an output or the scratch overlaps an input, or X, W, Y
    /// hold NaN/±∞ (ParamName names the span), or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1 or <paramref name="keep"/> outside <c>[1, C]</c>.</exception>
    internal static GreedySelection SelectGreedy(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients, Span<double> scratch) =>
        SelectGreedyCore(inputs, weights, targets, shape, samples, keep, keepMask, coefficients, scratch, pooled: false);

    private static GreedySelection SelectGreedyCore(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients, Span<double> scratch, bool pooled)
    {
        ValidateProblem(inputs, weights, targets, shape, samples);
        int channels = shape.In;
        ValidateKeep(keep, channels);
        if (keepMask.Length < channels) ThrowHelper.ThrowDestinationTooShort(nameof(keepMask), keepMask.Length, channels);
        keepMask = keepMask[..channels];
        if (coefficients.Length < channels) ThrowHelper.ThrowDestinationTooShort(nameof(coefficients), coefficients.Length, channels);
        coefficients = coefficients[..channels];
        int required = CheckedScratchLength(GreedyScratch(shape, samples, keep));
        if (!pooled) ValidateScratch(scratch, required);
        ThrowIfOverlapsInputs<byte>(keepMask, nameof(keepMask), inputs, weights, targets);
        ThrowIfOverlapsInputs<double>(coefficients, nameof(coefficients), inputs, weights, targets);
        ThrowIfOverlapsInputs<double>(scratch, nameof(scratch), inputs, weights, targets);
        if (Overlaps<byte, double>(keepMask, coefficients)) ThrowHelper.ThrowOverlap(nameof(coefficients));
        if (Overlaps<double, byte>(scratch, keepMask) || Overlaps<double, double>(scratch, coefficients)) ThrowHelper.ThrowOverlap(nameof(scratch));
        ValidateFinite(inputs, weights, targets);

        using SpanOwner<double> owner = pooled ? SpanOwner<double>.Allocate(required) : SpanOwner<double>.Empty;
        Span<double> work = pooled ? owner.Span : scratch.Slice(0, required);
        Span<double> gram = work.Slice(0, channels * channels);
        Span<double> response = work.Slice(channels * channels, channels);
        Span<double> rest = work.Slice(channels * channels + channels);
        double total = ChannelGram.Compute(inputs, weights, targets, samples, channels, shape.KernelSize, shape.Out, gram, response, rest);
        double explained = ForwardSelection.Select(gram, response, channels, keep, keepMask, coefficients, rest);
        return new GreedySelection(keep, RelativeNorm(total - explained, total));
    }
}
