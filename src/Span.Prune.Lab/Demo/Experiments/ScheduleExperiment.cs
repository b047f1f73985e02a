using System.Diagnostics;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 6 (mlp): global magnitude pruning to s_f ∈ {0.95, 0.98} with the same fine-tuning budget, the recipe's
/// 5 epochs at lr₀ 0.01, spent three ways.
/// </summary>
/// <remarks>
/// <para>Every schedule runs one fine-tuning run of the recipe (T = 5 epochs × 126 steps = 630 steps at batch 64 on
/// the 8,004 training images; SGD-momentum, lr cosine-annealed per step from 0.01 to 0 over the whole run, the same
/// per-epoch shuffles as <see cref="DemoContext.FineTune"/>), masks re-applied after every step. They differ only in when
/// they prune, by global magnitude over the three weight tensors, before the step with index t (weights already pruned
/// stay pruned: the masks compose and zeros rank lowest):</para>
/// <list type="bullet">
/// <item><b>one_shot:</b> to s_f before step 0.</item>
/// <item><b>iterative:</b> 5 equal steps, to <c>s_f·(k+1)/5</c> before step <c>k·T/5</c>, k = 0…4 (once per epoch).</item>
/// <item><b>agp</b> (Zhu &amp; Gupta 2017): the cubic ramp <see cref="AgpRamp.Default"/>, from twice the final density
/// (s_i = 0.96 for s_f = 0.98) to s_f at the run's last step, pruning every 10 steps. The ramp was chosen on training
/// images held out of training (<see cref="ScheduleStudy"/>); from the dense network (s_i = 0) the same budget only ties
/// one-shot.</item>
/// </list>
/// <para>With this loop one_shot is the same computation as the global experiment's fine-tuned point. The row's
/// <c>fine_tuned</c> is the final accuracy, <c>sparsity</c> the achieved fraction of zero weights. Quick: agp to 0.95.</para>
/// </remarks>
public sealed class ScheduleExperiment : IDemoExperiment
{
    /// <summary>The final sparsities.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.95, 0.98];

    /// <summary>Pruning steps of the iterative schedule.</summary>
    public const int Steps = 5;

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Schedule;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context) => context?.Covers(DemoModel.Mlp) == true;

    /// <summary>The sparsity to prune to before optimiser step <paramref name="step"/>, or null for no pruning there.</summary>
    /// <param name="schedule">The schedule.</param>
    /// <param name="ramp">AGP's ramp (ignored by the other schedules).</param>
    /// <param name="final">s_f.</param>
    /// <param name="step">t, from 0.</param>
    /// <param name="total">T, the optimiser steps of the run.</param>
    /// <returns>s_t, or null.</returns>
    public static double? Target(DemoSchedule schedule, AgpRamp ramp, double final, long step, long total)
    {
        switch (schedule)
        {
            case DemoSchedule.OneShot:
                return step == 0 ? final : null;
            case DemoSchedule.Iterative:
                for (int k = 0; k < Steps; k++)
                    if (step == k * total / Steps) return final * (k + 1) / Steps;
                return null;
            default:
                return ramp.Target(final, step, total);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        bool quick = context.Options.Quick;
        IReadOnlyList<double> finals = quick ? [0.95] : Sparsities;
        DemoSchedule[] schedules = quick ? [DemoSchedule.Agp] : [DemoSchedule.OneShot, DemoSchedule.Iterative, DemoSchedule.Agp];
        foreach (double final in finals)
        {
            foreach (DemoSchedule schedule in schedules)
            {
                long start = Stopwatch.GetTimestamp();
                ReferenceNetwork network = DemoContext.Copy(dense);
                FineTuneWhilePruning(network, context.Train, context.Options.Seed + 1, (t, total) => Target(schedule, AgpRamp.Default, final, t, total));
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

    /// <summary>
    /// The trainer's loop (<see cref="Trainer.Train"/> with the recipe's fine-tuning options; the demo passes
    /// <see cref="DemoContext.FineTune"/>'s shuffle seed), with global magnitude pruning before the steps that
    /// <paramref name="target"/> names. Written out here because the trainer has no per-step hook.
    /// </summary>
    /// <param name="network">The dense mlp, pruned and fine-tuned in place.</param>
    /// <param name="train">The training images.</param>
    /// <param name="shuffleSeed">Seed of the per-epoch shuffles.</param>
    /// <param name="target">s_t before step t of T, or null.</param>
    internal static void FineTuneWhilePruning(ReferenceNetwork network, ImageSet train, ulong shuffleSeed, Func<long, long, double?> target)
    {
        TrainingOptions recipe = TrainingOptions.For(network.Architecture, fineTune: true);
        ReadOnlySpan<byte> pixels = train.Pixels.Span, labels = train.Labels.Span;
        int count = train.Count, batchSize = recipe.BatchSize, size = ReferenceNetwork.InputSize;
        long stepsPerEpoch = (count + batchSize - 1) / batchSize, total = stepsPerEpoch * recipe.Epochs;
        var optimizer = new SgdMomentum(network.Parameters.Length, recipe.Momentum, recipe.WeightDecay);
        var shuffle = new SeededRandom(shuffleSeed);
        var masks = new MaskSet(network);
        int[] order = new int[count];
        byte[] batchPixels = new byte[batchSize * size], batchLabels = new byte[batchSize];
        long t = 0;
        for (int epoch = 0; epoch < recipe.Epochs; epoch++)
        {
            for (int i = 0; i < count; i++) order[i] = i;
            shuffle.Shuffle(order);
            for (int start = 0; start < count; start += batchSize, t++)
            {
                if (target(t, total) is double s) MlpPruning.PruneGlobal(network, s, GlobalScore.Magnitude, masks);
                int b = Math.Min(batchSize, count - start);
                for (int i = 0; i < b; i++)
                {
                    pixels.Slice(order[start + i] * size, size).CopyTo(batchPixels.AsSpan(i * size));
                    batchLabels[i] = labels[order[start + i]];
                }
                network.Forward(batchPixels, b, training: true);
                network.ComputeLoss(batchLabels.AsSpan(0, b));
                network.Backward();
                optimizer.Step(network.Parameters.Span, network.Gradients.Span, CosineSchedule.LearningRate(recipe.LearningRate, t, total));
                masks.Apply();
            }
        }
    }
}
