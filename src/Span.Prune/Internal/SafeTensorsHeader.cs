using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Span.Prune.SafeTensors;

namespace Span.Prune.Internal;

/// <summary>
/// The parsed, validated header of a safetensors file. Each tensor entry is deserialised by the System.Text.Json
/// source generator (<see cref="SafeTensorsHeaderJsonContext"/>: no reflection, trim- and NativeAOT-safe). The root
/// object is walked with a <see cref="Utf8JsonReader"/> around it, because a dictionary-shaped deserialisation would
/// lose what the format needs: header order (written back unchanged), duplicate-name detection and the name of the
/// tensor each error belongs to. <c>__metadata__</c> is read there too, as it is order-preserving string pairs.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>Header lengths above this are refused (as the reference implementation does) so a hostile length
    /// cannot make us allocate or scan gigabytes.</summary>
    internal const long MaxHeaderLength = 100_000_000;

    private SafeTensorsHeader(SafeTensorInfo[] tensors, KeyValuePair<string, string>[] metadata, Dictionary<string, int> byName, long dataStart, long dataLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        ByName = byName;
        DataStart = dataStart;
        DataLength = dataLength;
    }

    public SafeTensorInfo[] Tensors { get; }

    public KeyValuePair<string, string>[] Metadata { get; }

    public Dictionary<string, int> ByName { get; }

    /// <summary>File offset of the data buffer: 8 + header length.</summary>
    public long DataStart { get; }

    /// <summary>Bytes from <see cref="DataStart"/> to the end of the file.</summary>
    public long DataLength { get; }

    /// <summary>Reads the 8-byte length prefix and checks it against the file length.</summary>
    public static long ReadHeaderLength(ReadOnlySpan<byte> prefix, long fileLength)
    {
        if (fileLength < 8)
            throw new SafeTensorsFormatException($"The file is {fileLength} bytes long, shorter than the 8-byte header-length prefix.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderLength)
            throw new SafeTensorsFormatException($"The header length {n} exceeds the limit of {MaxHeaderLength} bytes.");
        if ((long)n > fileLength - 8)
            throw new SafeTensorsFormatException($"The header length {n} exceeds the {fileLength - 8} bytes that follow the length prefix.");
        return (long)n;
    }

    /// <summary>Parses and validates the header JSON. <paramref name="dataLength"/> is the size of the data buffer.</summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength)
    {
        // Validate UTF-8 up front: Utf8JsonReader checks structure, but string transcoding would otherwise fail later
        // with an InvalidOperationException rather than a format error.
        if (!Utf8.IsValid(json))
            throw new SafeTensorsFormatException("The header is not valid UTF-8.");
        try
        {
            return ParseJson(json, dataLength);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"The header is not valid JSON: {e.Message}", null, e);
        }
    }

    private static SafeTensorsHeader ParseJson(ReadOnlySpan<byte> json, long dataLength)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException("The header is not a JSON object.");

        var tensors = new List<SafeTensorInfo>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        List<KeyValuePair<string, string>>? metadata = null;

        while (true)
        {
            Next(ref reader, null);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            string name = reader.GetString()!;
            if (name == "__metadata__")
            {
                if (metadata is not null)
                    throw new SafeTensorsFormatException("The header has more than one \"__metadata__\" entry.", name);
                metadata = ReadMetadata(ref reader);
                continue;
            }
            if (byName.ContainsKey(name))
                throw new SafeTensorsFormatException($"Tensor '{name}' appears more than once in the header.", name);
            var info = ReadTensor(ref reader, name, tensors.Count, dataLength);
            byName.Add(name, tensors.Count);
            tensors.Add(info);
        }
        // Anything but whitespace after the root object makes Read throw a JsonException (reported as invalid JSON).
        if (reader.Read())
            throw new SafeTensorsFormatException("The header has content after the root JSON object.");

        var array = tensors.ToArray();
        CheckOverlap(array);
        return new SafeTensorsHeader(array, metadata?.ToArray() ?? [], byName, 0, dataLength);
    }

    private static void Next(ref Utf8JsonReader reader, string? tensor)
    {
        if (!reader.Read())
            throw new SafeTensorsFormatException(tensor is null ? "The header JSON ends early." : $"Tensor '{tensor}': the header JSON ends early.", tensor);
    }

    private static List<KeyValuePair<string, string>> ReadMetadata(ref Utf8JsonReader reader)
    {
        const string Where = "__metadata__";
        Next(ref reader, Where);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException("\"__metadata__\" must be an object of string values.", Where);
        var list = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            Next(ref reader, Where);
            if (reader.TokenType == JsonTokenType.EndObject)
                return list;
            string key = reader.GetString()!;
            Next(ref reader, Where);
            if (reader.TokenType != JsonTokenType.String)
                throw new SafeTensorsFormatException($"\"__metadata__\" value for key '{key}' is a {reader.TokenType}, not a string.", Where);
            if (!seen.Add(key))
                throw new SafeTensorsFormatException($"\"__metadata__\" has key '{key}' more than once.", Where);
            list.Add(new(key, reader.GetString()!));
        }
    }

    private static SafeTensorInfo ReadTensor(ref Utf8JsonReader reader, string name, int index, long dataLength)
    {
        Next(ref reader, name);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException($"Tensor '{name}': the entry is a {reader.TokenType}, not an object with dtype, shape and data_offsets.", name);

        if (FirstDuplicateField(reader) is string duplicate)
            throw new SafeTensorsFormatException($"Tensor '{name}': field '{duplicate}' appears more than once.", name);
        SafeTensorsEntryJson entry;
        try
        {
            entry = JsonSerializer.Deserialize(ref reader, SafeTensorsHeaderJsonContext.Default.SafeTensorsEntryJson)!;
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException($"Tensor '{name}': {DescribeEntryError(e)}", name, e);
        }
        if (entry.Unknown is { Count: > 0 } unknown)
        {
            foreach (string field in unknown.Keys)
                throw new SafeTensorsFormatException($"Tensor '{name}': unknown field '{field}'.", name);
        }
        if (entry.DType is not { } d)
            throw new SafeTensorsFormatException($"Tensor '{name}': missing \"dtype\".", name);
        if (!SafeTensorsDTypeInfo.TryParse(d, out SafeTensorsDType dtype))
            throw new SafeTensorsFormatException($"Tensor '{name}': unknown dtype '{d}'.", name);
        long[] shape = entry.Shape ?? throw new SafeTensorsFormatException($"Tensor '{name}': missing \"shape\".", name);
        long[] offsets = entry.DataOffsets ?? throw new SafeTensorsFormatException($"Tensor '{name}': missing \"data_offsets\".", name);
        CheckIntegers(shape, name, "shape", -1);
        CheckIntegers(offsets, name, "data_offsets", 2);
        (long begin, long end) = (offsets[0], offsets[1]);

        long count = 1;
        foreach (long dim in shape)
        {
            if (dim != 0 && count > long.MaxValue / dim)
                throw new SafeTensorsFormatException($"Tensor '{name}': the element count of shape [{string.Join(", ", shape)}] overflows 64 bits.", name);
            count *= dim;
        }
        int size = SafeTensorsDTypeInfo.SizeOf(dtype);
        if (count > long.MaxValue / size)
            throw new SafeTensorsFormatException($"Tensor '{name}': the byte length of shape [{string.Join(", ", shape)}] overflows 64 bits.", name);
        long bytes = count * size;

        if (begin > end)
            throw new SafeTensorsFormatException($"Tensor '{name}': data_offsets [{begin}, {end}] has begin > end.", name);
        if (end > dataLength)
            throw new SafeTensorsFormatException($"Tensor '{name}': data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data buffer.", name);
        if (end - begin != bytes)
            throw new SafeTensorsFormatException(
                $"Tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes but shape [{string.Join(", ", shape)}] of {SafeTensorsDTypeInfo.GetName(dtype)} needs {bytes}.", name);
        return new SafeTensorInfo(index, name, dtype, shape, count, begin, bytes);
    }

    /// <summary>
    /// The first property name that repeats among the entry's own fields (a copy of the reader walks the object;
    /// nested values are skipped), or null. Checked before deserialising, so that no message text is ever parsed.
    /// </summary>
    private static string? FirstDuplicateField(Utf8JsonReader reader)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            if (!seen.Add(field)) return field;
            if (!reader.Read()) return null;
            reader.TrySkip();
        }
        return null;
    }

    /// <summary>
    /// Turns the source generator's <see cref="JsonException"/> into a message about the field: its
    /// <see cref="JsonException.Path"/> is relative to the entry (<c>$.shape[1]</c>), and a type mismatch there
    /// means a non-string dtype or a shape / data_offsets that is not a list of 64-bit integers (1.5, 1e3, "2",
    /// null and 2^64 all fail the <c>long</c> conversion).
    /// </summary>
    private static string DescribeEntryError(JsonException e)
    {
        string path = e.Path ?? "";
        string field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        int bracket = field.IndexOf('[');
        if (bracket >= 0)
            field = field[..bracket];
        return field switch
        {
            "dtype" => "dtype is not a string.",
            "shape" or "data_offsets" => $"{field} is not a list of non-negative integers.",
            _ => $"the entry is not valid: {e.Message}",
        };
    }

    /// <summary>Checks the integers the generator read: non-negative, at most 1024 of them, or exactly
    /// <paramref name="exactCount"/> when that is ≥ 0.</summary>
    private static void CheckIntegers(long[] values, string name, string field, int exactCount)
    {
        if (values.Length > 1024)
            throw new SafeTensorsFormatException($"Tensor '{name}': {field} has more than 1024 entries.", name);
        foreach (long v in values)
        {
            if (v < 0)
                throw new SafeTensorsFormatException($"Tensor '{name}': {field} must be a list of non-negative integers.", name);
        }
        if (exactCount >= 0 && values.Length != exactCount)
            throw new SafeTensorsFormatException($"Tensor '{name}': {field} has {values.Length} entries, expected {exactCount}.", name);
    }

    /// <summary>Sorts the non-empty ranges by begin and checks each starts at or after the previous one's end.</summary>
    private static void CheckOverlap(SafeTensorInfo[] tensors)
    {
        // Empty tensors occupy no bytes and may share an offset with anything.
        var order = new List<SafeTensorInfo>(tensors.Length);
        foreach (var t in tensors)
        {
            if (t.ByteLength > 0)
                order.Add(t);
        }
        order.Sort(static (a, b) => a.DataOffset != b.DataOffset ? a.DataOffset.CompareTo(b.DataOffset) : a.Index.CompareTo(b.Index));
        for (int i = 1; i < order.Count; i++)
        {
            var prev = order[i - 1];
            var cur = order[i];
            if (cur.DataOffset < prev.DataOffset + prev.ByteLength)
                throw new SafeTensorsFormatException(
                    $"Tensor '{cur.Name}': data range [{cur.DataOffset}, {cur.DataOffset + cur.ByteLength}) overlaps tensor '{prev.Name}' [{prev.DataOffset}, {prev.DataOffset + prev.ByteLength}).", cur.Name);
        }
    }

    /// <summary>Parses a complete file image: prefix, header and data.</summary>
    public static SafeTensorsHeader ParseFile(ReadOnlySpan<byte> file)
    {
        long n = ReadHeaderLength(file, file.Length);
        var h = Parse(file.Slice(8, (int)n), file.Length - 8 - n);
        return h.WithDataStart(8 + n);
    }

    public SafeTensorsHeader WithDataStart(long dataStart) => new(Tensors, Metadata, ByName, dataStart, DataLength);
}
