using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>Experiment 1: the dense networks trained with the fixed recipe (mlp, cnn, slimming-trained cnn).</summary>
public sealed class DenseExperiment : IDemoExperiment
{
    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Dense;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => true;

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach ((DemoModel model, ReferenceArchitecture architecture, bool slimming) in new[]
        {
            (DemoModel.Mlp, ReferenceArchitecture.Mlp, false),
            (DemoModel.Cnn, ReferenceArchitecture.Cnn, false),
            (DemoModel.Cnn, ReferenceArchitecture.Cnn, true),
        })
        {
            if (!context.Covers(model)) continue;
            ReferenceNetwork network = null!;
            double seconds = DemoContext.Time(() => network = context.Dense(architecture, slimming));
            yield return new DemoRow
            {
                Model = model,
                Experiment = DemoExperiment.Dense,
                Accuracy = context.Accuracy(network),
                Slimming = model == DemoModel.Cnn ? slimming : null,
                Params = network.Layers.Sum(l => (long)l.Weight.Length + l.Bias.Length),
                Macs = DenseMacs(network),
                Seconds = seconds,
            };
        }
    }

    /// <summary>Multiply-adds of one inference: weight elements times output positions (28² before pool 1, 14² before pool 2).</summary>
    /// <param name="network">The network.</param>
    /// <returns>MACs per image.</returns>
    public static long DenseMacs(ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.Architecture == ReferenceArchitecture.Mlp) return network.Layers.Sum(l => (long)l.Weight.Length);
        IReadOnlyList<PrunableLayer> layers = network.Layers;
        return (long)layers[0].Weight.Length * 28 * 28 + (long)layers[1].Weight.Length * 14 * 14 + layers[2].Weight.Length;
    }
}
