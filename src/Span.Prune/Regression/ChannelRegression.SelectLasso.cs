using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.RegressionKernels;

namespace Span.Prune;

public static partial class ChannelRegression
{
    /// <summary>Doubles of scratch <see cref="SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/> needs: <c>C² + 3C + (D·N + O·N + D·O)/2 + 1024</c>.</summary>
    /// <param name="shape">The layer weight shape (C = <c>In</c>, K = <c>KernelSize</c>, O = <c>Out</c>).</param>
    /// <param name="samples">Number of samples N.</param>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is not positive, or the scratch would not fit one array.</exception>
    public static int LassoScratchLength(WeightShape shape, int samples)
    {
        ValidateShape(shape, samples);
        return CheckedScratchLength(LassoScratch(shape, samples));
    }

    private static long LassoScratch(WeightShape shape, int samples) =>
        (long)shape.In * shape.In + 3L * shape.In + ChannelGram.ScratchLength(samples, shape.RowLength, shape.Out);

    /// <summary>
    /// Chooses exactly <paramref name="keep"/> input channels by LASSO regression on the channel contributions
    /// (He et al. 2017, channel selection step).
    /// </summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> layer weight.</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keep">Channels to keep, in <c>[1, C]</c>.</param>
    /// <param name="keepMask">At least C bytes; the first C receive 1 for the <paramref name="keep"/> kept channels, 0 for the others.</param>
    /// <param name="coefficients">At least C; the first C receive the LASSO coefficients β at the returned λ (0 for channels not in the LASSO support, including filled ones).</param>
    /// <param name="options">Tolerance, path and bisection settings; <c>default</c> uses the documented defaults.</param>
    /// <returns>The λ used, λ_max, sweeps, path points, and how many kept channels came from the LASSO support.</returns>
    /// <remarks>
    /// <para><b>Objective.</b> <c>min_β (1/2N)‖Y − Σ_c β_c Z_c‖_F² + λ‖β‖₁</c> with <c>Z_c = X_c·W_cᵀ</c>, solved by cyclic
    /// coordinate descent with soft thresholding on the precomputed <c>G_ab = ⟨Z_a, Z_b⟩_F</c> and
    /// <c>r_c = ⟨Z_c, Y⟩_F</c> (covariance updates, O(C) per coefficient change). β = 1 for every channel reproduces
    /// <c>X·Wᵀ</c>, so β measures how much of each channel's unpruned contribution the fit uses.</para>
    /// <para><b>λ search.</b> He et al. raise λ until at most <c>keep</c> coefficients are non-zero. Here the same boundary
    /// is approached from above, with warm starts: start at <c>λ_max = max_c |r_c| / N</c> (β = 0), walk the geometric path
    /// <c>λ_t = λ_max·MinLambdaRatio^{t/PathLength}</c> downward and stop at the first λ whose support reaches
    /// <c>keep</c>. If the support jumps past <c>keep</c>, bisect (geometric midpoints, warm-started from the sparser end)
    /// between the last λ with fewer and the first with more, stopping as soon as the support is exactly <c>keep</c>.
    /// The returned λ and β are those of the largest λ found with exactly <c>keep</c> non-zero coefficients, or else of
    /// the smallest λ found with fewer.</para>
    /// <para><b>Fill rule.</b> When the LASSO support has fewer than <c>keep</c> channels (the path ended, or several channels
    /// enter at the same λ), the remaining slots go to the zero-coefficient channels with the largest
    /// <c>|⟨Z_c, Y − Σ_b β_b Z_b⟩|</c> at the returned β — the order in which they would enter the LASSO as λ decreases
    /// further — ties to the lowest channel index. Their coefficients stay 0; <see cref="LassoSelection.FilledCount"/>
    /// reports how many.</para>
    /// <para><b>Scaling.</b> β multiplies the channel's actual contribution, so the penalty is uniform in β and channels
    /// whose contributions are larger are favoured, as in the paper's formulation with the weights held fixed.</para>
    /// <para>Time O(N·D²/2 + N·D·O + O·D²/2) for the products, then O(C²) per coordinate-descent sweep.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not match, an output or the scratch overlaps an input, or X, W, Y
    /// hold NaN/±∞ (ParamName names the span), or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1, <paramref name="keep"/> outside
    /// <c>[1, C]</c>, or an invalid <paramref name="options"/> value.</exception>
    public static LassoSelection SelectLasso(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients, LassoOptions options = default) =>
        SelectLassoCore(inputs, weights, targets, shape, samples, keep, keepMask, coefficients, options, default, pooled: true);

    /// <summary>As <see cref="SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/>, with caller-owned working memory.</summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> layer weight.</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keep">Channels to keep, in <c>[1, C]</c>.</param>
    /// <param name="keepMask">At least C bytes; the first C receive 1 for the <paramref name="keep"/> kept channels, 0 for the others.</param>
    /// <param name="coefficients">At least C; the first C receive the LASSO coefficients β at the returned λ (0 for channels not in the LASSO support, including filled ones).</param>
    /// <param name="options">Tolerance, path and bisection settings; <c>default</c> uses the documented defaults.</param>
    /// <param name="scratch">At least <see cref="LassoScratchLength"/> doubles, not overlapping any other argument.</param>
    /// <returns>The λ used, λ_max, sweeps, path points, and how many kept channels came from the LASSO support.</returns>
    /// <exception cref="ArgumentException">A length does not match, an output or the scratch overlaps an input, or X, W, Y
    /// hold NaN/±∞ (ParamName names the span), or <paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1, <paramref name="keep"/> outside
    /// <c>[1, C]</c>, or an invalid <paramref name="options"/> value.</exception>
    public static LassoSelection SelectLasso(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients, LassoOptions options, Span<double> scratch) =>
        SelectLassoCore(inputs, weights, targets, shape, samples, keep, keepMask, coefficients, options, scratch, pooled: false);

    private static LassoSelection SelectLassoCore(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, int keep,
        Span<byte> keepMask, Span<double> coefficients,
        LassoOptions options, Span<double> scratch, bool pooled)
    {
        ValidateProblem(inputs, weights, targets, shape, samples);
        int channels = shape.In;
        ValidateKeep(keep, channels);
        if (keepMask.Length < channels) ThrowHelper.ThrowDestinationTooShort(nameof(keepMask), keepMask.Length, channels);
        keepMask = keepMask[..channels];
        if (coefficients.Length < channels) ThrowHelper.ThrowDestinationTooShort(nameof(coefficients), coefficients.Length, channels);
        coefficients = coefficients[..channels];
        ValidateLassoOptions(options);
        int required = CheckedScratchLength(LassoScratch(shape, samples));
        if (!pooled) ValidateScratch(scratch, required);
        ThrowIfOverlapsInputs<byte>(keepMask, nameof(keepMask), inputs, weights, targets);
        ThrowIfOverlapsInputs<double>(coefficients, nameof(coefficients), inputs, weights, targets);
        ThrowIfOverlapsInputs<double>(scratch, nameof(scratch), inputs, weights, targets);
        if (Overlaps<byte, double>(keepMask, coefficients)) ThrowHelper.ThrowOverlap(nameof(coefficients));
        if (Overlaps<double, byte>(scratch, keepMask) || Overlaps<double, double>(scratch, coefficients)) ThrowHelper.ThrowOverlap(nameof(scratch));
        ValidateFinite(inputs, weights, targets);

        using SpanOwner<double> owner = pooled ? SpanOwner<double>.Allocate(required) : SpanOwner<double>.Empty;
        Span<double> work = pooled ? owner.Span : scratch.Slice(0, required);
        int offset = 0;
        Span<double> gram = work.Slice(offset, channels * channels); offset += channels * channels;
        Span<double> response = work.Slice(offset, channels); offset += channels;
        Span<double> correlation = work.Slice(offset, channels); offset += channels;
        Span<double> bestBeta = work.Slice(offset, channels); offset += channels;
        ChannelGram.Compute(inputs, weights, targets, samples, channels, shape.KernelSize, shape.Out, gram, response, work.Slice(offset));
        return LassoPath(gram, response, channels, samples, keep, options, keepMask, coefficients, correlation, bestBeta);
    }

    private static void ValidateLassoOptions(LassoOptions options)
    {
        if (!(options.Tolerance > 0) || !double.IsFinite(options.Tolerance))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), "LassoOptions.Tolerance must be positive and finite.");
        if (options.MaxSweeps < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options), "LassoOptions.MaxSweeps must be positive.");
        if (options.PathLength < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options), "LassoOptions.PathLength must be positive.");
        if (!(options.MinLambdaRatio > 0 && options.MinLambdaRatio < 1))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(options), "LassoOptions.MinLambdaRatio must be in (0, 1).");
        if (options.BisectionSteps < 1) ThrowHelper.ThrowArgumentOutOfRange(nameof(options), "LassoOptions.BisectionSteps must be positive.");
    }

    /// <summary>The λ search and fill rule on G and r; writes the mask and β.</summary>
    private static LassoSelection LassoPath(
        ReadOnlySpan<double> gram, ReadOnlySpan<double> response, int channels, int samples, int keep, LassoOptions options,
        Span<byte> keepMask, Span<double> beta, Span<double> correlation, Span<double> bestBeta)
    {
        double rMax = 0;
        for (int c = 0; c < channels; c++) rMax = Math.Max(rMax, Math.Abs(response[c]));
        double lambdaMax = rMax / samples;
        double tolerance = options.Tolerance * rMax;

        // β = 0 solves the problem at λ_max exactly (every |r_c| ≤ N·λ_max).
        beta.Clear();
        bestBeta.Clear();
        double bestLambda = lambdaMax;
        int bestCount = 0;
        int sweeps = 0, points = 0;
        bool converged = true;

        if (rMax > 0)
        {
            response.CopyTo(correlation);
            double ratio = Math.Pow(options.MinLambdaRatio, 1.0 / options.PathLength);
            double overLambda = double.NaN;
            for (int t = 1; t <= options.PathLength && bestCount < keep; t++)
            {
                double lambda = lambdaMax * Math.Pow(ratio, t);
                sweeps += CoordinateDescent.Solve(gram, channels, beta, correlation, samples * lambda, tolerance, options.MaxSweeps, out bool ok);
                converged &= ok;
                points++;
                int count = CoordinateDescent.CountNonZero(beta, channels);
                if (count > keep)
                {
                    overLambda = lambda;
                    break;
                }
                bestLambda = lambda;
                bestCount = count;
                beta.CopyTo(bestBeta);
            }

            // The support jumped past keep between bestLambda and overLambda: bisect towards exactly keep.
            for (int s = 0; s < options.BisectionSteps && bestCount < keep && !double.IsNaN(overLambda); s++)
            {
                double lambda = Math.Sqrt(bestLambda * overLambda);
                if (!(lambda < bestLambda && lambda > overLambda)) break; // interval exhausted in double
                bestBeta.CopyTo(beta);
                CoordinateDescent.ResetCorrelation(gram, response, beta, correlation, channels);
                sweeps += CoordinateDescent.Solve(gram, channels, beta, correlation, samples * lambda, tolerance, options.MaxSweeps, out bool ok);
                converged &= ok;
                points++;
                int count = CoordinateDescent.CountNonZero(beta, channels);
                if (count > keep)
                {
                    overLambda = lambda;
                    continue;
                }
                bestLambda = lambda;
                bestCount = count;
                beta.CopyTo(bestBeta);
            }
        }

        bestBeta.CopyTo(beta);
        for (int c = 0; c < channels; c++) keepMask[c] = beta[c] != 0 ? (byte)1 : (byte)0;

        // Fill rule: next-to-enter order, |⟨Z_c, residual⟩| descending among the zero coefficients, ties to the lowest index.
        if (bestCount < keep)
        {
            CoordinateDescent.ResetCorrelation(gram, response, beta, correlation, channels);
            for (int f = bestCount; f < keep; f++)
            {
                int pick = -1;
                double pickScore = -1;
                for (int c = 0; c < channels; c++)
                {
                    if (keepMask[c] != 0) continue;
                    double score = Math.Abs(correlation[c]);
                    if (score > pickScore)
                    {
                        pickScore = score;
                        pick = c;
                    }
                }
                keepMask[pick] = 1;
            }
        }

        return new LassoSelection(bestLambda, lambdaMax, sweeps, points, bestCount, keep, converged);
    }
}
