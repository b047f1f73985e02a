using System.Globalization;

namespace Span.Prune.Lab.Demo;

/// <summary>
/// Draws the demo's two plots as standalone SVG text, without a plotting library: accuracy against sparsity for the
/// pruning experiments, and accuracy against measured speedup with the Pareto front.
/// </summary>
/// <remarks>
/// <para>Both figures are grids of panels. Each panel is a <c>&lt;g class="panel"&gt;</c> with
/// <c>id="panel-{model}-{experiment}"</c> (the speed figure: <c>panel-{model}-speed</c>) and <c>data-model</c> /
/// <c>data-experiment</c>. Each series is a <c>&lt;g class="series …"&gt;</c> with a unique <c>id</c>,
/// <c>data-panel</c>, <c>data-series</c> (its key, the parts joined by <c>/</c>) and one <c>data-…</c> attribute per
/// part; each point is a marker with <c>class="marker"</c>, <c>data-x</c>, <c>data-y</c> (exact values) and
/// <c>data-row</c> (the row's index in the input), so tools and tests can read the plot back.</para>
/// <para>Colours come from the Okabe–Ito palette, which stays distinguishable with the common colour-vision
/// deficiencies. Each panel gives its methods the palette's colours in key order, so the clearest colours go to
/// the series actually shown; one-shot and fine-tuned curves of one method share a colour (dashed and hollow
/// against solid and filled), and past eight methods the marker shape changes too. Output is deterministic: series are sorted by key (ordinal), numbers are culture-free.</para>
/// <para>Rows are validated first (see <see cref="DemoRow"/>). Rows a figure cannot place (no sparsity, no
/// accuracy) are left out of it; a figure without any point says so in its text.</para>
/// </remarks>
public static partial class DemoSvg
{
    private static readonly DemoExperiment[] PruningExperiments =
        [DemoExperiment.Global, DemoExperiment.Layer, DemoExperiment.Neurons, DemoExperiment.Channels, DemoExperiment.Schedule];

    /// <summary>
    /// Accuracy against sparsity: one panel per model and pruning experiment (global, layer, neurons, channels,
    /// schedule) that has points, one polyline series with markers per (criterion, granularity, schedule, slimming,
    /// stage), where the stage is <c>one_shot</c> (dashed, hollow markers) or <c>fine_tuned</c> (solid, filled).
    /// The dense network's accuracy is a dashed grey line.
    /// </summary>
    /// <param name="rows">The demo's rows; those of other experiments are ignored, dense rows give the baseline.</param>
    /// <returns>The SVG document.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule (see <see cref="DemoRow"/>).</exception>
    public static string AccuracyVsSparsity(IReadOnlyList<DemoRow> rows)
    {
        DemoFields.Validate(rows, nameof(rows));
        var points = new List<(int Row, string ColourKey, SeriesKey Key, double X, double Y)>();
        for (int i = 0; i < rows.Count; i++)
        {
            DemoRow row = rows[i];
            if (Array.IndexOf(PruningExperiments, row.Experiment) < 0 || row.Sparsity is not double sparsity)
            {
                continue;
            }

            foreach (var (stage, accuracy) in new[] { ("one_shot", row.OneShot), ("fine_tuned", row.FineTuned) })
            {
                if (accuracy is double y)
                {
                    var key = SeriesKey.ForSparsity(row, stage);
                    points.Add((i, key.ColourKey, key, sparsity, y));
                }
            }
        }

        var panels = new List<Panel>();
        foreach (DemoModel model in Enum.GetValues<DemoModel>())
        {
            foreach (DemoExperiment experiment in PruningExperiments)
            {
                var mine = points.Where(p => rows[p.Row].Model == model && rows[p.Row].Experiment == experiment).ToList();
                if (mine.Count == 0)
                {
                    continue;
                }

                string[] colourKeys = mine.Select(p => p.ColourKey).Distinct().Order(StringComparer.Ordinal).ToArray();

                double? dense = DenseAccuracy(rows, model);
                IEnumerable<double> ys = mine.Select(p => p.Y);
                if (dense is double d) ys = ys.Append(d);
                var series = mine
                    .GroupBy(p => p.Key)
                    .OrderBy(g => g.Key.SortKey, StringComparer.Ordinal)
                    .Select(g => new Series(g.Key, Array.BinarySearch(colourKeys, g.Key.ColourKey, StringComparer.Ordinal), Connect: true,
                        g.OrderBy(p => p.X).ThenBy(p => p.Y).Select(p => new SeriesPoint(p.X, p.Y, p.Row)).ToList()))
                    .ToList();
                string id = $"panel-{DemoNames.Of(model)}-{DemoNames.Of(experiment)}";
                panels.Add(new Panel(id, model, experiment, $"{DemoNames.Of(model)} · {DemoNames.Of(experiment)}",
                    PlotAxis.Linear(mine.Min(p => p.X), mine.Max(p => p.X), 0, 1, minimumSpan: 0.1),
                    PlotAxis.Linear(ys.Min(), ys.Max(), 0, 1, minimumSpan: 0.01),
                    "sparsity", series, dense, Front: null));
            }
        }

        return Draw("Accuracy against sparsity", panels, "no pruning rows with a sparsity and an accuracy");
    }

    /// <summary>
    /// Accuracy against measured speedup: one panel per model with speed rows, one marker series per (format,
    /// granularity), the speedup on a log₂ axis with 1× marked, and the Pareto front — the points no other point
    /// beats in both speedup and accuracy — drawn as a line through its points (<c>class="pareto-front"</c>, its
    /// points <c>class="front-point"</c> with <c>data-row</c>).
    /// </summary>
    /// <remarks>The accuracy shown is <see cref="DemoRow.FinalAccuracy"/>: fine-tuned, else one-shot, else dense.</remarks>
    /// <param name="rows">The demo's rows; speed rows with a speedup and an accuracy are drawn, dense rows give the baseline.</param>
    /// <returns>The SVG document.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule (see <see cref="DemoRow"/>).</exception>
    public static string AccuracyVsSpeedup(IReadOnlyList<DemoRow> rows)
    {
        DemoFields.Validate(rows, nameof(rows));
        var points = new List<(int Row, SeriesKey Key, double X, double Y)>();
        for (int i = 0; i < rows.Count; i++)
        {
            DemoRow row = rows[i];
            if (row.Experiment == DemoExperiment.Speed && row.Speedup is double speedup && row.FinalAccuracy is double accuracy)
            {
                points.Add((i, SeriesKey.ForSpeed(row), speedup, accuracy));
            }
        }

        var panels = new List<Panel>();
        foreach (DemoModel model in Enum.GetValues<DemoModel>())
        {
            var mine = points.Where(p => rows[p.Row].Model == model).ToList();
            if (mine.Count == 0)
            {
                continue;
            }

            string[] colourKeys = mine.Select(p => p.Key.ColourKey).Distinct().Order(StringComparer.Ordinal).ToArray();

            double[] xs = mine.Select(p => p.X).ToArray(), ys = mine.Select(p => p.Y).ToArray();
            bool[] onFront = ParetoFront.NonDominated(xs, ys);
            List<SeriesPoint> front = mine.Where((p, k) => onFront[k]).OrderBy(p => p.X).ThenByDescending(p => p.Y)
                .Select(p => new SeriesPoint(p.X, p.Y, p.Row)).ToList();

            double? dense = DenseAccuracy(rows, model);
            IEnumerable<double> yRange = dense is double d ? ys.Append(d) : ys;
            var series = mine
                .GroupBy(p => p.Key)
                .OrderBy(g => g.Key.SortKey, StringComparer.Ordinal)
                .Select(g => new Series(g.Key, Array.BinarySearch(colourKeys, g.Key.ColourKey, StringComparer.Ordinal), Connect: false,
                    g.OrderBy(p => p.X).ThenBy(p => p.Y).Select(p => new SeriesPoint(p.X, p.Y, p.Row)).ToList()))
                .ToList();
            panels.Add(new Panel($"panel-{DemoNames.Of(model)}-speed", model, DemoExperiment.Speed, $"{DemoNames.Of(model)} · speed",
                PlotAxis.Log2(Math.Min(1, xs.Min()), Math.Max(1, xs.Max())),
                PlotAxis.Linear(yRange.Min(), yRange.Max(), 0, 1, minimumSpan: 0.01),
                "speedup over dense (log scale)", series, dense, front));
        }

        return Draw("Accuracy against measured speedup", panels, "no speed rows with a speedup and an accuracy");
    }

    /// <summary>The model's dense test accuracy: the first dense row of that model that has one.</summary>
    private static double? DenseAccuracy(IReadOnlyList<DemoRow> rows, DemoModel model)
    {
        foreach (DemoRow row in rows)
        {
            if (row.Model == model && row.Experiment == DemoExperiment.Dense && row.Accuracy is double accuracy)
            {
                return accuracy;
            }
        }

        return null;
    }

    /// <summary>A percentage tick label with as many decimals as the step needs (5% steps: none; 0.2%: one).</summary>
    private static string Percent(double fraction, double step)
    {
        int decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step * 100) - 1e-9));
        return (fraction * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%";
    }

    private static string Times(double value) => value.ToString("0.###", CultureInfo.InvariantCulture) + "×";
}
