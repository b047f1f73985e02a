using System.Globalization;
using System.Xml.Linq;
using Span.Prune.Lab.Demo;

namespace Span.Prune.Tests.Lab.Report;

public class DemoSvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XElement Panel(XDocument doc, string id) =>
        doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("id") == id && (string?)g.Attribute("class") == "panel");

    private static List<XElement> SeriesOf(XElement panel) =>
        panel.Elements(Svg + "g").Where(g => ((string?)g.Attribute("class"))?.Split(' ').Contains("series") == true).ToList();

    private static int RowOf(XElement marker) => int.Parse((string)marker.Attribute("data-row")!, CultureInfo.InvariantCulture);

    [Fact]
    public void Sparsity_IsWellFormed_WithOnePanelPerModelAndExperimentPresent()
    {
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSparsity(DemoRows.Sample()));

        Assert.Equal(Svg + "svg", doc.Root!.Name);
        var panels = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").Select(g => (string)g.Attribute("id")!);
        Assert.Equal(["panel-mlp-global", "panel-mlp-layer", "panel-cnn-channels", "panel-cnn-schedule"], panels);
        var ids = doc.Descendants().Select(e => (string?)e.Attribute("id")).Where(id => id is not null).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Sparsity_ThreeCriteria_OneShotOnly_AreThreeSeries()
    {
        var rows = new List<DemoRow>();
        foreach (string criterion in new[] { "magnitude", "lamp", "wanda" })
            foreach (double s in new[] { 0.9, 0.5, 0.7 })
                rows.Add(DemoRows.Pruned(DemoModel.Mlp, DemoExperiment.Layer, criterion, "element", s, 0.9 - s / 10));
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSparsity(rows));

        List<XElement> series = SeriesOf(Panel(doc, "panel-mlp-layer"));
        Assert.Equal(3, series.Count);
        Assert.Equal(["lamp", "magnitude", "wanda"], series.Select(s => (string)s.Attribute("data-criterion")!));
        Assert.All(series, s => Assert.Equal("one_shot", (string)s.Attribute("data-stage")!));
        foreach (XElement s in series)
        {
            string criterion = (string)s.Attribute("data-criterion")!;
            Assert.Equal($"{criterion}/element/one_shot", (string)s.Attribute("data-series")!);
            var markers = s.Elements().Where(e => (string?)e.Attribute("class") == "marker").ToList();
            // Each series holds exactly its criterion's rows, drawn in order of sparsity.
            Assert.Equal(Enumerable.Range(0, rows.Count).Where(i => rows[i].Criterion == criterion).OrderBy(i => rows[i].Sparsity),
                markers.Select(RowOf));
            string points = (string)s.Element(Svg + "polyline")!.Attribute("points")!;
            Assert.Equal(3, points.Split(' ').Length);
            Assert.Equal(rows.Where(r => r.Criterion == criterion).Select(r => r.Sparsity!.Value).Order(),
                markers.Select(m => double.Parse((string)m.Attribute("data-x")!, CultureInfo.InvariantCulture)));
        }
        // Three series, three different colours.
        Assert.Equal(3, series.Select(s => (string)s.Attribute("stroke")!).Distinct().Count());
    }

    [Fact]
    public void Sparsity_OneShotAndFineTuned_AreSeparateSeries_ThatShareAColour()
    {
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSparsity(DemoRows.Sample()));
        List<XElement> series = SeriesOf(Panel(doc, "panel-mlp-layer"));

        Assert.Equal(6, series.Count);
        foreach (var pair in series.GroupBy(s => (string)s.Attribute("data-criterion")!))
        {
            Assert.Equal(["fine_tuned", "one_shot"], pair.Select(s => (string)s.Attribute("data-stage")!).Order());
            Assert.Single(pair.Select(s => (string)s.Attribute("stroke")!).Distinct());
        }
        // The global panel has one-shot rows only.
        Assert.Equal(3, SeriesOf(Panel(doc, "panel-mlp-global")).Count);
        // The schedule panel separates the schedules.
        Assert.Equal(["agp", "iterative", "one_shot"],
            SeriesOf(Panel(doc, "panel-cnn-schedule")).Where(s => (string)s.Attribute("data-stage")! == "fine_tuned")
                .Select(s => (string)s.Attribute("data-schedule")!));
    }

    [Fact]
    public void Sparsity_DrawsTheDenseBaseline_AndAxesAndLegend()
    {
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSparsity(DemoRows.Sample()));
        XElement layer = Panel(doc, "panel-mlp-layer");

        Assert.Single(layer.Descendants(Svg + "line"), l => (string?)l.Attribute("class") == "dense-baseline");
        Assert.Contains(layer.Descendants(Svg + "text"), t => t.Value == "dense 98.12%");
        Assert.Contains(layer.Descendants(Svg + "text"), t => t.Value == "sparsity");
        Assert.Contains(layer.Descendants(Svg + "text"), t => t.Value == "test accuracy");
        Assert.True(layer.Descendants(Svg + "text").Count(t => (string?)t.Attribute("class") == "tick-label") >= 6);
        var legend = layer.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-entry").ToList();
        Assert.Equal(SeriesOf(layer).Count + 1, legend.Count);
        Assert.Contains(legend, g => g.Value == "magnitude · element · one-shot");
    }

    /// <summary>The non-dominated rows by definition, O(n²): no other point at least as fast and as accurate, one strictly.</summary>
    private static HashSet<int> NaiveFront(List<DemoRow> rows)
    {
        var speed = Enumerable.Range(0, rows.Count).Where(i => rows[i].Experiment == DemoExperiment.Speed).ToList();
        return speed.Where(p => !speed.Any(q =>
            rows[q].Speedup >= rows[p].Speedup && rows[q].FinalAccuracy >= rows[p].FinalAccuracy
            && (rows[q].Speedup > rows[p].Speedup || rows[q].FinalAccuracy > rows[p].FinalAccuracy))).ToHashSet();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Speed_ParetoFront_IsExactlyTheNonDominatedPoints(int seed)
    {
        var rng = new Random(seed);
        var rows = new List<DemoRow> { DemoRows.Dense(DemoModel.Mlp, 0.98) };
        string[] formats = ["dense", "csr", "nm", "shrunk", "bsr"];
        for (int i = 0; i < 40; i++)
        {
            // Coarse grids make ties in speedup, in accuracy and whole duplicates likely.
            double speedup = 0.25 * rng.Next(1, 30), accuracy = 0.9 + 0.01 * rng.Next(0, 9);
            rows.Add(DemoRows.Speed(DemoModel.Mlp, formats[rng.Next(formats.Length)], "g" + rng.Next(2), speedup, accuracy));
        }
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSpeedup(rows));

        XElement front = doc.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "pareto-front");
        Assert.Equal("panel-mlp-speed-front", (string)front.Attribute("id")!);
        var frontRows = front.Elements(Svg + "circle").Select(RowOf).ToList();
        Assert.Equal(NaiveFront(rows).Order(), frontRows.Order());
        Assert.Equal(frontRows.Count, ((string)front.Element(Svg + "polyline")!.Attribute("points")!).Split(' ').Length);

        // Every speed row is plotted exactly once, in the series of its format and granularity.
        var markers = doc.Descendants().Where(e => (string?)e.Attribute("class") == "marker").ToList();
        Assert.Equal(Enumerable.Range(1, 40), markers.Select(RowOf).Order());
        foreach (XElement m in markers)
        {
            XElement series = m.Parent!;
            Assert.Equal(rows[RowOf(m)].Format, (string)series.Attribute("data-format")!);
            Assert.Equal(rows[RowOf(m)].Granularity, (string)series.Attribute("data-granularity")!);
        }
    }

    [Fact]
    public void Speed_OnePanelPerModel_WithUnitSpeedupLine()
    {
        var rows = DemoRows.Sample();
        rows.Add(DemoRows.Speed(DemoModel.Cnn, "shrunk", "channel", 3, 0.97));
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSpeedup(rows));

        var panels = doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").Select(g => (string)g.Attribute("id")!);
        Assert.Equal(["panel-mlp-speed", "panel-cnn-speed"], panels);
        XElement mlp = Panel(doc, "panel-mlp-speed");
        Assert.Single(mlp.Descendants(Svg + "line"), l => (string?)l.Attribute("class") == "unit-speedup");
        Assert.Equal(4, SeriesOf(mlp).Count);
        Assert.Contains(mlp.Descendants(Svg + "text"), t => t.Value == "1×");
        Assert.Single(SeriesOf(Panel(doc, "panel-cnn-speed")));
    }

    [Fact]
    public void Names_AreEscaped()
    {
        var rows = new List<DemoRow>
        {
            DemoRows.Pruned(DemoModel.Mlp, DemoExperiment.Layer, "a<b&\"c\"", "x>y", 0.5, 0.9),
            DemoRows.Speed(DemoModel.Mlp, "f&g", "<nm>", 2, 0.9),
        };
        XDocument sparsity = XDocument.Parse(DemoSvg.AccuracyVsSparsity(rows));
        XDocument speed = XDocument.Parse(DemoSvg.AccuracyVsSpeedup(rows));

        Assert.Equal("a<b&\"c\"", (string)SeriesOf(Panel(sparsity, "panel-mlp-layer"))[0].Attribute("data-criterion")!);
        Assert.Equal("f&g", (string)SeriesOf(Panel(speed, "panel-mlp-speed"))[0].Attribute("data-format")!);
        Assert.Contains(speed.Descendants(Svg + "text"), t => t.Value == "f&g · <nm>");
    }

    [Fact]
    public void Output_IsDeterministic_AndCultureFree()
    {
        var rows = DemoRows.Sample();
        string sparsity = DemoSvg.AccuracyVsSparsity(rows), speed = DemoSvg.AccuracyVsSpeedup(rows);
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.PercentDecimalSeparator = ",";
            CultureInfo.CurrentCulture = comma;
            Assert.Equal(sparsity, DemoSvg.AccuracyVsSparsity(rows));
            Assert.Equal(speed, DemoSvg.AccuracyVsSpeedup(rows));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        Assert.DoesNotContain("NaN", sparsity);
        Assert.DoesNotContain("Infinity", speed);
    }

    [Fact]
    public void NoPlottableRows_GiveAWellFormedEmptyFigure()
    {
        var rows = new List<DemoRow> { DemoRows.Dense(DemoModel.Mlp, 0.98) };
        foreach (string svg in new[] { DemoSvg.AccuracyVsSparsity(rows), DemoSvg.AccuracyVsSpeedup([]) })
        {
            XDocument doc = XDocument.Parse(svg);
            Assert.DoesNotContain(doc.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "panel");
            Assert.Contains(doc.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "empty");
        }
    }

    [Fact]
    public void ManySeries_StayDistinct_ByColourOrShape()
    {
        var rows = Enumerable.Range(0, 12).Select(k => DemoRows.Pruned(DemoModel.Mlp, DemoExperiment.Global, "c" + k.ToString("D2", CultureInfo.InvariantCulture), "element", 0.5, 0.9)).ToList();
        XDocument doc = XDocument.Parse(DemoSvg.AccuracyVsSparsity(rows));
        var looks = SeriesOf(Panel(doc, "panel-mlp-global"))
            .Select(s => ((string)s.Attribute("stroke")!, s.Elements().Single(e => (string?)e.Attribute("class") == "marker").Name.LocalName))
            .ToList();

        Assert.Equal(12, looks.Distinct().Count());
    }
}
