using System.Text.Json;
using System.Xml.Linq;
using Span.Prune.Tests.Lab.Data;

namespace Span.Prune.Tests.Cli;

/// <summary><c>sprune demo</c>: bad input is exit 2 with one line; a tiny run (the hidden <c>--subset</c> test hook) writes well-formed JSON and SVG.</summary>
public sealed class DemoCommandTests() : CliTempDirectory("sprune-demo-")
{
    private static void AssertOneLine(Sprune.Result r, string contains)
    {
        Assert.Equal(2, r.ExitCode);
        string[] lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(contains, lines[0], StringComparison.Ordinal);
        Assert.Equal("", r.StdOut);
    }

    /// <summary>Four valid raw IDX files of <paramref name="count"/> images each.</summary>
    private string WriteData(int count)
    {
        string dir = Path.Combine(Dir, "data");
        Directory.CreateDirectory(dir);
        byte[] pixels = IdxTestFiles.Pixels(count, seed: 3), labels = IdxTestFiles.LabelValues(count);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), IdxTestFiles.Images(pixels, count));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), IdxTestFiles.Labels(labels, count));
        File.WriteAllBytes(Path.Combine(dir, "t10k-images-idx3-ubyte"), IdxTestFiles.Images(pixels, count));
        File.WriteAllBytes(Path.Combine(dir, "t10k-labels-idx1-ubyte"), IdxTestFiles.Labels(labels, count));
        return dir;
    }

    [Fact]
    public void MissingDataDirectory_IsExit2WithOneLine() =>
        AssertOneLine(Sprune.Run("demo", "--data", Path.Combine(Dir, "nowhere")), "nowhere");

    [Fact]
    public void MissingFile_IsExit2NamingIt()
    {
        string dir = WriteData(4);
        File.Delete(Path.Combine(dir, "t10k-labels-idx1-ubyte"));
        AssertOneLine(Sprune.Run("demo", "--data", dir), "t10k-labels-idx1-ubyte");
    }

    [Fact]
    public void TruncatedFile_IsExit2NamingIt()
    {
        string dir = WriteData(4);
        string images = Path.Combine(dir, "train-images-idx3-ubyte");
        byte[] bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^100]);
        AssertOneLine(Sprune.Run("demo", "--data", dir), "train-images-idx3-ubyte");
    }

    [Fact]
    public void BadModel_IsExit2() => AssertOneLine(Sprune.Run("demo", "--model", "resnet"), "--model");

    [Fact]
    public void BadOnly_IsExit2() => AssertOneLine(Sprune.Run("demo", "--only", "speedy"), "--only");

    [Fact]
    public void NegativeScheduleStudy_IsExit2() => AssertOneLine(Sprune.Run("demo", "--schedule-study", "-1"), "--schedule-study");

    [Fact]
    public void ScheduleStudy_PrintsEveryCandidateAndTheChoice()
    {
        var r = Sprune.Run("demo", "--subset", "120", "--schedule-study", "1");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("3 seed(s) × 1 shuffle(s); 105 training and 15 held-out images", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("| one-shot |", r.StdOut, StringComparison.Ordinal);
        foreach (var ramp in Span.Prune.Lab.Demo.Experiments.ScheduleStudy.Candidates)
            Assert.Contains($"| agp {ramp}", r.StdOut, StringComparison.Ordinal);
        Assert.Single(r.StdOut.Split('\n'), line => line.Contains("**(chosen)**", StringComparison.Ordinal));
        Assert.Contains("Chosen (highest mean over both s_f): agp ", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void OutputOverAnInput_IsRefused()
    {
        string dir = WriteData(4);
        string input = Path.Combine(dir, "train-labels-idx1-ubyte");
        byte[] before = File.ReadAllBytes(input);
        AssertOneLine(Sprune.Run("demo", "--data", dir, "--json", input), "input");
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public void TinyRun_WritesTablesJsonAndOneSvgWithBothFigures()
    {
        string json = Path.Combine(Dir, "demo.json"), svg = Path.Combine(Dir, "demo.svg");

        var r = Sprune.Run("demo", "--subset", "160", "--json", json, "--plot", svg);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("", r.StdErr); // stderr is redirected: no progress
        Assert.Contains("### channels", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("### speed", r.StdOut, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] rows = [.. doc.RootElement.EnumerateArray()];
        var experiments = rows.Select(e => e.GetProperty("experiment").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "dense", "channels", "speed" }, experiments);
        JsonElement[] channels = [.. rows.Where(e => e.GetProperty("experiment").GetString() == "channels")];
        Assert.Equal(21, channels.Length); // bn_scale on two networks + five per-layer criteria, three sparsities each
        Assert.All(channels, e =>
        {
            Assert.Equal("cnn", e.GetProperty("model").GetString());
            Assert.True(e.GetProperty("macs").GetInt64() > 0);
            Assert.True(e.TryGetProperty("fine_tuned", out _));
        });
        JsonElement[] speed = [.. rows.Where(e => e.GetProperty("experiment").GetString() == "speed")];
        Assert.Contains(speed, e => e.GetProperty("model").GetString() == "cnn" && e.GetProperty("format").GetString() == "shrunk");
        Assert.Contains(speed, e => e.GetProperty("granularity").GetString() == "nm:2:4" && e.GetProperty("format").GetString() == "nm:2:4");
        Assert.All(speed, e => Assert.True(e.GetProperty("speedup").GetDouble() > 0));

        XDocument plot = XDocument.Parse(File.ReadAllText(svg));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", plot.Root!.Name);
        Assert.Equal(2, plot.Root.Elements(ns + "svg").Count());
        var panels = plot.Descendants().Select(e => (string?)e.Attribute("id")).Where(id => id is not null).ToHashSet();
        Assert.Contains("panel-cnn-channels", panels);
        Assert.Contains("panel-mlp-speed", panels);
        Assert.Contains("panel-cnn-speed", panels);
        Assert.Contains(plot.Descendants(), e => (string?)e.Attribute("data-series") is { } s && s.Contains("bn_scale", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(Dir, "*.tmp"));
    }
}
