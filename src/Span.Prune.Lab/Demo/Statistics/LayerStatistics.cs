namespace Span.Prune.Lab.Demo.Statistics;

/// <summary>
/// The statistics of one prunable layer (linear or convolution), collected from real forward and backward passes by
/// <see cref="NetworkStatistics.Collect"/>. Every array is laid out as the core library and <c>sprune prune --stats</c>
/// expect it, on the weight's 2-D view <c>[Out, RowLength]</c> (<c>RowLength = In·kh·kw</c>, OIHW row-major).
/// </summary>
/// <remarks>
/// <para>Per weight (<c>Out·RowLength</c> floats): <see cref="MeanGradient"/> <c>ḡ = (1/n)·Σ_b g_b</c>,
/// <see cref="Fisher"/> <c>F = (1/n)·Σ_b g_b²</c> (<see cref="FisherAccumulator"/>) and <see cref="Taylor"/>
/// <c>(1/n)·Σ_b |g_b·w|</c> (<see cref="TaylorAccumulator.CopyMeanAbsoluteTo"/>), with <c>g_b</c> the gradient of batch b's
/// mean loss and n the number of batches.</para>
/// <para>Per input feature (<c>RowLength</c>): <see cref="InputNorms"/> <c>‖X_j‖₂</c> over every token the layer saw: one
/// token per image for a linear layer, one per image and output position (im2col column) for a convolution
/// (<see cref="ActivationAccumulator.CopyNormsTo"/> over the layer's inputs).</para>
/// <para>Per output unit (<c>Out</c>), not for the last layer: <see cref="Apoz"/> and <see cref="MeanActivation"/> of the
/// post-ReLU outputs (after the BatchNorm, if any), over images and positions (<see cref="ActivationAccumulator"/>).</para>
/// <para>Regression samples of the layer as a consumer: <see cref="Inputs"/> X <c>[Samples, RowLength]</c> (a linear
/// layer: every image's input; a convolution: im2col rows at <see cref="NetworkStatistics.PositionsPerImage"/> seeded
/// positions per image) and <see cref="Targets"/> Y <c>[Samples, Out]</c> = <c>X·Wᵀ</c>, the pre-activation outputs at
/// those samples without the bias (a refit keeps the bias, so it reconstructs the product only).</para>
/// </remarks>
public sealed class LayerStatistics
{
    internal LayerStatistics(int index, string name, WeightShape shape, string weightName, int samples)
    {
        Index = index;
        Name = name;
        Shape = shape;
        WeightName = weightName;
        Samples = samples;
        MeanGradient = new float[shape.ElementCount];
        Fisher = new float[shape.ElementCount];
        Taylor = new float[shape.ElementCount];
        InputNorms = new float[shape.RowLength];
        Inputs = new float[(long)samples * shape.RowLength];
        Targets = new float[(long)samples * shape.Out];
    }

    /// <summary>Position of the layer in <see cref="Training.ReferenceNetwork.Layers"/>.</summary>
    public int Index { get; }

    /// <summary>Module name, e.g. <c>fc1</c> or <c>conv2</c>.</summary>
    public string Name { get; }

    /// <summary>The weight's state_dict name, e.g. <c>fc1.weight</c>: the prefix of the statistics' names in a stats file.</summary>
    public string WeightName { get; }

    /// <summary>The weight's shape.</summary>
    public WeightShape Shape { get; }

    /// <summary>Mean gradient <c>ḡ</c> per weight (<c>W.grad</c>).</summary>
    public float[] MeanGradient { get; }

    /// <summary>Empirical Fisher diagonal, mean <c>g²</c> per weight (<c>W.fisher</c>).</summary>
    public float[] Fisher { get; }

    /// <summary>Taylor importance, mean over batches of <c>|g·w|</c> per weight.</summary>
    public float[] Taylor { get; }

    /// <summary>Wanda input norms <c>‖X_j‖₂</c> per input feature, <c>RowLength</c> floats (<c>W.input_norm</c>).</summary>
    public float[] InputNorms { get; }

    /// <summary>Average Percentage of Zeros per output unit (<c>W.apoz</c>); null for the last layer (no ReLU).</summary>
    public float[]? Apoz { get; internal set; }

    /// <summary>Mean post-ReLU activation per output unit; null for the last layer.</summary>
    public float[]? MeanActivation { get; internal set; }

    /// <summary>Rows of <see cref="Inputs"/> and <see cref="Targets"/>.</summary>
    public int Samples { get; }

    /// <summary>Sampled inputs X <c>[Samples, RowLength]</c> (<c>W.inputs</c>).</summary>
    public float[] Inputs { get; }

    /// <summary>Sampled outputs Y = <c>X·Wᵀ</c> <c>[Samples, Out]</c> (<c>W.targets</c>).</summary>
    public float[] Targets { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Shape}, {Samples} samples";
}
