using System.Buffers.Binary;
using static Span.Prune.Tests.Cli.Expect;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune --mask-out</c> and <c>--mask-in</c>: the mask file is unpacked here with a naive bit loop (LSB
/// first, 1 = keep) and must equal the zeros of the pruned output; re-applying it to a "fine-tuned" model (same
/// tensors, every weight non-zero) must give exactly those zeros, as +0 bytes, and leave everything else unchanged.
/// Model: <c>fc1.weight</c> [8, 8], <c>fc1.bias</c> [8] (F32, not pruned), <c>conv.weight</c> [4, 2, 3, 3] (61 bits
/// would not be byte aligned, so it is 72: see <see cref="OddLength"/> for a tail).
/// </summary>
public sealed class MaskFileTests() : CliTempDirectory("sprune-masks-")
{
    private string Out => PathOf("out.safetensors");

    private string Masks => PathOf("masks.safetensors");

    private static readonly string[] Weights = ["fc1.weight", "conv.weight"];

    private string Model(SafeTensorsDType dtype, string file = "model.safetensors", int seed = 1, bool allNonZero = false)
    {
        float[] fc1 = TestData.Normal(64, seed), conv = TestData.Normal(72, seed + 1), bias = TestData.Normal(8, seed + 2);
        if (allNonZero) (fc1, conv) = (fc1.Select(v => v + MathF.CopySign(0.5f, v)).ToArray(), conv.Select(v => v + MathF.CopySign(0.5f, v)).ToArray());
        return new TensorFile().Add("fc1.weight", dtype, fc1, 8, 8).F32("fc1.bias", bias, 8).Add("conv.weight", dtype, conv, 4, 2, 3, 3)
            .Meta("format", "pt").Save(PathOf(file));
    }

    /// <summary>The naive reading of the documented layout: bit i of the U8 tensor, LSB first.</summary>
    private static bool[] Unpack(SafeTensorsFile masks, string name, long[] shape)
    {
        var meta = masks.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("bits-lsb-first;1=keep", meta["sprune.mask"]);
        long n = shape.Aggregate(1L, (a, b) => a * b);
        Assert.Equal("[" + string.Join(",", shape) + "]", meta[name + ".shape"]);
        Assert.Equal(n.ToString(), meta[name + ".numel"]);
        SafeTensorInfo t = masks.GetTensor(name);
        Assert.Equal(SafeTensorsDType.U8, t.DType);
        Assert.Equal([(n + 7) / 8], t.Shape.ToArray());
        byte[] bytes = masks.GetBytes(t.Index).ToArray();
        var keep = new bool[n];
        for (long i = 0; i < n; i++) keep[i] = ((bytes[i / 8] >> (int)(i % 8)) & 1) == 1;
        for (long i = n; i < bytes.Length * 8L; i++) Assert.Equal(0, (bytes[i / 8] >> (int)(i % 8)) & 1); // padding bits are 0
        return keep;
    }

    private static byte[] Raw(string path, string name)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.GetBytes(name).ToArray();
    }

    private static long[] ShapeOf(string path, string name)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.GetTensor(name).Shape.ToArray();
    }

    [Theory]
    [InlineData(SafeTensorsDType.F32, "element", "layer", "0.5")]
    [InlineData(SafeTensorsDType.F32, "row", "layer", "0.5")]
    [InlineData(SafeTensorsDType.F32, "column", "layer", "0.5")]
    [InlineData(SafeTensorsDType.F32, "block:2x2", "layer", "0.5")]
    [InlineData(SafeTensorsDType.F32, "nm:2:4", "layer", "0.5")]
    [InlineData(SafeTensorsDType.F32, "element", "global", "0.7")]
    [InlineData(SafeTensorsDType.F16, "element", "layer", "0.6")]
    [InlineData(SafeTensorsDType.F16, "element", "global", "0.4")]
    [InlineData(SafeTensorsDType.BF16, "kernel", "layer", "0.5")]
    [InlineData(SafeTensorsDType.BF16, "element", "global", "0.5")]
    [InlineData(SafeTensorsDType.F64, "element", "layer", "0.3")]
    public void Masks_RoundTrip_ToExactlyThePrunedZeros(SafeTensorsDType dtype, string granularity, string scope, string sparsity)
    {
        string model = Model(dtype);
        string[] args = ["prune", model, "-o", Out, "--granularity", granularity, "--scope", scope, "--sparsity", sparsity, "--mask-out", Masks];
        if (granularity == "nm:2:4") args = [.. args, "--include", "^fc1\\.weight$"];
        var r = Sprune.Run(args);
        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] pruned = granularity == "nm:2:4" ? ["fc1.weight"] : Weights;

        // The mask file holds exactly the pruned weights, and unpacks to their zeros in OUT.
        using (var masks = SafeTensorsFile.Open(Masks))
        {
            Assert.Equal(pruned, masks.Tensors.Select(t => t.Name).ToArray());
            foreach (string name in pruned)
            {
                bool[] keep = Unpack(masks, name, ShapeOf(model, name));
                float[] o = Read(Out, name);
                Assert.Contains(false, keep);
                for (int i = 0; i < o.Length; i++) Assert.True(keep[i] == (o[i] != 0f), $"{name}[{i}]: keep {keep[i]}, pruned value {o[i]}");
            }
        }

        // "Fine-tuned": the same tensors, every weight non-zero and different. --mask-in zeroes exactly OUT's zeros.
        string tuned = Model(dtype, "tuned.safetensors", seed: 7, allNonZero: true);
        string again = PathOf("again.safetensors");
        r = Sprune.Run("prune", tuned, "-o", again, "--mask-in", Masks);
        Assert.True(r.ExitCode == 0, r.StdErr);
        int size = dtype switch { SafeTensorsDType.F64 => 8, SafeTensorsDType.F32 => 4, _ => 2 };
        foreach (string name in Weights)
        {
            float[] o = Read(Out, name);
            byte[] before = Raw(tuned, name), after = Raw(again, name);
            bool masked = pruned.Contains(name);
            for (int i = 0; i < o.Length; i++)
            {
                ReadOnlySpan<byte> b = before.AsSpan(i * size, size), a = after.AsSpan(i * size, size);
                if (masked && o[i] == 0f) Assert.True(!a.ContainsAnyExcept((byte)0), $"{name}[{i}] is not +0"); // +0: all bits zero
                else Assert.True(a.SequenceEqual(b), $"{name}[{i}] changed");
            }
        }
        Assert.Equal(Raw(tuned, "fc1.bias"), Raw(again, "fc1.bias"));
        using (var f = SafeTensorsFile.Open(again)) Assert.Contains(f.Metadata, kv => kv is { Key: "format", Value: "pt" });

        // Re-applying the masks to the pruned model itself changes nothing, byte for byte.
        string same = PathOf("same.safetensors");
        Assert.Equal(0, Sprune.Run("prune", Out, "-o", same, "--mask-in", Masks).ExitCode);
        Assert.Equal(File.ReadAllBytes(Out), File.ReadAllBytes(same));
    }

    /// <summary>A weight whose element count is not a multiple of 8 or 64: the tail bits.</summary>
    [Fact]
    public void OddLength()
    {
        string model = new TensorFile().F32("w", TestData.Normal(7 * 11, 3), 7, 11).Save(PathOf("odd.safetensors"));
        var r = Sprune.Run("prune", model, "-o", Out, "--sparsity", "0.5", "--mask-out", Masks);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var masks = SafeTensorsFile.Open(Masks);
        bool[] keep = Unpack(masks, "w", [7, 11]);
        float[] o = Read(Out, "w");
        Assert.Equal(o.Select(v => v != 0f), keep);
        Assert.Equal(TorchCount(0.5, 77), keep.Count(k => !k));
    }

    public static TheoryData<string> BadCases => ["missing tensor", "wrong size", "same numel, other shape", "mask is OUT", "mask is IN", "not a mask file", "no such file", "with --sparsity", "with --criterion", "mask-out is OUT", "neither --sparsity nor --mask-in"];

    [Theory]
    [MemberData(nameof(BadCases))]
    public void BadMaskInput_Exit2_OneLine_NothingWritten(string bad)
    {
        string model = Model(SafeTensorsDType.F32);
        // A valid mask file for another model, made by the CLI itself.
        string MasksOf(TensorFile other, string file)
        {
            string path = other.Save(PathOf("other-" + file));
            string maskPath = PathOf(file);
            var made = Sprune.Run("prune", path, "-o", PathOf("other-out.safetensors"), "--sparsity", "0.5", "--mask-out", maskPath);
            Assert.True(made.ExitCode == 0, made.StdErr);
            return maskPath;
        }
        string[] args = bad switch
        {
            "missing tensor" => ["prune", model, "-o", Out, "--mask-in", MasksOf(new TensorFile().F32("fc1.weight", TestData.Normal(64, 1), 8, 8).F32("fc9.weight", TestData.Normal(16, 1), 4, 4), "m1.safetensors")],
            "wrong size" => ["prune", model, "-o", Out, "--mask-in", MasksOf(new TensorFile().F32("fc1.weight", TestData.Normal(32, 1), 8, 4), "m2.safetensors")],
            "same numel, other shape" => ["prune", model, "-o", Out, "--mask-in", MasksOf(new TensorFile().F32("fc1.weight", TestData.Normal(64, 1), 4, 16), "m3.safetensors")],
            "mask is OUT" => ["prune", model, "-o", Out, "--mask-in", Out],
            "mask is IN" => ["prune", model, "-o", Out, "--mask-in", model],
            "not a mask file" => ["prune", model, "-o", Out, "--mask-in", Model(SafeTensorsDType.F32, "plain.safetensors")],
            "no such file" => ["prune", model, "-o", Out, "--mask-in", PathOf("none.safetensors")],
            "with --sparsity" => ["prune", model, "-o", Out, "--sparsity", "0.5", "--mask-in", MasksOf(new TensorFile().F32("fc1.weight", TestData.Normal(64, 1), 8, 8), "m4.safetensors")],
            "with --criterion" => ["prune", model, "-o", Out, "--criterion", "l1", "--mask-in", MasksOf(new TensorFile().F32("fc1.weight", TestData.Normal(64, 1), 8, 8), "m5.safetensors")],
            "neither --sparsity nor --mask-in" => ["prune", model, "-o", Out],
            _ => ["prune", model, "-o", Out, "--sparsity", "0.5", "--mask-out", Out],
        };
        if (bad == "mask is OUT") File.WriteAllBytes(Out, [1, 2, 3]);
        byte[]? outBefore = File.Exists(Out) ? File.ReadAllBytes(Out) : null;
        var r = Sprune.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        string expected = bad switch
        {
            "missing tensor" => "fc9.weight",
            "wrong size" or "same numel, other shape" => "fc1.weight",
            "mask is OUT" or "mask-out is OUT" => "same file",
            "not a mask file" or "mask is IN" => "not a mask file", // two inputs may be one file; the model is no mask file
            "no such file" => "does not exist",
            "with --sparsity" or "neither --sparsity nor --mask-in" => "--sparsity",
            _ => "--criterion",
        };
        Assert.Contains(expected, r.StdErr);
        if (outBefore is null) Assert.False(File.Exists(Out));
        else Assert.Equal(outBefore, File.ReadAllBytes(Out));
        Assert.Empty(Directory.GetFiles(Dir, ".sprune-*"));
    }

    [Fact]
    public void ShardedInput_WritesTheMasksOfTheSingleFile()
    {
        // Was refused (exit 2) before sharded --mask-out existed; now one mask file, the same as for the single file.
        Directory.CreateDirectory(PathOf("shards"));
        float[] a = TestData.Normal(16, 1), b = TestData.Normal(12, 2);
        new TensorFile().F32("a.weight", a, 4, 4).Save(PathOf("shards/model-00001-of-00002.safetensors"));
        new TensorFile().F32("b.weight", b, 3, 4).Save(PathOf("shards/model-00002-of-00002.safetensors"));
        File.WriteAllText(PathOf("shards/model.safetensors.index.json"),
            "{\"metadata\": {\"total_size\": 112}, \"weight_map\": {\"a.weight\": \"model-00001-of-00002.safetensors\", \"b.weight\": \"model-00002-of-00002.safetensors\"}}");
        string single = new TensorFile().F32("a.weight", a, 4, 4).F32("b.weight", b, 3, 4).Save(PathOf("single.safetensors"));
        var r = Sprune.Run("prune", PathOf("shards"), "-o", PathOf("pruned"), "--sparsity", "0.5", "--scope", "global", "--mask-out", Masks);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var one = Sprune.Run("prune", single, "-o", PathOf("single-out.safetensors"), "--sparsity", "0.5", "--scope", "global", "--mask-out", PathOf("single-masks.safetensors"));
        Assert.True(one.ExitCode == 0, one.StdErr);
        Assert.Equal(File.ReadAllBytes(PathOf("single-masks.safetensors")), File.ReadAllBytes(Masks));
        Assert.True(Directory.Exists(PathOf("pruned")));
    }
}
