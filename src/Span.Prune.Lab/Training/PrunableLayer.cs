namespace Span.Prune.Lab.Training;

/// <summary>
/// One linear or convolution layer of a network with the tensors that belong to its output units: the weight, the bias
/// and, when a BatchNorm follows, its γ, β and running statistics.
/// </summary>
/// <remarks>
/// A structured (per output unit) pruning mask covers weight row <c>u</c>, <c>bias[u]</c>, <c>γ[u]</c> and <c>β[u]</c>
/// (see <see cref="MaskSet.RestrictUnits"/>). <see cref="Shape"/> is the core's view of the weight, for scoring and
/// selection.
/// </remarks>
public sealed class PrunableLayer
{
    internal PrunableLayer(int index, string name, WeightShape shape, NetworkTensor weight, NetworkTensor bias,
        NetworkTensor? scale, NetworkTensor? shift, NetworkTensor? runningMean, NetworkTensor? runningVariance, bool followedByRelu)
    {
        Index = index;
        Name = name;
        Shape = shape;
        Weight = weight;
        Bias = bias;
        BatchNormScale = scale;
        BatchNormShift = shift;
        RunningMean = runningMean;
        RunningVariance = runningVariance;
        FollowedByRelu = followedByRelu;
    }

    /// <summary>Position in <see cref="ReferenceNetwork.Layers"/> (forward order).</summary>
    public int Index { get; }

    /// <summary>Module name, e.g. <c>fc1</c> or <c>conv2</c>.</summary>
    public string Name { get; }

    /// <summary>The weight's shape: <c>Linear(out, in)</c> or <c>Conv2D(out, in, kh, kw)</c>.</summary>
    public WeightShape Shape { get; }

    /// <summary>True for a convolution.</summary>
    public bool IsConvolution => !Shape.IsLinear;

    /// <summary>Output units (rows of the weight).</summary>
    public int Units => Shape.Out;

    /// <summary>The weight tensor.</summary>
    public NetworkTensor Weight { get; }

    /// <summary>The bias tensor.</summary>
    public NetworkTensor Bias { get; }

    /// <summary>γ of the BatchNorm after this layer, or null.</summary>
    public NetworkTensor? BatchNormScale { get; }

    /// <summary>β of the BatchNorm after this layer, or null.</summary>
    public NetworkTensor? BatchNormShift { get; }

    /// <summary>Running mean of the BatchNorm after this layer, or null.</summary>
    public NetworkTensor? RunningMean { get; }

    /// <summary>Running variance of the BatchNorm after this layer, or null.</summary>
    public NetworkTensor? RunningVariance { get; }

    /// <summary>True when a ReLU follows (after the BatchNorm, if any); false for the classifier.</summary>
    public bool FollowedByRelu { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Shape}";
}

/// <summary>
/// A read-only view of one activation tensor of the last forward pass: element (feature <c>f</c>, image <c>b</c>,
/// position <c>s</c>) is <c>Values[(f·Batch + b)·Spatial + s]</c>.
/// </summary>
/// <remarks>
/// Linear layers see <c>[features × batch]</c> (<see cref="Spatial"/> = 1); convolution layers see
/// <c>[channels × batch × H × W]</c> (<see cref="Spatial"/> = H·W). The view aliases the network's buffers and is valid
/// until the next forward pass.
/// </remarks>
public readonly ref struct ActivationView
{
    internal ActivationView(ReadOnlySpan<float> values, int features, int batch, int spatial)
    {
        Values = values;
        Features = features;
        Batch = batch;
        Spatial = spatial;
    }

    /// <summary>The values, <c>Features·Batch·Spatial</c> long.</summary>
    public ReadOnlySpan<float> Values { get; }

    /// <summary>Features (linear) or channels (convolution).</summary>
    public int Features { get; }

    /// <summary>Images in the batch.</summary>
    public int Batch { get; }

    /// <summary>Positions per feature and image (1 for a linear layer, H·W for a convolution).</summary>
    public int Spatial { get; }

    /// <summary>The run of feature <paramref name="feature"/> (all images, all positions: <c>Batch·Spatial</c> values).</summary>
    public ReadOnlySpan<float> Feature(int feature) => Values.Slice(feature * Batch * Spatial, Batch * Spatial);
}
