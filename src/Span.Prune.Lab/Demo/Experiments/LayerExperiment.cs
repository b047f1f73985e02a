using System.Diagnostics;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 3 (mlp): every one of the three linear layers (fc1, fc2, fc3) pruned to the same sparsity s at element
/// granularity by magnitude, taylor (mean <c>|g·w|</c>), obd (<c>½·F·w²</c>), wanda (per output row) and random, at
/// s ∈ {0.5, 0.7, 0.8, 0.9, 0.95}: one-shot at every point, fine-tuned at 0.9; plus 2:4 by magnitude and by Wanda,
/// one-shot and fine-tuned. Scores come from the dense network's statistics (<see cref="NetworkStatistics"/>).
/// <c>sparsity</c> is the achieved fraction of zero weights over the three weight tensors. Quick: magnitude, wanda and
/// taylor at 0.9.
/// </summary>
public sealed class LayerExperiment : IDemoExperiment
{
    /// <summary>The sparsities of a full run.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.5, 0.7, 0.8, 0.9, 0.95];

    /// <summary>The sparsity at which every criterion is also fine-tuned.</summary>
    public const double FineTunedSparsity = 0.9;

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Layer;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => context?.Covers(DemoModel.Mlp) == true;

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        NetworkStatistics statistics = MlpPruning.StatisticsOf(context, dense);
        bool quick = context.Options.Quick;
        ElementCriterion[] criteria = quick
            ? [ElementCriterion.Magnitude, ElementCriterion.Wanda, ElementCriterion.Taylor]
            : [ElementCriterion.Magnitude, ElementCriterion.Taylor, ElementCriterion.Obd, ElementCriterion.Wanda, ElementCriterion.Random];
        IReadOnlyList<double> sparsities = quick ? [FineTunedSparsity] : Sparsities;
        foreach (ElementCriterion criterion in criteria)
        {
            foreach (double s in sparsities)
            {
                long start = Stopwatch.GetTimestamp();
                ReferenceNetwork network = DemoContext.Copy(dense);
                var masks = new MaskSet(network);
                foreach (PrunableLayer layer in network.Layers)
                    masks.Restrict(layer.Weight, MlpPruning.ElementMask(layer, statistics.Layers[layer.Index], criterion, s));
                yield return Measure(context, network, masks, MlpPruning.Name(criterion), "element", s == FineTunedSparsity, start);
            }
        }
        if (quick) yield break;
        foreach (bool wanda in new[] { false, true })
        {
            long start = Stopwatch.GetTimestamp();
            ReferenceNetwork network = DemoContext.Copy(dense);
            var masks = new MaskSet(network);
            foreach (PrunableLayer layer in network.Layers)
                masks.Restrict(layer.Weight, MlpPruning.TwoFourMask(layer, statistics.Layers[layer.Index], wanda));
            yield return Measure(context, network, masks, wanda ? "wanda" : "magnitude", "nm:2:4", fineTune: true, start);
        }
    }

    private static DemoRow Measure(DemoContext context, ReferenceNetwork network, MaskSet masks, string criterion, string granularity, bool fineTune, long start)
    {
        masks.Apply();
        double sparsity = MlpPruning.WeightSparsity(network);
        double oneShot = context.Accuracy(network);
        double? fineTuned = null;
        if (fineTune)
        {
            context.FineTune(network, masks);
            fineTuned = context.Accuracy(network);
        }
        return new DemoRow
        {
            Model = DemoModel.Mlp,
            Experiment = DemoExperiment.Layer,
            Criterion = criterion,
            Granularity = granularity,
            Sparsity = sparsity,
            OneShot = oneShot,
            FineTuned = fineTuned,
            Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
        };
    }
}
