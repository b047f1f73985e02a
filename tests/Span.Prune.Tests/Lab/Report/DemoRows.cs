using Span.Prune.Lab.Demo;

namespace Span.Prune.Tests.Lab.Report;

/// <summary>Sample rows of every experiment, shaped like the demo's, shared by the report tests.</summary>
internal static class DemoRows
{
    public static DemoRow Dense(DemoModel model, double accuracy) =>
        new() { Model = model, Experiment = DemoExperiment.Dense, Accuracy = accuracy, Params = 266_610, Macs = 266_200, Seconds = 12.5 };

    public static DemoRow Pruned(DemoModel model, DemoExperiment experiment, string criterion, string granularity, double sparsity,
        double oneShot, double? fineTuned = null, DemoSchedule? schedule = null, bool? slimming = null) => new()
    {
        Model = model,
        Experiment = experiment,
        Criterion = criterion,
        Granularity = granularity,
        Sparsity = sparsity,
        OneShot = oneShot,
        FineTuned = fineTuned,
        Schedule = schedule,
        Slimming = slimming,
        Params = (long)(266_610 * (1 - sparsity)),
    };

    public static DemoRow Speed(DemoModel model, string format, string? granularity, double speedup, double accuracy) => new()
    {
        Model = model,
        Experiment = DemoExperiment.Speed,
        Format = format,
        Granularity = granularity,
        Batch = 64,
        Ms = 0.8 / speedup,
        Speedup = speedup,
        FineTuned = accuracy,
    };

    /// <summary>A full demo's worth: dense baselines, three criteria in layer and global, a schedule and a speed sweep.</summary>
    public static List<DemoRow> Sample()
    {
        var rows = new List<DemoRow> { Dense(DemoModel.Mlp, 0.9812), Dense(DemoModel.Cnn, 0.9871) };
        foreach (string criterion in new[] { "magnitude", "lamp", "random" })
        {
            foreach (double s in new[] { 0.5, 0.8, 0.9, 0.95 })
            {
                double drop = criterion == "random" ? s * s * 0.5 : s * s * s * 0.2;
                rows.Add(Pruned(DemoModel.Mlp, DemoExperiment.Layer, criterion, "element", s, 0.98 - drop, 0.98 - drop / 5));
                rows.Add(Pruned(DemoModel.Mlp, DemoExperiment.Global, criterion, "element", s, 0.98 - drop * 0.8));
            }
        }

        foreach (DemoSchedule schedule in Enum.GetValues<DemoSchedule>())
            foreach (double s in new[] { 0.5, 0.9 })
                rows.Add(Pruned(DemoModel.Cnn, DemoExperiment.Schedule, "magnitude", "element", s, 0.9, 0.97 - (int)schedule * 0.01, schedule));

        rows.Add(Pruned(DemoModel.Cnn, DemoExperiment.Channels, "bn_scale", "channel", 0.5, 0.95, 0.98, slimming: true));
        rows.Add(Speed(DemoModel.Mlp, "dense", null, 1, 0.9812));
        rows.Add(Speed(DemoModel.Mlp, "csr", "element", 2.5, 0.975));
        rows.Add(Speed(DemoModel.Mlp, "nm", "nm:2:4", 1.6, 0.979));
        rows.Add(Speed(DemoModel.Mlp, "shrunk", "row", 4.1, 0.95));
        return rows;
    }
}
