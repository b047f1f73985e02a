namespace Span.Prune.Lab.Demo;

// The figure model (panels, series, points) and the drawing: grid layout, axes, reference lines, series, legends.
public static partial class DemoSvg
{
    private const double PanelWidth = 380;
    private const double PlotLeft = 62;
    private const double PlotRight = 16;
    private const double PlotTop = 34;
    private const double PlotHeight = 220;
    private const double PlotWidth = PanelWidth - PlotLeft - PlotRight;
    private const double AxisBelow = 44;   // tick labels and the axis title under the plot
    private const double LegendLine = 16;
    private const double Gap = 18;
    private const double Margin = 14;
    private const double TitleHeight = 26;
    private const int MaxColumns = 3;
    private const double MarkerRadius = 3.5;

    /// <summary>What makes points one series; null parts do not apply. Equality is by value.</summary>
    private sealed record SeriesKey(string? Criterion, string? Granularity, string? Schedule, bool? Slimming, string? Format, string? Stage)
    {
        public static SeriesKey ForSparsity(DemoRow row, string stage) =>
            new(row.Criterion, row.Granularity, row.Schedule is DemoSchedule s ? DemoNames.Of(s) : null, row.Slimming, null, stage);

        public static SeriesKey ForSpeed(DemoRow row) => new(null, row.Granularity, null, null, row.Format, null);

        /// <summary>The (attribute, value) pairs that apply, in a fixed order.</summary>
        public IEnumerable<(string Name, string Value)> Parts()
        {
            if (Format is not null) yield return ("format", Format);
            if (Criterion is not null) yield return ("criterion", Criterion);
            if (Granularity is not null) yield return ("granularity", Granularity);
            if (Schedule is not null) yield return ("schedule", Schedule);
            if (Slimming is bool slimming) yield return ("slimming", slimming ? "true" : "false");
            if (Stage is not null) yield return ("stage", Stage);
        }

        /// <summary>The <c>data-series</c> value: the parts joined by '/', e.g. <c>magnitude/element/one_shot</c>.</summary>
        public string SortKey => string.Join('/', Parts().Select(p => p.Value)) is { Length: > 0 } key ? key : "-";

        /// <summary>Everything but the stage: one-shot and fine-tuned curves of one method share a colour.</summary>
        public string ColourKey => (this with { Stage = null }).SortKey;

        public string Label => SortKey == "-" ? "-" : string.Join(" · ", Parts().Select(p => p.Name switch
        {
            "slimming" => p.Value == "true" ? "slimming" : "no slimming",
            "schedule" => p.Value switch { "one_shot" => "one-shot schedule", "agp" => "AGP schedule", _ => p.Value + " schedule" },
            "stage" => p.Value == "one_shot" ? "one-shot" : "fine-tuned",
            _ => p.Value,
        }));

        public bool Filled => Stage != "one_shot";

        public string? Dash => Stage == "one_shot" ? "5,3" : null;
    }

    private sealed record SeriesPoint(double X, double Y, int Row);

    private sealed record Series(SeriesKey Key, int ColourIndex, bool Connect, List<SeriesPoint> Points);

    private sealed record Panel(string Id, DemoModel Model, DemoExperiment Experiment, string Title, PlotAxis X, PlotAxis Y,
        string XTitle, List<Series> Series, double? Dense, List<SeriesPoint>? Front)
    {
        public int LegendLines => Series.Count + (Dense is null ? 0 : 1) + (Front is null ? 0 : 1);

        public double Height => PlotTop + PlotHeight + AxisBelow + LegendLines * LegendLine + 8;

        public double Px(double x) => PlotLeft + X.Fraction(x) * PlotWidth;

        public double Py(double y) => PlotTop + (1 - Y.Fraction(y)) * PlotHeight;
    }

    private static string Draw(string title, List<Panel> panels, string emptyMessage)
    {
        if (panels.Count == 0)
        {
            var empty = new SvgCanvas(480, 90, title);
            empty.Text(Margin, Margin + 14, title, size: 14, weight: "bold");
            empty.Text(Margin, Margin + 44, emptyMessage, cssClass: "empty");
            return empty.Finish();
        }

        int columns = Math.Min(MaxColumns, panels.Count);
        int gridRows = (panels.Count + columns - 1) / columns;
        var rowHeights = new double[gridRows];
        for (int i = 0; i < panels.Count; i++)
        {
            rowHeights[i / columns] = Math.Max(rowHeights[i / columns], panels[i].Height);
        }

        double width = 2 * Margin + columns * PanelWidth + (columns - 1) * Gap;
        double height = Margin + TitleHeight + rowHeights.Sum() + (gridRows - 1) * Gap + Margin;
        var canvas = new SvgCanvas(width, height, title);
        canvas.Text(Margin, Margin + 14, title, size: 14, weight: "bold");

        double top = Margin + TitleHeight;
        for (int r = 0; r < gridRows; r++)
        {
            for (int c = 0; c < columns && r * columns + c < panels.Count; c++)
            {
                DrawPanel(canvas, panels[r * columns + c], Margin + c * (PanelWidth + Gap), top);
            }

            top += rowHeights[r] + Gap;
        }

        return canvas.Finish();
    }

    private static void DrawPanel(SvgCanvas canvas, Panel panel, double left, double top)
    {
        canvas.Start("g").Attr("class", "panel").Attr("id", panel.Id)
            .Attr("data-model", DemoNames.Of(panel.Model)).Attr("data-experiment", DemoNames.Of(panel.Experiment))
            .Attr("transform", $"translate({SvgCanvas.Number(left)},{SvgCanvas.Number(top)})");
        canvas.Text(PlotLeft, 18, panel.Title, size: 12, weight: "bold", cssClass: "panel-title");
        DrawAxes(canvas, panel);

        if (panel.Dense is double dense)
        {
            double y = panel.Py(dense);
            canvas.Line(PlotLeft, y, PlotLeft + PlotWidth, y, PlotPalette.Reference, 1, "2,3", "dense-baseline");
            // Above the line, unless that would touch the frame's top edge.
            double labelY = y - 4 < PlotTop + 12 ? y + 12 : y - 4;
            canvas.Text(PlotLeft + PlotWidth - 4, labelY, "dense " + Percent(dense, 0.0001), "end", size: 10, cssClass: "dense-label");
        }

        if (panel.X.IsLog2)
        {
            double x = panel.Px(1);
            canvas.Line(x, PlotTop, x, PlotTop + PlotHeight, PlotPalette.Reference, 1, "2,3", "unit-speedup");
        }

        if (panel.Front is { } front)
        {
            canvas.Start("g").Attr("class", "pareto-front").Attr("id", panel.Id + "-front").Attr("data-panel", panel.Id)
                .Attr("data-series", "pareto-front");
            canvas.Polyline(front.Select(p => (panel.Px(p.X), panel.Py(p.Y))).ToList(), PlotPalette.Reference, 2.5, cssClass: "front-line");
            foreach (SeriesPoint p in front)
            {
                canvas.Start("circle").Attr("class", "front-point").Attr("cx", panel.Px(p.X)).Attr("cy", panel.Py(p.Y)).Attr("r", 7)
                    .Attr("fill", "none").Attr("stroke", PlotPalette.Reference).Attr("stroke-width", 1.5)
                    .Attr("data-x", SvgCanvas.Exact(p.X)).Attr("data-y", SvgCanvas.Exact(p.Y)).Attr("data-row", p.Row.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .End();
            }

            canvas.End();
        }

        for (int s = 0; s < panel.Series.Count; s++)
        {
            DrawSeries(canvas, panel, panel.Series[s], $"{panel.Id}-s{s}");
        }

        DrawLegend(canvas, panel);
        canvas.End();
    }

    private static void DrawAxes(SvgCanvas canvas, Panel panel)
    {
        canvas.Start("g").Attr("class", "axes");
        double bottom = PlotTop + PlotHeight;
        foreach (double tick in panel.X.Ticks)
        {
            double x = panel.Px(tick);
            canvas.Line(x, PlotTop, x, bottom, PlotPalette.Grid, 1, cssClass: "grid");
            canvas.Line(x, bottom, x, bottom + 4, PlotPalette.Axis, 1, cssClass: "tick");
            string label = panel.X.IsLog2 ? Times(tick) : Percent(tick, panel.X.Step);
            canvas.Text(x, bottom + 16, label, "middle", cssClass: "tick-label");
        }

        foreach (double tick in panel.Y.Ticks)
        {
            double y = panel.Py(tick);
            canvas.Line(PlotLeft, y, PlotLeft + PlotWidth, y, PlotPalette.Grid, 1, cssClass: "grid");
            canvas.Line(PlotLeft - 4, y, PlotLeft, y, PlotPalette.Axis, 1, cssClass: "tick");
            canvas.Text(PlotLeft - 7, y + 4, Percent(tick, panel.Y.Step), "end", cssClass: "tick-label");
        }

        canvas.Start("rect").Attr("class", "frame").Attr("x", PlotLeft).Attr("y", PlotTop).Attr("width", PlotWidth).Attr("height", PlotHeight)
            .Attr("fill", "none").Attr("stroke", PlotPalette.Axis).Attr("stroke-width", 1).End();
        canvas.Text(PlotLeft + PlotWidth / 2, bottom + 34, panel.XTitle, "middle", cssClass: "axis-title");
        canvas.Text(14, PlotTop + PlotHeight / 2, "test accuracy", "middle", cssClass: "axis-title", rotate: -90);
        canvas.End();
    }

    private static void DrawSeries(SvgCanvas canvas, Panel panel, Series series, string id)
    {
        string colour = PlotPalette.Colour(series.ColourIndex);
        SeriesKey key = series.Key;
        canvas.Start("g").Attr("class", key.Stage is null ? "series" : "series " + key.Stage).Attr("id", id)
            .Attr("data-panel", panel.Id).Attr("data-series", key.SortKey).Attr("stroke", colour);
        foreach (var (name, value) in key.Parts())
        {
            canvas.Attr("data-" + name, value);
        }

        if (series.Connect && series.Points.Count > 1)
        {
            canvas.Polyline(series.Points.Select(p => (panel.Px(p.X), panel.Py(p.Y))).ToList(), colour, 1.75, key.Dash, "line");
        }

        PlotPalette.Shape shape = PlotPalette.MarkerShape(series.ColourIndex);
        foreach (SeriesPoint p in series.Points)
        {
            canvas.StartMarker(shape, panel.Px(p.X), panel.Py(p.Y), MarkerRadius, colour, key.Filled, "marker")
                .Attr("data-x", SvgCanvas.Exact(p.X)).Attr("data-y", SvgCanvas.Exact(p.Y))
                .Attr("data-row", p.Row.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .End();
        }

        canvas.End();
    }

    private static void DrawLegend(SvgCanvas canvas, Panel panel)
    {
        double y = PlotTop + PlotHeight + AxisBelow + 6;
        canvas.Start("g").Attr("class", "legend");
        foreach (Series series in panel.Series)
        {
            string colour = PlotPalette.Colour(series.ColourIndex);
            canvas.Start("g").Attr("class", "legend-entry").Attr("data-series", series.Key.SortKey);
            if (series.Connect)
            {
                canvas.Line(PlotLeft, y, PlotLeft + 24, y, colour, 1.75, series.Key.Dash);
            }

            canvas.StartMarker(PlotPalette.MarkerShape(series.ColourIndex), PlotLeft + 12, y, MarkerRadius, colour, series.Key.Filled, "legend-marker").End();
            canvas.Text(PlotLeft + 32, y + 4, series.Key.Label);
            canvas.End();
            y += LegendLine;
        }

        if (panel.Front is not null)
        {
            canvas.Start("g").Attr("class", "legend-entry").Attr("data-series", "pareto-front");
            canvas.Line(PlotLeft, y, PlotLeft + 24, y, PlotPalette.Reference, 2.5);
            canvas.Text(PlotLeft + 32, y + 4, "Pareto front");
            canvas.End();
            y += LegendLine;
        }

        if (panel.Dense is not null)
        {
            canvas.Start("g").Attr("class", "legend-entry").Attr("data-series", "dense-baseline");
            canvas.Line(PlotLeft, y, PlotLeft + 24, y, PlotPalette.Reference, 1, "2,3");
            canvas.Text(PlotLeft + 32, y + 4, "dense network");
            canvas.End();
        }

        canvas.End();
    }
}
