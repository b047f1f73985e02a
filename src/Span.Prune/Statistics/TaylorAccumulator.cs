using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Streams first-order Taylor importance over batches: per element it keeps both <c>Σ_b g·w</c> (signed) and
/// <c>Σ_b |g·w|</c>, so that either of the two published estimators can be read out.
/// </summary>
/// <remarks>
/// <para>The first-order Taylor estimate of the loss change when weight <c>w</c> is removed is
/// <c>ΔL ≈ −g·w</c> (Molchanov et al. 2017, 2019). How the per-batch values are combined matters:</para>
/// <list type="bullet">
/// <item><see cref="CopyMeanAbsoluteTo"/> = <c>(1/n)·Σ_b |g_b·w_b|</c>: the magnitude of each batch's estimate,
/// averaged. It never cancels; this is the per-step <c>|g·w|</c> form.</item>
/// <item><see cref="CopyAbsoluteMeanTo"/> = <c>|(1/n)·Σ_b g_b·w_b|</c>: the magnitude of the averaged estimate,
/// i.e. the estimate for the full data set. Batches that disagree in sign cancel, as they do in the true
/// expected loss change. Squaring it gives Molchanov 2019's element score <c>(g·w)²</c> evaluated on the mean
/// gradient, with the same ranking.</item>
/// </list>
/// <para>Molchanov 2019's <i>group</i> score <c>(Σ_{s∈S} g_s·w_s)²</c> sums inside a group (a filter) before
/// squaring. Summing first over batches and then over the group gives the same signed total
/// (<c>Σ_s Σ_b = Σ_b Σ_s</c>), so a group score can be built from <see cref="CopySignedMeanTo"/> with a group
/// reduction; averaging the per-batch squared group sums instead needs group sums per step, which is a
/// scoring kernel's job, not this accumulator's.</para>
/// <para><b>Precision and determinism</b> as in <see cref="FisherAccumulator"/>: <c>(double)g·(double)w</c> is
/// exact, sums are double, and each element's sum is the scalar sequence of additions on every vector width.
/// NaN or ±Inf in either input throws <see cref="ArgumentException"/> before any state changes.
/// Memory: 16 bytes per element, allocated once in the constructor. Not thread-safe.</para>
/// </remarks>
public sealed partial class TaylorAccumulator
{
    private readonly double[] _signed;
    private readonly double[] _absolute;
    private int _count;

    /// <summary>Creates an accumulator for <paramref name="length"/> parameters.</summary>
    /// <param name="length">Number of parameters.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public TaylorAccumulator(int length)
    {
        if (length < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(length), "Length must be non-negative.");
        _signed = new double[length];
        _absolute = new double[length];
    }

    /// <summary>Number of parameters.</summary>
    public int Length => _signed.Length;

    /// <summary>Number of batches added since construction or the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Adds one batch: <c>signed_i += g_i·w_i</c>, <c>absolute_i += |g_i·w_i|</c>.</summary>
    /// <param name="weights">The weights at this step, <see cref="Length"/> elements.</param>
    /// <param name="gradients">The gradient of the loss for this batch, <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException">A length differs from <see cref="Length"/>, or an element is NaN or
    /// infinite (nothing is added). Weights are checked before gradients.</exception>
    /// <exception cref="InvalidOperationException"><see cref="int.MaxValue"/> batches were already added.</exception>
    public void Add(ReadOnlySpan<float> weights, ReadOnlySpan<float> gradients)
    {
        if (weights.Length != _signed.Length) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, _signed.Length);
        if (gradients.Length != _signed.Length) ThrowHelper.ThrowLengthMismatch(nameof(gradients), gradients.Length, _signed.Length);
        int bad = FiniteScan.IndexOfNonFinite(weights);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(weights), bad);
        bad = FiniteScan.IndexOfNonFinite(gradients);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gradients), bad);
        if (_count == int.MaxValue) ThrowHelper.ThrowTooManyBatches();

        AccumulateProducts(weights, gradients, _signed, _absolute);
        _count++;
    }

    /// <summary>Writes <c>(1/n)·Σ_b |g_b·w_b|</c> per element (mean over batches of the absolute product).</summary>
    /// <param name="destination">At least <see cref="Length"/> elements; only the first <see cref="Length"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    /// <remarks>Computed as <c>(float)(absolute_i / Count)</c> in double.</remarks>
    public void CopyMeanAbsoluteTo(Span<float> destination)
    {
        ValidateCopy(destination);
        StatisticsKernels.DivideToSingle(_absolute, _count, destination, absolute: false);
    }

    /// <summary>Writes <c>|(1/n)·Σ_b g_b·w_b|</c> per element (absolute value of the mean product).</summary>
    /// <param name="destination">At least <see cref="Length"/> elements; only the first <see cref="Length"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    /// <remarks>Computed as <c>(float)|signed_i / Count|</c> in double.</remarks>
    public void CopyAbsoluteMeanTo(Span<float> destination)
    {
        ValidateCopy(destination);
        StatisticsKernels.DivideToSingle(_signed, _count, destination, absolute: true);
    }

    /// <summary>Writes the signed mean <c>(1/n)·Σ_b g_b·w_b</c> per element (the first-order estimate of
    /// <c>−ΔL</c>), for group scores that sum before taking a magnitude.</summary>
    /// <param name="destination">At least <see cref="Length"/> elements; only the first <see cref="Length"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    /// <remarks>Computed as <c>(float)(signed_i / Count)</c> in double. The result is signed: it is not a
    /// score by itself (higher is not more important) until a magnitude is taken.</remarks>
    public void CopySignedMeanTo(Span<float> destination)
    {
        ValidateCopy(destination);
        StatisticsKernels.DivideToSingle(_signed, _count, destination, absolute: false);
    }

    /// <summary>Forgets all batches: <see cref="Count"/> becomes 0 and both sums are zeroed. Does not allocate.</summary>
    public void Reset()
    {
        Array.Clear(_signed);
        Array.Clear(_absolute);
        _count = 0;
    }

    private void ValidateCopy(Span<float> destination)
    {
        if (destination.Length < _signed.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, _signed.Length);
        if (_count == 0) ThrowHelper.ThrowNoBatches();
    }
}
