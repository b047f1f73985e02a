using Span.Prune.Lab.Training.Kernels;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Lab.Training;

/// <summary>LeNet-300-100: <c>fc1</c> 784 → 300, ReLU, <c>fc2</c> 300 → 100, ReLU, <c>fc3</c> 100 → 10.</summary>
/// <remarks>
/// <para>Tensors (state_dict order): <c>fc1.weight [300, 784]</c>, <c>fc1.bias [300]</c>, <c>fc2.weight [100, 300]</c>,
/// <c>fc2.bias [100]</c>, <c>fc3.weight [10, 100]</c>, <c>fc3.bias [10]</c>. The hidden widths can be made smaller for
/// tests; the demo uses the defaults.</para>
/// <para>Activations are feature-major (<c>[features × batch]</c>). The input batch arrives image-major
/// (<c>[batch × 784]</c>), which is exactly <c>Xᵀ</c> for fc1's weight gradient; it is transposed once for the forward
/// GEMM. ReLU runs in place, so each hidden buffer holds the post-ReLU output.</para>
/// </remarks>
public sealed partial class MlpNetwork : ReferenceNetwork
{
    private readonly Linear _fc1, _fc2, _fc3;
    private readonly PrunableLayer[] _layers;
    private readonly float[] _inputT, _input, _h1, _h2, _logits, _dh1, _dh2;

    /// <summary>A zero-filled network (call <see cref="ReferenceNetwork.Initialize"/>) for batches of up to <paramref name="maxBatch"/>.</summary>
    public MlpNetwork(int maxBatch, int hidden1 = 300, int hidden2 = 100)
        : base(maxBatch, Specs(hidden1, hidden2))
    {
        Hidden1 = hidden1;
        Hidden2 = hidden2;
        _fc1 = Make(0, InputSize, hidden1);
        _fc2 = Make(2, hidden1, hidden2);
        _fc3 = Make(4, hidden2, Classes);
        _layers =
        [
            Describe(0, "fc1", WeightShape.Linear(hidden1, InputSize), relu: true, batchNorm: false, 0),
            Describe(1, "fc2", WeightShape.Linear(hidden2, hidden1), relu: true, batchNorm: false, 2),
            Describe(2, "fc3", WeightShape.Linear(Classes, hidden2), relu: false, batchNorm: false, 4),
        ];
        _inputT = new float[maxBatch * InputSize];
        _input = new float[InputSize * maxBatch];
        _h1 = new float[hidden1 * maxBatch];
        _h2 = new float[hidden2 * maxBatch];
        _logits = new float[Classes * maxBatch];
        _dh1 = new float[hidden1 * maxBatch];
        _dh2 = new float[hidden2 * maxBatch];
    }

    private static TensorSpec[] Specs(int h1, int h2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(h2);
        return
        [
            new("fc1.weight", [h1, InputSize], TensorRole.Weight), new("fc1.bias", [h1], TensorRole.Bias),
            new("fc2.weight", [h2, h1], TensorRole.Weight), new("fc2.bias", [h2], TensorRole.Bias),
            new("fc3.weight", [Classes, h2], TensorRole.Weight), new("fc3.bias", [Classes], TensorRole.Bias),
        ];
    }

    private Linear Make(int tensor, int inFeatures, int outFeatures)
    {
        NetworkTensor w = TensorAt(tensor), b = TensorAt(tensor + 1);
        return new Linear(inFeatures, outFeatures, MaxBatch, w.Values, b.Values, w.Gradient, b.Gradient);
    }

    /// <inheritdoc/>
    public override ReferenceArchitecture Architecture => ReferenceArchitecture.Mlp;

    /// <summary>Width of the first hidden layer (300).</summary>
    public int Hidden1 { get; }

    /// <summary>Width of the second hidden layer (100).</summary>
    public int Hidden2 { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<PrunableLayer> Layers => _layers;

    /// <summary>The three linear layers (fc1, fc2, fc3).</summary>
    public Linear Layer(int index) => index switch { 0 => _fc1, 1 => _fc2, 2 => _fc3, _ => throw new ArgumentOutOfRangeException(nameof(index)) };

    private protected override Span<float> InputBuffer(int batch) => _inputT.AsSpan(0, batch * InputSize);

    private protected override Span<float> LogitBuffer => _logits;

    private protected override void ForwardCore(int batch, bool training)
    {
        Span<float> x = _input.AsSpan(0, InputSize * batch);
        Transpose.Run(_inputT.AsSpan(0, batch * InputSize), batch, InputSize, x);
        Span<float> h1 = _h1.AsSpan(0, Hidden1 * batch), h2 = _h2.AsSpan(0, Hidden2 * batch);
        _fc1.Forward(x, h1, batch);
        Relu.Forward(h1, h1);
        _fc2.Forward(h1, h2, batch);
        Relu.Forward(h2, h2);
        _fc3.Forward(h2, _logits, batch);
    }

    private protected override void BackwardCore(int batch, ReadOnlySpan<float> logitGradient)
    {
        Span<float> h1 = _h1.AsSpan(0, Hidden1 * batch), h2 = _h2.AsSpan(0, Hidden2 * batch);
        Span<float> dh1 = _dh1.AsSpan(0, Hidden1 * batch), dh2 = _dh2.AsSpan(0, Hidden2 * batch);
        _fc3.Backward(h2, logitGradient, dh2, batch);
        Relu.Backward(h2, dh2, dh2);
        _fc2.Backward(h1, dh2, dh1, batch);
        Relu.Backward(h1, dh1, dh1);
        _fc1.BackwardTransposedInput(_inputT.AsSpan(0, batch * InputSize), dh1, Span<float>.Empty, batch);
    }

    private protected override void OnThreadsChanged(int threads)
    {
        _fc1.MaxDegreeOfParallelism = threads;
        _fc2.MaxDegreeOfParallelism = threads;
        _fc3.MaxDegreeOfParallelism = threads;
    }

    /// <inheritdoc/>
    public override ActivationView LayerInput(int layer)
    {
        int b = LastBatch;
        return layer switch
        {
            0 => new ActivationView(_input.AsSpan(0, InputSize * b), InputSize, b, 1),
            1 => new ActivationView(_h1.AsSpan(0, Hidden1 * b), Hidden1, b, 1),
            2 => new ActivationView(_h2.AsSpan(0, Hidden2 * b), Hidden2, b, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(layer)),
        };
    }

    /// <inheritdoc/>
    public override ActivationView LayerOutput(int layer)
    {
        int b = LastBatch;
        return layer switch
        {
            0 => new ActivationView(_h1.AsSpan(0, Hidden1 * b), Hidden1, b, 1),
            1 => new ActivationView(_h2.AsSpan(0, Hidden2 * b), Hidden2, b, 1),
            2 => new ActivationView(_logits.AsSpan(0, Classes * b), Classes, b, 1),
            _ => throw new ArgumentOutOfRangeException(nameof(layer)),
        };
    }

    /// <inheritdoc/>
    public override void SetForwardMultiply(int layer, IWeightMultiply? multiply) => Layer(layer).ForwardMultiply = multiply;
}
