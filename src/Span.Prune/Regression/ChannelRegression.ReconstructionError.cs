using System.Numerics.Tensors;

namespace Span.Prune;

public static partial class ChannelRegression
{
    /// <summary>
    /// The relative reconstruction error <c>‖Y − X·Wᵀ‖_F / ‖Y‖_F</c> of a layer weight on sampled inputs and targets.
    /// </summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> weight (e.g. masked, or refitted by <see cref="Refit"/>).</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <returns>The relative error; 0 when both norms are 0, +∞ when only <c>‖Y‖_F</c> is 0.</returns>
    /// <remarks>
    /// Each prediction <c>x_n·w_o</c> is one vectorised float dot product over the <c>C·K</c> columns; the squared
    /// residuals are summed in double. O(N·O·C·K) time, no scratch, no allocation.
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not match, X, W, Y hold NaN/±∞, or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1.</exception>
    public static double ReconstructionError(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets, WeightShape shape, int samples)
    {
        ValidateProblem(inputs, weights, targets, shape, samples);
        ValidateFinite(inputs, weights, targets);
        int columns = shape.RowLength, outputs = shape.Out;
        double residual = 0, total = 0;
        for (int n = 0; n < samples; n++)
        {
            ReadOnlySpan<float> x = inputs.Slice(n * columns, columns);
            ReadOnlySpan<float> y = targets.Slice(n * outputs, outputs);
            for (int o = 0; o < outputs; o++)
            {
                double e = y[o] - (double)TensorPrimitives.Dot(x, weights.Slice(o * columns, columns));
                residual += e * e;
                total += (double)y[o] * y[o];
            }
        }
        return RelativeNorm(residual, total);
    }
}
