using System.Globalization;
using System.Text.Json;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune --scope global</c> with <c>lamp</c>, <c>taylor</c> and <c>obd</c> (scores streamed through the
/// magnitude engine, one tensor at a time) through the real executable, on a model of F32, BF16, F16 and F64 targets
/// with zeros (ties at score 0). Expected masks are computed here from the definitions: every score in double/float as
/// the formula says, a sort of every (score, tensor, index), the first round-half-even(s·N) pruned, with a cap the
/// greedy walk that skips tensors at ⌊cap·n⌋; for LAMP also the library's in-memory <see cref="Pruning.Global"/>.
/// </summary>
public sealed class GlobalScoreTests() : CliTempDirectory("sprune-global-scores-")
{
    private string Out => PathOf("out.safetensors");

    private sealed record W(string Name, SafeTensorsDType DType, long[] Shape, float[] Values);

    /// <summary>Values exactly representable in <paramref name="dtype"/>, a fifth of them zero.</summary>
    private static float[] Values(SafeTensorsDType dtype, int n, int seed)
    {
        float[] v = TestData.Normal(n, seed);
        for (int i = seed % 5; i < n; i += 5) v[i] = 0f;
        return dtype switch { SafeTensorsDType.BF16 => Expect.Bf16(v), SafeTensorsDType.F16 => Expect.F16(v), _ => v };
    }

    private static W Make(string name, SafeTensorsDType dtype, int seed, params long[] shape) =>
        new(name, dtype, shape, Values(dtype, (int)shape.Aggregate(1L, (a, b) => a * b), seed));

    /// <summary>Targets (rank ≥ 2) of four dtypes and one bias that is not a target.</summary>
    private static readonly W[] Model =
    [
        Make("fc1.weight", SafeTensorsDType.F32, 1, 12, 10),
        Make("fc1.bias", SafeTensorsDType.F32, 2, 12),
        Make("conv.weight", SafeTensorsDType.BF16, 3, 4, 3, 3, 3),
        Make("fc2.weight", SafeTensorsDType.F16, 4, 6, 12),
        Make("head.weight", SafeTensorsDType.F64, 5, 3, 6),
    ];

    private static W[] Targets => Model.Where(w => w.Shape.Length >= 2).ToArray();

    private string WriteModel()
    {
        var f = new TensorFile().Meta("format", "pt");
        foreach (W w in Model) f.Add(w.Name, w.DType, w.Values, w.Shape);
        return f.Save(PathOf("model.safetensors"));
    }

    /// <summary>The statistic of <paramref name="suffix"/> for each target (non-negative where it must be), F32.</summary>
    private static Dictionary<string, float[]> Statistics(string suffix) => Targets.ToDictionary(w => w.Name, w =>
    {
        float[] s = TestData.Normal(StatLength(suffix, w), w.Values.Length + 17);
        for (int i = 3; i < s.Length; i += 7) s[i] = 0f;
        return suffix is "grad" ? s : s.Select(MathF.Abs).ToArray();
    });

    private string WriteStats(string suffix, Dictionary<string, float[]> stats)
    {
        var f = new TensorFile();
        foreach (W w in Targets) f.F32(w.Name + "." + suffix, stats[w.Name], suffix == "input_norm" ? [StatLength(suffix, w)] : w.Shape);
        return f.Save(PathOf("stats.safetensors"));
    }

    /// <summary>Wanda's norms: one per column of the 2-D view <c>[Shape[0], rest]</c>; the others: one per weight.</summary>
    private static int StatLength(string suffix, W w) => suffix == "input_norm" ? w.Values.Length / (int)w.Shape[0] : w.Values.Length;

    /// <summary>LAMP by its definition (Lee et al. 2021): sort by (w², index), score w_p² / Σ_{q ≥ p} w_q² in double, rounded once.</summary>
    private static float[] NaiveLamp(float[] w)
    {
        int[] order = Enumerable.Range(0, w.Length).OrderBy(i => (double)w[i] * w[i]).ThenBy(i => i).ToArray();
        var scores = new float[w.Length];
        double suffix = 0;
        for (int p = w.Length - 1; p >= 0; p--)
        {
            double sq = (double)w[order[p]] * w[order[p]];
            suffix += sq;
            scores[order[p]] = sq == 0 ? 0f : (float)(sq / suffix);
        }
        return scores;
    }

    private static float[] Scores(string criterion, string? suffix, W w, Dictionary<string, float[]>? stats) => criterion switch
    {
        "lamp" => NaiveLamp(w.Values),
        "taylor" when suffix == "taylor" => stats![w.Name],
        "taylor" => w.Values.Select((x, i) => MathF.Abs(stats![w.Name][i] * x)).ToArray(),
        "obd" => w.Values.Select((x, i) => 0.5f * stats![w.Name][i] * (x * x)).ToArray(),
        // |w|·‖X_j‖ with j the column of the 2-D view (rows of length RowLength), ranked across tensors.
        "wanda" => w.Values.Select((x, i) => MathF.Abs(x) * stats![w.Name][i % StatLength("input_norm", w)]).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(criterion)),
    };

    /// <summary>The greedy walk over ascending (score, tensor, index), skipping tensors at their cap, until k are pruned.</summary>
    private static HashSet<(int T, int I)> Greedy(float[][] scores, double s, double cap)
    {
        long n = scores.Sum(x => (long)x.Length);
        long k = (long)Math.Round(s * n, MidpointRounding.ToEven);
        long[] caps = scores.Select(x => (long)decimal.Floor((decimal)cap * x.Length)).ToArray();
        var lost = new long[scores.Length];
        var pruned = new HashSet<(int, int)>();
        foreach (var (_, t, i) in scores.SelectMany((x, t) => x.Select((v, i) => (v, t, i))).OrderBy(e => e.v).ThenBy(e => e.t).ThenBy(e => e.i))
        {
            if (pruned.Count == k) break;
            if (lost[t] == caps[t]) continue;
            lost[t]++;
            pruned.Add((t, i));
        }
        return pruned;
    }

    [Theory]
    [InlineData("lamp", null, 0.6, 1.0)]
    [InlineData("lamp", null, 0.1, 1.0)] // the cut falls among the zeros: ties by tensor, then index
    [InlineData("lamp", null, 0.6, 0.7)]
    [InlineData("taylor", "grad", 0.5, 1.0)]
    [InlineData("taylor", "grad", 0.15, 1.0)]
    [InlineData("taylor", "taylor", 0.5, 0.8)]
    [InlineData("obd", "fisher", 0.5, 1.0)]
    [InlineData("obd", "hess_diag", 0.3, 0.9)]
    [InlineData("wanda", "input_norm", 0.5, 1.0)]
    [InlineData("wanda", "input_norm", 0.3, 0.8)]
    public void Global_equals_the_lowest_k_scores_over_all_tensors(string criterion, string? suffix, double s, double cap)
    {
        string model = WriteModel();
        Dictionary<string, float[]>? stats = suffix is null ? null : Statistics(suffix);
        string[] statsArgs = suffix is null ? [] : ["--stats", WriteStats(suffix, stats!)];
        string report = PathOf("report.json");
        var r = Sprune.Run(["prune", model, "-o", Out, "--scope", "global", "--criterion", criterion, "--sparsity", Expect.S(s),
            "--max-layer-sparsity", Expect.S(cap), "--report", report, .. statsArgs]);
        Assert.True(r.ExitCode == 0, r.StdErr);

        W[] targets = Targets;
        float[][] scores = targets.Select(w => Scores(criterion, suffix, w, stats)).ToArray();
        var pruned = Greedy(scores, s, cap);
        using var input = SafeTensorsFile.Open(model);
        using var output = SafeTensorsFile.Open(Out);
        Assert.Equal(Model.Select(w => w.Name), output.Tensors.Select(t => t.Name));
        foreach (SafeTensorInfo t in output.Tensors)
        {
            int ti = Array.FindIndex(targets, w => w.Name == t.Name);
            int size = SafeTensorsDTypeInfo.SizeOf(t.DType);
            byte[] expected = input.GetBytes(t.Index).ToArray();
            for (int i = 0; ti >= 0 && i < t.ElementCount; i++)
                if (pruned.Contains((ti, i))) Array.Clear(expected, i * size, size);
            Assert.Equal(expected, output.GetBytes(t.Index).ToArray());
        }

        // The report: per tensor the pruned count and zeros, and the threshold = the largest pruned score.
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        JsonElement[] rows = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
        Assert.Equal(targets.Select(w => w.Name), rows.Select(e => e.GetProperty("name").GetString()));
        float threshold = pruned.Max(p => scores[p.T][p.I]);
        for (int ti = 0; ti < targets.Length; ti++)
        {
            Assert.Equal(pruned.Count(p => p.T == ti), rows[ti].GetProperty("pruned_elements").GetInt64());
            Assert.Equal(Enumerable.Range(0, targets[ti].Values.Length).Count(i => pruned.Contains((ti, i)) || targets[ti].Values[i] == 0),
                rows[ti].GetProperty("zeros").GetInt64());
            Assert.Equal(threshold, rows[ti].GetProperty("threshold").GetSingle());
        }
    }

    [Theory]
    [InlineData(0.6, 1.0)]
    [InlineData(0.1, 1.0)]
    [InlineData(0.6, 0.7)]
    public void Global_lamp_equals_the_in_memory_Pruning_Global(double s, double cap)
    {
        string model = WriteModel();
        var r = Sprune.Run("prune", model, "-o", Out, "--scope", "global", "--criterion", "lamp", "--sparsity", Expect.S(s), "--max-layer-sparsity", Expect.S(cap));
        Assert.True(r.ExitCode == 0, r.StdErr);

        Memory<float>[] layers = Targets.Select(w => new Memory<float>((float[])w.Values.Clone())).ToArray();
        Span.Prune.Pruning.Global(layers, s, GlobalScore.Lamp, cap);
        using var output = SafeTensorsFile.Open(Out);
        for (int ti = 0; ti < layers.Length; ti++)
        {
            var got = new float[layers[ti].Length];
            output.ReadAsFloat32(Targets[ti].Name, got);
            Assert.Equal(layers[ti].ToArray().Select(BitConverter.SingleToUInt32Bits), got.Select(BitConverter.SingleToUInt32Bits));
        }
    }

    [Theory]
    [InlineData("criterion lamp ranks weights across tensors: use --scope global", "--criterion", "lamp")]
    [InlineData("--stats is not read by criterion lamp", "--criterion", "lamp", "--scope", "global", "--stats", "STATS")]
    [InlineData("random has none to rank", "--criterion", "random", "--scope", "global")]
    [InlineData("'fc1.weight.hess_diag' holds -1 at index 7; expected values in [0,", "--criterion", "obd", "--scope", "global", "--stats", "STATS")]
    public void Bad_global_requests_exit_two_and_write_nothing(string message, params string[] options)
    {
        string model = WriteModel();
        var stats = new TensorFile();
        foreach (W w in Targets)
        {
            float[] h = new float[w.Values.Length];
            if (w.Name == "fc1.weight") h[7] = -1f;
            stats.F32(w.Name + ".hess_diag", h, w.Shape);
        }
        stats.F32("fc1.weight.input_norm", new float[10], 10);
        string statsPath = stats.Save(PathOf("stats.safetensors"));
        var r = Sprune.Run(["prune", model, "-o", Out, "--sparsity", "0.5", .. options.Select(a => a == "STATS" ? statsPath : a)]);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
        Assert.Equal(new[] { "model.safetensors", "stats.safetensors" }.Select(PathOf).Order(), Directory.GetFiles(Dir).Order());
    }

    [Fact]
    public void A_NaN_weight_exits_two_naming_the_tensor_and_writes_nothing()
    {
        float[] bad = (float[])Model[3].Values.Clone();
        bad[9] = float.NaN;
        var f = new TensorFile();
        foreach (W w in Model) f.Add(w.Name, w.DType, w.Name == "fc2.weight" ? bad : w.Values, w.Shape);
        string model = f.Save(PathOf("model.safetensors"));
        var r = Sprune.Run("prune", model, "-o", Out, "--scope", "global", "--criterion", "lamp", "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
        Assert.Contains("tensor 'fc2.weight'", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("NaN", r.StdErr, StringComparison.Ordinal);
        Assert.Equal([model], Directory.GetFiles(Dir));
    }
}
