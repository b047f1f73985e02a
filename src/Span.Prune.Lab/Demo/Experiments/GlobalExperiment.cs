using System.Diagnostics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 2 (mlp): global unstructured pruning of all three weight tensors (fc1, fc2, fc3; biases kept) by magnitude
/// and by LAMP (<see cref="Pruning.Global"/>), at sparsity {0.5, 0.8, 0.9, 0.95, 0.98}, one-shot and after the recipe's
/// fine-tuning with the masks re-applied after every step. <c>sparsity</c> is the achieved fraction of zero weights over
/// the three weight tensors. Quick: magnitude at 0.9.
/// </summary>
public sealed class GlobalExperiment : IDemoExperiment
{
    /// <summary>The sparsities of a full run.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.5, 0.8, 0.9, 0.95, 0.98];

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Global;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => context?.Covers(DemoModel.Mlp) == true;

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        (GlobalScore Score, string Name)[] criteria = context.Options.Quick ? [(GlobalScore.Magnitude, "magnitude")] : [(GlobalScore.Magnitude, "magnitude"), (GlobalScore.Lamp, "lamp")];
        IReadOnlyList<double> sparsities = context.Options.Quick ? [0.9] : Sparsities;
        foreach ((GlobalScore score, string name) in criteria)
        {
            foreach (double s in sparsities)
            {
                long start = Stopwatch.GetTimestamp();
                ReferenceNetwork network = DemoContext.Copy(dense);
                var masks = new MaskSet(network);
                MlpPruning.PruneGlobal(network, s, score, masks);
                double sparsity = MlpPruning.WeightSparsity(network);
                double oneShot = context.Accuracy(network);
                context.FineTune(network, masks);
                yield return new DemoRow
                {
                    Model = DemoModel.Mlp,
                    Experiment = DemoExperiment.Global,
                    Criterion = name,
                    Granularity = "element",
                    Sparsity = sparsity,
                    OneShot = oneShot,
                    FineTuned = context.Accuracy(network),
                    Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
                };
            }
        }
    }
}
