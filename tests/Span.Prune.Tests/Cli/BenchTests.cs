using System.Globalization;
using System.Text.Json;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune bench</c> end to end through the real executable, on the hidden <c>--smoke</c> size (tiny shapes, a
/// second): the markdown table, the JSON schema of the issue, and the floor check's exit codes. The ratios of so small
/// a run mean nothing, so the floors here are chosen to hold (0) or to fail (10⁶) whatever the machine does.
/// </summary>
public sealed class BenchTests() : CliTempDirectory("sprune-bench-")
{
    private static readonly string[] Formats = ["dense", "csr", "csr16", "bsr:4x4", "nm:2:4", "nm:1:8", "shrunk"];

    private string File(string name) => Path.Combine(Dir, name);

    private string Floors(params (string Key, double Floor)[] floors)
    {
        string path = File($"floors-{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, "{\"floors\": {" +
            string.Join(",", floors.Select(f => $"\"{f.Key}\": {f.Floor.ToString(CultureInfo.InvariantCulture)}")) + "}}");
        return path;
    }

    /// <summary><c>--training</c>: one row per thread count with a positive median between its min and max.</summary>
    [Fact]
    public void Training_ReportsOneRowPerThreadCount()
    {
        var r = Sprune.Run("bench", "--training", "--quick");

        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] rows = r.StdOut.Split('\n').Where(l => l.StartsWith("| 1 |", StringComparison.Ordinal) || l.StartsWith("| 2 |", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        foreach (string row in rows)
        {
            double[] v = row.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Skip(2).Take(3).Select(x => double.Parse(x, NumberStyles.Number, CultureInfo.InvariantCulture)).ToArray();
            Assert.True(v[0] > 0 && v[1] <= v[0] && v[0] <= v[2], row);
        }
    }

    [Fact]
    public void Smoke_WritesTableAndJson_AndTheFloorCheckDecidesTheExitCode()
    {
        string json = File("report.json");
        string select = "select/dense/n65536/s0.9", csr = "matmul/csr/256x256/b8/s0.9";

        var held = Sprune.Run("bench", "--smoke", "--json", json, "--check", Floors((select, 0), (csr, 0)));

        Assert.Equal(0, held.ExitCode);
        Assert.Contains("| op | format | shape | batch |", held.StdOut, StringComparison.Ordinal);
        Assert.Contains("check: 2 of 2 floors held", held.StdErr, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(json));
        Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("cpu").GetString()));
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Contains(rows, r => r.GetProperty("op").GetString() == "select");
        Assert.Contains(rows, r => r.GetProperty("op").GetString() == "prune_layer");
        foreach (JsonElement r in rows)
        {
            string op = r.GetProperty("op").GetString()!;
            Assert.Contains(op, new[] { "select", "prune_layer", "matmul" });
            double ms = r.GetProperty("ms").GetDouble(), baseline = r.GetProperty("baseline_ms").GetDouble();
            Assert.True(ms > 0 && baseline > 0, $"{r}");
            // Speedup is the baseline's time over ours, both from this run. The JSON rounds times to the nanosecond (±5e-7 ms,
            // not negligible for the smoke run's sub-microsecond rows) and the speedup to 3 decimals.
            double relative = 5e-7 / ms + 5e-7 / baseline;
            Assert.Equal(baseline / ms, r.GetProperty("speedup").GetDouble(), baseline / ms * relative * 1.01 + 6e-4);
            double sparsity = r.GetProperty("sparsity").GetDouble();
            Assert.InRange(sparsity, 0, 1);
            if (op == "matmul")
            {
                Assert.Contains(r.GetProperty("format").GetString(), Formats);
                Assert.Equal(256, r.GetProperty("rows").GetInt32());
                Assert.Equal(256, r.GetProperty("cols").GetInt32());
                Assert.Contains(r.GetProperty("batch").GetInt32(), new[] { 1, 8 });
                double flops = 2.0 * 256 * 256 * r.GetProperty("batch").GetInt32();
                Assert.Equal(flops / (ms * 1e6), r.GetProperty("gflops").GetDouble(), flops / (ms * 1e6) * 5e-7 / ms * 1.01 + 6e-3);
            }
            else
            {
                Assert.True(r.GetProperty("n").GetInt64() > 0);
            }
        }
        // Every sparse format has its dense row for each batch, measured in the same run.
        foreach (int batch in new[] { 1, 8 })
            Assert.Contains(rows, r => r.GetProperty("op").GetString() == "matmul" && r.GetProperty("format").GetString() == "dense" && r.GetProperty("batch").GetInt32() == batch);
    }

    [Fact]
    public void Smoke_AFloorAboveTheMeasuredRatio_ExitsOne_NamingIt()
    {
        string csr = "matmul/csr/256x256/b1/s0.9";
        var r = Sprune.Run("bench", "--smoke", "--check", Floors((csr, 1e6), ("select/dense/n4096/s0.9", 0)));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"check: FAIL {csr}: speedup", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("check: 1 of 2 floors held", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Smoke_AFloorForARowThatWasNotMeasured_ExitsOne()
    {
        var r = Sprune.Run("bench", "--smoke", "--check", Floors(("matmul/csr/4096x4096/b1/s0.9", 1)));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no such row was measured", r.StdErr, StringComparison.Ordinal);
    }
}
