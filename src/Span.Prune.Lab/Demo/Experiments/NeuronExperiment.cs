using System.Diagnostics;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 4 (mlp): whole neurons of both hidden layers (fc1's 300 and fc2's 100 units), each layer at s ∈
/// {0.3, 0.5, 0.7}, by l1, l2, apoz, mean_activation, taylor (<c>|Σ_row ḡ·w|</c>), regression and random; one-shot at
/// every point, fine-tuned at 0.5. A pruned neuron has its weight row and bias masked (<see cref="MaskSet.RestrictUnits"/>);
/// regression instead selects the consumer's input columns and refits the consumer's weights
/// (<see cref="MlpPruning.PruneNeuronsByRegression"/>: fc2 for fc1's units, then fc3 for fc2's, both from the dense
/// network's statistics), and masks the producer's rows too. <c>sparsity</c> is the achieved fraction of hidden units
/// removed (over both hidden layers). Quick: l1 and apoz at 0.5.
/// </summary>
public sealed class NeuronExperiment : IDemoExperiment
{
    /// <summary>The sparsities of a full run.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.3, 0.5, 0.7];

    /// <summary>The sparsity at which every criterion is also fine-tuned.</summary>
    public const double FineTunedSparsity = 0.5;

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Neurons;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => context?.Covers(DemoModel.Mlp) == true;

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        NetworkStatistics statistics = MlpPruning.StatisticsOf(context, dense);
        bool quick = context.Options.Quick;
        NeuronCriterion[] criteria = quick
            ? [NeuronCriterion.L1, NeuronCriterion.Apoz]
            : [NeuronCriterion.L1, NeuronCriterion.L2, NeuronCriterion.Apoz, NeuronCriterion.MeanActivation, NeuronCriterion.Taylor, NeuronCriterion.Regression, NeuronCriterion.Random];
        IReadOnlyList<double> sparsities = quick ? [FineTunedSparsity] : Sparsities;
        foreach (NeuronCriterion criterion in criteria)
        {
            foreach (double s in sparsities)
            {
                long start = Stopwatch.GetTimestamp();
                ReferenceNetwork network = DemoContext.Copy(dense);
                var masks = new MaskSet(network);
                int removed = 0, units = 0;
                for (int i = 0; i < 2; i++)
                {
                    PrunableLayer layer = network.Layers[i];
                    byte[] keep = criterion == NeuronCriterion.Regression
                        ? MlpPruning.PruneNeuronsByRegression(network, statistics, i, s, masks)
                        : MlpPruning.UnitMask(layer, statistics.Layers[i], criterion, s);
                    masks.RestrictUnits(layer, keep);
                    removed += keep.Count(k => k == 0);
                    units += keep.Length;
                }
                masks.Apply();
                double oneShot = context.Accuracy(network);
                double? fineTuned = null;
                if (s == FineTunedSparsity)
                {
                    context.FineTune(network, masks);
                    fineTuned = context.Accuracy(network);
                }
                yield return new DemoRow
                {
                    Model = DemoModel.Mlp,
                    Experiment = DemoExperiment.Neurons,
                    Criterion = MlpPruning.Name(criterion),
                    Granularity = "row",
                    Sparsity = (double)removed / units,
                    OneShot = oneShot,
                    FineTuned = fineTuned,
                    Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
                };
            }
        }
    }
}
