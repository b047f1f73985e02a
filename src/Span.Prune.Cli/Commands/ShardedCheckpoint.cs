using System.Text.Json;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// A hub-style sharded checkpoint: shards <c>model-0000k-of-0000n.safetensors</c> next to an index
/// <c>model.safetensors.index.json</c> = <c>{"metadata": {"total_size": N, ...}, "weight_map": {tensor: shard}}</c>.
/// <see cref="Open"/> validates the whole index against the shard headers before anything is read or written.
/// </summary>
/// <remarks>
/// <para>Refused (each names the tensor or shard): a malformed index; a weight_map value that is not a plain file name
/// (contains '/', '\' or '..'; so every output stays inside the output folder); a tensor listed twice; a shard that
/// does not exist; a listed tensor missing from its shard; a tensor present in two shards; a shard tensor the index
/// does not list.</para>
/// <para><c>total_size</c> is what transformers and huggingface_hub write: the sum of the tensors' data sizes
/// (elements × element size; headers not counted), see huggingface_hub's <c>split_state_dict_into_shards_factory</c>.</para>
/// </remarks>
internal sealed class ShardedCheckpoint : IDisposable
{
    private const string IndexSuffix = ".safetensors.index.json";

    private readonly JsonDocument _index;

    private ShardedCheckpoint(string indexPath, JsonDocument index, List<(string Name, SafeTensorsFile File)> shards)
    {
        IndexPath = indexPath;
        _index = index;
        Shards = shards;
    }

    /// <summary>The index file (absolute path).</summary>
    public string IndexPath { get; }

    /// <summary>The shards in order of first appearance in the weight_map, each with its file name.</summary>
    public IReadOnlyList<(string Name, SafeTensorsFile File)> Shards { get; }

    /// <summary>The index's <c>metadata</c> object as written (values may be numbers or objects), or null when absent.</summary>
    public JsonElement? IndexMetadata => _index.RootElement.TryGetProperty("metadata", out JsonElement m) ? m : null;

    /// <summary>The sum of every tensor's data bytes (the index's <c>total_size</c>).</summary>
    public long TotalSize => Shards.Sum(s => s.File.Tensors.Sum(t => t.ByteLength));

    /// <summary>
    /// What a command's input names: an index file, a folder holding exactly one <c>*.safetensors.index.json</c> (or
    /// else a <c>model.safetensors</c>), or a single .safetensors file.
    /// </summary>
    /// <returns>The path to open and whether it is an index.</returns>
    public static (string Path, bool IsIndex) Resolve(string input)
    {
        if (Directory.Exists(input))
        {
            string[] indexes = Directory.GetFiles(input, "*" + IndexSuffix);
            if (indexes.Length > 1)
                throw new ArgumentException($"folder '{input}' holds {indexes.Length} *{IndexSuffix} files; name the index file");
            if (indexes.Length == 1) return (indexes[0], true);
            string single = Path.Join(input, "model.safetensors");
            if (File.Exists(single)) return (single, false);
            throw new FileNotFoundException($"folder '{input}' holds no *{IndexSuffix} and no model.safetensors", input);
        }
        return (input, input.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Reads and validates the index and opens every shard (each registered with <paramref name="files"/> as an input).</summary>
    public static ShardedCheckpoint Open(string indexPath, OutputFiles files)
    {
        string full = files.Input(indexPath, "the index");
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllBytes(full)); }
        catch (JsonException e) { throw new FormatException($"index '{indexPath}': malformed JSON: {e.Message}"); }
        var shards = new List<(string Name, SafeTensorsFile File)>();
        try
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException($"index '{indexPath}': not a JSON object");
            foreach (string key in (string[])["metadata", "weight_map"])
            {
                if (root.EnumerateObject().Count(p => p.NameEquals(key)) > 1) throw new FormatException($"index '{indexPath}': \"{key}\" appears twice");
            }
            if (root.TryGetProperty("metadata", out JsonElement metadata) && metadata.ValueKind != JsonValueKind.Object)
                throw new FormatException($"index '{indexPath}': \"metadata\" is not an object");
            if (!root.TryGetProperty("weight_map", out JsonElement map) || map.ValueKind != JsonValueKind.Object)
                throw new FormatException($"index '{indexPath}': no \"weight_map\" object");

            // Tensor → shard, and the shards in order of first appearance.
            var shardOf = new Dictionary<string, string>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (JsonProperty p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new FormatException($"index '{indexPath}': weight_map entry '{p.Name}' is not a string");
                string shard = p.Value.GetString()!;
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard.Contains("..") || shard == "." || shard.Contains('\0'))
                    throw new ArgumentException($"index '{indexPath}': weight_map entry '{p.Name}' names '{shard}', which is not a plain file name in the index's folder");
                if (!shardOf.TryAdd(p.Name, shard))
                    throw new ArgumentException($"index '{indexPath}': tensor '{p.Name}' is listed twice in the weight_map");
                if (!order.Contains(shard, StringComparer.Ordinal)) order.Add(shard);
            }
            if (shardOf.Count == 0) throw new ArgumentException($"index '{indexPath}': the weight_map lists no tensor");

            string directory = Path.GetDirectoryName(full)!;
            foreach (string name in order)
            {
                string path = Path.Join(directory, name);
                if (!File.Exists(path)) throw new FileNotFoundException($"shard '{name}' named by the index does not exist", path);
                shards.Add((name, SafeTensorsFile.Open(files.Input(path, $"shard '{name}'"))));
            }
            foreach (var (name, file) in shards)
            {
                foreach (SafeTensorInfo t in file.Tensors)
                {
                    if (!shardOf.TryGetValue(t.Name, out string? listed))
                        throw new ArgumentException($"shard '{name}' holds tensor '{t.Name}', which the index does not list");
                    if (!string.Equals(listed, name, StringComparison.Ordinal))
                        throw new ArgumentException($"tensor '{t.Name}' is in two shards: '{listed}' (the index's) and '{name}'");
                }
            }
            foreach (var (tensor, shard) in shardOf)
            {
                if (!shards.First(s => s.Name == shard).File.TryGetTensor(tensor, out _))
                    throw new ArgumentException($"tensor '{tensor}' is listed in shard '{shard}' but is not in it");
            }
            return new ShardedCheckpoint(full, document, shards);
        }
        catch
        {
            foreach (var (_, file) in shards) file.Dispose();
            document.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The output's index: the input's, with <c>metadata.total_size</c> set to <paramref name="totalSize"/> (added when
    /// missing); every other key and the weight_map are copied as they are, except for <paramref name="weightMap"/>'s
    /// changes: a tensor mapped to null is left out, a new one is added at the end with its shard.
    /// </summary>
    public void WriteIndex(Stream destination, long totalSize, IReadOnlyDictionary<string, string?>? weightMap = null)
    {
        using var w = new Utf8JsonWriter(destination, new JsonWriterOptions { Indented = true });
        JsonElement root = _index.RootElement;
        w.WriteStartObject();
        if (!root.TryGetProperty("metadata", out _))
        {
            w.WriteStartObject("metadata");
            w.WriteNumber("total_size", totalSize);
            w.WriteEndObject();
        }
        foreach (JsonProperty p in root.EnumerateObject())
        {
            if (p.NameEquals("metadata"))
            {
                w.WriteStartObject("metadata");
                bool written = false;
                foreach (JsonProperty m in p.Value.EnumerateObject())
                {
                    if (m.NameEquals("total_size"))
                    {
                        if (!written) w.WriteNumber("total_size", totalSize);
                        written = true;
                    }
                    else m.WriteTo(w);
                }
                if (!written) w.WriteNumber("total_size", totalSize);
                w.WriteEndObject();
            }
            else if (p.NameEquals("weight_map") && weightMap is { Count: > 0 })
            {
                w.WriteStartObject("weight_map");
                foreach (JsonProperty e in p.Value.EnumerateObject())
                {
                    if (!weightMap.TryGetValue(e.Name, out string? shard)) e.WriteTo(w);
                    else if (shard is not null) w.WriteString(e.Name, shard); // listed already: its (possibly new) shard
                }
                foreach (var (name, shard) in weightMap)
                {
                    if (shard is not null && !p.Value.TryGetProperty(name, out _)) w.WriteString(name, shard);
                }
                w.WriteEndObject();
            }
            else p.WriteTo(w);
        }
        w.WriteEndObject();
        w.Flush();
        destination.WriteByte((byte)'\n');
    }

    public void Dispose()
    {
        foreach (var (_, file) in Shards) file.Dispose();
        _index.Dispose();
    }
}
