using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>BatchNorm over the channels of a <c>[C × B × H × W]</c> activation, as PyTorch's <c>nn.BatchNorm2d</c>.</summary>
/// <remarks>
/// <para>Training: per channel, over its <c>N = B·H·W</c> values, <c>μ = Σx/N</c>, <c>σ² = Σ(x−μ)²/N</c> (biased, used
/// to normalise), <c>y = γ·(x−μ)/√(σ²+ε) + β</c> computed as PyTorch's CPU kernel does, <c>y = x·α + (β − μ·α)</c> with
/// <c>α = γ/√(σ²+ε)</c>; the running statistics move by momentum 0.1: <c>m ← 0.9·m + 0.1·μ</c>,
/// <c>v ← 0.9·v + 0.1·σ²·N/(N−1)</c> (the unbiased variance). Sums are accumulated in double. ε = 1e-5.</para>
/// <para>Evaluation: the running statistics replace the batch ones.</para>
/// <para>Backward (training mode, the full batch-coupled gradient): with <c>x̂ = (x−μ)/σ</c>,
/// <c>dβ = Σ dy</c>, <c>dγ = Σ dy·x̂</c>, <c>dx = (γ/σ)·(dy − dβ/N − x̂·dγ/N)</c>. In evaluation mode the statistics
/// are constants: <c>dx = dy·γ/√(v+ε)</c>.</para>
/// </remarks>
public sealed class BatchNorm2d
{
    /// <summary>ε added to the variance.</summary>
    public const float Epsilon = 1e-5f;

    /// <summary>Weight of the new batch in the running statistics.</summary>
    public const float Momentum = 0.1f;

    private readonly Memory<float> _gamma, _beta, _gammaGradient, _betaGradient, _runningMean, _runningVariance;
    private readonly float[] _mean, _inverseStd;
    private bool _lastTraining;

    /// <summary>A layer over caller-owned views (γ, β, their gradients, running mean and variance; each <c>[C]</c>).</summary>
    /// <exception cref="ArgumentException">A view has the wrong length.</exception>
    public BatchNorm2d(int channels, int spatial, int maxBatch, Memory<float> gamma, Memory<float> beta,
        Memory<float> gammaGradient, Memory<float> betaGradient, Memory<float> runningMean, Memory<float> runningVariance)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(spatial);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        Check.Length(gamma, channels, nameof(gamma));
        Check.Length(beta, channels, nameof(beta));
        Check.Length(gammaGradient, channels, nameof(gammaGradient));
        Check.Length(betaGradient, channels, nameof(betaGradient));
        Check.Length(runningMean, channels, nameof(runningMean));
        Check.Length(runningVariance, channels, nameof(runningVariance));
        Channels = channels;
        Spatial = spatial;
        MaxBatch = maxBatch;
        _gamma = gamma;
        _beta = beta;
        _gammaGradient = gammaGradient;
        _betaGradient = betaGradient;
        _runningMean = runningMean;
        _runningVariance = runningVariance;
        _mean = new float[channels];
        _inverseStd = new float[channels];
    }

    /// <summary>A stand-alone layer with PyTorch's initial state: γ = 1, β = 0, running mean 0, running variance 1.</summary>
    public BatchNorm2d(int channels, int spatial, int maxBatch)
        : this(channels, spatial, maxBatch, Filled(channels, 1f), new float[channels], new float[channels], new float[channels],
            new float[channels], Filled(channels, 1f))
    {
    }

    private static float[] Filled(int n, float v)
    {
        var a = new float[n];
        a.AsSpan().Fill(v);
        return a;
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Values per channel and image, <c>H·W</c>.</summary>
    public int Spatial { get; }

    /// <summary>Largest batch.</summary>
    public int MaxBatch { get; }

    /// <summary>Training-mode forward passes so far (PyTorch's <c>num_batches_tracked</c>).</summary>
    public long BatchesTracked { get; set; }

    /// <summary>γ.</summary>
    public Memory<float> Gamma => _gamma;

    /// <summary>β.</summary>
    public Memory<float> Beta => _beta;

    /// <summary>dγ of the last backward pass.</summary>
    public Memory<float> GammaGradient => _gammaGradient;

    /// <summary>dβ of the last backward pass.</summary>
    public Memory<float> BetaGradient => _betaGradient;

    /// <summary>Running mean.</summary>
    public Memory<float> RunningMean => _runningMean;

    /// <summary>Running variance (unbiased).</summary>
    public Memory<float> RunningVariance => _runningVariance;

    /// <summary>Normalises <paramref name="x"/> into <paramref name="y"/> (may be the same span).</summary>
    /// <param name="x">X, <c>[C × batch·Spatial]</c>.</param>
    /// <param name="y">Y, same shape.</param>
    /// <param name="batch">Images.</param>
    /// <param name="training">Batch statistics (and update the running ones) when true; running statistics when false.</param>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, bool training) => Run(x, y, batch, training, relu: false);

    /// <summary>BatchNorm followed by ReLU in one pass: <c>y = max(BN(x), 0)</c>.</summary>
    /// <param name="x">X, <c>[C × batch·Spatial]</c>.</param>
    /// <param name="y">Y, same shape; a separate buffer, since <see cref="BackwardRelu"/> needs both x and y.</param>
    /// <param name="batch">Images.</param>
    /// <param name="training">Batch statistics when true; running statistics when false.</param>
    public void ForwardRelu(ReadOnlySpan<float> x, Span<float> y, int batch, bool training) => Run(x, y, batch, training, relu: true);

    private void Run(ReadOnlySpan<float> x, Span<float> y, int batch, bool training, bool relu)
    {
        Check.Batch(batch, MaxBatch);
        int n = batch * Spatial;
        if (training && n < 2) throw new ArgumentOutOfRangeException(nameof(batch), "Training mode needs more than one value per channel.");
        if (x.Length < Channels * n || y.Length < Channels * n) throw new ArgumentException("A span is shorter than C·batch·Spatial.", nameof(x));
        ReadOnlySpan<float> gamma = _gamma.Span, beta = _beta.Span;
        Span<float> rm = _runningMean.Span, rv = _runningVariance.Span;
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<float> xc = x.Slice(c * n, n);
            float mean, inverseStd;
            if (training)
            {
                double m = WideSums.Sum(xc) / n;
                mean = (float)m;
                double squares = WideSums.CenteredSquares(xc, mean);
                double variance = squares / n;
                inverseStd = (float)(1.0 / Math.Sqrt(variance + Epsilon));
                rm[c] = (1f - Momentum) * rm[c] + Momentum * mean;
                rv[c] = (1f - Momentum) * rv[c] + Momentum * (float)(squares / (n - 1));
            }
            else
            {
                mean = rm[c];
                inverseStd = (float)(1.0 / Math.Sqrt(rv[c] + (double)Epsilon));
            }
            _mean[c] = mean;
            _inverseStd[c] = inverseStd;
            float alpha = gamma[c] * inverseStd;
            if (relu) BatchNormKernels.AffineRelu(xc, alpha, beta[c] - mean * alpha, y.Slice(c * n, n));
            else Affine.Run(xc, alpha, beta[c] - mean * alpha, y.Slice(c * n, n));
        }
        if (training) BatchesTracked++;
        _lastTraining = training;
    }

    /// <summary>Backward pass of the last <see cref="Forward"/>: writes dγ, dβ and dx.</summary>
    /// <param name="x">The forward input, <c>[C × batch·Spatial]</c>.</param>
    /// <param name="dy">dL/dY.</param>
    /// <param name="dx">dL/dX (may alias <paramref name="dy"/>, not <paramref name="x"/>).</param>
    /// <param name="batch">Images of the last forward.</param>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch) =>
        Backprop(x, ReadOnlySpan<float>.Empty, dy, dx, batch);

    /// <summary>Backward pass of the last <see cref="ForwardRelu"/>: the ReLU's gradient mask (<c>y &gt; 0</c>) is applied on the fly.</summary>
    /// <param name="x">The forward input.</param>
    /// <param name="y">The forward output (post-ReLU).</param>
    /// <param name="dy">dL/dY.</param>
    /// <param name="dx">dL/dX (may alias <paramref name="dy"/>, not <paramref name="x"/> or <paramref name="y"/>).</param>
    /// <param name="batch">Images of the last forward.</param>
    public void BackwardRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        if (y.Length < Channels * batch * Spatial) throw new ArgumentException("Y is shorter than C·batch·Spatial.", nameof(y));
        Backprop(x, y, dy, dx, batch);
    }

    private void Backprop(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        Check.Batch(batch, MaxBatch);
        int n = batch * Spatial;
        if (x.Length < Channels * n || dy.Length < Channels * n || dx.Length < Channels * n) throw new ArgumentException("A span is shorter than C·batch·Spatial.", nameof(x));
        ReadOnlySpan<float> gamma = _gamma.Span;
        Span<float> dg = _gammaGradient.Span, db = _betaGradient.Span;
        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<float> xc = x.Slice(c * n, n), dyc = dy.Slice(c * n, n);
            ReadOnlySpan<float> yc = y.IsEmpty ? y : y.Slice(c * n, n);
            Span<float> dxc = dx.Slice(c * n, n);
            float mean = _mean[c], inverseStd = _inverseStd[c];
            BatchNormKernels.Reduce(xc, mean, dyc, yc, out double sum, out double dot);
            dg[c] = (float)(dot * inverseStd);
            db[c] = (float)sum;
            float a = gamma[c] * inverseStd;
            if (!_lastTraining)
            {
                BatchNormKernels.InputGradient(xc, dyc, yc, a, 0f, 0f, dxc);
                continue;
            }
            // dx = a·(dy − sum/N − (x − μ)·k), k = dot·σ⁻²/N, as dx = x·b + (dy·a + c0).
            double k = dot * inverseStd * inverseStd / n;
            float bx = (float)(-k * a);
            float c0 = (float)((mean * k - sum / n) * a);
            BatchNormKernels.InputGradient(xc, dyc, yc, a, bx, c0, dxc);
        }
    }
}
