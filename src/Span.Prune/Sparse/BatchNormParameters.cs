using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// The per-channel parameters of a BatchNorm layer, <c>y = γ·(x − mean)/√(var + ε) + β</c>: what must shrink together
/// with the output units of the layer in front of it.
/// </summary>
public sealed class BatchNormParameters
{
    private readonly float[] _gamma, _beta, _mean, _variance;

    /// <summary>Copies the four per-channel vectors (all the same length).</summary>
    /// <param name="gamma">Scale γ.</param>
    /// <param name="beta">Shift β.</param>
    /// <param name="runningMean">Running mean.</param>
    /// <param name="runningVariance">Running variance.</param>
    /// <param name="epsilon">ε added to the variance.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public BatchNormParameters(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, float epsilon = 1e-5f)
    {
        if (beta.Length != gamma.Length) ThrowHelper.ThrowLengthMismatch(nameof(beta), beta.Length, gamma.Length);
        if (runningMean.Length != gamma.Length) ThrowHelper.ThrowLengthMismatch(nameof(runningMean), runningMean.Length, gamma.Length);
        if (runningVariance.Length != gamma.Length) ThrowHelper.ThrowLengthMismatch(nameof(runningVariance), runningVariance.Length, gamma.Length);
        _gamma = gamma.ToArray();
        _beta = beta.ToArray();
        _mean = runningMean.ToArray();
        _variance = runningVariance.ToArray();
        Epsilon = epsilon;
    }

    /// <summary>Channel count.</summary>
    public int Count => _gamma.Length;

    /// <summary>Scale γ.</summary>
    public Span<float> Gamma => _gamma;

    /// <summary>Shift β.</summary>
    public Span<float> Beta => _beta;

    /// <summary>Running mean.</summary>
    public Span<float> RunningMean => _mean;

    /// <summary>Running variance.</summary>
    public Span<float> RunningVariance => _variance;

    /// <summary>ε added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>A copy keeping channel <c>i</c> where <c>keep[i] != 0</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="keep"/> is not <see cref="Count"/> long.</exception>
    public BatchNormParameters RemoveUnits(ReadOnlySpan<byte> keep)
    {
        if (keep.Length != Count) ThrowHelper.ThrowLengthMismatch(nameof(keep), keep.Length, Count);
        int kept = Masking.CountKept(keep);
        Span<float> g = new float[kept], b = new float[kept], m = new float[kept], v = new float[kept];
        UnitRemoval.RemoveEntries(_gamma, keep, g);
        UnitRemoval.RemoveEntries(_beta, keep, b);
        UnitRemoval.RemoveEntries(_mean, keep, m);
        UnitRemoval.RemoveEntries(_variance, keep, v);
        return new BatchNormParameters(g, b, m, v, Epsilon);
    }
}
