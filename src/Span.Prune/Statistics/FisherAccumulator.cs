using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Streams the empirical Fisher diagonal <c>F_ii = (1/n)·Σ_b g_{b,i}²</c> over <c>n</c> gradient batches: the
/// Hessian-diagonal estimate <c>h_ii</c> that Optimal Brain Damage (LeCun et al. 1990) scores with
/// <c>s_i = ½·h_ii·w_i²</c>.
/// </summary>
/// <remarks>
/// <para><b>Precision.</b> The sums are kept in <see cref="double"/>. A float square has at most 48 significant
/// bits, so <c>(double)g·(double)g</c> is exact and the only rounding is the one of each running addition,
/// at most 2⁻⁵³ relative: after n batches the sum is within <c>n·2⁻⁵³</c> of exact, far below the 2⁻²⁴ of the
/// final float mean for any realistic n. A float running sum, by contrast, has a worst-case error of
/// n·2⁻²⁴ (6e-4 relative, 13 of 24 bits, after 10,000 batches) and stops growing altogether once it is 2²⁴
/// times the addend; Kahan compensation would need a second float array: the same 8 bytes of state per
/// element as one double, but four times the arithmetic.
/// Double state is therefore both the accurate and the cheaper choice in a loop that is bound by memory traffic.</para>
/// <para><b>Determinism.</b> The kernel vectorises across elements and adds batches in order, so every element's
/// sum is the same sequence of double additions as the scalar loop <c>sum[i] += (double)g[i]*g[i]</c>: results are
/// bit-identical to that loop on every vector width (512, 256, 128 bits or scalar).</para>
/// <para><b>NaN policy.</b> A NaN or ±Inf gradient throws <see cref="ArgumentException"/> naming
/// <c>gradients</c> before any state changes (a vectorised pre-pass), so one bad batch does not poison the
/// statistic.</para>
/// <para>Memory: 8 bytes per element, allocated once in the constructor. Not thread-safe.</para>
/// </remarks>
public sealed partial class FisherAccumulator
{
    private readonly double[] _sums;
    private int _count;

    /// <summary>Creates an accumulator for <paramref name="length"/> parameters.</summary>
    /// <param name="length">Number of parameters (elements of each gradient).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public FisherAccumulator(int length)
    {
        if (length < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(length), "Length must be non-negative.");
        _sums = new double[length];
    }

    /// <summary>Number of parameters.</summary>
    public int Length => _sums.Length;

    /// <summary>Number of batches added since construction or the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Adds one batch: <c>sum_i += g_i²</c>.</summary>
    /// <param name="gradients">The gradient of the loss for one batch, <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException">The length differs from <see cref="Length"/>, or an element is NaN or
    /// infinite (nothing is added).</exception>
    /// <exception cref="InvalidOperationException"><see cref="int.MaxValue"/> batches were already added.</exception>
    public void Add(ReadOnlySpan<float> gradients)
    {
        if (gradients.Length != _sums.Length) ThrowHelper.ThrowLengthMismatch(nameof(gradients), gradients.Length, _sums.Length);
        int bad = FiniteScan.IndexOfNonFinite(gradients);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gradients), bad);
        if (_count == int.MaxValue) ThrowHelper.ThrowTooManyBatches();

        AccumulateSquares(gradients, _sums);
        _count++;
    }

    /// <summary>Writes the mean squared gradient <c>F_ii = sum_i / Count</c>, rounded to float.</summary>
    /// <param name="destination">At least <see cref="Length"/> elements; only the first <see cref="Length"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    /// <remarks>Computed as <c>(float)(sum_i / Count)</c> in double. A mean above <see cref="float.MaxValue"/>
    /// (a gradient beyond ~1.8e19) rounds to +Inf, which the scoring APIs then reject, instead of being clamped
    /// silently.</remarks>
    public void CopyMeanTo(Span<float> destination)
    {
        if (destination.Length < _sums.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, _sums.Length);
        if (_count == 0) ThrowHelper.ThrowNoBatches();
        StatisticsKernels.DivideToSingle(_sums, _count, destination, absolute: false);
    }

    /// <summary>Forgets all batches: <see cref="Count"/> becomes 0 and the sums are zeroed. Does not allocate.</summary>
    public void Reset()
    {
        Array.Clear(_sums);
        _count = 0;
    }
}
