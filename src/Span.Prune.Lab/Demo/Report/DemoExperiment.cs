namespace Span.Prune.Lab.Demo;

/// <summary>
/// Which measurement of the demo a <see cref="DemoRow"/> belongs to; the markdown report has one table per
/// experiment and the sparsity plot one panel per pruning experiment. JSON names in <see cref="DemoNames.Of(DemoExperiment)"/>.
/// </summary>
public enum DemoExperiment
{
    /// <summary>The trained dense network, the baseline (<c>dense</c>).</summary>
    Dense,

    /// <summary>Unstructured pruning with one threshold across all layers (<c>global</c>).</summary>
    Global,

    /// <summary>Pruning each layer to the same sparsity (<c>layer</c>).</summary>
    Layer,

    /// <summary>Removing whole neurons of the MLP's hidden layers (<c>neurons</c>).</summary>
    Neurons,

    /// <summary>Removing whole channels of the CNN (<c>channels</c>).</summary>
    Channels,

    /// <summary>One-shot against iterative and gradual (AGP) schedules (<c>schedule</c>).</summary>
    Schedule,

    /// <summary>Inference time of pruned networks per storage format (<c>speed</c>).</summary>
    Speed,
}
