namespace Span.Prune.Lab.Training;

/// <summary>What a named tensor of a network is, so that later code can pick weights, biases or BatchNorm parameters without parsing names.</summary>
public enum TensorRole
{
    /// <summary>A linear weight <c>[out, in]</c> or a convolution weight <c>[out, in, kh, kw]</c> (OIHW).</summary>
    Weight,
    /// <summary>A layer bias <c>[out]</c>.</summary>
    Bias,
    /// <summary>BatchNorm scale γ (<c>bnN.weight</c>).</summary>
    BatchNormScale,
    /// <summary>BatchNorm shift β (<c>bnN.bias</c>).</summary>
    BatchNormShift,
    /// <summary>BatchNorm running mean (a buffer: no gradient, not optimised).</summary>
    RunningMean,
    /// <summary>BatchNorm running variance, unbiased (a buffer: no gradient, not optimised).</summary>
    RunningVariance,
}

/// <summary>
/// One named tensor of a network, a view into the network's flat arrays: PyTorch state_dict name, shape, values and
/// (for trainable tensors) the gradient of the last backward pass.
/// </summary>
/// <remarks>
/// Values and gradients alias the network's storage: writing <see cref="Values"/> changes the network. Trainable tensors
/// are views into <see cref="ReferenceNetwork.Parameters"/> / <see cref="ReferenceNetwork.Gradients"/> in the order of
/// <see cref="ReferenceNetwork.Tensors"/>; buffers are views into <see cref="ReferenceNetwork.Buffers"/> and have an
/// empty gradient. PyTorch's <c>bnN.num_batches_tracked</c> (an int64 counter) is not a float tensor and is not listed;
/// it is <see cref="Layers.BatchNorm2d.BatchesTracked"/>.
/// </remarks>
public sealed class NetworkTensor
{
    private readonly int[] _shape;

    internal NetworkTensor(int index, string name, int[] shape, TensorRole role, Memory<float> values, Memory<float> gradient)
    {
        Index = index;
        Name = name;
        _shape = shape;
        Role = role;
        Values = values;
        Gradient = gradient;
    }

    /// <summary>Position in <see cref="ReferenceNetwork.Tensors"/> (state_dict order).</summary>
    public int Index { get; }

    /// <summary>PyTorch state_dict name, e.g. <c>fc1.weight</c>, <c>bn1.running_var</c>.</summary>
    public string Name { get; }

    /// <summary>Shape as PyTorch reports it (a copy): <c>[out, in]</c>, <c>[out, in, kh, kw]</c> or <c>[n]</c>.</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>Number of elements.</summary>
    public int Length => Values.Length;

    /// <summary>What the tensor is.</summary>
    public TensorRole Role { get; }

    /// <summary>True for optimised parameters (weights, biases, γ, β); false for BatchNorm running statistics.</summary>
    public bool IsTrainable => Role is not (TensorRole.RunningMean or TensorRole.RunningVariance);

    /// <summary>The tensor's values (row-major in <see cref="Shape"/>), aliasing the network.</summary>
    public Memory<float> Values { get; }

    /// <summary>The loss gradient of the last backward pass (empty for buffers), aliasing the network.</summary>
    public Memory<float> Gradient { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(", ", _shape)}]";
}
