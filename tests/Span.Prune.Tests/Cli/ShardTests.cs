using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// Sharded checkpoints (<c>*.safetensors.index.json</c> + shards) through the real executable: inspect lists every
/// shard, prune writes the same shard names and an index with a correct total_size, layer and global results equal the
/// single-file prune of the same tensors byte for byte, and every inconsistent index is exit 2 with nothing written.
/// </summary>
public sealed partial class ShardTests() : CliTempDirectory("sprune-shards-")
{
    private sealed record T(string Name, SafeTensorsDType DType, long[] Shape, float[] Values);

    private static T Make(string name, SafeTensorsDType dtype, int seed, params long[] shape) =>
        new(name, dtype, shape, TestData.Normal((int)shape.Aggregate(1L, (a, b) => a * b), seed, 1f));

    private const string Shard1 = "model-00001-of-00003.safetensors", Shard2 = "model-00002-of-00003.safetensors", Shard3 = "model-00003-of-00003.safetensors";

    /// <summary>Three shards of mixed dtypes, with targets and non-targets in each.</summary>
    private static readonly (string Shard, T[] Tensors)[] Model =
    [
        (Shard1, [Make("embed.weight", SafeTensorsDType.BF16, 1, 16, 8), Make("layers.0.weight", SafeTensorsDType.F32, 2, 8, 16), Make("layers.0.bias", SafeTensorsDType.F32, 3, 8)]),
        (Shard2, [Make("layers.1.weight", SafeTensorsDType.BF16, 4, 12, 8), Make("norm.weight", SafeTensorsDType.F32, 5, 8)]),
        (Shard3, [Make("layers.2.weight", SafeTensorsDType.F16, 6, 8, 12), Make("lm_head.weight", SafeTensorsDType.F32, 7, 4, 8)]),
    ];

    private static long DataBytes => Model.SelectMany(s => s.Tensors).Sum(t => t.Values.Length * (long)SafeTensorsDTypeInfo.SizeOf(t.DType));

    private static void WriteShard(string path, IEnumerable<T> tensors)
    {
        var f = new TensorFile().Meta("format", "pt");
        foreach (T t in tensors) f.Add(t.Name, t.DType, t.Values, t.Shape);
        f.Save(path);
    }

    private static string IndexJson(IEnumerable<(string Tensor, string Shard)> map, string metadata = "{\"total_size\": 1, \"format\": \"pt\"}")
    {
        var sb = new StringBuilder("{\n  \"metadata\": ").Append(metadata).Append(",\n  \"weight_map\": {");
        sb.Append(string.Join(",", map.Select(e => $"\n    {JsonSerializerEscape(e.Tensor)}: {JsonSerializerEscape(e.Shard)}")));
        return sb.Append("\n  }\n}\n").ToString();
    }

    private static string JsonSerializerEscape(string s) => "\"" + JsonEncodedText.Encode(s).ToString() + "\"";

    private static IEnumerable<(string, string)> Map => Model.SelectMany(s => s.Tensors.Select(t => (t.Name, s.Shard)));

    /// <summary>Writes the sharded model into a folder of its own; returns the folder.</summary>
    private string WriteSharded(string folder = "in", string? index = null, Action<string>? tamper = null) =>
        WriteSharded(Model, folder, index, tamper);

    /// <summary>Writes <paramref name="model"/>'s shards and their index (by default the true one) into a folder of its own; returns the folder.</summary>
    private string WriteSharded((string Shard, T[] Tensors)[] model, string folder, string? index = null, Action<string>? tamper = null)
    {
        string dir = PathOf(folder);
        Directory.CreateDirectory(dir);
        foreach (var (shard, tensors) in model) WriteShard(Path.Combine(dir, shard), tensors);
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), index ?? IndexJson(model.SelectMany(s => s.Tensors.Select(t => (t.Name, s.Shard)))));
        tamper?.Invoke(dir);
        return dir;
    }

    private string WriteSingle(string name = "single.safetensors") => WriteSingle(Model, name);

    /// <summary>Writes every tensor of <paramref name="model"/> into one file; returns its path.</summary>
    private string WriteSingle((string Shard, T[] Tensors)[] model, string name)
    {
        string path = PathOf(name);
        WriteShard(path, model.SelectMany(s => s.Tensors));
        return path;
    }

    [Fact]
    public void Inspect_lists_every_tensor_of_every_shard_with_totals()
    {
        string dir = WriteSharded();
        foreach (string input in new[] { dir, Path.Combine(dir, "model.safetensors.index.json") })
        {
            var r = Sprune.Run("inspect", input, "--json");
            Assert.True(r.ExitCode == 0, r.StdErr);
            using var doc = JsonDocument.Parse(r.StdOut);
            Assert.Equal(Map.Select(m => m.Item1), doc.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
            JsonElement total = doc.RootElement.GetProperty("total");
            Assert.Equal(7, total.GetProperty("tensors").GetInt32());
            Assert.Equal(Model.SelectMany(s => s.Tensors).Sum(t => t.Values.Length), total.GetProperty("parameters").GetInt64());
            // The index's metadata speaks for the model, numbers kept as numbers.
            JsonElement metadata = doc.RootElement.GetProperty("metadata");
            Assert.Equal(1, metadata.GetProperty("total_size").GetInt64());
            Assert.Equal("pt", metadata.GetProperty("format").GetString());
        }
        var table = Sprune.Run("inspect", dir);
        Assert.True(table.ExitCode == 0, table.StdErr);
        Assert.Contains("(7 tensors)", table.StdOut);
    }

    [Theory]
    [InlineData("layer", "--sparsity", "0.5")]
    [InlineData("layer", "--granularity", "row")]
    [InlineData("global", "--sparsity", "0.6")]
    [InlineData("global", "--max-layer-sparsity", "0.7")]
    public void Prune_equals_the_single_file_prune_tensor_by_tensor(string scope, string option, string value) =>
        AssertShardedEqualsSingle(["--scope", scope, .. option == "--sparsity" ? new[] { option, value } : ["--sparsity", "0.6", option, value]]);

    [Fact]
    public void Prune_with_statistics_reads_one_stats_file_for_all_shards()
    {
        var stats = new TensorFile();
        foreach (T t in Model.SelectMany(s => s.Tensors).Where(t => t.Shape.Length == 2))
            stats.F32(t.Name + ".grad", TestData.Normal(t.Values.Length, t.Values.Length + 11, 1f), t.Shape);
        string path = stats.Save(PathOf("stats.safetensors"));
        AssertShardedEqualsSingle(["--criterion", "taylor", "--stats", path, "--sparsity", "0.4"]);
    }

    private void AssertShardedEqualsSingle(string[] common)
    {
        string dir = WriteSharded(), single = WriteSingle(), outDir = PathOf("out"), outFile = PathOf("single-out.safetensors");
        var sharded = Sprune.Run(["prune", dir, "-o", outDir, .. common]);
        Assert.True(sharded.ExitCode == 0, sharded.StdErr);
        var one = Sprune.Run(["prune", single, "-o", outFile, .. common]);
        Assert.True(one.ExitCode == 0, one.StdErr);

        Assert.Equal(new[] { "model.safetensors.index.json", Shard1, Shard2, Shard3 }.Order(StringComparer.Ordinal),
            Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var reference = SafeTensorsFile.Open(outFile);
        long zeros = 0;
        foreach (var (shard, tensors) in Model)
        {
            using var f = SafeTensorsFile.Open(Path.Combine(outDir, shard));
            Assert.Equal(tensors.Select(t => t.Name), f.Tensors.Select(t => t.Name));
            Assert.Equal("pt", Assert.Single(f.Metadata).Value);
            foreach (SafeTensorInfo t in f.Tensors)
            {
                SafeTensorInfo r = reference.GetTensor(t.Name);
                Assert.Equal(r.DType, t.DType);
                Assert.Equal(r.Shape.ToArray(), t.Shape.ToArray());
                Assert.Equal(reference.GetBytes(r.Index).ToArray(), f.GetBytes(t.Index).ToArray());
                var v = new float[t.ElementCount];
                f.ReadAsFloat32(t.Index, v);
                zeros += v.Count(x => x == 0f);
            }
        }
        Assert.True(zeros > 0);
        Assert.Empty(Directory.GetFileSystemEntries(Dir, ".sprune-*"));
    }

    [Fact]
    public void Index_keeps_its_metadata_with_the_output_total_size()
    {
        string dir = WriteSharded(index: IndexJson(Map, "{\"format\": \"pt\", \"total_size\": 12345, \"note\": {\"a\": [1, 2]}}"));
        string outDir = PathOf("out");
        var inside = Sprune.Run("prune", dir, "-o", outDir, "--sparsity", "0.5", "--report", Path.Combine(outDir, "report.json"));
        Assert.Equal(2, inside.ExitCode);
        Assert.Contains("--report", inside.StdErr);
        var r = Sprune.Run("prune", Path.Combine(dir, "model.safetensors.index.json"), "-o", outDir, "--sparsity", "0.5", "--report", PathOf("report.json"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        using (var report = JsonDocument.Parse(File.ReadAllText(PathOf("report.json"))))
        {
            Assert.Equal(["embed.weight", "layers.0.weight", "layers.1.weight", "layers.2.weight", "lm_head.weight"],
                report.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "model.safetensors.index.json")));
        JsonElement metadata = doc.RootElement.GetProperty("metadata");
        Assert.Equal(["format", "total_size", "note"], metadata.EnumerateObject().Select(p => p.Name));
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal("{\"a\":[1,2]}", JsonSerializerCompact(metadata.GetProperty("note")));
        // transformers / huggingface_hub: total_size = Σ elements × element size (headers excluded).
        Assert.Equal(DataBytes, metadata.GetProperty("total_size").GetInt64());
        long fromShards = 0;
        foreach (var (shard, _) in Model)
        {
            using var f = SafeTensorsFile.Open(Path.Combine(outDir, shard));
            fromShards += f.Tensors.Sum(t => t.ByteLength);
        }
        Assert.Equal(fromShards, metadata.GetProperty("total_size").GetInt64());
        Assert.Equal(Map.Select(m => (m.Item1, m.Item2)),
            doc.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => (p.Name, p.Value.GetString()!)));

        // No metadata in the input: one is added with total_size only.
        string dir2 = WriteSharded("in2", index: "{\"weight_map\": {" + string.Join(",", Map.Select(m => $"\"{m.Item1}\": \"{m.Item2}\"")) + "}}");
        var r2 = Sprune.Run("prune", dir2, "-o", PathOf("out2"), "--sparsity", "0.5");
        Assert.True(r2.ExitCode == 0, r2.StdErr);
        using var doc2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(PathOf("out2"), "model.safetensors.index.json")));
        Assert.Equal(DataBytes, Assert.Single(doc2.RootElement.GetProperty("metadata").EnumerateObject()).Value.GetInt64());
    }

    private static string JsonSerializerCompact(JsonElement e)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream)) e.WriteTo(w);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static TheoryData<string, string> BadIndexes => new()
    {
        { "missing-tensor", "tensor 'ghost' is listed in shard" },
        { "missing-shard", "shard 'model-00004-of-00003.safetensors' named by the index does not exist" },
        { "two-shards", "tensor 'layers.0.weight' is in two shards" },
        { "listed-twice", "tensor 'norm.weight' is listed twice" },
        { "unlisted", "holds tensor 'extra.weight', which the index does not list" },
        { "parent-path", "names '../model-00001-of-00003.safetensors', which is not a plain file name" },
        { "sub-path", "names 'sub/model-00001-of-00003.safetensors', which is not a plain file name" },
        { "malformed", "malformed JSON" },
        { "no-weight-map", "no \"weight_map\" object" },
        { "two-weight-maps", "\"weight_map\" appears twice" },
    };

    [Theory]
    [MemberData(nameof(BadIndexes))]
    public void Bad_index_is_exit_2_naming_it_with_nothing_written(string kind, string expected)
    {
        var map = Map.ToList();
        string? index = kind switch
        {
            "missing-tensor" => IndexJson([.. map, ("ghost", Shard1)]),
            "missing-shard" => IndexJson(map.Select(e => e.Item1 == "layers.0.bias" ? (e.Item1, "model-00004-of-00003.safetensors") : e)),
            "listed-twice" => IndexJson([.. map, ("norm.weight", Shard2)]),
            "parent-path" => IndexJson(map.Select(e => e.Item2 == Shard1 ? (e.Item1, "../" + Shard1) : e)),
            "sub-path" => IndexJson(map.Select(e => e.Item2 == Shard1 ? (e.Item1, "sub/" + Shard1) : e)),
            "malformed" => IndexJson(map)[..^4],
            "no-weight-map" => "{\"metadata\": {}}",
            "two-weight-maps" => IndexJson(map).TrimEnd()[..^1] + ", \"weight_map\": {}}",
            _ => null,
        };
        string dir = WriteSharded(index: index, tamper: kind switch
        {
            "two-shards" => d => WriteShard(Path.Combine(d, Shard2), [.. Model[1].Tensors, Model[0].Tensors[1]]),
            "unlisted" => d => WriteShard(Path.Combine(d, Shard3), [.. Model[2].Tensors, Model[2].Tensors[1] with { Name = "extra.weight" }]),
            "sub-path" => d => Directory.CreateDirectory(Path.Combine(d, "sub")),
            _ => null,
        });
        if (kind == "parent-path") WriteShard(PathOf(Shard1), Model[0].Tensors);
        if (kind == "sub-path") WriteShard(Path.Combine(dir, "sub", Shard1), Model[0].Tensors);
        string before = Snapshot();

        foreach (string[] args in new[] { new[] { "prune", dir, "-o", PathOf("out"), "--sparsity", "0.5" }, ["inspect", dir] })
        {
            var r = Sprune.Run(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
            Assert.Contains(expected, r.StdErr);
            Assert.False(Directory.Exists(PathOf("out")));
            Assert.Equal(before, Snapshot());
        }
    }

    [Fact]
    public void Output_folder_must_be_new_or_empty_and_outside_the_input_folder()
    {
        string dir = WriteSharded();
        string before = Snapshot();
        foreach (var (output, expected) in new[]
        {
            (dir, "is the input's folder or inside it"),
            (Path.Combine(dir, "pruned"), "is the input's folder or inside it"),
            (Path.Combine(dir, ".", "pruned", ".."), "is the input's folder or inside it"),
            (Path.Combine(dir, Shard1), "is a file"),
        })
        {
            var r = Sprune.Run("prune", dir, "-o", output, "--sparsity", "0.5");
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
            Assert.Contains(expected, r.StdErr);
            Assert.Equal(before, Snapshot());
        }

        // Through a symbolic link to the input folder: the same folder by identity.
        string link = PathOf("link");
        Directory.CreateSymbolicLink(link, dir);
        var viaLink = Sprune.Run("prune", dir, "-o", Path.Combine(link, "pruned"), "--sparsity", "0.5");
        Assert.Equal(2, viaLink.ExitCode);
        Assert.Contains("is the input's folder or inside it", viaLink.StdErr);

        string full = PathOf("full");
        Directory.CreateDirectory(full);
        File.WriteAllText(Path.Combine(full, "keep.txt"), "mine");
        var notEmpty = Sprune.Run("prune", dir, "-o", full, "--sparsity", "0.5");
        Assert.Equal(2, notEmpty.ExitCode);
        Assert.Contains("exists and is not empty", notEmpty.StdErr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(full, "keep.txt")));

        string empty = PathOf("empty");
        Directory.CreateDirectory(empty);
        var ok = Sprune.Run("prune", dir, "-o", empty, "--sparsity", "0.5");
        Assert.True(ok.ExitCode == 0, ok.StdErr);
        Assert.Equal(4, Directory.GetFiles(empty).Length);
        Assert.Empty(Directory.GetFileSystemEntries(Dir, ".sprune-*"));
    }

    [Fact]
    public void A_failure_while_pruning_leaves_no_output_folder()
    {
        // A NaN in the last shard's target fails the prune after the first shards were staged.
        string dir = WriteSharded(tamper: d =>
        {
            T bad = Model[2].Tensors[0] with { Values = Model[2].Tensors[0].Values.Select((v, i) => i == 5 ? float.NaN : v).ToArray() };
            WriteShard(Path.Combine(d, Shard3), [bad, Model[2].Tensors[1]]);
        });
        var r = Sprune.Run("prune", dir, "-o", PathOf("out"), "--sparsity", "0.5");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.TrimEnd('\n').Split('\n'));
        Assert.False(Directory.Exists(PathOf("out")));
        Assert.Empty(Directory.GetFileSystemEntries(Dir, ".sprune-*"));
    }

    [Fact]
    public void A_folder_with_one_model_safetensors_is_the_single_file()
    {
        string dir = PathOf("plain");
        Directory.CreateDirectory(dir);
        WriteShard(Path.Combine(dir, "model.safetensors"), Model.SelectMany(s => s.Tensors));
        var r = Sprune.Run("prune", dir, "-o", PathOf("plain-out.safetensors"), "--sparsity", "0.5");
        Assert.True(r.ExitCode == 0, r.StdErr);
        var reference = Sprune.Run("prune", Path.Combine(dir, "model.safetensors"), "-o", PathOf("ref.safetensors"), "--sparsity", "0.5");
        Assert.True(reference.ExitCode == 0, reference.StdErr);
        Assert.Equal(File.ReadAllBytes(PathOf("ref.safetensors")), File.ReadAllBytes(PathOf("plain-out.safetensors")));
        Assert.Equal(0, Sprune.Run("inspect", dir).ExitCode);
    }

    [Fact]
    public async Task A_signal_while_writing_removes_the_temporary_folder()
    {
        if (OperatingSystem.IsWindows()) return;
        // 3 shards of 48 MiB F32 (about a second to write): the signal lands while the temporary folder is being filled.
        string dir = PathOf("big");
        Directory.CreateDirectory(dir);
        byte[] data = MemoryMarshal.AsBytes(Enumerable.Range(0, 12 << 20).Select(i => (float)(i % 1000 + 1)).ToArray().AsSpan()).ToArray();
        var map = new List<(string, string)>();
        for (int k = 1; k <= 3; k++)
        {
            string shard = $"model-{k:00000}-of-00003.safetensors";
            var writer = new SafeTensorsWriter();
            writer.Add($"layers.{k}.weight", SafeTensorsDType.F32, [3072, 4096], data);
            writer.WriteFile(Path.Combine(dir, shard));
            map.Add(($"layers.{k}.weight", shard));
        }
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), IndexJson(map));

        using Process p = Sprune.Start("prune", dir, "-o", PathOf("out"), "--scope", "global", "--sparsity", "0.5");
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!Directory.GetDirectories(Dir, ".sprune-*.tmpdir").Any(d => Directory.GetFiles(d).Length > 0))
        {
            Assert.False(p.HasExited, "sprune finished before the temporary folder was filled");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "no temporary folder appeared");
            Thread.Sleep(1);
        }
        Assert.Equal(0, kill(p.Id, 15));
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(143, p.ExitCode);
        Assert.DoesNotContain("   at ", await stderr, StringComparison.Ordinal);
        Assert.Equal(["big"], Directory.GetFileSystemEntries(Dir).Select(Path.GetFileName));
    }

#pragma warning disable SA1300, IDE1006 // libc's name
    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
#pragma warning restore SA1300, IDE1006

    /// <summary>Every path under the test folder with its size and modification time.</summary>
    private string Snapshot() => string.Join("\n", Directory.GetFileSystemEntries(Dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(p => File.Exists(p) ? $"{p} {new FileInfo(p).Length} {File.GetLastWriteTimeUtc(p).Ticks}" : p));
}
