using Span.Prune.Lab.Demo.Experiments;

namespace Span.Prune.Lab.Demo;

/// <summary>
/// Runs the demo: the dense networks, then every experiment that applies, in a fixed order, each reporting its rows
/// as they are measured.
/// </summary>
public static class DemoRunner
{
    /// <summary>The experiments, in the order they run.</summary>
    public static IReadOnlyList<IDemoExperiment> Experiments { get; } =
        [new DenseExperiment(), new GlobalExperiment(), new LayerExperiment(), new NeuronExperiment(), new ChannelsExperiment(), new ScheduleExperiment(), new SpeedExperiment()];

    /// <summary>Runs the demo.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Progress lines (experiment i of n, epochs), or null.</param>
    /// <param name="onRow">Called with every row as soon as it is measured, or null.</param>
    /// <returns>Every row, in order.</returns>
    public static IReadOnlyList<DemoRow> Run(DemoOptions options, TextWriter? progress = null, Action<DemoRow>? onRow = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var context = new DemoContext(options, progress);
        var rows = new List<DemoRow>();
        IDemoExperiment[] selected = [.. Experiments.Where(e => e.AppliesTo(context) && (options.Only is not { } only || e.Kind == only))];
        for (int i = 0; i < selected.Length; i++)
        {
            progress?.WriteLine($"experiment {i + 1}/{selected.Length}: {DemoNames.Of(selected[i].Kind)}");
            foreach (DemoRow row in selected[i].Run(context))
            {
                rows.Add(row);
                onRow?.Invoke(row);
            }
        }
        if (options.ExportDirectory is { } directory)
        {
            foreach (string file in DemoExport.Write(context, directory)) progress?.WriteLine($"wrote {file}");
        }
        return rows;
    }
}
