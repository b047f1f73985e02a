using Span.Prune.Lab.Data;
using Span.Prune.Lab.Demo;
using Span.Prune.Lab.Demo.Experiments;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Tests.Lab.Demo;

/// <summary>The mlp experiments on 1,000 training and 200 test images: rows, fields, achieved sparsity, masks through fine-tuning.</summary>
public sealed class MlpExperimentTests
{
    private static readonly Lazy<DemoContext> s_context = new(() => new DemoContext(new DemoOptions(DemoSubset.Take(1000, 200), DemoModels.Mlp)));
    private static readonly Lazy<IReadOnlyList<DemoRow>> s_full = new(() =>
        [.. new IDemoExperiment[] { new GlobalExperiment(), new LayerExperiment(), new NeuronExperiment(), new ScheduleExperiment() }.SelectMany(e => e.Run(s_context.Value))]);

    [Fact]
    public void Registered_InSpecOrder()
    {
        DemoExperiment[] kinds = [.. DemoRunner.Experiments.Select(e => e.Kind)];
        DemoExperiment[] mine = [DemoExperiment.Global, DemoExperiment.Layer, DemoExperiment.Neurons, DemoExperiment.Schedule];
        Assert.Equal(mine, kinds.Where(mine.Contains));
        Assert.True(Array.IndexOf(kinds, DemoExperiment.Dense) < Array.IndexOf(kinds, DemoExperiment.Global));
    }

    [Fact]
    public void Rows_HaveTheSpecFields_AndTheTargetSparsity()
    {
        IReadOnlyList<DemoRow> rows = s_full.Value;
        Assert.Equal(10, rows.Count(r => r.Experiment == DemoExperiment.Global));
        Assert.Equal(27, rows.Count(r => r.Experiment == DemoExperiment.Layer));
        Assert.Equal(21, rows.Count(r => r.Experiment == DemoExperiment.Neurons));
        Assert.Equal(6, rows.Count(r => r.Experiment == DemoExperiment.Schedule));
        foreach (DemoRow r in rows)
        {
            Assert.Equal(DemoModel.Mlp, r.Model);
            Assert.NotNull(r.Criterion);
            Assert.NotNull(r.Granularity);
            Assert.NotNull(r.Sparsity);
            Assert.NotNull(r.Seconds);
            Assert.Null(r.Accuracy);
            Assert.Null(r.Slimming);
            Assert.Null(r.Params);
            Assert.Null(r.Format);
            Assert.Null(r.Ms);
            Assert.Null(r.Speedup);
            Assert.Null(r.Batch);
            Assert.Equal(r.Experiment == DemoExperiment.Schedule, r.Schedule is not null);
            Assert.Equal(r.Experiment != DemoExperiment.Schedule, r.OneShot is not null);
        }
        foreach (DemoRow r in rows.Where(r => r.Experiment == DemoExperiment.Global))
        {
            Assert.NotNull(r.FineTuned);
            Assert.Contains(GlobalExperiment.Sparsities, s => Math.Abs(s - r.Sparsity!.Value) < 1e-5);
        }
        foreach (DemoRow r in rows.Where(r => r.Experiment == DemoExperiment.Layer))
        {
            double target = r.Granularity == "nm:2:4" ? 0.5 : LayerExperiment.Sparsities.MinBy(s => Math.Abs(s - r.Sparsity!.Value));
            // Each tensor rounds on its own (Wanda per row): within one element per row of the 266,200 weights.
            Assert.InRange(r.Sparsity!.Value, target - 410.0 / 266_200, target + 410.0 / 266_200);
            Assert.Equal(r.Granularity == "nm:2:4" || target == LayerExperiment.FineTunedSparsity, r.FineTuned is not null);
        }
        foreach (DemoRow r in rows.Where(r => r.Experiment == DemoExperiment.Neurons))
        {
            double target = NeuronExperiment.Sparsities.MinBy(s => Math.Abs(s - r.Sparsity!.Value));
            Assert.InRange(r.Sparsity!.Value, target - 1.0 / 400, target + 1.0 / 400);
            Assert.Equal(target == NeuronExperiment.FineTunedSparsity, r.FineTuned is not null);
        }
        foreach (DemoRow r in rows.Where(r => r.Experiment == DemoExperiment.Schedule))
        {
            Assert.NotNull(r.FineTuned);
            Assert.Contains(ScheduleExperiment.Sparsities, s => Math.Abs(s - r.Sparsity!.Value) < 1e-5);
        }
        Assert.Equal(
            ["magnitude", "taylor", "obd", "wanda", "random"],
            rows.Where(r => r.Experiment == DemoExperiment.Layer && r.Granularity == "element").Select(r => r.Criterion).Distinct());
        Assert.Equal(
            ["l1", "l2", "apoz", "mean_activation", "taylor", "regression", "random"],
            rows.Where(r => r.Experiment == DemoExperiment.Neurons).Select(r => r.Criterion).Distinct());
    }

    [Fact]
    public void Masks_StayZeroThroughFineTuning()
    {
        DemoContext context = s_context.Value;
        ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
        NetworkStatistics statistics = MlpPruning.StatisticsOf(context, dense);

        ReferenceNetwork global = DemoContext.Copy(dense);
        var globalMasks = new MaskSet(global);
        MlpPruning.PruneGlobal(global, 0.9, GlobalScore.Lamp, globalMasks);
        ReferenceNetwork neurons = DemoContext.Copy(dense);
        var neuronMasks = new MaskSet(neurons);
        neuronMasks.RestrictUnits(neurons.Layers[0], MlpPruning.UnitMask(neurons.Layers[0], statistics.Layers[0], NeuronCriterion.Taylor, 0.5));
        MlpPruning.PruneNeuronsByRegression(neurons, statistics, 1, 0.5, neuronMasks);

        foreach ((ReferenceNetwork network, MaskSet masks) in new[] { (global, globalMasks), (neurons, neuronMasks) })
        {
            long pruned = masks.CountPruned();
            Assert.True(pruned > 0);
            context.FineTune(network, masks, epochs: 1);
            long zeros = 0;
            foreach (NetworkTensor t in network.Tensors)
            {
                ReadOnlySpan<byte> mask = masks.MaskOf(t);
                ReadOnlySpan<float> v = t.Values.Span;
                for (int i = 0; i < mask.Length; i++)
                    if (mask[i] == 0) { Assert.Equal(0f, v[i]); zeros++; }
            }
            Assert.Equal(pruned, zeros);
        }
        // A pruned neuron: its row and bias are zero.
        Assert.Equal(150, neurons.Layers[0].Bias.Values.ToArray().Count(b => b == 0f));
    }

    [Fact]
    public void Quick_RunsFewerPoints()
    {
        var context = new DemoContext(new DemoOptions(DemoSubset.Take(500, 100), DemoModels.Mlp, Quick: true));
        DemoRow[] rows = [.. new IDemoExperiment[] { new GlobalExperiment(), new LayerExperiment(), new NeuronExperiment(), new ScheduleExperiment() }.SelectMany(e => e.Run(context))];
        Assert.Equal(["global", "layer", "layer", "layer", "neurons", "neurons", "schedule"], rows.Select(r => DemoNames.Of(r.Experiment)));
        Assert.All(rows, r => Assert.NotNull(r.FineTuned));
    }

    [Fact]
    public void Only_RunsThatExperimentAlone()
    {
        var options = new DemoOptions(DemoSubset.Take(300, 60), DemoModels.Mlp, Only: DemoExperiment.Dense);
        IReadOnlyList<DemoRow> rows = DemoRunner.Run(options);
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal(DemoExperiment.Dense, r.Experiment));
    }

    [Fact]
    public void ScheduleTargets()
    {
        const long total = 630;
        AgpRamp ramp = AgpRamp.Default;
        Assert.Equal(0.95, ScheduleExperiment.Target(DemoSchedule.OneShot, ramp, 0.95, 0, total));
        Assert.Null(ScheduleExperiment.Target(DemoSchedule.OneShot, ramp, 0.95, 1, total));
        Assert.Equal(0.95 * 2 / 5, ScheduleExperiment.Target(DemoSchedule.Iterative, ramp, 0.95, 126, total)!.Value, 12);
        Assert.Null(ScheduleExperiment.Target(DemoSchedule.Iterative, ramp, 0.95, 127, total));

        // Zhu & Gupta's eq. 1, s_t = s_f + (s_i − s_f)·(1 − t/E)³, with s_i = 1 − 2·(1 − s_f) = 0.90 and E = 629, the
        // run's last step (the ramp ends at 100%).
        const long end = 629;
        Assert.Equal(0.90, ScheduleExperiment.Target(DemoSchedule.Agp, ramp, 0.95, 0, total)!.Value, 12);
        Assert.Equal(0.95 - 0.05 * Math.Pow(1 - 10.0 / end, 3), ScheduleExperiment.Target(DemoSchedule.Agp, ramp, 0.95, 10, total)!.Value, 12);
        Assert.Null(ScheduleExperiment.Target(DemoSchedule.Agp, ramp, 0.95, 11, total));
        Assert.Equal(0.95, ScheduleExperiment.Target(DemoSchedule.Agp, ramp, 0.95, end, total));
        Assert.Null(new AgpRamp(2, 0.5, 10).Target(0.95, 325, total));

        // From the dense network (the form with s_i = 0): s_t = s_f·(1 − (1 − t/E)³), E = ⌊0.6·630⌋ = 378.
        var fromDense = new AgpRamp(double.PositiveInfinity, 0.6, 10);
        Assert.Equal(0.0, fromDense.Target(0.98, 0, total));
        Assert.Equal(0.98 * (1 - Math.Pow(1 - 20.0 / 378, 3)), fromDense.Target(0.98, 20, total)!.Value, 12);
        Assert.Equal(0.98, fromDense.Target(0.98, 378, total));
        // A start density above 1 is clamped to the dense network, and the targets never decrease.
        Assert.Equal(0.0, new AgpRamp(4, 0.8, 10).InitialSparsity(0.5));
        double previous = 0;
        for (long t = 0; t < total; t++)
        {
            if (ramp.Target(0.98, t, total) is not double s) continue;
            Assert.True(s >= previous, $"step {t}: {s} after {previous}");
            previous = s;
        }
        Assert.Equal(0.98, previous);

        // A ramp that would lower the sparsity, or end outside the run, is refused.
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgpRamp(0.5, 0.8, 10).Target(0.9, 0, total));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgpRamp(double.NaN, 0.8, 10).Target(0.9, 0, total));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgpRamp(2, 0, 10).Target(0.9, 0, total));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgpRamp(2, 1.5, 10).Target(0.9, 0, total));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgpRamp(2, 0.8, 0).Target(0.9, 0, total));
    }

    [Fact]
    public void ScheduleStudyHoldsOutEveryEighthTrainingImage()
    {
        DigitData data = DemoSubset.Take(300, 60);
        (ImageSet fit, ImageSet validation) = ScheduleStudy.HoldOut(data.Train);
        Assert.Equal(300 / 8, validation.Count);
        Assert.Equal(300 - 300 / 8, fit.Count);
        for (int i = 0, f = 0, v = 0; i < data.Train.Count; i++)
        {
            bool heldOut = i % 8 == 7;
            ImageSet target = heldOut ? validation : fit;
            int index = heldOut ? v++ : f++;
            Assert.True(data.Train.GetImage(i).SequenceEqual(target.GetImage(index)), $"image {i}");
            Assert.Equal(data.Train.Labels.Span[i], target.Labels.Span[index]);
        }
    }

    [Fact]
    public void ScheduleStudy_TableHasEveryCandidateAndChoosesOne()
    {
        AgpRamp[] candidates = [new(double.PositiveInfinity, 0.6, 10), AgpRamp.Default];
        (string markdown, AgpRamp chosen) = ScheduleStudy.Run(DemoSubset.Take(300, 60).Train, [1], 1, candidates);
        Assert.Contains("| one-shot |", markdown, StringComparison.Ordinal);
        foreach (AgpRamp ramp in candidates) Assert.Contains($"| agp {ramp}", markdown, StringComparison.Ordinal);
        Assert.Contains(chosen, candidates);
        Assert.Contains($"agp {chosen} **(chosen)**", markdown, StringComparison.Ordinal);
    }
}
