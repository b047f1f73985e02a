using Span.Prune.Lab.Training.Kernels;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Lab.Training;

/// <summary>
/// The small CNN: <c>conv1</c> 1 → 16 (3×3, pad 1), <c>bn1</c>, ReLU, max-pool 2; <c>conv2</c> 16 → 32 (3×3, pad 1),
/// <c>bn2</c>, ReLU, max-pool 2; <c>fc</c> 1568 → 10.
/// </summary>
/// <remarks>
/// <para>Tensors (state_dict order): <c>conv1.weight [16, 1, 3, 3]</c>, <c>conv1.bias</c>, <c>bn1.weight</c>,
/// <c>bn1.bias</c>, <c>bn1.running_mean</c>, <c>bn1.running_var</c>, the same for <c>conv2</c> / <c>bn2</c> (32 channels),
/// <c>fc.weight [10, 1568]</c>, <c>fc.bias [10]</c>. The channel counts can be made smaller for tests.</para>
/// <para>Activations are <c>[C × B × H × W]</c>; the input batch (<c>[B × 784]</c> image-major) is already
/// <c>[1 × B × 28 × 28]</c>. The flatten before <c>fc</c> follows PyTorch's NCHW order: input feature
/// <c>c·49 + s</c> is channel <c>c</c>, position <c>s</c> of the 7×7 map, so channel <c>c</c> owns 49 consecutive columns
/// of <c>fc.weight</c>.</para>
/// </remarks>
public sealed class CnnNetwork : ReferenceNetwork
{
    private const int Side1 = ImageSide, Side2 = ImageSide / 2, Side3 = ImageSide / 4;
    private const int Plane1 = Side1 * Side1, Plane2 = Side2 * Side2, Plane3 = Side3 * Side3;

    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm2d _bn1, _bn2;
    private readonly MaxPool2x2 _pool1, _pool2;
    private readonly Linear _fc;
    private readonly PrunableLayer[] _layers;
    private readonly float[] _input, _a1, _z1, _dz1, _p1, _dp1, _a2, _z2, _dz2, _p2, _dp2, _f, _df, _logits;

    /// <summary>A zero-filled network (call <see cref="ReferenceNetwork.Initialize"/>) for batches of up to <paramref name="maxBatch"/>.</summary>
    public CnnNetwork(int maxBatch, int channels1 = 16, int channels2 = 32)
        : base(maxBatch, Specs(channels1, channels2))
    {
        Channels1 = channels1;
        Channels2 = channels2;
        _conv1 = MakeConv(0, 1, channels1, Side1);
        _bn1 = MakeBatchNorm(2, channels1, Plane1);
        _conv2 = MakeConv(6, channels1, channels2, Side2);
        _bn2 = MakeBatchNorm(8, channels2, Plane2);
        NetworkTensor w = TensorAt(12), b = TensorAt(13);
        _fc = new Linear(channels2 * Plane3, Classes, maxBatch, w.Values, b.Values, w.Gradient, b.Gradient);
        _pool1 = new MaxPool2x2(Side1, Side1, channels1 * maxBatch);
        _pool2 = new MaxPool2x2(Side2, Side2, channels2 * maxBatch);
        _layers =
        [
            Describe(0, "conv1", WeightShape.Conv2D(channels1, 1, 3, 3), relu: true, batchNorm: true, 0),
            Describe(1, "conv2", WeightShape.Conv2D(channels2, channels1, 3, 3), relu: true, batchNorm: true, 6),
            Describe(2, "fc", WeightShape.Linear(Classes, channels2 * Plane3), relu: false, batchNorm: false, 12),
        ];
        _input = new float[maxBatch * Plane1];
        _a1 = new float[channels1 * maxBatch * Plane1];
        _z1 = new float[_a1.Length];
        _dz1 = new float[_a1.Length];
        _p1 = new float[channels1 * maxBatch * Plane2];
        _dp1 = new float[_p1.Length];
        _a2 = new float[channels2 * maxBatch * Plane2];
        _z2 = new float[_a2.Length];
        _dz2 = new float[_a2.Length];
        _p2 = new float[channels2 * maxBatch * Plane3];
        _dp2 = new float[_p2.Length];
        _f = new float[_p2.Length];
        _df = new float[_p2.Length];
        _logits = new float[Classes * maxBatch];
    }

    private static TensorSpec[] Specs(int c1, int c2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c2);
        return
        [
            new("conv1.weight", [c1, 1, 3, 3], TensorRole.Weight), new("conv1.bias", [c1], TensorRole.Bias),
            new("bn1.weight", [c1], TensorRole.BatchNormScale), new("bn1.bias", [c1], TensorRole.BatchNormShift),
            new("bn1.running_mean", [c1], TensorRole.RunningMean), new("bn1.running_var", [c1], TensorRole.RunningVariance),
            new("conv2.weight", [c2, c1, 3, 3], TensorRole.Weight), new("conv2.bias", [c2], TensorRole.Bias),
            new("bn2.weight", [c2], TensorRole.BatchNormScale), new("bn2.bias", [c2], TensorRole.BatchNormShift),
            new("bn2.running_mean", [c2], TensorRole.RunningMean), new("bn2.running_var", [c2], TensorRole.RunningVariance),
            new("fc.weight", [Classes, c2 * Plane3], TensorRole.Weight), new("fc.bias", [Classes], TensorRole.Bias),
        ];
    }

    private Conv2d MakeConv(int tensor, int inChannels, int outChannels, int side)
    {
        NetworkTensor w = TensorAt(tensor), b = TensorAt(tensor + 1);
        return new Conv2d(inChannels, outChannels, side, side, 3, 1, MaxBatch, w.Values, b.Values, w.Gradient, b.Gradient);
    }

    private BatchNorm2d MakeBatchNorm(int tensor, int channels, int spatial)
    {
        NetworkTensor g = TensorAt(tensor), b = TensorAt(tensor + 1), m = TensorAt(tensor + 2), v = TensorAt(tensor + 3);
        return new BatchNorm2d(channels, spatial, MaxBatch, g.Values, b.Values, g.Gradient, b.Gradient, m.Values, v.Values);
    }

    /// <inheritdoc/>
    public override ReferenceArchitecture Architecture => ReferenceArchitecture.Cnn;

    /// <summary>Channels of conv1 (16).</summary>
    public int Channels1 { get; }

    /// <summary>Channels of conv2 (32).</summary>
    public int Channels2 { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<PrunableLayer> Layers => _layers;

    /// <summary>conv1 (0) or conv2 (1).</summary>
    public Conv2d Convolution(int index) => index switch { 0 => _conv1, 1 => _conv2, _ => throw new ArgumentOutOfRangeException(nameof(index)) };

    /// <summary>bn1 (0) or bn2 (1).</summary>
    public BatchNorm2d BatchNorm(int index) => index switch { 0 => _bn1, 1 => _bn2, _ => throw new ArgumentOutOfRangeException(nameof(index)) };

    /// <summary>The classifier.</summary>
    public Linear Classifier => _fc;

    private protected override Span<float> InputBuffer(int batch) => _input.AsSpan(0, batch * Plane1);

    private protected override Span<float> LogitBuffer => _logits;

    private protected override void ResetBatchNormCounters()
    {
        _bn1.BatchesTracked = 0;
        _bn2.BatchesTracked = 0;
    }

    private protected override void ForwardCore(int batch, bool training)
    {
        int n1 = Channels1 * batch * Plane1, n2 = Channels2 * batch * Plane2, n3 = Channels2 * batch * Plane3;
        Span<float> a1 = _a1.AsSpan(0, n1), z1 = _z1.AsSpan(0, n1), p1 = _p1.AsSpan(0, Channels1 * batch * Plane2);
        Span<float> a2 = _a2.AsSpan(0, n2), z2 = _z2.AsSpan(0, n2), p2 = _p2.AsSpan(0, n3);
        _conv1.Forward(_input.AsSpan(0, batch * Plane1), a1, batch);
        _bn1.ForwardRelu(a1, z1, batch, training);
        _pool1.Forward(z1, p1, Channels1 * batch);
        _conv2.Forward(p1, a2, batch);
        _bn2.ForwardRelu(a2, z2, batch, training);
        _pool2.Forward(z2, p2, Channels2 * batch);
        // Flatten in NCHW order: [C × B × 49] → [(C·49) × B], one [B × 49] → [49 × B] transpose per channel.
        for (int c = 0; c < Channels2; c++)
            Transpose.Run(p2.Slice(c * batch * Plane3, batch * Plane3), batch, Plane3, _f.AsSpan(c * Plane3 * batch, Plane3 * batch));
        _fc.Forward(_f.AsSpan(0, n3), _logits, batch);
    }

    private protected override void BackwardCore(int batch, ReadOnlySpan<float> logitGradient)
    {
        int n1 = Channels1 * batch * Plane1, n2 = Channels2 * batch * Plane2, n3 = Channels2 * batch * Plane3;
        Span<float> df = _df.AsSpan(0, n3), dp2 = _dp2.AsSpan(0, n3);
        _fc.Backward(_f.AsSpan(0, n3), logitGradient, df, batch);
        for (int c = 0; c < Channels2; c++)
            Transpose.Run(df.Slice(c * Plane3 * batch, Plane3 * batch), Plane3, batch, dp2.Slice(c * batch * Plane3, batch * Plane3));
        Span<float> dz2 = _dz2.AsSpan(0, n2);
        _pool2.Backward(dp2, dz2, Channels2 * batch);
        _bn2.BackwardRelu(_a2.AsSpan(0, n2), _z2.AsSpan(0, n2), dz2, dz2, batch);
        Span<float> dp1 = _dp1.AsSpan(0, Channels1 * batch * Plane2);
        _conv2.Backward(_p1.AsSpan(0, Channels1 * batch * Plane2), dz2, dp1, batch);
        Span<float> dz1 = _dz1.AsSpan(0, n1);
        _pool1.Backward(dp1, dz1, Channels1 * batch);
        _bn1.BackwardRelu(_a1.AsSpan(0, n1), _z1.AsSpan(0, n1), dz1, dz1, batch);
        _conv1.Backward(_input.AsSpan(0, batch * Plane1), dz1, Span<float>.Empty, batch);
    }

    private protected override void OnThreadsChanged(int threads)
    {
        _conv1.MaxDegreeOfParallelism = threads;
        _conv2.MaxDegreeOfParallelism = threads;
        _fc.MaxDegreeOfParallelism = threads;
    }

    /// <inheritdoc/>
    public override ActivationView LayerInput(int layer)
    {
        int b = LastBatch;
        return layer switch
        {
            0 => new ActivationView(_input.AsSpan(0, b * Plane1), 1, b, Plane1),
            1 => new ActivationView(_p1.AsSpan(0, Channels1 * b * Plane2), Channels1, b, Plane2),
            2 => new ActivationView(_f.AsSpan(0, Channels2 * Plane3 * b), Channels2 * Plane3, b, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(layer)),
        };
    }

    /// <inheritdoc/>
    public override ActivationView LayerOutput(int layer)
    {
        int b = LastBatch;
        return layer switch
        {
            0 => new ActivationView(_z1.AsSpan(0, Channels1 * b * Plane1), Channels1, b, Plane1),
            1 => new ActivationView(_z2.AsSpan(0, Channels2 * b * Plane2), Channels2, b, Plane2),
            2 => new ActivationView(_logits.AsSpan(0, Classes * b), Classes, b, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(layer)),
        };
    }

    /// <inheritdoc/>
    public override void SetForwardMultiply(int layer, IWeightMultiply? multiply)
    {
        switch (layer)
        {
            case 0: _conv1.ForwardMultiply = multiply; break;
            case 1: _conv2.ForwardMultiply = multiply; break;
            case 2: _fc.ForwardMultiply = multiply; break;
            default: throw new ArgumentOutOfRangeException(nameof(layer));
        }
    }
}
