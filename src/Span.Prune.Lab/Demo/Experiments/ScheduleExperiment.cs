using System.Diagnostics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 6 (mlp): global magnitude pruning to s_f ∈ {0.95, 0.98} with the same fine-tuning budget, the recipe's
/// 5 epochs at lr₀ 0.01, spent three ways.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>one_shot:</b> prune to s_f, then fine-tune 5 epochs (one cosine run).</item>
/// <item><b>iterative:</b> 5 equal steps: before epoch t = 1…5 prune to <c>s_f·t/5</c>, then fine-tune that one epoch
/// (a 1-epoch cosine run from 0.01 each time, fresh momentum).</item>
/// <item><b>agp</b> (Zhu &amp; Gupta 2017): the same 5 one-epoch runs, pruning before epoch t = 1…5 to
/// <c>s_t = s_f·(1 − (1 − t/T)³)</c> with T = 5 (0.488, 0.784, 0.936, 0.992, 1.0 of s_f), i.e. pruning every 126 steps
/// (one epoch of the 8,004 training images at batch 64). The trainer has no per-step hook, so one epoch is the
/// finest pruning interval here.</item>
/// </list>
/// <para>Every pruning step is global magnitude over the three weight tensors; weights already pruned stay pruned
/// (their masks compose, and zeros rank lowest). The row's <c>fine_tuned</c> is the final accuracy, <c>sparsity</c> the
/// achieved fraction of zero weights. Quick: agp to 0.95.</para>
/// </remarks>
public sealed class ScheduleExperiment : IDemoExperiment
{
    /// <summary>The final sparsities.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.95, 0.98];

    /// <summary>Pruning steps (and fine-tuning epochs) of the iterative and AGP schedules.</summary>
    public const int Steps = 5;

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Schedule;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => context?.Covers(DemoModel.Mlp) == true;

    /// <summary>The target sparsity before fine-tuning epoch <paramref name="step"/> (1-based) of a schedule.</summary>
    /// <param name="schedule">Iterative or AGP (one-shot is <paramref name="final"/> at step 1).</param>
    /// <param name="final">s_f.</param>
    /// <param name="step">t, 1…<see cref="Steps"/>.</param>
    /// <returns>s_t.</returns>
    public static double Target(DemoSchedule schedule, double final, int step) => schedule switch
    {
        DemoSchedule.Iterative => final * step / Steps,
        DemoSchedule.Agp => final * (1 - Math.Pow(1 - (double)step / Steps, 3)),
        _ => final,
    };

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        bool quick = context.Options.Quick;
        IReadOnlyList<double> finals = quick ? [0.95] : Sparsities;
        DemoSchedule[] schedules = quick ? [DemoSchedule.Agp] : [DemoSchedule.OneShot, DemoSchedule.Iterative, DemoSchedule.Agp];
        int epochs = TrainingOptions.MlpFineTune.Epochs;
        foreach (double final in finals)
        {
            foreach (DemoSchedule schedule in schedules)
            {
                long start = Stopwatch.GetTimestamp();
                ReferenceNetwork network = DemoContext.Copy(dense);
                var masks = new MaskSet(network);
                if (schedule == DemoSchedule.OneShot)
                {
                    MlpPruning.PruneGlobal(network, final, GlobalScore.Magnitude, masks);
                    context.FineTune(network, masks, epochs);
                }
                else
                {
                    for (int t = 1; t <= Steps; t++)
                    {
                        MlpPruning.PruneGlobal(network, Target(schedule, final, t), GlobalScore.Magnitude, masks);
                        context.FineTune(network, masks, epochs / Steps);
                    }
                }
                yield return new DemoRow
                {
                    Model = DemoModel.Mlp,
                    Experiment = DemoExperiment.Schedule,
                    Criterion = "magnitude",
                    Granularity = "element",
                    Sparsity = MlpPruning.WeightSparsity(network),
                    FineTuned = context.Accuracy(network),
                    Schedule = schedule,
                    Seconds = Stopwatch.GetElapsedTime(start).TotalSeconds,
                };
            }
        }
    }
}
