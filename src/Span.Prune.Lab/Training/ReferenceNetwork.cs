using System.Numerics.Tensors;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Lab.Training;

/// <summary>The two reference networks of the demo.</summary>
public enum ReferenceArchitecture
{
    /// <summary>LeNet-300-100: 784 → 300 → 100 → 10 with ReLU (<see cref="MlpNetwork"/>).</summary>
    Mlp,
    /// <summary>Two conv–BatchNorm–ReLU–pool stages and a linear classifier (<see cref="CnnNetwork"/>).</summary>
    Cnn,
}

/// <summary>
/// A fixed, written-out network over 28×28 grey images and 10 classes: flat parameter, gradient and buffer arrays, named
/// tensor views in PyTorch state_dict order, preallocated activations for up to <see cref="MaxBatch"/> images, forward,
/// loss, backward and batched evaluation.
/// </summary>
/// <remarks>
/// <para>Input: bytes, image-major (<c>batch·784</c>, row-major 28×28 per image), scaled to <c>x/255</c> as
/// torchvision's <c>ToTensor</c> does, with no normalisation.</para>
/// <para>Use: <see cref="Forward(ReadOnlySpan{byte}, int, bool)"/>, then <see cref="ComputeLoss"/> (which also
/// writes dL/dlogits), then <see cref="Backward"/>, which overwrites <see cref="Gradients"/>. Nothing is allocated per
/// batch. The activations of the last forward pass are readable through <see cref="LayerInput"/> and
/// <see cref="LayerOutput"/>.</para>
/// <para>Determinism: every kernel runs a fixed sequence of operations for a given batch size and machine, so the same
/// initial state and data give bit-identical results, whatever <see cref="MaxDegreeOfParallelism"/> is.</para>
/// </remarks>
public abstract class ReferenceNetwork
{
    /// <summary>Pixels per image.</summary>
    public const int InputSize = ImageSide * ImageSide;

    /// <summary>Image height and width.</summary>
    public const int ImageSide = 28;

    /// <summary>Output classes.</summary>
    public const int Classes = 10;

    private readonly float[] _parameters, _gradients, _buffers;
    private readonly NetworkTensor[] _tensors;
    private readonly float[] _logitGradient;
    private int _threads = 1;

    private protected ReferenceNetwork(int maxBatch, ReadOnlySpan<TensorSpec> specs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        MaxBatch = maxBatch;
        int parameterCount = 0, bufferCount = 0;
        foreach (var s in specs)
        {
            if (IsBuffer(s.Role)) bufferCount += s.Length;
            else parameterCount += s.Length;
        }
        _parameters = new float[parameterCount];
        _gradients = new float[parameterCount];
        _buffers = new float[bufferCount];
        _tensors = new NetworkTensor[specs.Length];
        int p = 0, q = 0;
        for (int i = 0; i < specs.Length; i++)
        {
            var s = specs[i];
            if (IsBuffer(s.Role))
            {
                _tensors[i] = new NetworkTensor(i, s.Name, s.Shape, s.Role, _buffers.AsMemory(q, s.Length), Memory<float>.Empty);
                q += s.Length;
            }
            else
            {
                _tensors[i] = new NetworkTensor(i, s.Name, s.Shape, s.Role, _parameters.AsMemory(p, s.Length), _gradients.AsMemory(p, s.Length));
                p += s.Length;
            }
        }
        _logitGradient = new float[Classes * maxBatch];
    }

    private static bool IsBuffer(TensorRole role) => role is TensorRole.RunningMean or TensorRole.RunningVariance;

    /// <summary>Which network this is.</summary>
    public abstract ReferenceArchitecture Architecture { get; }

    /// <summary>Largest batch the preallocated activations hold.</summary>
    public int MaxBatch { get; }

    /// <summary>Images in the last forward pass.</summary>
    public int LastBatch { get; private protected set; }

    /// <summary>Every tensor in PyTorch state_dict order (parameters and BatchNorm running statistics).</summary>
    public IReadOnlyList<NetworkTensor> Tensors => _tensors;

    /// <summary>The linear and convolution layers in forward order, each with the tensors of its output units.</summary>
    public abstract IReadOnlyList<PrunableLayer> Layers { get; }

    /// <summary>All trainable parameters, concatenated in <see cref="Tensors"/> order (the optimiser's view).</summary>
    public Memory<float> Parameters => _parameters;

    /// <summary>The gradients of the last backward pass, aligned with <see cref="Parameters"/>.</summary>
    public Memory<float> Gradients => _gradients;

    /// <summary>The BatchNorm running statistics, concatenated in <see cref="Tensors"/> order (empty for the MLP).</summary>
    public Memory<float> Buffers => _buffers;

    /// <summary>Threads for the dense GEMMs (1 = the calling thread only). Results are bit-identical for any value.</summary>
    public int MaxDegreeOfParallelism
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _threads = value;
            OnThreadsChanged(value);
        }
    }

    /// <summary>The tensor named <paramref name="name"/> (state_dict name).</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public NetworkTensor Tensor(string name)
    {
        foreach (var t in _tensors)
            if (t.Name == name) return t;
        throw new KeyNotFoundException($"No tensor is named '{name}'.");
    }

    /// <summary>
    /// PyTorch's default initialisation from a seeded stream (<see cref="SeededRandom"/>): every weight and bias
    /// <c>U(−1/√fan_in, 1/√fan_in)</c> with <c>fan_in = in·kh·kw</c>, drawn tensor by tensor in state_dict order (weight, then
    /// bias); γ = 1, β = 0, running mean 0, running variance 1, no batches tracked. Gradients are cleared.
    /// </summary>
    public void Initialize(ulong seed)
    {
        var random = new SeededRandom(seed);
        foreach (var layer in Layers)
        {
            float bound = 1f / MathF.Sqrt(layer.Shape.RowLength);
            random.FillUniform(layer.Weight.Values.Span, -bound, bound);
            random.FillUniform(layer.Bias.Values.Span, -bound, bound);
            layer.BatchNormScale?.Values.Span.Fill(1f);
            layer.BatchNormShift?.Values.Span.Clear();
            layer.RunningMean?.Values.Span.Clear();
            layer.RunningVariance?.Values.Span.Fill(1f);
        }
        ResetBatchNormCounters();
        _gradients.AsSpan().Clear();
    }

    /// <summary>Forward pass over <paramref name="batch"/> images of bytes (<c>batch·784</c>, image-major).</summary>
    /// <param name="images">Pixels 0–255, image after image.</param>
    /// <param name="batch">Images, 1 to <see cref="MaxBatch"/>.</param>
    /// <param name="training">BatchNorm uses (and updates) batch statistics when true, running statistics when false.</param>
    public void Forward(ReadOnlySpan<byte> images, int batch, bool training)
    {
        Check.Batch(batch, MaxBatch);
        if (images.Length < batch * InputSize) throw new ArgumentException("Images are shorter than batch·784.", nameof(images));
        Span<float> input = InputBuffer(batch);
        // x/255 as torchvision's ToTensor: an exact conversion, then a correctly rounded division (the same bits as
        // the scalar (float)b / 255f, vectorised).
        TensorPrimitives.ConvertTruncating<byte, float>(images[..input.Length], input);
        TensorPrimitives.Divide(input, 255f, input);
        Run(batch, training);
    }

    /// <summary>Forward pass over float images (<c>batch·784</c>, image-major, already scaled).</summary>
    public void Forward(ReadOnlySpan<float> images, int batch, bool training)
    {
        Check.Batch(batch, MaxBatch);
        if (images.Length < batch * InputSize) throw new ArgumentException("Images are shorter than batch·784.", nameof(images));
        images[..(batch * InputSize)].CopyTo(InputBuffer(batch));
        Run(batch, training);
    }

    private void Run(int batch, bool training)
    {
        LastBatch = batch;
        ForwardCore(batch, training);
    }

    /// <summary>The logits of the last forward pass, <c>[10 × batch]</c> (class-major).</summary>
    public ReadOnlySpan<float> Logits => LogitBuffer[..(Classes * LastBatch)];

    /// <summary>
    /// Mean softmax cross-entropy of the last forward pass against <paramref name="labels"/>; also writes dL/dlogits for
    /// <see cref="Backward"/>.
    /// </summary>
    public double ComputeLoss(ReadOnlySpan<byte> labels)
    {
        if (LastBatch == 0) throw new InvalidOperationException("Run a forward pass first.");
        return SoftmaxCrossEntropy.Compute(Logits, labels, Classes, LastBatch, _logitGradient);
    }

    /// <summary>Backward pass of the last forward (after <see cref="ComputeLoss"/>): overwrites <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        if (LastBatch == 0) throw new InvalidOperationException("Run a forward pass first.");
        BackwardCore(LastBatch, _logitGradient.AsSpan(0, Classes * LastBatch));
    }

    /// <summary>Whether <see cref="TrainStep"/> can run the next training step (the trainer falls back to
    /// forward, loss, backward and <see cref="SgdMomentum.Step"/> otherwise).</summary>
    internal virtual bool CanFuseTrainingStep => false;

    /// <summary>
    /// One training step fused across layers: gathers images <paramref name="images"/> of <paramref name="pixels"/>, runs
    /// forward, loss, backward and the optimiser, and returns the loss. Leaves the network, its gradients and
    /// <paramref name="optimizer"/> bit for bit as <see cref="Forward(ReadOnlySpan{byte}, int, bool)"/>,
    /// <see cref="ComputeLoss"/>, <see cref="Backward"/> and <see cref="SgdMomentum.Step"/> would.
    /// </summary>
    internal virtual double TrainStep(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> images, ReadOnlySpan<byte> labels,
        SgdMomentum optimizer, float learningRate, Kernels.WorkerTeam? team) => throw new NotSupportedException();

    /// <summary>The input of layer <paramref name="layer"/> in the last forward pass.</summary>
    public abstract ActivationView LayerInput(int layer);

    /// <summary>The output of layer <paramref name="layer"/> in the last forward pass: after its BatchNorm and ReLU when it has them, else the logits.</summary>
    public abstract ActivationView LayerOutput(int layer);

    /// <summary>Sets (or clears, with null) the forward product of layer <paramref name="layer"/>, e.g. a <see cref="SparseLayerMultiply"/>.</summary>
    public abstract void SetForwardMultiply(int layer, IWeightMultiply? multiply);

    /// <summary>Predicted class (argmax of the logits, lowest index on ties) of each of <paramref name="count"/> images, in evaluation mode.</summary>
    /// <param name="images">Pixels, <c>count·784</c>, image-major.</param>
    /// <param name="count">Images.</param>
    /// <param name="predictions">One class per image.</param>
    /// <param name="batch">Images per forward pass (1 to <see cref="MaxBatch"/>; 0 = <see cref="MaxBatch"/>).</param>
    public void Predict(ReadOnlySpan<byte> images, int count, Span<byte> predictions, int batch = 0)
    {
        if (batch == 0) batch = MaxBatch;
        Check.Batch(batch, MaxBatch);
        if (images.Length < count * InputSize) throw new ArgumentException("Images are shorter than count·784.", nameof(images));
        if (predictions.Length < count) throw new ArgumentException("Predictions are shorter than count.", nameof(predictions));
        for (int start = 0; start < count; start += batch)
        {
            int b = Math.Min(batch, count - start);
            Forward(images.Slice(start * InputSize, b * InputSize), b, training: false);
            ReadOnlySpan<float> z = Logits;
            for (int i = 0; i < b; i++)
            {
                int best = 0;
                for (int j = 1; j < Classes; j++)
                    if (z[j * b + i] > z[best * b + i]) best = j;
                predictions[start + i] = (byte)best;
            }
        }
    }

    /// <summary>Fraction of <paramref name="count"/> images whose prediction equals the label (evaluation mode).</summary>
    public double Evaluate(ReadOnlySpan<byte> images, ReadOnlySpan<byte> labels, int count, int batch = 0)
    {
        if (labels.Length < count) throw new ArgumentException("Labels are shorter than count.", nameof(labels));
        if (count == 0) return 0;
        byte[] predictions = new byte[count];
        Predict(images, count, predictions, batch);
        int correct = 0;
        for (int i = 0; i < count; i++)
            if (predictions[i] == labels[i]) correct++;
        return (double)correct / count;
    }

    /// <summary>Copies every parameter and buffer from <paramref name="source"/>, a network of the same architecture and sizes.</summary>
    public void CopyStateFrom(ReferenceNetwork source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Architecture != Architecture || source._parameters.Length != _parameters.Length || source._buffers.Length != _buffers.Length)
            throw new ArgumentException("The networks differ in shape.", nameof(source));
        source._parameters.AsSpan().CopyTo(_parameters);
        source._buffers.AsSpan().CopyTo(_buffers);
    }

    private protected abstract Span<float> InputBuffer(int batch);

    private protected abstract Span<float> LogitBuffer { get; }

    private protected abstract void ForwardCore(int batch, bool training);

    private protected abstract void BackwardCore(int batch, ReadOnlySpan<float> logitGradient);

    private protected abstract void OnThreadsChanged(int threads);

    private protected virtual void ResetBatchNormCounters()
    {
    }

    private protected PrunableLayer Describe(int index, string name, WeightShape shape, bool relu, bool batchNorm, int firstTensor)
    {
        NetworkTensor? T(int i) => batchNorm ? _tensors[firstTensor + i] : null;
        return new PrunableLayer(index, name, shape, _tensors[firstTensor], _tensors[firstTensor + 1], T(2), T(3), T(4), T(5), relu);
    }

    private protected NetworkTensor TensorAt(int index) => _tensors[index];

    /// <summary>Creates a network with PyTorch's initialisation from <paramref name="seed"/>.</summary>
    public static ReferenceNetwork Create(ReferenceArchitecture architecture, int maxBatch, ulong seed)
    {
        ReferenceNetwork n = architecture switch
        {
            ReferenceArchitecture.Mlp => new MlpNetwork(maxBatch),
            ReferenceArchitecture.Cnn => new CnnNetwork(maxBatch),
            _ => throw new ArgumentOutOfRangeException(nameof(architecture)),
        };
        n.Initialize(seed);
        return n;
    }
}

/// <summary>Declaration of one tensor: state_dict name, PyTorch shape, role.</summary>
internal readonly record struct TensorSpec(string Name, int[] Shape, TensorRole Role)
{
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}
