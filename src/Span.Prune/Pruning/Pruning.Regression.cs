using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.Sparse;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// Channel pruning by regression (He et al. 2017): LASSO chooses the <c>In − round-half-even(s·In)</c> input channels
    /// to keep, then the kept weights are refitted by least squares so that <c>X·W'ᵀ</c> reconstructs the targets. The
    /// pruned channels' columns become zero; <b>the kept weights change</b>.
    /// </summary>
    /// <param name="weights">W <c>[Out, In·kh·kw]</c>, refitted in place.</param>
    /// <param name="shape">The weight's shape; channels are its <c>In</c>.</param>
    /// <param name="inputs">Sampled layer inputs X <c>[samples, In·kh·kw]</c> (im2col rows for a convolution).</param>
    /// <param name="targets">Outputs to reconstruct Y <c>[samples, Out]</c>; empty means the layer's own outputs
    /// <c>X·Wᵀ</c>, computed here with <see cref="MatMul"/>.</param>
    /// <param name="samples">Rows of X and Y.</param>
    /// <param name="sparsity">Fraction of input channels to prune, in [0, 1); at least one channel is kept.</param>
    /// <param name="channelMask">Receives 1 for kept and 0 for pruned input channels, at least <c>In</c> bytes.</param>
    /// <param name="selection">The LASSO path's outcome (λ, sweeps); default when nothing is pruned.</param>
    /// <param name="refit">Reconstruction errors before and after the refit; default when nothing is pruned.</param>
    /// <returns>What was pruned (no single threshold: NaN). Nothing is pruned, and W is left as it is, when
    /// <c>round-half-even(s·In)</c> is 0.</returns>
    /// <remarks>The composition of <see cref="ChannelRegression.SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/>
    /// and <see cref="ChannelRegression.Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/>
    /// with their defaults; see there for the layout, the NaN policy and the numerics.</remarks>
    /// <exception cref="ArgumentException">Lengths, overlaps, or NaN/±∞ in X, W or Y (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1], not finite, or
    /// prunes every channel; <paramref name="samples"/> &lt; 1.</exception>
    public static PruneReport Regression(Span<float> weights, WeightShape shape, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets,
        int samples, double sparsity, Span<byte> channelMask, out LassoSelection selection, out RefitResult refit)
    {
        CheckWeights(weights, shape);
        if (samples < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(samples), "At least one sample is required.");
        if ((long)samples * shape.RowLength != inputs.Length) ThrowHelper.ThrowLengthMismatch(nameof(inputs), inputs.Length, samples * shape.RowLength);
        if (!targets.IsEmpty && (long)samples * shape.Out != targets.Length) ThrowHelper.ThrowLengthMismatch(nameof(targets), targets.Length, samples * shape.Out);
        int channels = shape.In;
        if (channelMask.Length < channels) ThrowHelper.ThrowDestinationTooShort(nameof(channelMask), channelMask.Length, channels);
        channelMask = channelMask[..channels];
        int prune = Selection.PruneCount(channels, sparsity);
        if (prune == channels) ThrowHelper.ThrowArgumentOutOfRange(nameof(sparsity), $"Regression keeps at least one input channel, but sparsity {sparsity} prunes all {channels}.");

        selection = default;
        refit = default;
        if (prune == 0)
        {
            channelMask.Fill(1);
            return new PruneReport(channels, 0, weights.Length, 0, float.NaN);
        }

        using SpanOwner<float> own = SpanOwner<float>.Allocate(targets.IsEmpty ? samples * shape.Out + weights.Length : 0);
        if (targets.IsEmpty)
        {
            // Y = X·Wᵀ: MatMul computes A·B with A = X [N × D] and B = Wᵀ [D × O].
            Span<float> y = own.Span[..(samples * shape.Out)], transposed = own.Span[(samples * shape.Out)..];
            int d = shape.RowLength, o = shape.Out;
            for (int r = 0; r < o; r++)
            {
                for (int c = 0; c < d; c++) transposed[c * o + r] = weights[r * d + c];
            }
            MatMul.Multiply(inputs, samples, d, transposed, y, o);
            targets = y;
        }
        using SpanOwner<double> coefficients = SpanOwner<double>.Allocate(channels);
        selection = ChannelRegression.SelectLasso(inputs, weights, targets, shape, samples, channels - prune, channelMask, coefficients.Span);
        refit = ChannelRegression.Refit(inputs, weights, targets, shape, samples, channelMask, weights);
        return new PruneReport(channels, prune, weights.Length, (long)prune * shape.Out * shape.KernelSize, float.NaN);
    }
}
