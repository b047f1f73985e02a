using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace Span.Prune;

/// <summary>
/// The parsed, validated header of a safetensors file. Parsing uses <see cref="Utf8JsonReader"/> directly (AOT- and
/// trim-safe, no reflection) rather than a source-generated <c>JsonSerializerContext</c>, because the reader must keep
/// header order, reject duplicate names and report every problem with the tensor it belongs to, which a
/// dictionary-shaped deserialisation would lose.
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

        SafeTensorsDType dtype = default;
        long[]? shape = null;
        long begin = -1, end = -1;
        bool haveDtype = false, haveOffsets = false;
        while (true)
        {
            Next(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            string field = reader.GetString()!;
            Next(ref reader, name);
            switch (field)
            {
                case "dtype":
                    if (haveDtype)
                        throw Dup(name, field);
                    if (reader.TokenType != JsonTokenType.String)
                        throw new SafeTensorsFormatException($"Tensor '{name}': dtype is a {reader.TokenType}, not a string.", name);
                    string d = reader.GetString()!;
                    if (!SafeTensorsDTypeInfo.TryParse(d, out dtype))
                        throw new SafeTensorsFormatException($"Tensor '{name}': unknown dtype '{d}'.", name);
                    haveDtype = true;
                    break;
                case "shape":
                    if (shape is not null)
                        throw Dup(name, field);
                    shape = ReadIntegers(ref reader, name, field, -1);
                    break;
                case "data_offsets":
                    if (haveOffsets)
                        throw Dup(name, field);
                    var offsets = ReadIntegers(ref reader, name, field, 2);
                    (begin, end) = (offsets[0], offsets[1]);
                    haveOffsets = true;
                    break;
                default:
                    throw new SafeTensorsFormatException($"Tensor '{name}': unknown field '{field}'.", name);
            }
        }
        if (!haveDtype)
            throw new SafeTensorsFormatException($"Tensor '{name}': missing \"dtype\".", name);
        if (shape is null)
            throw new SafeTensorsFormatException($"Tensor '{name}': missing \"shape\".", name);
        if (!haveOffsets)
            throw new SafeTensorsFormatException($"Tensor '{name}': missing \"data_offsets\".", name);

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

    private static SafeTensorsFormatException Dup(string name, string field) =>
        new($"Tensor '{name}': field '{field}' appears more than once.", name);

    /// <summary>Reads a JSON array of non-negative 64-bit integers; <paramref name="exactCount"/> &lt; 0 means any length.</summary>
    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field, int exactCount)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafeTensorsFormatException($"Tensor '{name}': {field} is a {reader.TokenType}, not a list of non-negative integers.", name);
        var values = new List<long>();
        while (true)
        {
            Next(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndArray)
                break;
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw new SafeTensorsFormatException($"Tensor '{name}': {field} must be a list of non-negative integers.", name);
            if (values.Count >= 1024)
                throw new SafeTensorsFormatException($"Tensor '{name}': {field} has more than 1024 entries.", name);
            values.Add(v);
        }
        if (exactCount >= 0 && values.Count != exactCount)
            throw new SafeTensorsFormatException($"Tensor '{name}': {field} has {values.Count} entries, expected {exactCount}.", name);
        return values.ToArray();
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
