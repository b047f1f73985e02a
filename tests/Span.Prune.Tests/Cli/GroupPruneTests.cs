using System.Text.Json;
using Span.Prune.SafeTensors;
using Span.Prune.Sparse;
using static Span.Prune.Tests.Cli.Expect;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune --group/--preset [--shrink] [--round-to N] [--fold-bn]</c> through the real executable. The
/// expected selections are computed here independently (per member L2 norms in double, divided by the member's mean,
/// summed; round-half-even(s·units) lowest, ties to the lower index), and the shrunk models are run against the
/// masked ones with the library's dense kernels.
/// </summary>
/// <remarks>
/// Bit-exactness: at batch ≥ 9 <see cref="MatMul"/> computes each output as fused multiply-adds in ascending k
/// (its documented determinism), so dropping a zero weight's term (fma(0, x, acc) = acc) changes no bit. At batch 1
/// (GEMV) and 2…8 (grouped-k on AVX-512) the k sum is split over vector lanes, and removing columns moves terms
/// between lanes: those batches agree to rounding only, which is what <see cref="MlpChain_ShrunkEqualsMasked_SmallBatches"/> checks.
/// </remarks>
public sealed class GroupPruneTests() : CliTempDirectory("sprune-groups-")
{
    private string Out(string name = "out.safetensors") => Path.Combine(Dir, name);

    // ---------------------------------------------------------------- references

    /// <summary>L2 norm of each unit of a member: rows/B (dim 0), or cols/B (dim 1 with all trailing positions).</summary>
    private static double[] UnitNorms(float[] w, long[] shape, bool rows, int block)
    {
        int d0 = (int)shape[0], rest = w.Length / d0, d1 = shape.Length > 1 ? (int)shape[1] : 1, k = shape.Length > 1 ? rest / d1 : 1;
        int length = rows ? d0 : d1;
        var sums = new double[length / block];
        for (int e = 0; e < w.Length; e++)
        {
            int index = rows ? e / rest : e % rest / k;
            sums[index / block] += (double)w[e] * w[e];
        }
        return sums.Select(Math.Sqrt).ToArray();
    }

    /// <summary>The pruned units of a group: Σ norm/mean(norm) over members, the lowest <paramref name="prune"/>.</summary>
    private static HashSet<int> GroupPrunedUnits(int prune, params double[][] memberNorms)
    {
        int units = memberNorms[0].Length;
        var score = new double[units];
        foreach (double[] n in memberNorms)
        {
            double mean = n.Average();
            for (int u = 0; u < units; u++) score[u] += n[u] / mean;
        }
        return Lowest(score, prune);
    }

    private static int[] Kept(int n, HashSet<int> prunedUnits, int block = 1) =>
        Enumerable.Range(0, n).Where(i => !prunedUnits.Contains(i / block)).ToArray();

    private static string Ranges(int[] sorted)
    {
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j > i ? $"{sorted[i]}-{sorted[j]}" : $"{sorted[i]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>The sub-tensor of <paramref name="w"/> keeping the given rows and dim-1 entries (with their trailing positions).</summary>
    private static float[] Sub(float[] w, long[] shape, int[]? rows, int[]? cols)
    {
        int d0 = (int)shape[0], rest = w.Length / d0, d1 = shape.Length > 1 ? (int)shape[1] : 1, k = shape.Length > 1 ? rest / d1 : 1;
        rows ??= Enumerable.Range(0, d0).ToArray();
        cols ??= Enumerable.Range(0, d1).ToArray();
        var result = new List<float>();
        foreach (int r in rows)
        {
            if (shape.Length == 1) { result.Add(w[r]); continue; }
            foreach (int c in cols)
                for (int p = 0; p < k; p++) result.Add(w[r * rest + c * k + p]);
        }
        return result.ToArray();
    }

    private static long[] ShapeOf(string path, string name)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.GetTensor(name).Shape.ToArray();
    }

    private static Dictionary<string, string> Metadata(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.Metadata.ToDictionary(e => e.Key, e => e.Value);
    }

    private static bool Has(string path, string name)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.TryGetTensor(name, out _);
    }

    /// <summary>y = act(W·x + b) with the library's GEMM; bias added and ReLU applied in a plain loop (same ops in both models).</summary>
    private static float[] Linear(float[] w, int rows, int cols, float[] x, int batch, float[]? bias, bool relu)
    {
        var y = TestData.NaNs(rows * batch);
        MatMul.Multiply(w, rows, cols, x, y, batch);
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < batch; b++)
            {
                float v = y[r * batch + b] + (bias is null ? 0f : bias[r]);
                y[r * batch + b] = relu ? MathF.Max(v, 0f) : v;
            }
        return y;
    }

    private static void AssertBitEqual(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"index {i}: {expected[i]} != {actual[i]}");
    }

    private static void AssertFails(Sprune.Result r, string expected, string dir)
    {
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Equal("", r.StdOut);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => Path.GetFileName(f).Contains("out", StringComparison.Ordinal) || Path.GetFileName(f).EndsWith(".tmp", StringComparison.Ordinal));
    }

    // ---------------------------------------------------------------- MLP chain

    private sealed record Mlp(string Path, float[] W1, float[] B1, float[] W2, float[] B2, float[] W3, float[] B3);

    /// <summary>fc1 [48, 20] + bias → fc2 [32, 48] + bias → fc3 [10, 32] + bias, F32.</summary>
    private Mlp MlpModel()
    {
        float[] w1 = TestData.Normal(48 * 20, 1), b1 = TestData.Normal(48, 2, 0.1f), w2 = TestData.Normal(32 * 48, 3, 0.2f),
            b2 = TestData.Normal(32, 4, 0.1f), w3 = TestData.Normal(10 * 32, 5, 0.2f), b3 = TestData.Normal(10, 6, 0.1f);
        string path = new TensorFile().F32("fc1.weight", w1, 48, 20).F32("fc1.bias", b1, 48).F32("fc2.weight", w2, 32, 48)
            .F32("fc2.bias", b2, 32).F32("fc3.weight", w3, 10, 32).F32("fc3.bias", b3, 10).Meta("format", "pt").Save(Out("mlp.safetensors"));
        return new Mlp(path, w1, b1, w2, b2, w3, b3);
    }

    /// <summary>The reference selection of mlp-chain: (fc1 rows + bias, fc2 cols) and (fc2 rows + bias, fc3 cols).</summary>
    private static (HashSet<int> G1, HashSet<int> G2) MlpReference(Mlp m, int prune1, int prune2) => (
        GroupPrunedUnits(prune1, UnitNorms(m.W1, [48, 20], true, 1), m.B1.Select(x => (double)Math.Abs(x)).ToArray(), UnitNorms(m.W2, [32, 48], false, 1)),
        GroupPrunedUnits(prune2, UnitNorms(m.W2, [32, 48], true, 1), m.B2.Select(x => (double)Math.Abs(x)).ToArray(), UnitNorms(m.W3, [10, 32], false, 1)));

    private static float[] RunMlp(string path, int batch, float[] x)
    {
        float[] T(string n) => Read(path, n);
        long[] s1 = ShapeOf(path, "fc1.weight"), s2 = ShapeOf(path, "fc2.weight"), s3 = ShapeOf(path, "fc3.weight");
        float[] h1 = Linear(T("fc1.weight"), (int)s1[0], (int)s1[1], x, batch, T("fc1.bias"), relu: true);
        float[] h2 = Linear(T("fc2.weight"), (int)s2[0], (int)s2[1], h1, batch, T("fc2.bias"), relu: true);
        return Linear(T("fc3.weight"), (int)s3[0], (int)s3[1], h2, batch, T("fc3.bias"), relu: false);
    }

    [Fact]
    public void MlpChain_Shrink_MatchesIndependentSelection_AndMaskedModelBitForBit()
    {
        Mlp m = MlpModel();
        string masked = Out("masked.safetensors"), shrunk = Out("shrunk.safetensors"), report = Out("report.json");

        var a = Sprune.Run("prune", m.Path, "-o", masked, "--preset", "mlp-chain", "--sparsity", "0.3");
        var b = Sprune.Run("prune", m.Path, "-o", shrunk, "--preset", "mlp-chain", "--sparsity", "0.3", "--shrink", "--report", report);

        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.True(b.ExitCode == 0, b.StdErr);
        var (g1, g2) = MlpReference(m, TorchCount(0.3, 48), TorchCount(0.3, 32)); // 14 of 48, 10 of 32
        int[] k1 = Kept(48, g1), k2 = Kept(32, g2);
        Assert.Equal(34, k1.Length);
        Assert.Equal(22, k2.Length);

        // Shrunk tensors are exactly the kept rows / columns of the original, with the new shapes.
        Assert.Equal([34, 20], ShapeOf(shrunk, "fc1.weight"));
        Assert.Equal([22, 34], ShapeOf(shrunk, "fc2.weight"));
        Assert.Equal([10, 22], ShapeOf(shrunk, "fc3.weight"));
        Assert.Equal(Sub(m.W1, [48, 20], k1, null), Read(shrunk, "fc1.weight"));
        Assert.Equal(Sub(m.B1, [48], k1, null), Read(shrunk, "fc1.bias"));
        Assert.Equal(Sub(m.W2, [32, 48], k2, k1), Read(shrunk, "fc2.weight"));
        Assert.Equal(Sub(m.B2, [32], k2, null), Read(shrunk, "fc2.bias"));
        Assert.Equal(Sub(m.W3, [10, 32], null, k2), Read(shrunk, "fc3.weight"));
        Assert.Equal(m.B3, Read(shrunk, "fc3.bias"));

        // Masked: same shapes, pruned rows/columns +0.
        Assert.Equal(m.W1.Select((x, e) => g1.Contains(e / 20) ? 0f : x), Read(masked, "fc1.weight"));
        Assert.Equal(m.W2.Select((x, e) => g2.Contains(e / 48) || g1.Contains(e % 48) ? 0f : x), Read(masked, "fc2.weight"));

        // Metadata: the input's entries, and the kept indices of every grouped dimension.
        var meta = Metadata(shrunk);
        Assert.Equal("pt", meta["format"]);
        Assert.Equal(Ranges(k1), meta["sprune.kept.fc1.weight.0"]);
        Assert.Equal(Ranges(k1), meta["sprune.kept.fc1.bias.0"]);
        Assert.Equal(Ranges(k1), meta["sprune.kept.fc2.weight.1"]);
        Assert.Equal(Ranges(k2), meta["sprune.kept.fc2.weight.0"]);
        Assert.Equal(Ranges(k2), meta["sprune.kept.fc3.weight.1"]);
        Assert.DoesNotContain(Metadata(masked).Keys, k => k.StartsWith("sprune.kept.", StringComparison.Ordinal));

        // Report: parameters before and after, per tensor and in total.
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        long before = 48 * 20 + 48 + 32 * 48 + 32 + 10 * 32 + 10, after = 34 * 20 + 34 + 22 * 34 + 22 + 10 * 22 + 10;
        Assert.Equal(before, doc.RootElement.GetProperty("params_before").GetInt64());
        Assert.Equal(after, doc.RootElement.GetProperty("params_after").GetInt64());
        var fc2 = doc.RootElement.GetProperty("tensors").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "fc2.weight");
        Assert.Equal(32 * 48, fc2.GetProperty("params_before").GetInt64());
        Assert.Equal(22 * 34, fc2.GetProperty("params_after").GetInt64());
        Assert.Contains("| fc2.weight | [32,48] | [22,34] | 1,536 | 748 |", b.StdOut, StringComparison.Ordinal);

        // The shrunk model computes the masked model's outputs, bit for bit (GEMM batches).
        foreach (int batch in new[] { 16, 32, 45 })
        {
            float[] x = TestData.Normal(20 * batch, 100 + batch);
            AssertBitEqual(RunMlp(masked, batch, x), RunMlp(shrunk, batch, x));
        }
    }

    [Fact]
    public void MlpChain_ShrunkEqualsMasked_SmallBatches()
    {
        Mlp m = MlpModel();
        string masked = Out("masked.safetensors"), shrunk = Out("shrunk.safetensors");
        Assert.Equal(0, Sprune.Run("prune", m.Path, "-o", masked, "--preset", "mlp-chain", "--sparsity", "0.5").ExitCode);
        Assert.Equal(0, Sprune.Run("prune", m.Path, "-o", shrunk, "--preset", "mlp-chain", "--sparsity", "0.5", "--shrink").ExitCode);
        foreach (int batch in new[] { 1, 2, 4, 8 })
        {
            float[] x = TestData.Normal(20 * batch, 200 + batch);
            float[] expected = RunMlp(masked, batch, x), actual = RunMlp(shrunk, batch, x);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"batch {batch} index {i}");
        }
    }

    [Fact]
    public void ExplicitGroups_EqualThePreset()
    {
        Mlp m = MlpModel();
        string viaPreset = Out("preset.safetensors"), viaGroups = Out("groups.safetensors");
        Assert.Equal(0, Sprune.Run("prune", m.Path, "-o", viaPreset, "--preset", "mlp-chain", "--sparsity", "0.4", "--shrink").ExitCode);
        var r = Sprune.Run("prune", m.Path, "-o", viaGroups, "--sparsity", "0.4", "--shrink",
            "--group", "fc1.weight:rows,fc1.bias:rows,fc2.weight:cols", "--group", "fc2.weight,fc2.bias,fc3.weight:cols");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(File.ReadAllBytes(viaPreset), File.ReadAllBytes(viaGroups));
    }

    [Fact]
    public void RoundTo_KeepsAMultiple_CountingDownFromTheTarget_AndReportsTheAchievedSparsity()
    {
        Mlp m = MlpModel();
        string report = Out("report.json");

        var r = Sprune.Run("prune", m.Path, "-o", Out(), "--preset", "mlp-chain", "--sparsity", "0.3", "--shrink", "--round-to", "8", "--report", report);

        Assert.True(r.ExitCode == 0, r.StdErr);
        // Targets 14 of 48 (34 kept → 40) and 10 of 32 (22 kept → 24): 8 pruned in each group, the 8 lowest scores.
        var (g1, g2) = MlpReference(m, 8, 8);
        int[] k1 = Kept(48, g1), k2 = Kept(32, g2);
        Assert.Equal([40, 20], ShapeOf(Out(), "fc1.weight"));
        Assert.Equal([24, 40], ShapeOf(Out(), "fc2.weight"));
        Assert.Equal(Sub(m.W2, [32, 48], k2, k1), Read(Out(), "fc2.weight"));
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        var groups = doc.RootElement.GetProperty("groups").EnumerateArray().ToArray();
        Assert.Equal(14, groups[0].GetProperty("target_pruned_units").GetInt32());
        Assert.Equal(8, groups[0].GetProperty("pruned_units").GetInt32());
        Assert.Equal(8.0 / 48, groups[0].GetProperty("achieved_sparsity").GetDouble(), 12);
        Assert.Equal(8.0 / 32, groups[1].GetProperty("achieved_sparsity").GetDouble(), 12);
        Assert.Contains("| 48 | 14 | 8 | 40 | 16.67% |", r.StdOut, StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- conv → BN → conv

    private sealed record ConvNet(string Path, float[] C1, float[] B1, float[] Gamma, float[] Beta, float[] Mean, float[] Var, float[] C2);

    /// <summary>conv1 [16, 3, 3, 3] + bias → bn1 (16) → ReLU → conv2 [6, 16, 3, 3], F32.</summary>
    private ConvNet ConvModel()
    {
        float[] c1 = TestData.Normal(16 * 27, 11, 0.3f), b1 = TestData.Normal(16, 12, 0.1f), gamma = TestData.Normal(16, 13).Select(x => 0.5f + Math.Abs(x)).ToArray(),
            beta = TestData.Normal(16, 14, 0.1f), mean = TestData.Normal(16, 15, 0.1f), variance = TestData.Uniform(16, 16).Select(x => 0.5f + Math.Abs(x)).ToArray(),
            c2 = TestData.Normal(6 * 16 * 9, 17, 0.2f);
        string path = new TensorFile().F32("conv1.weight", c1, 16, 3, 3, 3).F32("conv1.bias", b1, 16).F32("bn1.weight", gamma, 16).F32("bn1.bias", beta, 16)
            .F32("bn1.running_mean", mean, 16).F32("bn1.running_var", variance, 16).F32("conv2.weight", c2, 6, 16, 3, 3).Save(Out("convnet.safetensors"));
        return new ConvNet(path, c1, b1, gamma, beta, mean, variance, c2);
    }

    /// <summary>im2col of a 3×3, stride-1, unpadded conv: x is [C, N, H, W]; the result [C·9, N·(H−2)·(W−2)], row c·9 + kh·3 + kw.</summary>
    private static float[] Im2Col(float[] x, int c, int n, int h, int w)
    {
        int oh = h - 2, ow = w - 2, cols = n * oh * ow;
        var result = new float[c * 9 * cols];
        for (int ch = 0; ch < c; ch++)
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++)
                    for (int b = 0; b < n; b++)
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++)
                                result[(ch * 9 + kh * 3 + kw) * cols + (b * oh + y) * ow + z] = x[((ch * n + b) * h + y + kh) * w + z + kw];
        return result;
    }

    /// <summary>conv1 (+ bias) → BatchNorm (when the file has one) → ReLU → conv2; activations [C, N, H, W].</summary>
    private static float[] RunConv(string path, float[] images, int n)
    {
        long[] s1 = ShapeOf(path, "conv1.weight"), s2 = ShapeOf(path, "conv2.weight");
        int c1 = (int)s1[0], c2 = (int)s2[0];
        float[] h = Linear(Read(path, "conv1.weight"), c1, 27, Im2Col(images, 3, n, 10, 10), n * 64, Read(path, "conv1.bias"), relu: false);
        if (Has(path, "bn1.weight"))
        {
            float[] g = Read(path, "bn1.weight"), b = Read(path, "bn1.bias"), mu = Read(path, "bn1.running_mean"), v = Read(path, "bn1.running_var");
            for (int c = 0; c < c1; c++)
                for (int i = 0; i < n * 64; i++)
                    h[c * n * 64 + i] = (h[c * n * 64 + i] - mu[c]) / MathF.Sqrt(v[c] + 1e-5f) * g[c] + b[c];
        }
        for (int i = 0; i < h.Length; i++) h[i] = MathF.Max(h[i], 0f);
        return Linear(Read(path, "conv2.weight"), c2, c1 * 9, Im2Col(h, c1, n, 8, 8), n * 36, null, relu: false);
    }

    [Fact]
    public void ConvBn_Shrink_MatchesIndependentSelection_AndMaskedModelBitForBit_FoldedWithinTolerance()
    {
        ConvNet m = ConvModel();
        string masked = Out("masked.safetensors"), shrunk = Out("shrunk.safetensors"), folded = Out("folded.safetensors");

        var a = Sprune.Run("prune", m.Path, "-o", masked, "--preset", "conv-bn", "--sparsity", "0.3");
        var b = Sprune.Run("prune", m.Path, "-o", shrunk, "--preset", "conv-bn", "--sparsity", "0.3", "--shrink");
        var c = Sprune.Run("prune", m.Path, "-o", folded, "--preset", "conv-bn", "--sparsity", "0.3", "--shrink", "--fold-bn");

        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.True(b.ExitCode == 0, b.StdErr);
        Assert.True(c.ExitCode == 0, c.StdErr);
        double[] Abs(float[] v) => v.Select(x => (double)Math.Abs(x)).ToArray();
        var pruned = GroupPrunedUnits(TorchCount(0.3, 16), UnitNorms(m.C1, [16, 3, 3, 3], true, 1), Abs(m.B1), Abs(m.Gamma), Abs(m.Beta), Abs(m.Mean), Abs(m.Var),
            UnitNorms(m.C2, [6, 16, 3, 3], false, 1));
        int[] kept = Kept(16, pruned);
        Assert.Equal(11, kept.Length);
        Assert.Equal([11, 3, 3, 3], ShapeOf(shrunk, "conv1.weight"));
        Assert.Equal([6, 11, 3, 3], ShapeOf(shrunk, "conv2.weight"));
        Assert.Equal(Sub(m.C1, [16, 3, 3, 3], kept, null), Read(shrunk, "conv1.weight"));
        Assert.Equal(Sub(m.C2, [6, 16, 3, 3], null, kept), Read(shrunk, "conv2.weight"));
        Assert.Equal(Sub(m.Var, [16], kept, null), Read(shrunk, "bn1.running_var"));
        Assert.Equal(Ranges(kept), Metadata(shrunk)["sprune.kept.conv2.weight.1"]);

        // Folded: no BatchNorm tensors, conv1 carries the folded bias.
        Assert.False(Has(folded, "bn1.weight"));
        Assert.False(Has(folded, "bn1.running_var"));
        Assert.Equal([11], ShapeOf(folded, "conv1.bias"));

        foreach (int n in new[] { 1, 3 })
        {
            float[] images = TestData.Normal(3 * n * 100, 300 + n);
            float[] expected = RunConv(masked, images, n);
            AssertBitEqual(expected, RunConv(shrunk, images, n));
            // Folding rounds differently (W' = fl(s·W), bias in double): within 1e-5 of the output's largest magnitude.
            float[] actual = RunConv(folded, images, n);
            float scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * scale, $"n {n} index {i}: {expected[i]} vs {actual[i]}");
        }
    }

    // ---------------------------------------------------------------- Llama-shaped, GQA

    /// <summary>Two layers, hidden 64, 8 query heads of dim 8, <paramref name="kvHeads"/> kv heads, intermediate 96, BF16; config.json when asked.</summary>
    private (string Dir, Dictionary<string, (float[] W, long[] Shape)> T) LlamaModel(int kvHeads, bool config)
    {
        string dir = Directory.CreateDirectory(Path.Combine(Dir, $"llama-{kvHeads}")).FullName;
        var tensors = new Dictionary<string, (float[], long[])>();
        var file = new TensorFile();
        int seed = 40;
        void Add(string name, params long[] shape)
        {
            float[] w = Bf16(TestData.Normal((int)shape.Aggregate(1L, (a, b) => a * b), seed++, 0.1f));
            tensors.Add(name, (w, shape));
            file.Add(name, SafeTensorsDType.BF16, w, shape);
        }
        Add("model.embed_tokens.weight", 32, 64);
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", 64);
            Add(p + "self_attn.q_proj.weight", 64, 64);
            Add(p + "self_attn.k_proj.weight", kvHeads * 8, 64);
            Add(p + "self_attn.v_proj.weight", kvHeads * 8, 64);
            Add(p + "self_attn.o_proj.weight", 64, 64);
            Add(p + "post_attention_layernorm.weight", 64);
            Add(p + "mlp.gate_proj.weight", 96, 64);
            Add(p + "mlp.up_proj.weight", 96, 64);
            Add(p + "mlp.down_proj.weight", 64, 96);
        }
        Add("model.norm.weight", 64);
        Add("lm_head.weight", 32, 64);
        file.Save(Path.Combine(dir, "model.safetensors"));
        if (config)
            File.WriteAllText(Path.Combine(dir, "config.json"), $"{{\"hidden_size\": 64, \"num_attention_heads\": 8, \"num_key_value_heads\": {kvHeads}, \"intermediate_size\": 96}}");
        return (dir, tensors);
    }

    [Fact]
    public void LlamaMlp_FromADirectory_ShrinksEachLayersNeurons()
    {
        var (dir, t) = LlamaModel(kvHeads: 2, config: false);

        var r = Sprune.Run("prune", dir, "-o", Out(), "--preset", "llama-mlp", "--sparsity", "0.3", "--shrink");

        Assert.True(r.ExitCode == 0, r.StdErr);
        var meta = Metadata(Out());
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.mlp.";
            var (gate, up, down) = (t[p + "gate_proj.weight"], t[p + "up_proj.weight"], t[p + "down_proj.weight"]);
            var pruned = GroupPrunedUnits(TorchCount(0.3, 96), UnitNorms(gate.W, gate.Shape, true, 1), UnitNorms(up.W, up.Shape, true, 1), UnitNorms(down.W, down.Shape, false, 1));
            int[] kept = Kept(96, pruned);
            Assert.Equal(67, kept.Length); // 96 − round-half-even(28.8)
            Assert.Equal([67, 64], ShapeOf(Out(), p + "gate_proj.weight"));
            Assert.Equal([67, 64], ShapeOf(Out(), p + "up_proj.weight"));
            Assert.Equal([64, 67], ShapeOf(Out(), p + "down_proj.weight"));
            Assert.Equal(Sub(gate.W, gate.Shape, kept, null), Read(Out(), p + "gate_proj.weight"));
            Assert.Equal(Sub(up.W, up.Shape, kept, null), Read(Out(), p + "up_proj.weight"));
            Assert.Equal(Sub(down.W, down.Shape, null, kept), Read(Out(), p + "down_proj.weight"));
            Assert.Equal(Ranges(kept), meta[$"sprune.kept.{p}gate_proj.weight.0"]);
            Assert.Equal(Ranges(kept), meta[$"sprune.kept.{p}down_proj.weight.1"]);
            Assert.Equal([64, 64], ShapeOf(Out(), $"model.layers.{l}.self_attn.q_proj.weight"));
        }
        Assert.Equal(t["lm_head.weight"].W, Read(Out(), "lm_head.weight"));
        using var f = SafeTensorsFile.Open(Out());
        Assert.All(f.Tensors, x => Assert.Equal(SafeTensorsDType.BF16, x.DType));
    }

    [Theory]
    [InlineData(2, 0.5, true)]   // head dim from config.json (hidden_size / num_attention_heads)
    [InlineData(4, 0.5, false)]  // --head-dim 8
    [InlineData(4, 0.3, false)]
    public void LlamaAttn_PrunesWholeKvGroups(int kvHeads, double s, bool config)
    {
        var (dir, t) = LlamaModel(kvHeads, config);
        string[] args = ["prune", dir, "-o", Out(), "--preset", "llama-attn", "--sparsity", S(s), "--shrink"];
        var r = Sprune.Run(config ? args : [.. args, "--head-dim", "8"]);

        Assert.True(r.ExitCode == 0, r.StdErr);
        int perKv = 8 / kvHeads, qBlock = perKv * 8, prune = TorchCount(s, kvHeads), keptGroups = kvHeads - prune;
        var meta = Metadata(Out());
        for (int l = 0; l < 2; l++)
        {
            string p = $"model.layers.{l}.self_attn.";
            var (q, k, v, o) = (t[p + "q_proj.weight"], t[p + "k_proj.weight"], t[p + "v_proj.weight"], t[p + "o_proj.weight"]);
            var pruned = GroupPrunedUnits(prune, UnitNorms(q.W, q.Shape, true, qBlock), UnitNorms(k.W, k.Shape, true, 8), UnitNorms(v.W, v.Shape, true, 8),
                UnitNorms(o.W, o.Shape, false, qBlock));
            int[] qRows = Kept(64, pruned, qBlock), kvRows = Kept(kvHeads * 8, pruned, 8);
            Assert.Equal(keptGroups * qBlock, qRows.Length);
            Assert.Equal([keptGroups * qBlock, 64], ShapeOf(Out(), p + "q_proj.weight"));
            Assert.Equal([keptGroups * 8, 64], ShapeOf(Out(), p + "k_proj.weight"));
            Assert.Equal([keptGroups * 8, 64], ShapeOf(Out(), p + "v_proj.weight"));
            Assert.Equal([64, keptGroups * qBlock], ShapeOf(Out(), p + "o_proj.weight"));
            Assert.Equal(Sub(q.W, q.Shape, qRows, null), Read(Out(), p + "q_proj.weight"));
            Assert.Equal(Sub(k.W, k.Shape, kvRows, null), Read(Out(), p + "k_proj.weight"));
            Assert.Equal(Sub(v.W, v.Shape, kvRows, null), Read(Out(), p + "v_proj.weight"));
            Assert.Equal(Sub(o.W, o.Shape, null, qRows), Read(Out(), p + "o_proj.weight"));
            Assert.Equal(Ranges(qRows), meta[$"sprune.kept.{p}q_proj.weight.0"]);
            Assert.Equal(Ranges(kvRows), meta[$"sprune.kept.{p}k_proj.weight.0"]);
            Assert.Equal(Ranges(qRows), meta[$"sprune.kept.{p}o_proj.weight.1"]);
            Assert.Equal([96, 64], ShapeOf(Out(), $"model.layers.{l}.mlp.up_proj.weight"));
        }
    }

    [Fact]
    public void ShrinkingAShrunkFile_ComposesTheKeptIndices()
    {
        Mlp m = MlpModel();
        string once = Out("once.safetensors"), twice = Out("twice.safetensors");
        Assert.Equal(0, Sprune.Run("prune", m.Path, "-o", once, "--group", "fc1.weight,fc1.bias,fc2.weight:cols", "--sparsity", "0.5", "--shrink").ExitCode);
        Assert.Equal(0, Sprune.Run("prune", once, "-o", twice, "--group", "fc1.weight,fc1.bias,fc2.weight:cols", "--sparsity", "0.5", "--shrink").ExitCode);

        int[] first = Kept(48, GroupPrunedUnits(24, UnitNorms(m.W1, [48, 20], true, 1), m.B1.Select(x => (double)Math.Abs(x)).ToArray(), UnitNorms(m.W2, [32, 48], false, 1)));
        float[] w1 = Sub(m.W1, [48, 20], first, null), b1 = Sub(m.B1, [48], first, null), w2 = Sub(m.W2, [32, 48], null, first);
        int[] second = Kept(24, GroupPrunedUnits(12, UnitNorms(w1, [24, 20], true, 1), b1.Select(x => (double)Math.Abs(x)).ToArray(), UnitNorms(w2, [32, 24], false, 1)));
        Assert.Equal(Ranges(second.Select(i => first[i]).ToArray()), Metadata(twice)["sprune.kept.fc1.weight.0"]);
        Assert.Equal(Sub(m.W1, [48, 20], second.Select(i => first[i]).ToArray(), null), Read(twice, "fc1.weight"));
    }

    [Fact]
    public void BenchShrink_Smoke_PrunesAndTimesBothSides()
    {
        var r = Sprune.Run("bench-shrink", "--hidden", "64", "--intermediate", "96", "--runs", "1");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("I = 96 -> 67", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("| 32 |", r.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void LlamaMlpAndAttn_Together_ShrinkBothAndCountParameters()
    {
        var (dir, _) = LlamaModel(kvHeads: 2, config: true);
        string report = Out("report.json");
        var r = Sprune.Run("prune", dir, "-o", Out(), "--preset", "llama-mlp", "--preset", "llama-attn", "--sparsity", "0.5", "--shrink", "--report", report);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal([48, 64], ShapeOf(Out(), "model.layers.1.mlp.up_proj.weight"));
        Assert.Equal([32, 64], ShapeOf(Out(), "model.layers.1.self_attn.q_proj.weight"));
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        using var before = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        using var after = SafeTensorsFile.Open(Out());
        Assert.Equal(before.Tensors.Sum(t => t.ElementCount), doc.RootElement.GetProperty("params_before").GetInt64());
        Assert.Equal(after.Tensors.Sum(t => t.ElementCount), doc.RootElement.GetProperty("params_after").GetInt64());
        Assert.Equal(4, doc.RootElement.GetProperty("groups").GetArrayLength());
    }

    // ---------------------------------------------------------------- bad input

    public static TheoryData<string[], string> BadRequests => new()
    {
        { ["--group", "fc1.weight:diagonal"], "bad --group 'fc1.weight:diagonal': member 'fc1.weight:diagonal': axis 'diagonal' is not rows or cols" },
        { ["--group", "fc1.weight:rows,,fc2.weight:cols"], "bad --group" },
        { ["--group", "fc1.weight:rows/0"], "the block after '/' must be a positive integer" },
        { ["--group", "fc1.weight:rows/5"], "dimension 0 of 'fc1.weight' (48) is not a multiple of the block 5" },
        { ["--preset", "resnet-magic"], "unknown --preset 'resnet-magic'; expected mlp-chain, conv-bn, llama-mlp, llama-attn" },
        { ["--group", "fc1.weight:rows,fc3.weight:cols"], "members disagree in unit count: fc1.weight:rows has 48 units, fc3.weight:cols has 32" },
        { ["--group", "layers.{i}.weight:rows"], "{i} matches no tensor of the file" },
        { ["--group", "fc9.weight:rows"], "no tensor 'fc9.weight' in the file" },
        { ["--group", "fc1.bias:cols"], "':cols' needs a tensor of rank >= 2" },
        { ["--group", "fc1.weight", "--group", "fc1.weight,fc1.bias"], "dimension 0 of 'fc1.weight' is in two groups" },
        { ["--preset", "llama-mlp"], "--preset llama-mlp: no tensor named" },
        { ["--preset", "conv-bn"], "--preset conv-bn: no" },
        { ["--shrink"], "--shrink removes the units of --group or --preset" },
        { ["--preset", "mlp-chain", "--fold-bn"], "--fold-bn needs --shrink" },
        { ["--preset", "mlp-chain", "--shrink", "--fold-bn"], "--fold-bn: no group has a BatchNorm" },
        { ["--preset", "mlp-chain", "--round-to", "0"], "--round-to 0 must be a positive unit count" },
        { ["--preset", "mlp-chain", "--granularity", "row"], "--granularity does not apply to --group/--preset" },
        { ["--preset", "mlp-chain", "--group-norm", "median"], "unknown --group-norm 'median'" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void BadRequests_ExitTwo_OneLine_NothingWritten(string[] extra, string expected)
    {
        Mlp m = MlpModel();
        string[] args = ["prune", m.Path, "-o", Out(), "--sparsity", "0.3", .. extra];
        AssertFails(Sprune.Run(args), expected, Dir);
    }

    [Fact]
    public void SparsityOne_WouldEmptyAGroup_ExitsTwo()
    {
        Mlp m = MlpModel();
        AssertFails(Sprune.Run("prune", m.Path, "-o", Out(), "--preset", "mlp-chain", "--sparsity", "1", "--shrink"), "removes all 48 units of group", Dir);
    }

    [Fact]
    public void OutputIsTheModelInsideTheInputDirectory_ExitsTwo_InputUntouched()
    {
        var (dir, _) = LlamaModel(kvHeads: 2, config: false);
        string model = Path.Combine(dir, "model.safetensors");
        byte[] before = File.ReadAllBytes(model);
        var r = Sprune.Run("prune", dir, "-o", model, "--preset", "llama-mlp", "--sparsity", "0.3", "--shrink");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("an input is never written", r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(model));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void LlamaAttn_WithoutHeadDim_ExitsTwo()
    {
        var (dir, _) = LlamaModel(kvHeads: 2, config: false);
        AssertFails(Sprune.Run("prune", dir, "-o", Out(), "--preset", "llama-attn", "--sparsity", "0.5"), "--preset llama-attn needs the head dimension: give --head-dim N", Dir);
        AssertFails(Sprune.Run("prune", dir, "-o", Out(), "--preset", "llama-attn", "--sparsity", "0.5", "--head-dim", "7"), "head dim 7 (from --head-dim) does not divide", Dir);
    }
}
