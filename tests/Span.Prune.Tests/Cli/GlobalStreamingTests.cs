using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune --scope global</c> (the streaming path) through the real executable, on BF16, F16, F32 and mixed
/// models. Expected masks are computed here: a stable sort of every (|w|, tensor, index), pruning the first
/// round-half-even(s·N), and with a cap the greedy walk that skips tensors at ⌊cap·n⌋ — torch's
/// <c>global_unstructured(L1Unstructured)</c> when there are no ties.
/// </summary>
public sealed class GlobalStreamingTests() : CliTempDirectory("sprune-global-")
{
    private static string Inv(double x) => x.ToString(CultureInfo.InvariantCulture);

    /// <summary>A tensor: name, dtype, shape and raw little-endian bytes.</summary>
    private sealed record Tensor(string Name, SafeTensorsDType DType, long[] Shape, byte[] Data)
    {
        public int Count => Data.Length / SafeTensorsDTypeInfo.SizeOf(DType);

        /// <summary>|w| as float32 scoring sees it.</summary>
        public float Magnitude(int i) => DType switch
        {
            SafeTensorsDType.F32 => MathF.Abs(BitConverter.ToSingle(Data, 4 * i)),
            SafeTensorsDType.F16 => MathF.Abs((float)BitConverter.ToHalf(Data, 2 * i)),
            SafeTensorsDType.BF16 => MathF.Abs(BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(Data, 2 * i) << 16)),
            _ => MathF.Abs((float)BitConverter.ToDouble(Data, 8 * i)),
        };
    }

    private static Tensor F32(string name, int rows, int cols, int seed, float std = 1f) =>
        new(name, SafeTensorsDType.F32, [rows, cols], MemoryMarshal.AsBytes(TestData.Normal(rows * cols, seed, std).AsSpan()).ToArray());

    private static Tensor F16(string name, int rows, int cols, int seed, float std = 1f) =>
        new(name, SafeTensorsDType.F16, [rows, cols], MemoryMarshal.AsBytes(TestData.Normal(rows * cols, seed, std).Select(x => (Half)x).ToArray().AsSpan()).ToArray());

    private static Tensor Bf16(string name, int rows, int cols, int seed, float std = 1f) =>
        new(name, SafeTensorsDType.BF16, [rows, cols], MemoryMarshal.AsBytes(TestData.Normal(rows * cols, seed, std)
            .Select(x => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16)).ToArray().AsSpan()).ToArray());

    /// <summary>
    /// BF16 weights without ties: distinct magnitude keys <c>first + stride·i</c>, shuffled, random signs — the
    /// condition under which torch's topk-based global_unstructured is defined element for element.
    /// </summary>
    private static Tensor Bf16Distinct(string name, int rows, int cols, int seed, ushort first)
    {
        var rng = new Random(seed);
        ushort[] bits = Enumerable.Range(0, rows * cols).Select(i => (ushort)(first + 3 * i)).OrderBy(_ => rng.Next())
            .Select(k => (ushort)(k | (rng.Next(2) == 0 ? 0 : 0x8000))).ToArray();
        return new(name, SafeTensorsDType.BF16, [rows, cols], MemoryMarshal.AsBytes(bits.AsSpan()).ToArray());
    }

    private string Write(string file, params Tensor[] tensors)
    {
        var writer = new SafeTensorsWriter();
        writer.AddMetadata("format", "pt");
        foreach (Tensor t in tensors) writer.Add(t.Name, t.DType, t.Shape, t.Data);
        string path = PathOf(file);
        writer.WriteFile(path);
        return path;
    }

    /// <summary>Greedy reference over the targets: ascending (|w|, tensor, index), skipping tensors at their cap.</summary>
    private static HashSet<(int T, int I)> ExpectedPruned(Tensor[] targets, double s, double cap)
    {
        long n = targets.Sum(t => (long)t.Count);
        long k = (long)Math.Round(s * n, MidpointRounding.ToEven);
        long[] caps = targets.Select(t => (long)decimal.Floor((decimal)cap * t.Count)).ToArray();
        long[] lost = new long[targets.Length];
        var pruned = new HashSet<(int, int)>();
        var order = targets.SelectMany((t, ti) => Enumerable.Range(0, t.Count).Select(i => (m: t.Magnitude(i), ti, i)))
            .OrderBy(e => e.m).ThenBy(e => e.ti).ThenBy(e => e.i);
        foreach (var (_, ti, i) in order)
        {
            if (pruned.Count == k) break;
            if (lost[ti] == caps[ti]) continue;
            lost[ti]++;
            pruned.Add((ti, i));
        }
        return pruned;
    }

    /// <summary>Runs the prune and checks every output tensor bit for bit: pruned entries +0, others unchanged.</summary>
    private JsonElement[] PruneAndCheck(Tensor[] all, int[] targetIndices, double s, double cap, params string[] extra)
    {
        string input = Write("in.safetensors", all), output = PathOf("out.safetensors"), report = PathOf("report.json");
        File.Delete(output);
        var r = Sprune.Run(["prune", input, "-o", output, "--scope", "global", "--sparsity", Inv(s), "--max-layer-sparsity", Inv(cap), "--report", report, .. extra]);
        Assert.True(r.ExitCode == 0, r.StdErr);

        Tensor[] targets = targetIndices.Select(i => all[i]).ToArray();
        var pruned = ExpectedPruned(targets, s, cap);
        using var f = SafeTensorsFile.Open(output);
        Assert.Equal(all.Select(t => t.Name), f.Tensors.Select(t => t.Name));
        Assert.Equal("pt", Assert.Single(f.Metadata).Value);
        for (int a = 0; a < all.Length; a++)
        {
            Assert.Equal(all[a].DType, f.Tensors[a].DType);
            Assert.Equal(all[a].Shape, f.Tensors[a].Shape.ToArray());
            byte[] got = f.GetBytes(a).ToArray();
            int ti = Array.IndexOf(targetIndices, a);
            int size = SafeTensorsDTypeInfo.SizeOf(all[a].DType);
            byte[] expected = (byte[])all[a].Data.Clone();
            if (ti >= 0)
            {
                for (int i = 0; i < all[a].Count; i++)
                    if (pruned.Contains((ti, i))) Array.Clear(expected, i * size, size);
            }
            Assert.Equal(expected, got);
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        JsonElement[] rows = doc.RootElement.GetProperty("tensors").EnumerateArray().Select(e => e.Clone()).ToArray();
        Assert.Equal(targets.Length, rows.Length);
        float threshold = pruned.Count == 0 ? float.NaN : pruned.Max(p => targets[p.T].Magnitude(p.I));
        for (int ti = 0; ti < targets.Length; ti++)
        {
            long prunedHere = pruned.Count(p => p.T == ti);
            long zeros = Enumerable.Range(0, targets[ti].Count).Count(i => pruned.Contains((ti, i)) || targets[ti].Magnitude(i) == 0);
            Assert.Equal(targets[ti].Name, rows[ti].GetProperty("name").GetString());
            Assert.Equal(prunedHere, rows[ti].GetProperty("pruned_elements").GetInt64());
            Assert.Equal(zeros, rows[ti].GetProperty("zeros").GetInt64());
            Assert.Equal((double)zeros / targets[ti].Count, rows[ti].GetProperty("achieved_sparsity").GetDouble());
            if (pruned.Count == 0) Assert.Equal(JsonValueKind.Null, rows[ti].GetProperty("threshold").ValueKind);
            else Assert.Equal(threshold, rows[ti].GetProperty("threshold").GetSingle());
        }
        return rows;
    }

    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.7, 0.75)]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 1.0)]
    public void Bf16Model_WithTies_MatchesTheGreedyReference(double s, double cap)
    {
        // BF16 normal weights repeat magnitudes often: the tie rule (tensor order, then index) decides.
        Tensor[] all = [Bf16("a.weight", 30, 40, 1), Bf16("a.bias", 1, 30, 2), Bf16("b.weight", 17, 9, 3, 0.1f), Bf16("c.weight", 8, 64, 4, 3f)];
        all[1] = all[1] with { Shape = [30] }; // rank 1: not a target, copied unchanged
        PruneAndCheck(all, [0, 2, 3], s, cap);
    }

    [Theory]
    [InlineData(0.4, 1.0)]
    [InlineData(0.6, 0.62)]
    public void F16AndF32Models_MatchTheGreedyReference(double s, double cap)
    {
        PruneAndCheck([F16("x.weight", 20, 30, 5), F16("y.weight", 11, 13, 6, 0.01f)], [0, 1], s, cap);
        PruneAndCheck([F32("x.weight", 20, 30, 7), F32("y.weight", 11, 13, 8, 0.01f), F32("z.weight", 3, 5, 9, 10f)], [0, 1, 2], s, cap);
    }

    [Fact]
    public void MixedDTypes_AndIncludeExclude_MatchTheGreedyReference()
    {
        Tensor f64 = new("d.weight", SafeTensorsDType.F64, [10, 10], MemoryMarshal.AsBytes(TestData.Normal(100, 10).Select(x => (double)x).ToArray().AsSpan()).ToArray());
        Tensor[] all = [Bf16("a.weight", 20, 20, 11), F32("b.weight", 15, 15, 12), F16("c.weight", 12, 12, 13), f64, F32("skip.weight", 4, 4, 14)];
        PruneAndCheck(all, [0, 1, 2, 3], 0.55, 0.7, "--exclude", "^skip");
    }

    [Fact]
    public void DistinctBf16_MatchesGlobalUnstructured()
    {
        // No ties: exactly the set torch.nn.utils.prune.global_unstructured(L1Unstructured, amount=0.6) zeroes.
        PruneAndCheck([Bf16Distinct("l1.weight", 16, 10, 15, 0x3A00), Bf16Distinct("l2.weight", 8, 12, 16, 0x3A01)], [0, 1], 0.6, 1.0);
    }

    [Fact]
    public void CapBinds_TheSmallTensorKeepsItsShare()
    {
        Tensor[] all = [F32("tiny.weight", 10, 20, 17, 0.001f), Bf16("big.weight", 20, 20, 18)];
        JsonElement[] rows = PruneAndCheck(all, [0, 1], 0.5, 0.5);
        Assert.Equal(100, rows[0].GetProperty("pruned_elements").GetInt64()); // ⌊0.5·200⌋: the cap binds
    }

    [Fact]
    public void NaNInATarget_ExitsTwo_NamingIt_WritesNothing()
    {
        Tensor bad = Bf16("bad.weight", 4, 4, 19);
        bad.Data[10] = 0xC0;
        bad.Data[11] = 0x7F; // element 5 = 0x7FC0, a NaN
        string input = Write("nan.safetensors", F32("good.weight", 4, 4, 20), bad);
        var r = Sprune.Run("prune", input, "-o", PathOf("out.safetensors"), "--scope", "global", "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("bad.weight", r.StdErr);
        Assert.Contains("NaN", r.StdErr);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Equal(["nan.safetensors"], Directory.GetFiles(Dir).Select(Path.GetFileName));
    }

    [Fact]
    public void InfeasibleCap_ExitsTwo()
    {
        string input = Write("m.safetensors", F32("w.weight", 4, 4, 21));
        var r = Sprune.Run("prune", input, "-o", PathOf("out.safetensors"), "--scope", "global", "--sparsity", "0.5", "--max-layer-sparsity", "0.3");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("cap", r.StdErr);
        Assert.False(File.Exists(PathOf("out.safetensors")));
    }

    [Fact]
    public void Generate_IsDeterministic_AndFollowsItsFormula()
    {
        string a = PathOf("g1.safetensors"), b = PathOf("g2.safetensors");
        Assert.Equal(0, Sprune.Run("generate", a, "--dtype", "f32", "--tensors", "2", "--rows", "3", "--cols", "5", "--seed", "7").ExitCode);
        Assert.Equal(0, Sprune.Run("generate", b, "--dtype", "f32", "--tensors", "2", "--rows", "3", "--cols", "5", "--seed", "7").ExitCode);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));

        // Element j of tensor i: 0.02·√6·(u[2j] − u[2j+1]) over the SplitMix64 stream of seed ^ (i+1)·0xD1B54A32D192ED03.
        using var f = SafeTensorsFile.Open(a);
        Assert.Equal(["layers.0.weight", "layers.1.weight"], f.Tensors.Select(t => t.Name));
        for (int i = 0; i < 2; i++)
        {
            var u = new float[30];
            Span.Prune.Internal.SplitMix64.FillUnit(u, 7UL ^ (ulong)(i + 1) * 0xD1B54A32D192ED03UL);
            float[] expected = Enumerable.Range(0, 15).Select(j => 0.02f * 2.4494897f * (u[2 * j] - u[2 * j + 1])).ToArray();
            Assert.Equal(expected, f.GetFloat32(i).ToArray());
        }
    }
}
