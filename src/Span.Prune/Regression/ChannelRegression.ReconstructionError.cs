using Span.Prune.RegressionKernels;

namespace Span.Prune;

public static partial class ChannelRegression
{
    /// <summary>
    /// The relative reconstruction error <c>‖Y − X·Wᵀ‖_F / ‖Y‖_F</c> of a layer weight on sampled inputs and targets.
    /// </summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> weight (e.g. masked, or refitted by <see cref="Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/>).</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <returns>The relative error; 0 when both norms are 0, +∞ when only <c>‖Y‖_F</c> is 0.</returns>
    /// <remarks>
    /// Each prediction <c>x_n·w_o</c> is a float dot product over the <c>C·K</c> columns (4×2 register-blocked, chunks of
    /// 512 added in double); the squared residuals are summed in double. O(N·O·C·K) time, 8 KiB of stack, no allocation.
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not match, X, W, Y hold NaN/±∞, or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1.</exception>
    public static double ReconstructionError(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets, WeightShape shape, int samples)
    {
        ValidateProblem(inputs, weights, targets, shape, samples);
        ValidateFinite(inputs, weights, targets);
        // One 32×32 tile of double accumulators (8 KiB) on the stack.
        Span<double> tile = stackalloc double[CrossProducts.TileScratchLength];
        var sink = new ResidualSink(targets, shape.Out);
        CrossProducts.Accumulate(inputs, samples, weights, shape.Out, shape.RowLength, upperTriangle: false, tile, ref sink);
        return RelativeNorm(sink.Sum, CrossProducts.SumOfSquares(targets));
    }
}
