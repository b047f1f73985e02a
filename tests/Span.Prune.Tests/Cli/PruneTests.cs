using System.Text.Json;
using Span.Prune.Tests.SafeTensors;
using static Span.Prune.Tests.Cli.Expect;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune</c> through the real executable, on files the test writes byte by byte. Expected masks follow
/// torch.nn.utils.prune, computed independently here: round-half-even(s·n) units, lowest scores first (a stable sort;
/// the random weights have no ties).
/// </summary>
public sealed class PruneTests() : CliTempDirectory("sprune-prune-")
{
    /// <summary>fc1.weight F32 [6, 10], fc1.bias F32 [6], fc2.weight F32 [4, 6], metadata format=pt.</summary>
    private (string Path, float[] W1, float[] B1, float[] W2) Model()
    {
        float[] w1 = TestData.Normal(60, 1), b1 = TestData.Normal(6, 2), w2 = TestData.Normal(24, 3, 0.1f);
        byte[] a = SafeTensorsFixture.Bytes(w1), b = SafeTensorsFixture.Bytes(b1), c = SafeTensorsFixture.Bytes(w2);
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
            $"\"fc1.weight\":{{\"dtype\":\"F32\",\"shape\":[6,10],\"data_offsets\":[0,{a.Length}]}}," +
            $"\"fc1.bias\":{{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[{a.Length},{a.Length + b.Length}]}}," +
            $"\"fc2.weight\":{{\"dtype\":\"F32\",\"shape\":[4,6],\"data_offsets\":[{a.Length + b.Length},{a.Length + b.Length + c.Length}]}}}}";
        string path = System.IO.Path.Combine(Dir, "model.safetensors");
        File.WriteAllBytes(path, SafeTensorsFixture.Build(header, SafeTensorsFixture.Concat(a, b, c)));
        return (path, w1, b1, w2);
    }

    private string Out(string name = "out.safetensors") => System.IO.Path.Combine(Dir, name);

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.75)]
    public void MagnitudeElementLayer_MatchesL1Unstructured(double s)
    {
        var (path, w1, b1, w2) = Model();
        byte[] before = File.ReadAllBytes(path);

        var r = Sprune.Run("prune", path, "-o", Out(), "--criterion", "magnitude", "--sparsity", s.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(0, r.ExitCode);
        foreach (var (name, w) in new[] { ("fc1.weight", w1), ("fc2.weight", w2) })
        {
            var pruned = Lowest(w.Select(x => (double)Math.Abs(x)).ToArray(), TorchCount(s, w.Length));
            Assert.Equal(w.Select((x, i) => pruned.Contains(i) ? 0f : x), Read(Out(), name));
        }
        Assert.Equal(b1, Read(Out(), "fc1.bias")); // rank 1: not a target by default
        Assert.Equal(before, File.ReadAllBytes(path));
        using var f = SafeTensorsFile.Open(Out());
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight"], f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", Assert.Single(f.Metadata).Value);
    }

    [Theory]
    [InlineData("l1")]
    [InlineData("l2")]
    public void RowNorms_MatchLnStructuredDim0(string norm)
    {
        var (path, w1, _, _) = Model();
        var r = Sprune.Run("prune", path, "-o", Out(), "--criterion", norm, "--granularity", "row", "--sparsity", "0.5");
        Assert.Equal(0, r.ExitCode);
        double[] rowNorms = Enumerable.Range(0, 6).Select(o => norm == "l1"
            ? w1.Skip(o * 10).Take(10).Sum(x => Math.Abs((double)x))
            : Math.Sqrt(w1.Skip(o * 10).Take(10).Sum(x => (double)x * x))).ToArray();
        var prunedRows = Lowest(rowNorms, TorchCount(0.5, 6));
        Assert.Equal(w1.Select((x, e) => prunedRows.Contains(e / 10) ? 0f : x), Read(Out(), "fc1.weight"));
    }

    [Fact]
    public void GlobalScope_MatchesGlobalUnstructured_AndReports()
    {
        var (path, w1, _, w2) = Model();
        string report = Out("report.json");
        var r = Sprune.Run("prune", path, "-o", Out(), "--scope", "global", "--sparsity", "0.6", "--report", report);
        Assert.Equal(0, r.ExitCode);
        float[] all = [.. w1, .. w2];
        var pruned = Lowest(all.Select(x => (double)Math.Abs(x)).ToArray(), TorchCount(0.6, all.Length));
        float[] expected = all.Select((x, i) => pruned.Contains(i) ? 0f : x).ToArray();
        Assert.Equal(expected[..60], Read(Out(), "fc1.weight"));
        Assert.Equal(expected[60..], Read(Out(), "fc2.weight"));

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
        Assert.Equal(pruned.Count(i => i < 60), tensors[0].GetProperty("pruned_elements").GetInt64());
        Assert.Equal(pruned.Count(i => i >= 60), tensors[1].GetProperty("pruned_elements").GetInt64());
    }

    [Fact]
    public void Bf16_UnprunedBitsSurvive_PrunedBecomeZero()
    {
        // BF16 [2, 4]: bit patterns chosen by hand; magnitude 50% prunes the four smallest.
        ushort[] bits = [0x3F80, 0xBE00, 0x4040, 0x3C00, 0xC0A0, 0x3E80, 0xBF00, 0x4100]; // 1, -0.125, 3, 0.0078, -5, 0.25, -0.5, 8
        byte[] data = SafeTensorsFixture.Bytes(bits);
        string path = System.IO.Path.Combine(Dir, "bf16.safetensors");
        File.WriteAllBytes(path, SafeTensorsFixture.Build($"{{\"w\":{{\"dtype\":\"BF16\",\"shape\":[2,4],\"data_offsets\":[0,{data.Length}]}}}}", data));

        Assert.Equal(0, Sprune.Run("prune", path, "-o", Out(), "--sparsity", "0.5").ExitCode);

        using var f = SafeTensorsFile.Open(Out());
        Assert.Equal(SafeTensorsDType.BF16, f.Tensors[0].DType);
        ushort[] after = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(f.GetBytes("w")).ToArray();
        Assert.Equal(new ushort[] { 0x3F80, 0, 0x4040, 0, 0xC0A0, 0, 0, 0x4100 }, after);
    }

    [Theory]
    [InlineData("--criterion", "nonsense")]
    [InlineData("--criterion", "taylor")]
    [InlineData("--sparsity", "1.5")]
    [InlineData("--sparsity", "-0.1")]
    [InlineData("--granularity", "block:4x4")]
    [InlineData("--granularity", "diagonal")]
    [InlineData("--scope", "universe")]
    [InlineData("--include", "([")]
    [InlineData("--include", "nothing-matches-this")]
    public void BadRequest_ExitsTwo_WritesNothing(string option, string value)
    {
        var (path, _, _, _) = Model();
        string[] args = option == "--sparsity"
            ? ["prune", path, "-o", Out(), option, value]
            : ["prune", path, "-o", Out(), "--sparsity", "0.5", option, value];
        var r = Sprune.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.False(File.Exists(Out()));
        Assert.Single(Directory.GetFiles(Dir)); // no temp file left behind either
    }

    [Fact]
    public void OverwritingTheInput_OrAMalformedInput_ExitsTwo()
    {
        var (path, _, _, _) = Model();
        byte[] before = File.ReadAllBytes(path);
        Assert.Equal(2, Sprune.Run("prune", path, "-o", path, "--sparsity", "0.5").ExitCode);
        Assert.Equal(before, File.ReadAllBytes(path));

        string bad = Out("bad.safetensors");
        File.WriteAllBytes(bad, before[..30]);
        var r = Sprune.Run("prune", bad, "-o", Out(), "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.False(File.Exists(Out()));
    }

    [Theory]
    [InlineData(SafeTensorsDType.BF16, 0.55)]
    [InlineData(SafeTensorsDType.F16, 0.3)]
    [InlineData(SafeTensorsDType.F64, 0.9)]
    [InlineData(SafeTensorsDType.F32, 0.5)]
    public void MagnitudeLayer_EveryDtypeWithTies_PrunesTheStableLowestK_AndReportsThreshold(SafeTensorsDType dtype, double s)
    {
        // Values on a coarse grid so that many magnitudes tie (and ±x tie with each other); rank-2 and rank-4 weights.
        float[] Grid(int n, int seed) => TestData.Normal(n, seed).Select(x => MathF.Round(x * 4) / 4).ToArray();
        float[] a = Grid(37 * 29, 11), b = Grid(8 * 3 * 3 * 3, 12);
        string path = new TensorFile().Add("a", dtype, a, 37, 29).Add("b", dtype, b, 8, 3, 3, 3).Save(Out("ties.safetensors"));
        string report = Out("report.json");

        var r = Sprune.Run("prune", path, "-o", Out(), "--sparsity", S(s), "--report", report);

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
        foreach (var (name, w, entry) in new[] { ("a", a, tensors[0]), ("b", b, tensors[1]) })
        {
            var pruned = Lowest(w.Select(x => (double)Math.Abs(x)).ToArray(), TorchCount(s, w.Length));
            Assert.Equal(w.Select((x, i) => pruned.Contains(i) ? 0f : x), Read(Out(), name));
            Assert.Equal(pruned.Count, entry.GetProperty("pruned_elements").GetInt64());
            Assert.Equal(pruned.Max(i => Math.Abs(w[i])), entry.GetProperty("threshold").GetSingle());
            Assert.Equal(w.Where((x, i) => x == 0 || pruned.Contains(i)).Count(), entry.GetProperty("zeros").GetInt64());
        }
    }

    [Fact]
    public void MagnitudeLayer_NaNInALaterTensor_ExitsTwo_NamingIt_AndLeavesNothing()
    {
        float[] a = TestData.Normal(64, 1), b = TestData.Normal(64, 2);
        b[17] = float.NaN;
        string path = new TensorFile().F32("first", a, 8, 8).F32("second", b, 8, 8).Save(Out("nan.safetensors"));

        var r = Sprune.Run("prune", path, "-o", Out(), "--sparsity", "0.5");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("tensor 'second': holds a NaN or infinite weight", r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Single(Directory.GetFiles(Dir)); // neither the output nor a temporary file
    }
}
