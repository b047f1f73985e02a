using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.RegressionKernels;

namespace Span.Prune;

public static partial class ChannelRegression
{
    /// <summary>
    /// Doubles of scratch <see cref="Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/> needs, with <c>P = keptChannels·K</c>:
    /// <c>(2·P·N + O·N + O·P)/2 + P² + P·O + 1024</c> (each float block rounded up to whole doubles).
    /// </summary>
    /// <param name="shape">The layer weight shape.</param>
    /// <param name="samples">Number of samples N.</param>
    /// <param name="keptChannels">Ones in the keep mask, in <c>[1, C]</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is default.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> or <paramref name="keptChannels"/> is out of range.</exception>
    public static int RefitScratchLength(WeightShape shape, int samples, int keptChannels)
    {
        ValidateShape(shape, samples);
        if (keptChannels < 1 || keptChannels > shape.In) ThrowHelper.ThrowChannelCount(nameof(keptChannels), keptChannels, shape.In);
        return CheckedScratchLength(RefitScratch(shape, samples, keptChannels));
    }

    private static long RefitScratch(WeightShape shape, int samples, int keptChannels)
    {
        long p = (long)keptChannels * shape.KernelSize;
        return ChannelGram.FloatsAsDoubles(p * samples) + ChannelGram.FloatsAsDoubles((long)shape.Out * samples)
            + ChannelGram.FloatsAsDoubles(shape.Out * p) + ChannelGram.FloatsAsDoubles(p * samples)
            + p * p + p * shape.Out + CrossProducts.TileScratchLength;
    }

    /// <summary>
    /// Refits the weights of the kept channels by (ridge) least squares so that <c>X·W'ᵀ</c> best reconstructs Y
    /// (He et al. 2017, reconstruction step), and reports the relative error before and after.
    /// </summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> original weight (used for the before-refit error only).</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keepMask">Length C, 1 = keep, 0 = pruned, at least one 1 (e.g. from <see cref="SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/>).</param>
    /// <param name="refitted">
    /// Length <c>O·C·K</c>; receives W' in the full <c>[O, C·K]</c> layout with the pruned channels' columns zeroed, so shapes
    /// and masks stay as they were. May be exactly <paramref name="weights"/> (in-place refit).
    /// </param>
    /// <param name="compact">
    /// Empty, or length <c>O·keep·K</c>: receives the compact <c>[O, keep·K]</c> weight of the kept channels in channel
    /// order (the weight of the physically shrunk layer).
    /// </param>
    /// <param name="relativeRidge">ρ as a multiple of the mean diagonal of <c>X_keptᵀX_kept</c>; ≥ 0, default 1e-6.</param>
    /// <returns>The relative reconstruction errors before and after the refit, and the ridge used.</returns>
    /// <remarks>
    /// <para><c>W'_kept = argmin ‖Y − X_kept·W_keptᵀ‖_F² + ρ‖W_kept‖_F²</c>, solved through the normal equations
    /// <c>(X_keptᵀX_kept + ρI)·W_keptᵀ = X_keptᵀY</c> with a double-precision Cholesky factorisation of the
    /// <c>(keep·K)²</c> matrix, one solve for all O outputs. <c>ρ = relativeRidge·trace(X_keptᵀX_kept)/(keep·K)</c>:
    /// the default 1e-6 is about ten times the relative rounding of the float products, enough to keep a rank-deficient
    /// X_kept (duplicate or constant columns) factorable, and far too small to bias a well-posed fit.</para>
    /// <para>Errors: <c>‖Y − X·Wᵀ‖_F / ‖Y‖_F</c> with the pruned columns of the original W zeroed (before) and with W'
    /// (after); 0 when both norms are 0 and +∞ when only <c>‖Y‖</c> is. Time O(N·P²/2 + 3·N·P·O + P³/3) with
    /// <c>P = keep·K</c>.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not match, the mask holds a value other than 0/1 or no 1,
    /// an output or the scratch overlaps an input (other than <paramref name="refitted"/> being exactly
    /// <paramref name="weights"/>), X, W, Y hold NaN/±∞, <paramref name="shape"/> is default, or (ParamName
    /// <c>inputs</c>) <c>X_keptᵀX_kept + ρI</c> is numerically not positive definite. Nothing is written then.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1, or <paramref name="relativeRidge"/> is negative or not finite.</exception>
    public static RefitResult Refit(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, ReadOnlySpan<byte> keepMask,
        Span<float> refitted, Span<float> compact = default, double relativeRidge = DefaultRelativeRidge) =>
        RefitCore(inputs, weights, targets, shape, samples, keepMask, refitted, compact, relativeRidge, default, pooled: true);

    /// <summary>As <see cref="Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/>, with caller-owned working memory.</summary>
    /// <param name="inputs">X, <c>[N, C·K]</c> sampled layer inputs (see <see cref="ChannelRegression"/> for the layout).</param>
    /// <param name="weights">W, <c>[O, C·K]</c> original weight (used for the before-refit error only).</param>
    /// <param name="targets">Y, <c>[N, O]</c> outputs to reconstruct.</param>
    /// <param name="shape">The weight shape: C = <c>In</c>, K = <c>KernelHeight·KernelWidth</c>, O = <c>Out</c>.</param>
    /// <param name="samples">N ≥ 1.</param>
    /// <param name="keepMask">Length C, 1 = keep, 0 = pruned, at least one 1 (e.g. from <see cref="SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/>).</param>
    /// <param name="refitted">
    /// Length <c>O·C·K</c>; receives W' in the full <c>[O, C·K]</c> layout with the pruned channels' columns zeroed, so shapes
    /// and masks stay as they were. May be exactly <paramref name="weights"/> (in-place refit).
    /// </param>
    /// <param name="compact">
    /// Empty, or length <c>O·keep·K</c>: receives the compact <c>[O, keep·K]</c> weight of the kept channels in channel
    /// order (the weight of the physically shrunk layer).
    /// </param>
    /// <param name="relativeRidge">ρ as a multiple of the mean diagonal of <c>X_keptᵀX_kept</c>; ≥ 0, default 1e-6.</param>
    /// <param name="scratch">At least <see cref="RefitScratchLength"/> doubles, not overlapping any other argument.</param>
    /// <returns>The relative reconstruction errors before and after the refit, and the ridge used.</returns>
    /// <exception cref="ArgumentException">A length does not match, the mask holds a value other than 0/1 or no 1,
    /// an output or the scratch overlaps an input (other than <paramref name="refitted"/> being exactly
    /// <paramref name="weights"/>), X, W, Y hold NaN/±∞, <paramref name="shape"/> is default, or (ParamName
    /// <c>inputs</c>) <c>X_keptᵀX_kept + ρI</c> is numerically not positive definite. Nothing is written then.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> &lt; 1, or <paramref name="relativeRidge"/> is negative or not finite.</exception>
    public static RefitResult Refit(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, ReadOnlySpan<byte> keepMask,
        Span<float> refitted, Span<float> compact, double relativeRidge, Span<double> scratch) =>
        RefitCore(inputs, weights, targets, shape, samples, keepMask, refitted, compact, relativeRidge, scratch, pooled: false);

    private static RefitResult RefitCore(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        WeightShape shape, int samples, ReadOnlySpan<byte> keepMask,
        Span<float> refitted, Span<float> compact,
        double relativeRidge, Span<double> scratch, bool pooled)
    {
        ValidateProblem(inputs, weights, targets, shape, samples);
        int channels = shape.In, channelSize = shape.KernelSize, outputs = shape.Out, columns = shape.RowLength;
        if (keepMask.Length != channels) ThrowHelper.ThrowLengthMismatch(nameof(keepMask), keepMask.Length, channels);
        int kept = 0;
        for (int c = 0; c < channels; c++)
        {
            byte m = keepMask[c];
            if (m > 1) ThrowHelper.ThrowInvalidKeepMask(nameof(keepMask), c, m);
            kept += m;
        }
        if (kept == 0) ThrowHelper.ThrowEmptyKeepMask(nameof(keepMask));
        int p = kept * channelSize;
        if (refitted.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(refitted), refitted.Length, shape.ElementCount);
        refitted = refitted[..shape.ElementCount];
        if (!compact.IsEmpty && compact.Length < outputs * p) ThrowHelper.ThrowDestinationTooShort(nameof(compact), compact.Length, outputs * p);
        if (!compact.IsEmpty) compact = compact[..(outputs * p)];
        if (!(relativeRidge >= 0) || !double.IsFinite(relativeRidge))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(relativeRidge), "The relative ridge must be a finite number ≥ 0.");
        int required = CheckedScratchLength(RefitScratch(shape, samples, kept));
        if (!pooled) ValidateScratch(scratch, required);

        // Only exact in-place aliasing refitted == weights is supported; the original weights are read (before-error)
        // before anything is written.
        if (Overlaps<float, float>(refitted, inputs) || Overlaps<float, float>(refitted, targets) || Overlaps<float, byte>(refitted, keepMask)
            || (weights.Overlaps(refitted, out int shift) && shift != 0))
            ThrowHelper.ThrowOverlap(nameof(refitted));
        if (!compact.IsEmpty)
        {
            ThrowIfOverlapsInputs<float>(compact, nameof(compact), inputs, weights, targets);
            if (Overlaps<float, float>(compact, refitted) || Overlaps<float, byte>(compact, keepMask)) ThrowHelper.ThrowOverlap(nameof(compact));
        }
        ThrowIfOverlapsInputs<double>(scratch, nameof(scratch), inputs, weights, targets);
        if (Overlaps<double, float>(scratch, refitted) || Overlaps<double, float>(scratch, compact) || Overlaps<double, byte>(scratch, keepMask))
            ThrowHelper.ThrowOverlap(nameof(scratch));
        ValidateFinite(inputs, weights, targets);

        using SpanOwner<double> owner = pooled ? SpanOwner<double>.Allocate(required) : SpanOwner<double>.Empty;
        Span<double> work = pooled ? owner.Span : scratch.Slice(0, required);
        int offset = 0;
        Span<float> xt = ChannelGram.TakeFloats(work, ref offset, p * samples);      // X_kept transposed, [P, N]
        Span<float> yt = ChannelGram.TakeFloats(work, ref offset, outputs * samples); // Yᵀ, [O, N]
        Span<float> vt = ChannelGram.TakeFloats(work, ref offset, p * outputs);       // kept weight transposed, [P, O]
        Span<float> xk = ChannelGram.TakeFloats(work, ref offset, p * samples);       // X_kept row-major, [N, P]
        Span<double> a = work.Slice(offset, p * p); offset += p * p;                   // X_keptᵀX_kept + ρI, then L
        Span<double> b = work.Slice(offset, p * outputs); offset += p * outputs;       // X_keptᵀY, then W_keptᵀ
        Span<double> tile = work.Slice(offset, CrossProducts.TileScratchLength);

        CrossProducts.TransposeKeptChannels(inputs, samples, channels, channelSize, keepMask, xt);
        CrossProducts.TransposeKeptChannels(targets, samples, outputs, 1, default, yt);
        GatherKeptColumns(inputs, samples, channels, channelSize, keepMask, xk);
        double total = CrossProducts.SumOfSquares(targets);

        // Before: the original weights with the pruned columns dropped.
        CrossProducts.TransposeKeptChannels(weights, outputs, channels, channelSize, keepMask, vt);
        double before = ResidualKernel.SumOfSquares(xk, vt, targets, samples, p, outputs);

        var aSink = new MatrixSink(a, p, mirror: true);
        CrossProducts.Accumulate(xt, p, xt, p, samples, upperTriangle: true, tile, ref aSink);
        var bSink = new MatrixSink(b, outputs, mirror: false);
        CrossProducts.Accumulate(xt, p, yt, outputs, samples, upperTriangle: false, tile, ref bSink);

        double trace = 0;
        for (int i = 0; i < p; i++) trace += a[i * p + i];
        double ridge = relativeRidge * trace / p;
        for (int i = 0; i < p; i++) a[i * p + i] += ridge;
        int failed = Cholesky.Factor(a, p);
        if (failed >= 0) ThrowHelper.ThrowNotPositiveDefinite(nameof(inputs), failed, p, ridge);
        Cholesky.Solve(a, p, b, outputs);

        // b is W'_keptᵀ [P, O] in double; its float rounding is the weight that will be used, so the after-error is
        // measured on exactly the floats written below.
        for (int i = 0; i < vt.Length; i++) vt[i] = (float)b[i];
        double after = ResidualKernel.SumOfSquares(xk, vt, targets, samples, p, outputs);

        // Write only now: refitted may be the weights just read.
        for (int o = 0; o < outputs; o++)
        {
            Span<float> row = refitted.Slice(o * columns, columns);
            int next = 0;
            for (int c = 0; c < channels; c++)
            {
                Span<float> block = row.Slice(c * channelSize, channelSize);
                if (keepMask[c] == 0)
                {
                    block.Clear();
                    continue;
                }
                for (int e = 0; e < channelSize; e++, next++)
                {
                    block[e] = vt[next * outputs + o];
                    if (!compact.IsEmpty) compact[o * p + next] = vt[next * outputs + o];
                }
            }
        }

        return new RefitResult(RelativeNorm(before, total), RelativeNorm(after, total), ridge, kept);
    }

    /// <summary>Copies the kept channels' columns of a row-major <c>[rows, C·K]</c> matrix into the compact <c>[rows, P]</c> form.</summary>
    private static void GatherKeptColumns(
        ReadOnlySpan<float> source, int rows, int channels, int channelSize, ReadOnlySpan<byte> keepMask, Span<float> compact)
    {
        int columns = channels * channelSize;
        int p = compact.Length / rows;
        for (int o = 0; o < rows; o++)
        {
            ReadOnlySpan<float> row = source.Slice(o * columns, columns);
            Span<float> dest = compact.Slice(o * p, p);
            int next = 0;
            for (int c = 0; c < channels; c++)
            {
                if (keepMask[c] == 0) continue;
                row.Slice(c * channelSize, channelSize).CopyTo(dest.Slice(next, channelSize));
                next += channelSize;
            }
        }
    }
}
