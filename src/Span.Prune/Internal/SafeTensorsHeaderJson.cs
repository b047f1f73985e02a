using System.Text.Json.Serialization;

namespace Span.Prune.Internal;

/// <summary>
/// One tensor entry of a safetensors header, <c>{"dtype": "F32", "shape": [4096, 4096], "data_offsets": [b, e]}</c>,
/// as the System.Text.Json source generator maps it (no reflection, so trim- and NativeAOT-safe). The fields are
/// nullable so that a missing one is reported by name rather than as a generic deserialisation error; fields the
/// format does not define land in <see cref="Unknown"/> and are refused.
/// </summary>
internal sealed class SafeTensorsEntryJson
{
    [JsonPropertyName("dtype")]
    public string? DType { get; set; }

    [JsonPropertyName("shape")]
    public long[]? Shape { get; set; }

    [JsonPropertyName("data_offsets")]
    public long[]? DataOffsets { get; set; }

    [JsonExtensionData]
    public Dictionary<string, System.Text.Json.JsonElement>? Unknown { get; set; }
}

/// <summary>
/// Source-generated serialisation metadata for <see cref="SafeTensorsEntryJson"/>. Strict settings: duplicate
/// fields, comments and trailing commas are errors; numbers must be JSON numbers (no strings).
/// </summary>
[JsonSourceGenerationOptions(
    AllowDuplicateProperties = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    NumberHandling = JsonNumberHandling.Strict,
    GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(SafeTensorsEntryJson))]
internal sealed partial class SafeTensorsHeaderJsonContext : JsonSerializerContext;
