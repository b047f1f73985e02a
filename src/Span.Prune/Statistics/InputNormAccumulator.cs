using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Streams calibration activations and keeps per-feature sums of squares, for the Wanda input norms
/// <c>‖X_j‖₂ = √Σ_t x[t, j]²</c> over every token seen (see <see cref="Scoring.Wanda"/>).
/// </summary>
/// <remarks>
/// <para>Allocates one <c>double[features]</c> in the constructor and nothing afterwards. Sums are kept in double
/// precision, so the result does not depend on how the tokens are split into batches beyond double rounding.</para>
/// <para>Not thread-safe: accumulate from one thread, or use one accumulator per thread and add the norms' squares.</para>
/// </remarks>
public sealed class InputNormAccumulator
{
    private readonly double[] _sumsOfSquares;

    /// <summary>Creates an empty accumulator for <paramref name="features"/> input features.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="features"/> is not positive.</exception>
    public InputNormAccumulator(int features)
    {
        if (features <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), "The feature count must be positive.");
        _sumsOfSquares = new double[features];
    }

    /// <summary>Features per token.</summary>
    public int Features => _sumsOfSquares.Length;

    /// <summary>Tokens (rows) added since construction or the last <see cref="Reset"/>.</summary>
    public long Count { get; private set; }

    /// <summary>Adds the rows of a <c>[tokens, Features]</c> row-major activation batch.</summary>
    /// <exception cref="ArgumentException"><paramref name="activations"/> is not a whole number of rows or holds NaN
    /// or ±∞; the accumulator is unchanged then.</exception>
    public void Add(ReadOnlySpan<float> activations)
    {
        int features = _sumsOfSquares.Length;
        if (activations.Length % features != 0) ThrowHelper.ThrowNotMultiple(nameof(activations), activations.Length, features);
        int index = FiniteScan.IndexOfNonFinite(activations);
        if (index >= 0) ThrowHelper.ThrowNotFinite(nameof(activations), index);

        SquareSumLoop.AccumulateRows(activations, _sumsOfSquares);
        Count += activations.Length / features;
    }

    /// <summary>Writes <c>‖X_j‖₂</c> over all accumulated tokens (zeros when none).</summary>
    /// <param name="destination">At least <see cref="Features"/> elements; only the first <see cref="Features"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Features"/>.</exception>
    public void CopyNormsTo(Span<float> destination)
    {
        if (destination.Length < _sumsOfSquares.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, _sumsOfSquares.Length);
        destination = destination[.._sumsOfSquares.Length];
        for (int j = 0; j < destination.Length; j++)
        {
            destination[j] = (float)Math.Sqrt(_sumsOfSquares[j]);
        }
    }

    /// <summary>Forgets every accumulated token.</summary>
    public void Reset()
    {
        Array.Clear(_sumsOfSquares);
        Count = 0;
    }
}
