using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Span.Prune.SafeTensors;

namespace Span.Prune.Internal;

/// <summary>
/// The parsed, validated header of a safetensors file, read with one forward <see cref="Utf8JsonReader"/> pass.
/// </summary>
/// <remarks>
/// <para>The rules are those of the reference reader (huggingface/safetensors, <c>tensor.rs</c>: <c>read_metadata</c>,
/// <c>Metadata::validate</c>, and the serde / serde_json rules its header types imply), so that a file is accepted here
/// exactly when the reference accepts it, except where noted below:</para>
/// <list type="bullet">
/// <item>u64 LE header length N ≤ 100,000,000, 8 + N ≤ file length; the N bytes are UTF-8.</item>
/// <item>The header is one JSON value with only JSON whitespace (space, tab, LF, CR) around it: leading whitespace is
/// fine (the reference has no "first byte is <c>{</c>" check), NUL padding and a byte-order mark are not. It must be an
/// object. Nesting is limited to 127 levels (serde_json's recursion limit of 128).</item>
/// <item><c>__metadata__</c>: <c>null</c> (same as absent) or an object of string values; at most once. A repeated
/// key inside it keeps its last value (serde's map semantics).</item>
/// <item>Every other key is a tensor; the empty name is allowed. A repeated tensor name keeps its last entry, the
/// earlier ones are dropped before validation (serde's map semantics again).</item>
/// <item>A tensor entry is an object with <c>dtype</c> (one of the 22 reference dtypes, case-sensitive),
/// <c>shape</c> (list of non-negative integers) and <c>data_offsets</c> (exactly two); a repeated field is an
/// error; unknown fields are ignored (skipped without being built, but still checked as JSON: numbers must be finite
/// as 64-bit floats and escapes must be Unicode scalars, since serde_json checks both). Integers are plain JSON
/// integers: <c>1.0</c>, <c>1e0</c> and <c>-0</c> are not integers to serde_json either.</item>
/// <item>Sorted by <c>(begin, end)</c>, each tensor begins where the previous ends, the first at 0, end ≥ begin; the
/// last end is the data length (no gap, overlap or trailing byte). end − begin = element count × bits / 8, with the
/// product computed left to right in unsigned 64 bits and any overflow an error (so <c>[2^40, 2^40, 0]</c> is refused
/// but <c>[0, 2^40, 2^40]</c> is not, as in the reference), and a partial byte an error.</item>
/// </list>
/// <para>Deliberate differences, each refusing something the reference accepts:</para>
/// <list type="bullet">
/// <item>A shape longer than <see cref="SafeTensorsFile.MaxRank"/> (the reference has no limit beyond the header
/// size): the shape is stored, and a 100 MB header of <c>1,</c> would otherwise become a 400 MB array.</item>
/// <item>A dimension above <see cref="long.MaxValue"/> (possible only in a zero-element tensor): shapes are
/// <see cref="long"/>s in this library's API.</item>
/// <item>serde's alternative encodings: a tensor entry written as an array <c>["F32", [2], [0, 8]]</c> and a dtype
/// written as a map <c>{"F32": null}</c>. No writer produces them and which ones serde accepts varies with its version.</item>
/// <item>serde_json's default float parser is not correctly rounded and overflows on some literals just below
/// <see cref="double.MaxValue"/> (such as 1.7976931348623157e308) in unknown fields; here such a literal is finite and accepted.</item>
/// </list>
/// </remarks>
internal sealed class SafeTensorsHeader
{
    /// <summary>Header lengths above this are refused (as the reference implementation does) so a hostile length
    /// cannot make us allocate or scan gigabytes.</summary>
    internal const long MaxHeaderLength = 100_000_000;

    /// <summary>serde_json refuses the 128th nested array or object; the root object counts.</summary>
    internal const int MaxDepth = 127;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

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
        if (fileLength < 8 || prefix.Length < 8)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.FileTooShort, $"The file is {fileLength} bytes long, shorter than the 8-byte header-length prefix.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderLength)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.HeaderTooLarge, $"The header length {n} exceeds the limit of {MaxHeaderLength} bytes.");
        if ((long)n > fileLength - 8)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.HeaderLength, $"The header length {n} exceeds the {fileLength - 8} bytes that follow the length prefix.");
        return (long)n;
    }

    /// <summary>Parses a complete file image: prefix, header and data.</summary>
    public static SafeTensorsHeader ParseFile(ReadOnlySpan<byte> file)
    {
        long n = ReadHeaderLength(file, file.Length);
        return Parse(file.Slice(8, (int)n), 8 + n, file.Length - 8 - n);
    }

    /// <summary>Parses and validates the header JSON of a file whose data buffer starts at <paramref name="dataStart"/>
    /// and is <paramref name="dataLength"/> bytes long.</summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long dataStart, long dataLength)
    {
        // The reference decodes the whole header (padding included) as UTF-8 before parsing.
        if (!Utf8.IsValid(json))
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Utf8, "The header is not valid UTF-8.");
        if (json.StartsWith(Utf8Bom))
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json, "The header starts with a UTF-8 byte-order mark, which is not JSON whitespace.");
        try
        {
            return ParseJson(json, dataStart, dataLength);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json, $"The header is not valid JSON: {e.Message}", null, e);
        }
        catch (Exception e) when (e is InvalidOperationException or OverflowException or KeyNotFoundException or ArgumentException
                                      or (FormatException and not SafeTensorsFormatException))
        {
            // Reader and transcoding failures that the checks below should already have turned into rule violations;
            // whatever slips through is still malformed input, never a crash.
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json, $"The header is not valid: {e.Message}", null, e);
        }
    }

    /// <summary>One tensor entry as read, before the file-wide checks.</summary>
    private readonly record struct Entry(string Name, SafeTensorsDType DType, long[] Shape, ulong Begin, ulong End);

    private static SafeTensorsHeader ParseJson(ReadOnlySpan<byte> json, long dataStart, long dataLength)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = MaxDepth,
        });
        Next(ref reader, null);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.NotAnObject, $"The header is a JSON {Describe(reader.TokenType)}, not an object.");

        // Slots in header order; a repeated name empties its earlier slot (last one wins, as in a serde map).
        var slots = new List<Entry?>();
        var slotByName = new Dictionary<string, int>(StringComparer.Ordinal);
        List<KeyValuePair<string, string>?>? metadata = null;
        bool metadataSeen = false;
        while (true)
        {
            Next(ref reader, null);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            CheckEscapes(ref reader, null); // before comparing: a lone surrogate makes the comparison throw
            if (reader.ValueTextEquals("__metadata__"u8))
            {
                if (metadataSeen)
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Metadata, "The header has more than one \"__metadata__\" entry.", "__metadata__");
                metadataSeen = true;
                metadata = ReadMetadata(ref reader);
                continue;
            }
            string name = GetString(ref reader, null);
            var entry = ReadTensor(ref reader, name);
            if (slotByName.TryGetValue(name, out int earlier))
                slots[earlier] = null;
            slotByName[name] = slots.Count;
            slots.Add(entry);
        }
        // Only JSON whitespace may follow the root object; anything else makes Read throw (reported as invalid JSON).
        if (reader.Read())
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json, "The header has content after the root JSON object.");

        var entries = new List<Entry>(slots.Count);
        foreach (var slot in slots)
        {
            if (slot is { } e)
                entries.Add(e);
        }
        var tensors = Validate(entries, dataLength);
        var byName = new Dictionary<string, int>(tensors.Length, StringComparer.Ordinal);
        foreach (var t in tensors)
            byName.Add(t.Name, t.Index);
        var pairs = new List<KeyValuePair<string, string>>();
        if (metadata is not null)
        {
            foreach (var kv in metadata)
            {
                if (kv is { } p)
                    pairs.Add(p);
            }
        }
        return new SafeTensorsHeader(tensors, [.. pairs], byName, dataStart, dataLength);
    }

    /// <summary>
    /// The reference's <c>validate</c>: entries sorted by (begin, end) must tile [0, data length) exactly, and each
    /// must span element count × bits / 8 bytes. Returns the tensors in header order.
    /// </summary>
    private static SafeTensorInfo[] Validate(List<Entry> entries, long dataLength)
    {
        var order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        // Ties (equal offsets) keep header order, so the later of two clashing tensors is the one named.
        Array.Sort(order, (a, b) =>
        {
            int c = entries[a].Begin.CompareTo(entries[b].Begin);
            if (c == 0) c = entries[a].End.CompareTo(entries[b].End);
            return c != 0 ? c : a.CompareTo(b);
        });

        var infos = new SafeTensorInfo[entries.Count];
        ulong start = 0;
        foreach (int i in order)
        {
            var e = entries[i];
            string name = e.Name;
            if (e.Begin != start || e.End < e.Begin)
            {
                string why = e.End < e.Begin ? "its end is before its begin"
                    : start == 0 ? "the first tensor (by offset) must begin at 0"
                    : e.Begin > start ? $"it leaves a gap after the previous tensor, which ends at {start}"
                    : $"it overlaps the previous tensor, which ends at {start}";
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.Offset, $"Tensor '{name}': data_offsets [{e.Begin}, {e.End}] are invalid: {why}.", name);
            }
            start = e.End;

            // Left to right in unsigned 64 bits, as the reference's checked_mul fold: an intermediate overflow is
            // an error even when a later dimension is 0.
            ulong count = 1;
            foreach (long dim in e.Shape)
            {
                if (!TryMultiply(count, (ulong)dim, out count))
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Overflow, $"Tensor '{name}': the element count of shape {ShapeText(e.Shape)} overflows 64 bits.", name);
            }
            int bitsPer = SafeTensorsDTypeInfo.BitSizeOf(e.DType);
            if (!TryMultiply(count, (ulong)bitsPer, out ulong bits))
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.Overflow, $"Tensor '{name}': the size in bits of shape {ShapeText(e.Shape)} of {SafeTensorsDTypeInfo.GetName(e.DType)} overflows 64 bits.", name);
            if (bits % 8 != 0)
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.PartialByte, $"Tensor '{name}': {count} elements of {SafeTensorsDTypeInfo.GetName(e.DType)} are {bits} bits, not a whole number of bytes.", name);
            ulong bytes = bits / 8;
            if (e.End - e.Begin != bytes)
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.ByteLength,
                    $"Tensor '{name}': data_offsets [{e.Begin}, {e.End}] span {e.End - e.Begin} bytes but shape {ShapeText(e.Shape)} of {SafeTensorsDTypeInfo.GetName(e.DType)} needs {bytes}.", name);
            if (e.End > (ulong)dataLength)
                break; // reported below as an incomplete buffer, as the reference does; offsets past it cannot be stored
            // count ≤ 2^64 / 4 and bytes ≤ end ≤ data length, so both fit a long.
            infos[i] = new SafeTensorInfo(i, name, e.DType, e.Shape, (long)count, (long)e.Begin, (long)bytes);
        }
        if (start != (ulong)dataLength)
        {
            string why = start < (ulong)dataLength
                ? $"{(ulong)dataLength - start} bytes after the last tensor (at {start}) belong to no tensor"
                : $"the tensors need {start} bytes of data but the file has {dataLength}";
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.IncompleteBuffer, $"The data buffer is not covered exactly: {why}.");
        }
        return infos;
    }

    private static bool TryMultiply(ulong a, ulong b, out ulong product)
    {
        ulong high = Math.BigMul(a, b, out product);
        return high == 0;
    }

    private static List<KeyValuePair<string, string>?>? ReadMetadata(ref Utf8JsonReader reader)
    {
        const string Where = "__metadata__";
        Next(ref reader, Where);
        // serde reads Option<HashMap<String, String>>: null is None, the same as no entry.
        if (reader.TokenType == JsonTokenType.Null)
            return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Metadata, $"\"__metadata__\" is a JSON {Describe(reader.TokenType)}; it must be null or an object of string values.", Where);
        var list = new List<KeyValuePair<string, string>?>();
        var slot = new Dictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            Next(ref reader, Where);
            if (reader.TokenType == JsonTokenType.EndObject)
                return list;
            string key = GetString(ref reader, Where);
            Next(ref reader, Where);
            if (reader.TokenType != JsonTokenType.String)
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.Metadata, $"\"__metadata__\" value for key '{key}' is a JSON {Describe(reader.TokenType)}, not a string.", Where);
            string value = GetString(ref reader, Where);
            if (slot.TryGetValue(key, out int earlier))
                list[earlier] = null; // last one wins, as in a serde map
            slot[key] = list.Count;
            list.Add(new(key, value));
        }
    }

    private static Entry ReadTensor(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader, name);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.NotAnObject,
                $"Tensor '{name}': the entry is a JSON {Describe(reader.TokenType)}, not an object with dtype, shape and data_offsets.", name);

        SafeTensorsDType? dtype = null;
        long[]? shape = null;
        (ulong Begin, ulong End)? offsets = null;
        while (true)
        {
            Next(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            CheckEscapes(ref reader, name);
            if (reader.ValueTextEquals("dtype"u8))
            {
                if (dtype is not null) throw DuplicateField(name, "dtype");
                dtype = ReadDType(ref reader, name);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw DuplicateField(name, "shape");
                shape = ReadShape(ref reader, name);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                if (offsets is not null) throw DuplicateField(name, "data_offsets");
                offsets = ReadOffsets(ref reader, name);
            }
            else
            {
                // serde ignores unknown fields, but serde_json still parses them: check without building them.
                Next(ref reader, name);
                SkipChecked(ref reader, name);
            }
        }
        if (dtype is not { } d) throw MissingField(name, "dtype");
        if (shape is null) throw MissingField(name, "shape");
        if (offsets is not { } o) throw MissingField(name, "data_offsets");
        return new Entry(name, d, shape, o.Begin, o.End);
    }

    private static SafeTensorsDType ReadDType(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader, name);
        if (reader.TokenType != JsonTokenType.String)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.DType, $"Tensor '{name}': dtype is a JSON {Describe(reader.TokenType)}, not a string.", name);
        string text = GetString(ref reader, name);
        if (!SafeTensorsDTypeInfo.TryParse(text, out var dtype))
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.DType, $"Tensor '{name}': unknown dtype '{text}'.", name);
        return dtype;
    }

    /// <summary>Reads the shape one integer at a time and stops at <see cref="SafeTensorsFile.MaxRank"/> + 1, so a
    /// hostile header cannot make us build a huge array.</summary>
    private static long[] ReadShape(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader, name);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Shape, $"Tensor '{name}': shape is a JSON {Describe(reader.TokenType)}, not a list of non-negative integers.", name);
        Span<long> dims = stackalloc long[8];
        long[]? rented = null;
        int rank = 0;
        try
        {
            while (true)
            {
                Next(ref reader, name);
                if (reader.TokenType == JsonTokenType.EndArray)
                    return dims[..rank].ToArray();
                if (rank == SafeTensorsFile.MaxRank)
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Shape, $"Tensor '{name}': shape has more than {SafeTensorsFile.MaxRank} dimensions.", name);
                if (!TryReadInteger(ref reader, out ulong dim))
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Shape, $"Tensor '{name}': shape is not a list of non-negative integers (element {rank} is {Token(ref reader)}).", name);
                if (dim > long.MaxValue)
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Shape, $"Tensor '{name}': dimension {rank} ({dim}) exceeds {long.MaxValue}.", name);
                if (rank == dims.Length)
                {
                    long[] bigger = ArrayPool<long>.Shared.Rent(dims.Length * 2);
                    dims.CopyTo(bigger);
                    if (rented is not null) ArrayPool<long>.Shared.Return(rented);
                    rented = bigger;
                    dims = bigger;
                }
                dims[rank++] = (long)dim;
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<long>.Shared.Return(rented);
        }
    }

    private static (ulong, ulong) ReadOffsets(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader, name);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.DataOffsets, $"Tensor '{name}': data_offsets is a JSON {Describe(reader.TokenType)}, not a list of two non-negative integers.", name);
        Span<ulong> pair = stackalloc ulong[2];
        for (int i = 0; ; i++)
        {
            Next(ref reader, name);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                if (i != 2)
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.DataOffsets, $"Tensor '{name}': data_offsets has {i} entries, expected 2.", name);
                return (pair[0], pair[1]);
            }
            if (i == 2)
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.DataOffsets, $"Tensor '{name}': data_offsets has more than 2 entries.", name);
            if (!TryReadInteger(ref reader, out pair[i]))
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.DataOffsets, $"Tensor '{name}': data_offsets is not a list of non-negative integers (element {i} is {Token(ref reader)}).", name);
        }
    }

    /// <summary>
    /// A JSON number written as plain digits that fits u64, which is what serde_json hands to a <c>usize</c>:
    /// a fraction or exponent (<c>2.0</c>, <c>2e0</c>), a minus sign (even <c>-0</c>) or more than 2^64 − 1 makes a float.
    /// </summary>
    private static bool TryReadInteger(ref Utf8JsonReader reader, out ulong value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number)
            return false;
        // Number tokens are never escaped and never span segments here (the reader runs over one contiguous span).
        foreach (byte b in reader.ValueSpan)
        {
            if (b is < (byte)'0' or > (byte)'9')
                return false;
        }
        return reader.TryGetUInt64(out value);
    }

    /// <summary>
    /// Skips the value at the reader, checking what serde_json checks while it parses a value it then ignores:
    /// numbers must be finite as 64-bit floats, and escapes in strings and keys must decode to Unicode scalars.
    /// </summary>
    private static void SkipChecked(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            CheckScalar(ref reader, name);
            return;
        }
        int depth = reader.CurrentDepth;
        while (true)
        {
            Next(ref reader, name);
            if (reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                return;
            CheckScalar(ref reader, name);
        }
    }

    private static void CheckScalar(ref Utf8JsonReader reader, string name)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (!reader.TryGetDouble(out double d) || !double.IsFinite(d))
                    throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json, $"Tensor '{name}': the number {Token(ref reader)} is out of the range of a 64-bit float.", name);
                break;
            case JsonTokenType.String:
            case JsonTokenType.PropertyName:
                CheckEscapes(ref reader, name);
                break;
        }
    }

    /// <summary>Checks that the escapes of the current string or key decode (no lone surrogate), without keeping the text.</summary>
    private static void CheckEscapes(ref Utf8JsonReader reader, string? name)
    {
        if (!reader.ValueIsEscaped)
            return; // raw text: already checked as UTF-8
        char[] buffer = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            reader.CopyString(buffer);
        }
        catch (InvalidOperationException e)
        {
            throw BadEscape(name, e);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>The string or key at the reader; an escape that is not a Unicode scalar (<c>"\ud800"</c>) is a format error.</summary>
    private static string GetString(ref Utf8JsonReader reader, string? name)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw BadEscape(name, e);
        }
    }

    private static SafeTensorsFormatException BadEscape(string? name, Exception e) =>
        new(SafeTensorsFormatRule.Json,
            (name is null ? "The header" : $"Tensor '{name}'") + " has a string whose \\u escapes are not a Unicode scalar value (an unpaired surrogate).",
            name, e);

    private static SafeTensorsFormatException DuplicateField(string name, string field) =>
        new(SafeTensorsFormatRule.DuplicateField, $"Tensor '{name}': field '{field}' appears more than once.", name);

    private static SafeTensorsFormatException MissingField(string name, string field) =>
        new(SafeTensorsFormatRule.MissingField, $"Tensor '{name}': missing \"{field}\".", name);

    private static void Next(ref Utf8JsonReader reader, string? tensor)
    {
        if (!reader.Read())
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Json,
                tensor is null ? "The header JSON ends early." : $"Tensor '{tensor}': the header JSON ends early.", tensor);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>A short description of the current token for messages (its text, cut at 40 bytes).</summary>
    private static string Token(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.Number or JsonTokenType.String))
            return "a JSON " + Describe(reader.TokenType);
        var span = reader.ValueSpan;
        string text = System.Text.Encoding.UTF8.GetString(span[..Math.Min(span.Length, 40)]);
        return reader.TokenType == JsonTokenType.String ? $"the string \"{text}\"" : text + (span.Length > 40 ? "…" : "");
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
