using Span.Prune.Lab.Demo;

namespace Span.Prune.Tests.Lab.Report;

public class DemoMarkdownTests
{
    /// <summary>Splits the markdown into (heading, table lines) blocks.</summary>
    private static List<(string Heading, List<string> Lines)> Tables(string markdown)
    {
        var tables = new List<(string, List<string>)>();
        foreach (string line in markdown.Split('\n'))
        {
            if (line.StartsWith("### ", StringComparison.Ordinal)) tables.Add((line[4..], []));
            else if (line.StartsWith('|')) tables[^1].Item2.Add(line);
        }
        return tables;
    }

    private static string[] Cells(string line) => line.Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();

    [Fact]
    public void OneTablePerExperiment_InEnumOrder_WithAHeaderAndOneLinePerRow()
    {
        List<DemoRow> rows = DemoRows.Sample();
        var tables = Tables(DemoMarkdown.Render(rows));

        string[] expected = Enum.GetValues<DemoExperiment>().Where(x => rows.Exists(r => r.Experiment == x)).Select(DemoNames.Of).ToArray();
        Assert.Equal(expected, tables.Select(t => t.Heading));
        foreach (var (heading, lines) in tables)
        {
            int count = rows.Count(r => DemoNames.Of(r.Experiment) == heading);
            Assert.Equal(count + 2, lines.Count); // header, alignment row, one line per row
            Assert.Matches(@"^\|(---:?\|)+$", lines[1]);
            int columns = Cells(lines[0]).Length;
            Assert.All(lines.Skip(2), l => Assert.Equal(columns, Cells(l).Length));
        }
    }

    [Fact]
    public void Columns_AreTheFieldsPresent_InJsonOrder()
    {
        var tables = Tables(DemoMarkdown.Render(DemoRows.Sample()));

        Assert.Equal(["model", "accuracy", "params", "macs", "seconds"], Cells(tables.Single(t => t.Heading == "dense").Lines[0]));
        Assert.Equal(["model", "criterion", "granularity", "sparsity", "one_shot", "params"], Cells(tables.Single(t => t.Heading == "global").Lines[0]));
        Assert.Equal(["model", "criterion", "granularity", "sparsity", "one_shot", "fine_tuned", "slimming", "params"],
            Cells(tables.Single(t => t.Heading == "channels").Lines[0]));
        Assert.Equal(["model", "granularity", "fine_tuned", "format", "batch", "ms", "speedup"], Cells(tables.Single(t => t.Heading == "speed").Lines[0]));
    }

    [Fact]
    public void Numbers_AreFormattedForReading()
    {
        var rows = new List<DemoRow>
        {
            new() { Model = DemoModel.Mlp, Experiment = DemoExperiment.Dense, Accuracy = 0.98214, Params = 266_610, Seconds = 12.34 },
            new()
            {
                Model = DemoModel.Cnn, Experiment = DemoExperiment.Speed, Granularity = "a|b", Format = "csr", Sparsity = 0.9, OneShot = 0.5,
                Batch = 64, Ms = 0.12345, Speedup = 2.345, Slimming = true, Schedule = DemoSchedule.OneShot,
            },
        };
        var tables = Tables(DemoMarkdown.Render(rows));

        Assert.Equal(["mlp", "98.21%", "266,610", "12.3"], Cells(tables[0].Lines[2]));
        var speed = tables[1].Lines;
        Assert.Equal(["model", "granularity", "sparsity", "one_shot", "slimming", "schedule", "format", "batch", "ms", "speedup"], Cells(speed[0]));
        Assert.Equal("|---|---|---:|---:|---|---|---|---:|---:|---:|", speed[1]);
        Assert.Equal(@"| cnn | a\|b | 0.900 | 50.00% | yes | one_shot | csr | 64 | 0.123 | 2.35× |", speed[2]);
    }

    [Fact]
    public void MissingValues_LeaveEmptyCells()
    {
        var rows = new List<DemoRow>
        {
            DemoRows.Pruned(DemoModel.Mlp, DemoExperiment.Layer, "magnitude", "element", 0.5, 0.9, 0.95),
            DemoRows.Pruned(DemoModel.Mlp, DemoExperiment.Layer, "magnitude", "element", 0.8, 0.7),
        };
        var lines = Tables(DemoMarkdown.Render(rows))[0].Lines;

        Assert.Equal("| mlp | magnitude | element | 0.800 | 70.00% |  | 53,321 |", lines[3]);
    }

    [Fact]
    public void NoRows_RenderNothing() => Assert.Equal("", DemoMarkdown.Render([]));
}
