using Span.Prune.SafeTensors;

namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// The sharded-checkpoint index parser on arbitrary bytes as <c>model.safetensors.index.json</c>, next to two fixed
/// valid shards, through <c>sprune inspect</c> and <c>sprune prune</c> (the only routes to the parser), held to the
/// promises checked by <see cref="CliRun"/>: the index and the shards unchanged, exit 0 or 2, on success a complete
/// output folder of valid files.
/// </summary>
public static class ShardIndexTarget
{
    /// <summary>The shards: file name and content (two F32 weights and a BF16 bias over two files).</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> Shards { get; } =
    [
        ("model-00001-of-00002.safetensors", new SafeTensorsWriter()
            .Add("a.weight", SafeTensorsDType.F32, [2, 3], Floats(1, -2, 3, -4, 5, -6))
            .Add("a.bias", SafeTensorsDType.BF16, [2], new byte[] { 0x80, 0x3f, 0x00, 0xc0 })
            .AddMetadata("format", "pt").ToArray()),
        ("model-00002-of-00002.safetensors", new SafeTensorsWriter()
            .Add("b.weight", SafeTensorsDType.F32, [4], Floats(0.5f, -0.25f, 2, 0)).ToArray()),
    ];

    public static void Run(byte[] input)
    {
        string folder = FuzzScratch.Folder();
        var inputs = new List<string>();
        foreach (var (name, bytes) in Shards)
        {
            string path = Path.Combine(folder, name);
            File.WriteAllBytes(path, bytes);
            inputs.Add(path);
        }
        string index = Path.Combine(folder, "model.safetensors.index.json");
        File.WriteAllBytes(index, input);
        inputs.Add(index);
        CliRun.Check(folder, inputs, [], "inspect", index);
        string output = Path.Combine(folder, "pruned");
        CliRun.Check(folder, inputs, [output], "prune", index, "-o", output, "--sparsity", "0.5");
    }

    private static byte[] Floats(params float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
