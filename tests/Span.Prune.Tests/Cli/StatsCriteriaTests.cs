using System.Text.Json;
using static Span.Prune.Tests.Cli.Expect;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// The data-driven criteria of <c>sprune prune</c> through the real executable: each output's zero mask against a
/// mask computed here from naive scalar scores (stable sort by (score, index), round-half-even(s·n) units).
/// Model: <c>fc1.weight</c> F32 [6, 8], <c>fc1.bias</c> [6], <c>conv.weight</c> F32 [4, 2, 3, 3] (view [4, 18]).
/// </summary>
public sealed class StatsCriteriaTests() : CliTempDirectory("sprune-stats-")
{
    private readonly float[] _fc1 = TestData.Normal(48, 11), _bias = TestData.Normal(6, 12), _conv = TestData.Normal(72, 13);

    private string Out => PathOf("out.safetensors");

    private string Model() => new TensorFile()
        .Meta("format", "pt")
        .F32("fc1.weight", _fc1, 6, 8).F32("fc1.bias", _bias, 6).F32("conv.weight", _conv, 4, 2, 3, 3)
        .Save(PathOf("model.safetensors"));

    private static double[] Scores(float[] w, float[] stat, Func<float, float, float> score) => w.Select((x, i) => (double)score(x, stat[i])).ToArray();

    private void AssertOnlyInputsLeft(params string[] expected)
    {
        Assert.False(File.Exists(Out));
        Assert.Equal(expected.Select(PathOf).Order(), Directory.GetFiles(Dir).Order());
    }

    [Theory]
    [InlineData("element")]
    [InlineData("row")]
    [InlineData("column")]
    [InlineData("kernel")]
    [InlineData("block:2x2")]
    public void Taylor_MatchesNaiveGroupTaylor(string granularity)
    {
        float[] g1 = TestData.Normal(48, 21), g2 = TestData.Normal(72, 22);
        string stats = new TensorFile().F32("fc1.weight.grad", g1, 6, 8).F32("conv.weight.grad", g2, 4, 2, 3, 3).Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "taylor", "--stats", stats, "--granularity", granularity, "--sparsity", "0.4");

        Assert.True(r.ExitCode == 0, r.StdErr);
        // |g·w| per element (in float, as the formula), summed per unit.
        var p1 = GroupPruned(Scores(_fc1, g1, (w, g) => MathF.Abs(g * w)), granularity, 0.4, 6, 8, 1);
        var p2 = GroupPruned(Scores(_conv, g2, (w, g) => MathF.Abs(g * w)), granularity, 0.4, 4, 2, 9);
        Assert.Equal(Masked(_fc1, p1), Read(Out, "fc1.weight"));
        Assert.Equal(Masked(_conv, p2), Read(Out, "conv.weight"));
        Assert.Equal(_bias, Read(Out, "fc1.bias"));
    }

    [Fact]
    public void Taylor_NM_KeepsTheNHighestPerGroup()
    {
        float[] g1 = TestData.Normal(48, 23);
        string stats = new TensorFile().F32("fc1.weight.grad", g1, 6, 8).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "taylor", "--stats", stats, "--granularity", "nm:2:4", "--sparsity", "0.5", "--include", "^fc1\\.weight$");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(Masked(_fc1, NmPruned(Scores(_fc1, g1, (w, g) => MathF.Abs(g * w)), 2, 4)), Read(Out, "fc1.weight"));
        Assert.Equal(_conv, Read(Out, "conv.weight"));
    }

    [Theory]
    [InlineData("fisher", "element")]
    [InlineData("hess_diag", "element")]
    [InlineData("hess_diag", "kernel")]
    [InlineData("fisher", "row")]
    public void Obd_MatchesHalfHwSquared(string statName, string granularity)
    {
        // A Hessian diagonal may be negative (negative saliency = least important); the Fisher is a mean of squares.
        float[] h1 = TestData.Uniform(48, 31), h2 = TestData.Uniform(72, 32);
        if (statName == "fisher")
        {
            h1 = h1.Select(x => x * x).ToArray();
            h2 = h2.Select(x => x * x).ToArray();
        }
        string stats = new TensorFile().F32($"fc1.weight.{statName}", h1, 6, 8).F32($"conv.weight.{statName}", h2, 4, 2, 3, 3).Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "obd", "--stats", stats, "--granularity", granularity, "--sparsity", "0.5");

        Assert.True(r.ExitCode == 0, r.StdErr);
        var p1 = GroupPruned(Scores(_fc1, h1, (w, h) => 0.5f * h * (w * w)), granularity, 0.5, 6, 8, 1);
        var p2 = GroupPruned(Scores(_conv, h2, (w, h) => 0.5f * h * (w * w)), granularity, 0.5, 4, 2, 9);
        Assert.Equal(Masked(_fc1, p1), Read(Out, "fc1.weight"));
        Assert.Equal(Masked(_conv, p2), Read(Out, "conv.weight"));
    }

    [Fact]
    public void Wanda_PrunesWithinEachOutputRow()
    {
        // Conv norms are per im2col feature (i, kh, kw): length in·kh·kw = 18.
        float[] n1 = TestData.Uniform(8, 41).Select(MathF.Abs).ToArray(), n2 = TestData.Uniform(18, 42).Select(MathF.Abs).ToArray();
        string stats = new TensorFile().F32("fc1.weight.input_norm", n1, 8).F32("conv.weight.input_norm", n2, 18).Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "wanda", "--stats", stats, "--sparsity", "0.3");

        Assert.True(r.ExitCode == 0, r.StdErr);
        double[] s1 = _fc1.Select((w, i) => (double)(MathF.Abs(w) * n1[i % 8])).ToArray();
        double[] s2 = _conv.Select((w, i) => (double)(MathF.Abs(w) * n2[i % 18])).ToArray();
        Assert.Equal(Masked(_fc1, PerRowPruned(s1, 8, 0.3)), Read(Out, "fc1.weight"));
        Assert.Equal(Masked(_conv, PerRowPruned(s2, 18, 0.3)), Read(Out, "conv.weight"));
    }

    [Fact]
    public void Wanda_NM()
    {
        float[] n1 = TestData.Uniform(8, 43).Select(MathF.Abs).ToArray();
        string stats = new TensorFile().F32("fc1.weight.input_norm", n1, 8).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "wanda", "--stats", stats, "--granularity", "nm:2:4", "--sparsity", "0.5", "--include", "^fc1\\.weight$");
        Assert.True(r.ExitCode == 0, r.StdErr);
        double[] s1 = _fc1.Select((w, i) => (double)(MathF.Abs(w) * n1[i % 8])).ToArray();
        Assert.Equal(Masked(_fc1, NmPruned(s1, 2, 4)), Read(Out, "fc1.weight"));
    }

    [Fact]
    public void Apoz_PrunesTheMostOftenZeroOutputs_StatsInF64()
    {
        float[] a1 = TestData.Uniform(6, 51).Select(x => (x + 1) / 2).ToArray(), a2 = TestData.Uniform(4, 52).Select(x => (x + 1) / 2).ToArray();
        string stats = new TensorFile().Add("fc1.weight.apoz", SafeTensorsDType.F64, a1, 6).Add("conv.weight.apoz", SafeTensorsDType.F64, a2, 4).Save(PathOf("stats.safetensors"));
        string report = PathOf("report.json");

        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "apoz", "--stats", stats, "--sparsity", "0.5", "--report", report);

        Assert.True(r.ExitCode == 0, r.StdErr);
        var rows1 = Lowest(a1.Select(a => -(double)a).ToArray(), TorchCount(0.5, 6));
        var rows2 = Lowest(a2.Select(a => -(double)a).ToArray(), TorchCount(0.5, 4));
        Assert.Equal(Masked(_fc1, Enumerable.Range(0, 48).Where(e => rows1.Contains(e / 8)).ToHashSet()), Read(Out, "fc1.weight"));
        Assert.Equal(Masked(_conv, Enumerable.Range(0, 72).Where(e => rows2.Contains(e / 18)).ToHashSet()), Read(Out, "conv.weight"));
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var fc1 = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal("row", doc.RootElement.GetProperty("granularity").GetString());
        Assert.Equal(3, fc1.GetProperty("pruned_units").GetInt32());
        Assert.Equal(rows1.Min(o => a1[o]), fc1.GetProperty("threshold").GetSingle()); // the smallest pruned APoZ
    }

    [Fact]
    public void Taylor_Bf16AndF16Model_WithF16AndBf16Stats_KeepsDtypes()
    {
        float[] w1 = Bf16(_fc1), w2 = F16(_conv), g1 = F16(TestData.Normal(48, 61)), g2 = Bf16(TestData.Normal(72, 62));
        string model = new TensorFile().Add("fc1.weight", SafeTensorsDType.BF16, w1, 6, 8).Add("conv.weight", SafeTensorsDType.F16, w2, 4, 2, 3, 3).Save(PathOf("model.safetensors"));
        string stats = new TensorFile().Add("fc1.weight.grad", SafeTensorsDType.F16, g1, 6, 8).Add("conv.weight.grad", SafeTensorsDType.BF16, g2, 4, 2, 3, 3).Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", model, "-o", Out, "--criterion", "taylor", "--stats", stats, "--sparsity", "0.5");

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(Masked(w1, Lowest(Scores(w1, g1, (w, g) => MathF.Abs(g * w)), 24)), Read(Out, "fc1.weight"));
        Assert.Equal(Masked(w2, Lowest(Scores(w2, g2, (w, g) => MathF.Abs(g * w)), 36)), Read(Out, "conv.weight"));
        using var f = SafeTensorsFile.Open(Out);
        Assert.Equal([SafeTensorsDType.BF16, SafeTensorsDType.F16], f.Tensors.Select(t => t.DType));
    }

    // ---- bn-scale ----

    private (string Model, float[] Conv, float[] Gamma, float[] Beta, float[] Mean, float[] Down, float[] DownGamma, float[] DownBeta, float[] Fc) BnModel()
    {
        float[] conv = TestData.Normal(72, 71), gamma = TestData.Normal(4, 72), beta = TestData.Normal(4, 73), mean = TestData.Normal(4, 74);
        float[] down = TestData.Normal(24, 75), dg = TestData.Normal(6, 76), db = TestData.Normal(6, 77), fc = TestData.Normal(18, 78);
        string model = new TensorFile()
            .F32("features.bn1.weight", gamma, 4) // before its conv: the channel choice must not depend on file order
            .F32("features.conv1.weight", conv, 4, 2, 3, 3)
            .F32("features.bn1.bias", beta, 4).F32("features.bn1.running_mean", mean, 4)
            .F32("down.0.weight", down, 6, 4, 1, 1).F32("down.1.weight", dg, 6).F32("down.1.bias", db, 6)
            .F32("fc.weight", fc, 3, 6)
            .Save(PathOf("model.safetensors"));
        return (model, conv, gamma, beta, mean, down, dg, db, fc);
    }

    [Fact]
    public void BnScale_ConventionAndPair_ZeroChannelRows_AndGammaBeta()
    {
        var m = BnModel();
        string report = PathOf("report.json"), sparse = PathOf("sparse.safetensors");

        var r = Sprune.Run("prune", m.Model, "-o", Out, "--criterion", "bn-scale", "--pair", "down.0.weight=down.1.weight", "--sparsity", "0.5",
            "--report", report, "--sparse-out", sparse);

        Assert.True(r.ExitCode == 0, r.StdErr);
        var c1 = Lowest(m.Gamma.Select(g => (double)Math.Abs(g)).ToArray(), TorchCount(0.5, 4));
        var c2 = Lowest(m.DownGamma.Select(g => (double)Math.Abs(g)).ToArray(), TorchCount(0.5, 6));
        Assert.Equal(Masked(m.Conv, Enumerable.Range(0, 72).Where(e => c1.Contains(e / 18)).ToHashSet()), Read(Out, "features.conv1.weight"));
        Assert.Equal(Masked(m.Gamma, c1), Read(Out, "features.bn1.weight"));
        Assert.Equal(Masked(m.Beta, c1), Read(Out, "features.bn1.bias"));
        Assert.Equal(m.Mean, Read(Out, "features.bn1.running_mean"));
        Assert.Equal(Masked(m.Down, Enumerable.Range(0, 24).Where(e => c2.Contains(e / 4)).ToHashSet()), Read(Out, "down.0.weight"));
        Assert.Equal(Masked(m.DownGamma, c2), Read(Out, "down.1.weight"));
        Assert.Equal(Masked(m.DownBeta, c2), Read(Out, "down.1.bias"));
        Assert.Equal(m.Fc, Read(Out, "fc.weight")); // no BatchNorm follows it: not a bn-scale target

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.Equal(["features.bn1.weight", "features.conv1.weight", "features.bn1.bias", "down.0.weight", "down.1.weight", "down.1.bias"], tensors.Keys);
        Assert.Equal("features.conv1.weight", tensors["features.bn1.bias"].GetProperty("paired_with").GetString());
        Assert.Equal("down.1.weight", tensors["down.0.weight"].GetProperty("paired_with").GetString());
        Assert.Equal(2, tensors["features.bn1.weight"].GetProperty("pruned_units").GetInt32());
        Assert.Equal(0.5, tensors["features.bn1.bias"].GetProperty("achieved_sparsity").GetDouble());
        Assert.Equal(36, tensors["features.conv1.weight"].GetProperty("pruned_elements").GetInt64());
        Assert.Equal(c1.Max(c => MathF.Abs(m.Gamma[c])), tensors["features.conv1.weight"].GetProperty("threshold").GetSingle());

        // The sparse file holds the pruned weights (shrunk rows), not the BatchNorm tensors.
        using var s = SafeTensorsFile.Open(sparse);
        Assert.Equal("shrunk", s.Metadata.Single(kv => kv.Key == "features.conv1.weight.format").Value);
        Assert.DoesNotContain(s.Tensors, t => t.Name.StartsWith("features.bn1", StringComparison.Ordinal) || t.Name.StartsWith("down.1", StringComparison.Ordinal));
    }

    [Fact]
    public void BnScale_IncludedWeightWithoutBatchNorm_ExitsTwo_NamingIt()
    {
        var m = BnModel();
        var r = Sprune.Run("prune", m.Model, "-o", Out, "--criterion", "bn-scale", "--sparsity", "0.5", "--include", "conv1\\.weight$|down\\.0\\.weight$");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'down.0.weight'", r.StdErr, StringComparison.Ordinal); // first in file order without a conventional BatchNorm
        AssertOnlyInputsLeft("model.safetensors");
    }

    [Theory]
    [InlineData("down.0.weight", "expected CONV=BN")]
    [InlineData("down.0.weight=", "expected CONV=BN")]
    [InlineData("down.0.weight=nope", "no tensor 'nope'")]
    [InlineData("nope=down.1.weight", "no tensor 'nope'")]
    [InlineData("down.0.weight=features.bn1.running_mean", "has shape [4]; expected [6]")]
    [InlineData("down.0.weight=features.conv1.weight", "has shape [4,2,3,3]")]
    public void BadPair_ExitsTwo_WritesNothing(string pair, string message)
    {
        var m = BnModel();
        var r = Sprune.Run("prune", m.Model, "-o", Out, "--criterion", "bn-scale", "--pair", pair, "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors");
    }

    [Fact]
    public void BnScale_NaNGamma_ExitsTwo_NamingTheBatchNorm()
    {
        float[] gamma = [1f, float.NaN, 2f, 3f];
        string model = new TensorFile().F32("conv.weight", _conv, 4, 2, 3, 3).F32("bn.weight", gamma, 4).Save(PathOf("model.safetensors"));
        var r = Sprune.Run("prune", model, "-o", Out, "--criterion", "bn-scale", "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'bn.weight' holds NaN at index 1", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors");
    }

    // ---- regression ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Regression_KeepsTheLargestContributions_AndRefitsByLeastSquares(bool givenTargets)
    {
        // Linear [3, 6] with channel scales far apart: the LASSO keeps the three largest contributions ‖X_c·W_cᵀ‖.
        const int O = 3, C = 6, N = 200;
        float[] scale = [0.05f, 1f, 0.1f, 2f, 0.02f, 0.5f];
        float[] w = TestData.Normal(O * C, 81).Select((x, e) => x * scale[e % C]).ToArray();
        float[] x = TestData.Normal(N * C, 82);
        double[] y = new double[N * O];
        for (int n = 0; n < N; n++)
        {
            for (int o = 0; o < O; o++)
            {
                for (int c = 0; c < C; c++) y[n * O + o] += (double)x[n * C + c] * w[o * C + c];
            }
        }
        var stats = new TensorFile().F32("fc.weight.inputs", x, N, C);
        if (givenTargets) stats.F32("fc.weight.targets", y.Select(v => (float)v).ToArray(), N, O);
        string statsPath = stats.Save(PathOf("stats.safetensors"));
        string model = new TensorFile().F32("fc.weight", w, O, C).Save(PathOf("model.safetensors"));
        string report = PathOf("report.json");

        var r = Sprune.Run("prune", model, "-o", Out, "--criterion", "regression", "--stats", statsPath, "--sparsity", "0.5", "--report", report);

        Assert.True(r.ExitCode == 0, r.StdErr);
        double[] contribution = Enumerable.Range(0, C).Select(c =>
            Math.Sqrt(Enumerable.Range(0, N).Sum(n => Enumerable.Range(0, O).Sum(o => Math.Pow((double)x[n * C + c] * w[o * C + c], 2))))).ToArray();
        var pruned = Lowest(contribution, TorchCount(0.5, C));
        int[] kept = Enumerable.Range(0, C).Where(c => !pruned.Contains(c)).ToArray();
        float[] after = Read(Out, "fc.weight");
        for (int e = 0; e < O * C; e++)
        {
            if (pruned.Contains(e % C)) Assert.Equal(0f, after[e]);
        }

        // Least squares on the kept columns, naive normal equations in double: (X_KᵀX_K)·B = X_KᵀY.
        int k = kept.Length;
        var a = new double[k, k + O];
        for (int i = 0; i < k; i++)
        {
            for (int n = 0; n < N; n++)
            {
                for (int j = 0; j < k; j++) a[i, j] += (double)x[n * C + kept[i]] * x[n * C + kept[j]];
                for (int o = 0; o < O; o++) a[i, k + o] += (double)x[n * C + kept[i]] * y[n * O + o];
            }
        }
        for (int p = 0; p < k; p++) // Gauss–Jordan (the matrix is SPD; no pivoting needed)
        {
            double d = a[p, p];
            for (int j = 0; j < k + O; j++) a[p, j] /= d;
            for (int i = 0; i < k; i++)
            {
                if (i == p) continue;
                double f = a[i, p];
                for (int j = 0; j < k + O; j++) a[i, j] -= f * a[p, j];
            }
        }
        for (int o = 0; o < O; o++)
        {
            for (int i = 0; i < k; i++) Assert.Equal(a[i, k + o], after[o * C + kept[i]], 3e-3);
        }
        // The refit is not the original weights: the pruned channels' share moved onto the kept ones.
        Assert.NotEqual(Masked(w, Enumerable.Range(0, O * C).Where(e => pruned.Contains(e % C)).ToHashSet()), after);

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var t = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal("column", doc.RootElement.GetProperty("granularity").GetString());
        Assert.Equal(3, t.GetProperty("pruned_units").GetInt32());
        Assert.True(t.GetProperty("relative_error_after").GetDouble() <= t.GetProperty("relative_error_before").GetDouble());
    }

    [Fact]
    public void Regression_Conv_ZeroesWholeInputChannels_AndLowersTheError()
    {
        // conv [3, 4, 2, 2]: 4 input channels of K = 4 im2col columns each; inputs [N, 16], targets default to X·Wᵀ.
        const int O = 3, C = 4, K = 4, N = 120;
        float[] w = TestData.Normal(O * C * K, 91), x = TestData.Normal(N * C * K, 92);
        string stats = new TensorFile().F32("conv.weight.inputs", x, N, C * K).Save(PathOf("stats.safetensors"));
        string model = new TensorFile().F32("conv.weight", w, O, C, 2, 2).Save(PathOf("model.safetensors"));
        string report = PathOf("report.json");

        var r = Sprune.Run("prune", model, "-o", Out, "--criterion", "regression", "--stats", stats, "--sparsity", "0.5", "--report", report);

        Assert.True(r.ExitCode == 0, r.StdErr);
        float[] after = Read(Out, "conv.weight");
        bool[] zeroChannel = Enumerable.Range(0, C).Select(c =>
            Enumerable.Range(0, O).All(o => Enumerable.Range(0, K).All(k => after[(o * C + c) * K + k] == 0f))).ToArray();
        Assert.Equal(TorchCount(0.5, C), zeroChannel.Count(z => z));
        Assert.All(Enumerable.Range(0, O * C * K).Where(e => !zeroChannel[e / K % C]), e => Assert.NotEqual(0f, after[e]));

        // Relative error ‖X·Wᵀ − X·W'ᵀ‖ / ‖X·Wᵀ‖ recomputed here; the report's "after" must match it.
        double residual = 0, total = 0;
        for (int n = 0; n < N; n++)
        {
            for (int o = 0; o < O; o++)
            {
                double y = 0, yHat = 0;
                for (int d = 0; d < C * K; d++)
                {
                    y += (double)x[n * C * K + d] * w[o * C * K + d];
                    yHat += (double)x[n * C * K + d] * after[o * C * K + d];
                }
                residual += (y - yHat) * (y - yHat);
                total += y * y;
            }
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var t = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal(Math.Sqrt(residual / total), t.GetProperty("relative_error_after").GetDouble(), 1e-4);
        Assert.True(t.GetProperty("relative_error_after").GetDouble() < t.GetProperty("relative_error_before").GetDouble());
        Assert.Equal(2L * O * K, t.GetProperty("pruned_elements").GetInt64());
    }

    [Fact]
    public void Regression_PruningEveryChannel_ExitsTwo()
    {
        string stats = new TensorFile().F32("fc1.weight.inputs", TestData.Normal(80, 1), 10, 8).F32("conv.weight.inputs", TestData.Normal(180, 2), 10, 18).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "regression", "--stats", stats, "--sparsity", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("keeps at least one input channel", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    // ---- errors: nothing written ----

    [Theory]
    [InlineData("taylor", "fc1.weight.grad", "fc1.weight.apoz", "'conv.weight.grad' for criterion taylor")]
    [InlineData("obd", "conv.weight.hess_diag", "fc1.weight.grad", "'fc1.weight.fisher' (or 'fc1.weight.hess_diag') for criterion obd")]
    [InlineData("wanda", "conv.weight.input_norm", "fc1.weight.grad", "'fc1.weight.input_norm' for criterion wanda")]
    [InlineData("apoz", "fc1.weight.apoz", "conv.weight.grad", "'conv.weight.apoz' for criterion apoz")]
    [InlineData("regression", "conv.weight.inputs", "fc1.weight.apoz", "'fc1.weight.inputs' for criterion regression")]
    public void MissingStatistic_ExitsTwo_NamingIt(string criterion, string present, string other, string message)
    {
        // One statistic present (with a valid shape), the other target's missing: the check covers every target first.
        var shapes = new Dictionary<string, long[]>
        {
            ["fc1.weight.grad"] = [6, 8], ["conv.weight.grad"] = [4, 2, 3, 3], ["fc1.weight.fisher"] = [6, 8], ["conv.weight.hess_diag"] = [4, 2, 3, 3],
            ["conv.weight.input_norm"] = [18], ["fc1.weight.apoz"] = [6], ["conv.weight.inputs"] = [5, 18],
        };
        var file = new TensorFile();
        foreach (string name in new[] { present, other }.Where(shapes.ContainsKey))
        {
            long[] shape = shapes[name];
            file.F32(name, TestData.Uniform((int)shape.Aggregate(1L, (a, b) => a * b), 3).Select(MathF.Abs).ToArray(), shape);
        }
        string stats = file.Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", criterion, "--stats", stats, "--sparsity", "0.5");

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("stats: missing " + message, r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    [Fact]
    public void WrongStatShape_ExitsTwo_NamingTensorAndExpectedShape()
    {
        string stats = new TensorFile().F32("fc1.weight.grad", TestData.Normal(48, 1), 8, 6).F32("conv.weight.grad", TestData.Normal(72, 2), 4, 2, 3, 3).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "taylor", "--stats", stats, "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'fc1.weight.grad' has shape [8,6]; expected [6,8]", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.NegativeInfinity, "-Inf")]
    public void NonFiniteStat_ExitsTwo_NamingIt(float bad, string word)
    {
        float[] norms = TestData.Uniform(18, 5).Select(MathF.Abs).ToArray();
        norms[7] = bad;
        string stats = new TensorFile().F32("fc1.weight.input_norm", Enumerable.Repeat(1f, 8).ToArray(), 8).F32("conv.weight.input_norm", norms, 18).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "wanda", "--stats", stats, "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"'conv.weight.input_norm' holds {word} at index 7", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    [Fact]
    public void OutOfRangeApoz_AndBothObdStatistics_ExitTwo()
    {
        string stats = new TensorFile().F32("fc1.weight.apoz", [0.1f, 0.2f, 1.5f, 0f, 0f, 0f], 6).F32("conv.weight.apoz", new float[4], 4)
            .F32("fc1.weight.fisher", new float[48], 6, 8).F32("fc1.weight.hess_diag", new float[48], 6, 8).Save(PathOf("stats.safetensors"));
        var r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "apoz", "--stats", stats, "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'fc1.weight.apoz' holds 1.5 at index 2", r.StdErr, StringComparison.Ordinal);
        r = Sprune.Run("prune", Model(), "-o", Out, "--criterion", "obd", "--stats", stats, "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("both 'fc1.weight.fisher' and 'fc1.weight.hess_diag'", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    [Theory]
    [InlineData("apoz", "element", "use --granularity row")]
    [InlineData("bn-scale", "column", "use --granularity row")]
    [InlineData("regression", "row", "use --granularity column")]
    [InlineData("wanda", "row", "use --granularity element or nm:N:M")]
    public void CriterionGranularityMismatch_ExitsTwo(string criterion, string granularity, string message)
    {
        string stats = new TensorFile().F32("unused", [1f], 1).Save(PathOf("stats.safetensors"));
        string[] args = criterion == "bn-scale"
            ? ["prune", Model(), "-o", Out, "--criterion", criterion, "--granularity", granularity, "--sparsity", "0.5"]
            : ["prune", Model(), "-o", Out, "--criterion", criterion, "--stats", stats, "--granularity", granularity, "--sparsity", "0.5"];
        var r = Sprune.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }

    [Theory]
    [InlineData("needs --stats FILE", "--criterion", "taylor")]
    [InlineData("--stats is not read by criterion magnitude", "--criterion", "magnitude", "--stats", "STATS")]
    [InlineData("--pair is only used by criterion bn-scale", "--criterion", "taylor", "--stats", "STATS", "--pair", "a=b")]
    [InlineData("is the same file as --stats", "--criterion", "taylor", "--stats", "STATS", "-o", "STATS")]
    public void BadStatsUsage_ExitsTwo(string message, params string[] options)
    {
        string stats = new TensorFile().F32("fc1.weight.grad", new float[48], 6, 8).Save(PathOf("stats.safetensors"));
        byte[] before = File.ReadAllBytes(stats);
        string[] output = options.Contains("-o") ? [] : ["-o", Out];
        var r = Sprune.Run(["prune", Model(), .. output, "--sparsity", "0.5", .. options.Select(a => a == "STATS" ? stats : a)]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
        Assert.Equal(before, File.ReadAllBytes(stats));
    }

    [Fact]
    public void NaNWeightInALaterTensor_FailsMidWrite_LeavesNothing()
    {
        // Statistics are fine, so validation passes; the NaN is found while streaming the second tensor, after the
        // first was written to the temporary file. The writer must delete it.
        float[] conv = (float[])_conv.Clone();
        conv[40] = float.NaN;
        string model = new TensorFile().F32("fc1.weight", _fc1, 6, 8).F32("conv.weight", conv, 4, 2, 3, 3).Save(PathOf("model.safetensors"));
        string stats = new TensorFile().F32("fc1.weight.grad", TestData.Normal(48, 1), 6, 8).F32("conv.weight.grad", TestData.Normal(72, 2), 4, 2, 3, 3).Save(PathOf("stats.safetensors"));

        var r = Sprune.Run("prune", model, "-o", Out, "--criterion", "taylor", "--stats", stats, "--sparsity", "0.5", "--sparse-out", PathOf("sparse.safetensors"));

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Contains("tensor 'conv.weight'", r.StdErr, StringComparison.Ordinal);
        AssertOnlyInputsLeft("model.safetensors", "stats.safetensors");
    }
}
