using System.Buffers.Binary;
using System.Text;
using static Span.Prune.Tests.SafeTensors.SafeTensorsFixture;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

/// <summary>
/// One rule at a time, with hand-built headers: each rejection carries its <see cref="SafeTensorsFormatRule"/> and
/// names the tensor. What the reference reader (huggingface/safetensors) does with the same bytes is stated per case;
/// the corpus (<see cref="SafeTensorsCorpusTests"/>) holds the cases whose verdicts were recorded by running it.
/// </summary>
public class SafeTensorsValidationTests
{
    private static SafeTensorsFormatException Fails(byte[] file, SafeTensorsFormatRule rule, string? tensor = null)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Parse(file));
        Assert.IsAssignableFrom<FormatException>(e);
        Assert.Equal(rule, e.Rule);
        Assert.Equal(tensor, e.TensorName);
        if (tensor is not null)
            Assert.Contains(tensor, e.Message);
        return e;
    }

    private static SafeTensorsFile Parses(byte[] file) => SafeTensorsFile.Parse(file);

    private static string T(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void ShorterThanPrefix(int length) =>
        Assert.Contains("shorter than the 8-byte", Fails(new byte[length], SafeTensorsFormatRule.FileTooShort).Message);

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        var file = Build("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 11);
        Assert.Contains("exceeds the 2 bytes", Fails(file, SafeTensorsFormatRule.HeaderLength).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Fails(file, SafeTensorsFormatRule.HeaderTooLarge);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_001);
        Fails(file, SafeTensorsFormatRule.HeaderTooLarge);
    }

    /// <summary>The reference refuses N &gt; 100,000,000 and accepts N = 100,000,000 (a valid header padded with spaces).</summary>
    [Fact]
    public void HeaderOfExactly100MB_IsAccepted()
    {
        var file = new byte[8 + 100_000_000];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_000);
        file.AsSpan(8).Fill((byte)' ');
        file[8] = (byte)'{';
        file[9] = (byte)'}';
        using (var f = Parses(file))
            Assert.Empty(f.Tensors);
    }

    /// <summary>
    /// Issue 11: a length a few bytes short used to parse (the JSON still ended inside the padding) and every tensor was
    /// read from the wrong place. The data buffer then has bytes no tensor covers, which the reference refuses.
    /// </summary>
    [Fact]
    public void HeaderLengthShortByPadding_IsIncompleteBuffer()
    {
        var file = Build("{" + T("w", "F32", "[2]", "[0,8]") + "}", Bytes(1f, 2f), padding: 4);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using (Parses(file)) { }
        for (int shortBy = 1; shortBy <= 4; shortBy++)
        {
            var shifted = file[8..];
            shifted = [.. BitConverter.GetBytes((ulong)(n - shortBy)), .. shifted];
            Fails(shifted, SafeTensorsFormatRule.IncompleteBuffer);
        }
    }

    [Fact]
    public void InvalidUtf8() =>
        Fails(BuildRaw([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []), SafeTensorsFormatRule.Utf8);

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("{} x")]
    [InlineData("{}{}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}")]
    [InlineData("{/*c*/}")]
    [InlineData("{}\0")]
    [InlineData("\uFEFF{}")]
    public void InvalidJson(string header) => Fails(Build(header, []), SafeTensorsFormatRule.Json);

    /// <summary>The reference has no "first byte is '{'" check: serde_json skips JSON whitespace on both sides.</summary>
    [Theory]
    [InlineData(" {}")]
    [InlineData("\r\n\t {}\r\n\t ")]
    public void WhitespaceAroundTheObject_IsAccepted(string header)
    {
        using var f = Parses(Build(header, []));
        Assert.Empty(f.Tensors);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("\"x\"")]
    [InlineData("null")]
    public void NotAnObject(string header) => Fails(Build(header, []), SafeTensorsFormatRule.NotAnObject);

    [Fact]
    public void UnknownDtype()
    {
        var e = Fails(Build("{" + T("layer.0.weight", "F33", "[1]", "[0,4]") + "}", new byte[4]), SafeTensorsFormatRule.DType, "layer.0.weight");
        Assert.Contains("unknown dtype 'F33'", e.Message);
        // dtype spelling is case-sensitive
        Fails(Build("{" + T("w", "f32", "[1]", "[0,4]") + "}", new byte[4]), SafeTensorsFormatRule.DType, "w");
    }

    [Theory]
    [InlineData("[-1]", SafeTensorsFormatRule.Shape)]
    [InlineData("[-0]", SafeTensorsFormatRule.Shape)]
    [InlineData("[1.5]", SafeTensorsFormatRule.Shape)]
    [InlineData("[1.0]", SafeTensorsFormatRule.Shape)]
    [InlineData("[\"2\"]", SafeTensorsFormatRule.Shape)]
    [InlineData("[null]", SafeTensorsFormatRule.Shape)]
    [InlineData("[[1]]", SafeTensorsFormatRule.Shape)]
    [InlineData("[1e3]", SafeTensorsFormatRule.Shape)]
    [InlineData("[99999999999999999999]", SafeTensorsFormatRule.Shape)]
    [InlineData("2", SafeTensorsFormatRule.Shape)]
    [InlineData("{}", SafeTensorsFormatRule.Shape)]
    [InlineData("[4294967296,4294967296]", SafeTensorsFormatRule.Overflow)]
    [InlineData("[3037000500,3037000500]", SafeTensorsFormatRule.Overflow)] // 9.2e18 elements fit u64; × 32 bits do not
    [InlineData("[1152921504606846976,4]", SafeTensorsFormatRule.Overflow)]
    public void BadShape(string shape, SafeTensorsFormatRule rule)
    {
        Fails(Build("{" + T("enc.w", "F32", shape, "[0,4]") + "}", new byte[4]), rule, "enc.w");
    }

    [Theory]
    [InlineData("[0]")]
    [InlineData("[0,4,8]")]
    [InlineData("[]")]
    [InlineData("[-4,0]")]
    [InlineData("[0.0,4]")]
    [InlineData("\"0,4\"")]
    public void BadDataOffsets(string offsets) =>
        Fails(Build("{" + T("dec.b", "F32", "[1]", offsets) + "}", new byte[4]), SafeTensorsFormatRule.DataOffsets, "dec.b");

    [Theory]
    [InlineData("[4,0]", 4, SafeTensorsFormatRule.Offset)]        // end before begin
    [InlineData("[4,8]", 8, SafeTensorsFormatRule.Offset)]        // first tensor not at 0 (a gap before it)
    [InlineData("[0,4]", 8, SafeTensorsFormatRule.IncompleteBuffer)] // 4 trailing bytes
    [InlineData("[0,8]", 8, SafeTensorsFormatRule.ByteLength)]   // 8 bytes for one F32
    [InlineData("[0,2]", 2, SafeTensorsFormatRule.ByteLength)]
    [InlineData("[0,4]", 2, SafeTensorsFormatRule.IncompleteBuffer)] // data shorter than the tensor
    public void BadRange(string offsets, int dataLength, SafeTensorsFormatRule rule)
    {
        string? tensor = rule == SafeTensorsFormatRule.IncompleteBuffer ? null : "dec.b";
        Fails(Build("{" + T("dec.b", "F32", "[1]", offsets) + "}", new byte[dataLength]), rule, tensor);
    }

    [Fact]
    public void ByteLengthMismatchNamesShapeAndDtype()
    {
        var e = Fails(Build("{" + T("x", "BF16", "[2,3]", "[0,10]") + "}", new byte[10]), SafeTensorsFormatRule.ByteLength, "x");
        Assert.Contains("[2, 3] of BF16 needs 12", e.Message);
    }

    /// <summary>Issue 11: gaps, a first offset above 0 and overlaps were accepted; the reference requires the sorted
    /// ranges to tile the data buffer.</summary>
    [Fact]
    public void RangesMustTileTheDataBuffer()
    {
        // overlap: c [4,12) starts inside a [0,8)
        string h = "{" + T("a", "F32", "[2]", "[0,8]") + "," + T("b", "F32", "[2]", "[12,20]") + "," + T("c", "F32", "[2]", "[4,12]") + "}";
        Assert.Contains("overlaps", Fails(Build(h, new byte[20]), SafeTensorsFormatRule.Offset, "c").Message);

        // identical ranges: the later one in header order is named
        h = "{" + T("a", "F32", "[1]", "[0,4]") + "," + T("b", "F32", "[1]", "[0,4]") + "}";
        Fails(Build(h, new byte[4]), SafeTensorsFormatRule.Offset, "b");

        // a gap between two tensors
        h = "{" + T("a", "F32", "[1]", "[0,4]") + "," + T("b", "F32", "[1]", "[8,12]") + "}";
        Assert.Contains("gap", Fails(Build(h, new byte[12]), SafeTensorsFormatRule.Offset, "b").Message);

        // the first tensor by offset does not begin at 0
        h = "{" + T("a", "F32", "[1]", "[8,12]") + "," + T("b", "F32", "[1]", "[4,8]") + "}";
        Fails(Build(h, new byte[12]), SafeTensorsFormatRule.Offset, "b");

        // tiling in any header order is fine
        h = "{" + T("a", "F32", "[1]", "[4,8]") + "," + T("b", "F32", "[1]", "[0,4]") + "}";
        using var f = Parses(Build(h, Bytes(1f, 2f)));
        Assert.Equal(["a", "b"], f.Tensors.Select(t => t.Name));
        Assert.Equal([2f], f.GetFloat32("a").ToArray());
        Assert.Equal([1f], f.GetFloat32("b").ToArray());
    }

    /// <summary>The reference reads the tensors into a map, so a repeated name keeps its last entry; the earlier
    /// entry's range is then covered by nothing, which the tiling rule refuses unless the entries coincide.</summary>
    [Fact]
    public void DuplicateNames_LastEntryWins()
    {
        string h = "{" + T("dup", "I8", "[4]", "[0,4]") + "," + T("other", "I8", "[0]", "[0,0]") + "," + T("dup", "F32", "[1]", "[0,4]") + "}";
        using (var f = Parses(Build(h, Bytes(3f))))
        {
            Assert.Equal(["other", "dup"], f.Tensors.Select(t => t.Name));
            Assert.Equal(SafeTensorsDType.F32, f.GetTensor("dup").DType);
            Assert.Equal(1, f.GetTensor("dup").Index);
            Assert.Equal([3f], f.GetFloat32("dup").ToArray());
        }
        h = "{" + T("dup", "F32", "[1]", "[0,4]") + "," + T("dup", "F32", "[1]", "[4,8]") + "}";
        Fails(Build(h, new byte[8]), SafeTensorsFormatRule.Offset, "dup");
    }

    [Theory]
    [InlineData("{\"k\":1}")]
    [InlineData("{\"k\":null}")]
    [InlineData("{\"k\":{}}")]
    [InlineData("{\"k\":[\"v\"]}")]
    [InlineData("[]")]
    [InlineData("\"x\"")]
    [InlineData("1")]
    public void BadMetadata(string metadata) =>
        Fails(Build("{\"__metadata__\":" + metadata + "}", []), SafeTensorsFormatRule.Metadata, "__metadata__");

    /// <summary>serde reads <c>__metadata__</c> as <c>Option&lt;HashMap&lt;String, String&gt;&gt;</c>: null is none,
    /// and a repeated key keeps its last value.</summary>
    [Fact]
    public void Metadata_NullAndRepeatedKeys_AreAccepted()
    {
        using (var f = Parses(Build("{\"__metadata__\":null}", [])))
            Assert.Empty(f.Metadata);
        using (var f = Parses(Build("{\"__metadata__\":{\"k\":\"a\",\"j\":\"x\",\"k\":\"b\"}}", [])))
            Assert.Equal([new("j", "x"), new KeyValuePair<string, string>("k", "b")], f.Metadata);
    }

    [Fact]
    public void MetadataTwice()
    {
        Assert.Contains("more than one", Fails(Build("{\"__metadata__\":{},\"__metadata__\":{}}", []), SafeTensorsFormatRule.Metadata, "__metadata__").Message);
        Fails(Build("{\"__metadata__\":null,\"__metadata\\u005f_\":{}}", []), SafeTensorsFormatRule.Metadata, "__metadata__");
    }

    [Theory]
    [InlineData("{\"t\":1}", SafeTensorsFormatRule.NotAnObject)]
    [InlineData("{\"t\":[\"F32\",[1],[0,4]]}", SafeTensorsFormatRule.NotAnObject)] // serde would take the array form; see the corpus
    [InlineData("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", SafeTensorsFormatRule.MissingField)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", SafeTensorsFormatRule.MissingField)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", SafeTensorsFormatRule.MissingField)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", SafeTensorsFormatRule.DuplicateField)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"shape\":[1]}}", SafeTensorsFormatRule.DuplicateField)]
    [InlineData("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", SafeTensorsFormatRule.DType)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1e400}}", SafeTensorsFormatRule.Json)]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":{\"y\":[\"\\udc00\"]}}}", SafeTensorsFormatRule.Json)]
    public void BadTensorEntry(string header, SafeTensorsFormatRule rule) => Fails(Build(header, new byte[4]), rule, "t");

    /// <summary>serde ignores fields it does not know (no deny_unknown_fields on TensorInfo).</summary>
    [Fact]
    public void UnknownEntryFields_AreIgnored()
    {
        string h = "{\"t\":{\"x\":{\"deep\":[1,2.5,-3e10,null,true,\"s\\u00e9\"]},\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"note\":\"\"}}";
        using var f = Parses(Build(h, Bytes(7f)));
        Assert.Equal([7f], f.GetFloat32("t").ToArray());
    }

    /// <summary>Nesting: serde_json refuses the 128th level (the root object is the first).</summary>
    [Fact]
    public void Nesting_127LevelsAccepted_128Refused()
    {
        static byte[] Nested(int levels) => Build("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":"
            + new string('[', levels - 2) + new string(']', levels - 2) + "}}", new byte[4]);
        using (Parses(Nested(127))) { }
        Fails(Nested(128), SafeTensorsFormatRule.Json);
    }

    /// <summary>Issue 11.5: "\ud800" used to escape as InvalidOperationException from the JSON reader.</summary>
    [Theory]
    [InlineData("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", null)]
    [InlineData("{\"a\\udc00b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", null)]
    [InlineData("{\"__metadata__\":{\"k\":\"\\ud800\"}}", "__metadata__")]
    [InlineData("{\"__metadata__\":{\"\\ud800\":\"v\"}}", "__metadata__")]
    [InlineData("{\"t\":{\"dtype\":\"F\\ud800\",\"shape\":[1],\"data_offsets\":[0,4]}}", "t")]
    public void LoneSurrogateEscape_IsFormatError(string header, string? tensor)
    {
        var e = Fails(Build(header, new byte[header.Contains("__metadata__") ? 0 : 4]), SafeTensorsFormatRule.Json, tensor);
        Assert.Contains("surrogate", e.Message);
    }

    [Fact]
    public void EmptyTensorName_IsAccepted()
    {
        using var f = Parses(Build("{" + T("", "F32", "[1]", "[0,4]") + "}", Bytes(4f)));
        Assert.Equal([4f], f.GetFloat32("").ToArray());
    }

    [Fact]
    public void ValidHeaderWithTrailingSpacesAndNewlines()
    {
        using var f = Parses(Build("{" + T("t", "F32", "[1]", "[0,4]") + "}\n  ", Bytes(2f), padding: 3));
        Assert.Equal([2f], f.GetFloat32(0).ToArray());
    }

    [Fact]
    public void NonAsciiNamesAndEscapes()
    {
        string h = "{\"\\u00e9t\\u00e9\\n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"日本\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"\\ud83d\\ude00\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[8,8]}}";
        using var f = Parses(Build(h, Bytes(1f, 2f)));
        Assert.Equal(["été\n", "日本", "\U0001F600"], f.Tensors.Select(t => t.Name));
        Assert.Equal(Encoding.UTF8.GetByteCount(h), (int)BinaryPrimitives.ReadUInt64LittleEndian(Build(h, [])));
    }

    /// <summary>Issue 11.2: the rank limit applies while the shape is read, so a header of millions of dimensions is
    /// refused without building them (the reference has no rank limit; ours is <see cref="SafeTensorsFile.MaxRank"/>).</summary>
    [Fact]
    public void Shape_RankLimit_RefusesBeforeBuilding()
    {
        string ones = string.Join(",", Enumerable.Repeat("1", SafeTensorsFile.MaxRank));
        using (var f = Parses(Build("{" + T("t", "I8", "[" + ones + "]", "[0,1]") + "}", new byte[1])))
            Assert.Equal(SafeTensorsFile.MaxRank, f.Tensors[0].Shape.Length);
        Fails(Build("{" + T("t", "I8", "[" + ones + ",1]", "[0,1]") + "}", new byte[1]), SafeTensorsFormatRule.Shape, "t");

        // 5 million dimensions (10 MB of header): refused having allocated far less than the 40 MB such a shape needs.
        var sb = new StringBuilder("{\"t\":{\"dtype\":\"I8\",\"data_offsets\":[0,1],\"shape\":[1");
        sb.Insert(sb.Length, ",1", 5_000_000).Append("]}}");
        byte[] file = Build(sb.ToString(), new byte[1]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Parse(file));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }

    /// <summary>Issue 11.2: unknown values are skipped, not built: a 10 MB unknown array costs no allocation of its size.</summary>
    [Fact]
    public void UnknownValues_AreSkippedWithoutBuildingThem()
    {
        var sb = new StringBuilder("{\"t\":{\"x\":[0");
        sb.Insert(sb.Length, ",0", 5_000_000).Append("],\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}");
        byte[] file = Build(sb.ToString(), new byte[1]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var f = SafeTensorsFile.Parse(file))
            Assert.Single(f.Tensors);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 1 << 20);
    }
}
