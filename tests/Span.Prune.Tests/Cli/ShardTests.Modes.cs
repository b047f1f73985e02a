using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// The modes added for sharded input, each against the single-file run on the same tensors: the global criteria other
/// than magnitude, --mask-out and --mask-in, --sparse-out.
/// </summary>
public sealed partial class ShardTests
{
    [Theory]
    [InlineData("lamp", null, "1")]
    [InlineData("lamp", null, "0.7")]
    [InlineData("taylor", "grad", "1")]
    [InlineData("taylor", "taylor", "0.8")]
    [InlineData("obd", "fisher", "1")]
    public void Global_scores_equal_the_single_file_prune(string criterion, string? suffix, string cap)
    {
        string[] stats = [];
        if (suffix is not null)
        {
            var f = new TensorFile();
            foreach (T t in Model.SelectMany(s => s.Tensors).Where(t => t.Shape.Length == 2))
            {
                float[] v = TestData.Normal(t.Values.Length, t.Values.Length + 5, 1f);
                f.F32(t.Name + "." + suffix, suffix == "grad" ? v : v.Select(MathF.Abs).ToArray(), t.Shape);
            }
            stats = ["--stats", f.Save(PathOf("stats.safetensors"))];
        }
        AssertShardedEqualsSingle(["--scope", "global", "--criterion", criterion, "--sparsity", "0.6", "--max-layer-sparsity", cap, .. stats]);
    }

    [Theory]
    [InlineData("--scope", "layer")]
    [InlineData("--scope", "global")]
    public void Mask_out_is_the_single_file_mask_file_and_mask_in_restores_the_pruned_shards(string option, string value)
    {
        string dir = WriteSharded(), single = WriteSingle();
        string shardMasks = PathOf("shard-masks.safetensors"), singleMasks = PathOf("single-masks.safetensors");
        var sharded = Sprune.Run("prune", dir, "-o", PathOf("out"), "--sparsity", "0.6", option, value, "--mask-out", shardMasks);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run("prune", single, "-o", PathOf("single-out.safetensors"), "--sparsity", "0.6", option, value, "--mask-out", singleMasks);
        Assert.True(one.ExitCode == 0, one.StdErr);
        // One mask file whatever the layout: the same bytes as the single file's.
        Assert.Equal(File.ReadAllBytes(singleMasks), File.ReadAllBytes(shardMasks));

        // Re-applied to the unpruned shards, the masks give the pruned shards back byte for byte (weights that were
        // zero are recorded as pruned, and stay zero), with the same index.
        var back = Sprune.Run("prune", dir, "-o", PathOf("masked"), "--mask-in", shardMasks);
        Assert.True(back.ExitCode == 0, back.StdErr);
        foreach (string name in new[] { Shard1, Shard2, Shard3, "model.safetensors.index.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(PathOf("out"), name)), File.ReadAllBytes(Path.Combine(PathOf("masked"), name)));
        Assert.Equal(4, Directory.GetFiles(PathOf("masked")).Length);
    }

    [Fact]
    public void Mask_in_naming_a_tensor_no_shard_holds_exits_two_and_writes_nothing()
    {
        string dir = WriteSharded();
        string masks = PathOf("masks.safetensors");
        var r = Sprune.Run("prune", dir, "-o", PathOf("out"), "--sparsity", "0.5", "--mask-out", masks);
        Assert.True(r.ExitCode == 0, r.StdErr);
        // The same masks against a checkpoint without its last shard's tensors.
        string other = PathOf("other");
        Directory.CreateDirectory(other);
        foreach (var (shard, tensors) in Model.Take(2)) WriteShard(Path.Combine(other, shard), tensors);
        File.WriteAllText(Path.Combine(other, "model.safetensors.index.json"), IndexJson(Model.Take(2).SelectMany(s => s.Tensors.Select(t => (t.Name, s.Shard)))));
        string before = Snapshot();
        var bad = Sprune.Run("prune", other, "-o", PathOf("masked"), "--mask-in", masks);
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.StdErr.TrimEnd('\n').Split('\n'));
        Assert.Contains("tensor 'layers.2.weight' is not in the model", bad.StdErr);
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("--scope", "global", "--criterion", "lamp")]
    [InlineData("--granularity", "row", "--criterion", "magnitude")]
    [InlineData("--granularity", "block:4x4", "--criterion", "l2")]
    [InlineData("--granularity", "nm:2:4", "--criterion", "magnitude")]
    public void Sparse_out_is_the_single_file_sparse_file(params string[] options)
    {
        string dir = WriteSharded(), single = WriteSingle();
        string shardSparse = PathOf("shard-sparse.safetensors"), singleSparse = PathOf("single-sparse.safetensors");
        var sharded = Sprune.Run(["prune", dir, "-o", PathOf("out"), "--sparsity", "0.5", .. options, "--sparse-out", shardSparse]);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run(["prune", single, "-o", PathOf("single-out.safetensors"), "--sparsity", "0.5", .. options, "--sparse-out", singleSparse]);
        Assert.True(one.ExitCode == 0, one.StdErr);
        Assert.Equal(File.ReadAllBytes(singleSparse), File.ReadAllBytes(shardSparse));
        using var f = SafeTensorsFile.Open(shardSparse);
        Assert.Contains(f.Tensors, t => t.Name.StartsWith("layers.2.weight.", StringComparison.Ordinal)); // the last shard's weight is there
    }

    [Theory]
    [InlineData("--sparse-out")]
    [InlineData("--mask-out")]
    public void An_export_inside_the_output_folder_exits_two(string option)
    {
        string dir = WriteSharded();
        string before = Snapshot();
        var r = Sprune.Run("prune", dir, "-o", PathOf("out"), "--sparsity", "0.5", option, Path.Combine(PathOf("out"), "x.safetensors"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
        Assert.Equal(before, Snapshot());
    }

    /// <summary>A conv-BN chain whose BatchNorms sit in the shard after their convolution's.</summary>
    private static readonly (string Shard, T[] Tensors)[] ConvBn =
    [
        (Shard1, [Make("stem.conv.weight", SafeTensorsDType.F32, 11, 8, 3, 3, 3)]),
        (Shard2, [Make("stem.bn.weight", SafeTensorsDType.F32, 12, 8), Make("stem.bn.bias", SafeTensorsDType.BF16, 13, 8), Make("layer.conv1.weight", SafeTensorsDType.F16, 14, 6, 8, 3, 3)]),
        (Shard3, [Make("layer.bn1.weight", SafeTensorsDType.F32, 15, 6), Make("layer.bn1.bias", SafeTensorsDType.F32, 16, 6), Make("fc.weight", SafeTensorsDType.F32, 17, 10, 6)]),
    ];

    [Theory]
    [InlineData("0.5")]
    [InlineData("0.25")]
    public void Bn_scale_with_BatchNorms_in_other_shards_equals_the_single_file_prune(string sparsity)
    {
        string dir = WriteSharded(ConvBn, "convbn"), single = WriteSingle(ConvBn, "convbn.safetensors");

        string[] options = ["--criterion", "bn-scale", "--sparsity", sparsity];
        var sharded = Sprune.Run(["prune", dir, "-o", PathOf("out"), .. options, "--report", PathOf("shard-report.json")]);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run(["prune", single, "-o", PathOf("single-out.safetensors"), .. options, "--report", PathOf("single-report.json")]);
        Assert.True(one.ExitCode == 0, one.StdErr);

        using var reference = SafeTensorsFile.Open(PathOf("single-out.safetensors"));
        long zeroedNorms = 0;
        foreach (var (shard, tensors) in ConvBn)
        {
            using var f = SafeTensorsFile.Open(Path.Combine(PathOf("out"), shard));
            Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
            foreach (SafeTensorInfo t in f.Tensors)
            {
                Assert.Equal(reference.GetBytes(reference.GetTensor(t.Name).Index).ToArray(), f.GetBytes(t.Index).ToArray());
                if (!t.Name.Contains(".bn", StringComparison.Ordinal)) continue;
                var v = new float[t.ElementCount];
                f.ReadAsFloat32(t.Index, v);
                zeroedNorms += v.Count(x => x == 0f);
            }
        }
        Assert.True(zeroedNorms > 0); // the BatchNorms in the later shards were zeroed, not copied
        static string Tensors(string report) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("tensors").GetRawText();
        Assert.Equal(Tensors(PathOf("single-report.json")), Tensors(PathOf("shard-report.json")));
    }

    /// <summary>A two-layer Llama-shaped checkpoint (GQA: 8 query heads, 2 kv heads of 8) in three shards, cut so that
    /// each layer's MLP and attention groups span two shards.</summary>
    private static (string Shard, T[] Tensors)[] Llama()
    {
        int seed = 60;
        T Bf16(string name, params long[] shape) => Make(name, SafeTensorsDType.BF16, seed++, shape);
        T[] Layer(int l) =>
        [
            Bf16($"model.layers.{l}.input_layernorm.weight", 64),
            Bf16($"model.layers.{l}.self_attn.q_proj.weight", 64, 64),
            Bf16($"model.layers.{l}.self_attn.k_proj.weight", 16, 64),
            Bf16($"model.layers.{l}.self_attn.v_proj.weight", 16, 64),
            Bf16($"model.layers.{l}.self_attn.o_proj.weight", 64, 64),
            Bf16($"model.layers.{l}.mlp.gate_proj.weight", 96, 64),
            Bf16($"model.layers.{l}.mlp.up_proj.weight", 96, 64),
            Bf16($"model.layers.{l}.mlp.down_proj.weight", 64, 96),
        ];
        T[] l0 = Layer(0), l1 = Layer(1);
        return
        [
            (Shard1, [Bf16("model.embed_tokens.weight", 32, 64), .. l0[..4]]),                 // layer 0: q, k, v here ...
            (Shard2, [.. l0[4..6], .. l1[..3]]),                                               // ... o_proj, gate here
            (Shard3, [.. l0[6..], .. l1[3..], Bf16("model.norm.weight", 64), Bf16("lm_head.weight", 32, 64)]),
        ];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Groups_spanning_shards_equal_the_single_file_prune(bool shrink)
    {
        var model = Llama();
        string dir = WriteSharded(model, "llama"), single = WriteSingle(model, "llama.safetensors");

        string[] options = ["--preset", "llama-mlp", "--preset", "llama-attn", "--head-dim", "8", "--sparsity", "0.5", .. shrink ? new[] { "--shrink" } : []];
        var sharded = Sprune.Run(["prune", dir, "-o", PathOf("out"), .. options, "--report", PathOf("shard-report.json")]);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run(["prune", single, "-o", PathOf("single-out.safetensors"), .. options, "--report", PathOf("single-report.json")]);
        Assert.True(one.ExitCode == 0, one.StdErr);

        using var reference = SafeTensorsFile.Open(PathOf("single-out.safetensors"));
        var kept = reference.Metadata.Where(e => e.Key.StartsWith("sprune.kept.", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(shrink ? 14 : 0, kept.Count); // q, k, v, gate, up rows and o, down cols of two layers; none when masked
        long dataBytes = 0;
        var keptInShards = new Dictionary<string, string>();
        foreach (var (shard, tensors) in model)
        {
            using var f = SafeTensorsFile.Open(Path.Combine(PathOf("out"), shard));
            Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
            foreach (SafeTensorInfo t in f.Tensors)
            {
                SafeTensorInfo r = reference.GetTensor(t.Name);
                Assert.Equal(r.Shape.ToArray(), t.Shape.ToArray());
                Assert.Equal(reference.GetBytes(r.Index).ToArray(), f.GetBytes(t.Index).ToArray());
                dataBytes += t.ByteLength;
            }
            // Each shard records the kept indices of its own tensors, and only those.
            foreach (var (key, value) in f.Metadata.Where(e => e.Key.StartsWith("sprune.kept.", StringComparison.Ordinal)))
            {
                Assert.Contains(tensors, t => key.StartsWith("sprune.kept." + t.Name + ".", StringComparison.Ordinal));
                keptInShards.Add(key, value);
            }
        }
        Assert.Equal(kept.OrderBy(e => e.Key), keptInShards.OrderBy(e => e.Key));
        using (var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(PathOf("out"), "model.safetensors.index.json"))))
            Assert.Equal(dataBytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.True(shrink ? dataBytes < DataBytesOf(model) : dataBytes == DataBytesOf(model));
        static string Groups(string report) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("groups").GetRawText();
        Assert.Equal(Groups(PathOf("single-report.json")), Groups(PathOf("shard-report.json")));
    }

    private static long DataBytesOf((string Shard, T[] Tensors)[] model) =>
        model.SelectMany(s => s.Tensors).Sum(t => t.Values.Length * (long)SafeTensorsDTypeInfo.SizeOf(t.DType));

    [Fact]
    public void Fold_bn_across_shards_equals_the_single_file_prune_and_rewrites_the_weight_map()
    {
        // Was refused (exit 2) before: conv1 in the first shard, its BatchNorm in the second, conv2 in the third.
        T Positive(T t) => t with { Values = t.Values.Select(v => MathF.Abs(v) + 0.5f).ToArray() };
        (string Shard, T[] Tensors)[] model =
        [
            (Shard1, [Make("conv1.weight", SafeTensorsDType.F32, 21, 8, 3, 3, 3)]),
            (Shard2, [Make("bn1.weight", SafeTensorsDType.F32, 22, 8), Make("bn1.bias", SafeTensorsDType.F32, 23, 8),
                Make("bn1.running_mean", SafeTensorsDType.F32, 24, 8), Positive(Make("bn1.running_var", SafeTensorsDType.F32, 25, 8)),
                Make("head.weight", SafeTensorsDType.F32, 26, 10, 6)]),
            (Shard3, [Make("conv2.weight", SafeTensorsDType.F32, 27, 6, 8, 3, 3)]),
        ];
        string dir = WriteSharded(model, "convbn"), single = WriteSingle(model, "convbn.safetensors");

        string[] options = ["--preset", "conv-bn", "--sparsity", "0.5", "--shrink", "--fold-bn"];
        var sharded = Sprune.Run(["prune", dir, "-o", PathOf("out"), .. options]);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run(["prune", single, "-o", PathOf("single-out.safetensors"), .. options]);
        Assert.True(one.ExitCode == 0, one.StdErr);

        using var reference = SafeTensorsFile.Open(PathOf("single-out.safetensors"));
        var names = new List<string>();
        var map = new Dictionary<string, string>();
        foreach (var (shard, _) in model)
        {
            using var f = SafeTensorsFile.Open(Path.Combine(PathOf("out"), shard));
            foreach (SafeTensorInfo t in f.Tensors)
            {
                SafeTensorInfo r = reference.GetTensor(t.Name);
                Assert.Equal(r.Shape.ToArray(), t.Shape.ToArray());
                Assert.Equal(reference.GetBytes(r.Index).ToArray(), f.GetBytes(t.Index).ToArray());
                names.Add(t.Name);
                map[t.Name] = shard;
            }
        }
        // The same tensors as the single file (the BatchNorm gone, conv1.bias added next to conv1), and an index that lists exactly them.
        Assert.Equal(reference.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Equal(Shard1, map["conv1.bias"]);
        Assert.DoesNotContain("bn1.weight", names);
        using (var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(PathOf("out"), "model.safetensors.index.json"))))
        {
            var listed = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetString()!);
            Assert.Equal(map.OrderBy(e => e.Key), listed.OrderBy(e => e.Key));
        }
        var inspect = Sprune.Run("inspect", PathOf("out"), "--json"); // reads back as a consistent sharded checkpoint
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
    }

    [Fact]
    public void Fold_bn_does_not_write_a_shard_that_held_only_the_folded_batchnorm()
    {
        T Positive(T t) => t with { Values = t.Values.Select(v => MathF.Abs(v) + 0.5f).ToArray() };
        (string Shard, T[] Tensors)[] model =
        [
            (Shard1, [Make("conv1.weight", SafeTensorsDType.F32, 31, 8, 3, 3, 3)]),
            (Shard2, [Make("bn1.weight", SafeTensorsDType.F32, 32, 8), Make("bn1.bias", SafeTensorsDType.F32, 33, 8),
                Make("bn1.running_mean", SafeTensorsDType.F32, 34, 8), Positive(Make("bn1.running_var", SafeTensorsDType.F32, 35, 8))]),
            (Shard3, [Make("conv2.weight", SafeTensorsDType.F32, 36, 6, 8, 3, 3)]),
        ];
        string dir = WriteSharded(model, "bn-alone");
        var r = Sprune.Run("prune", dir, "-o", PathOf("out"), "--preset", "conv-bn", "--sparsity", "0.5", "--shrink", "--fold-bn");
        Assert.True(r.ExitCode == 0, r.StdErr);

        // The folder holds exactly the index and the shards it names; the BatchNorm's shard is gone.
        using var index = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(PathOf("out"), "model.safetensors.index.json")));
        string[] named = [.. index.RootElement.GetProperty("weight_map").EnumerateObject().Select(e => e.Value.GetString()!).Distinct().Order(StringComparer.Ordinal)];
        Assert.Equal([Shard1, Shard3], named);
        string[] files = [.. Directory.GetFiles(PathOf("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal([.. named.Append("model.safetensors.index.json").Order(StringComparer.Ordinal)], files);
        var inspect = Sprune.Run("inspect", PathOf("out"), "--json");
        Assert.True(inspect.ExitCode == 0, inspect.StdErr);
    }
}
