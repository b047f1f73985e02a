using System.Buffers.Binary;
using System.Text;
using static Span.Prune.Tests.SafeTensors.SafeTensorsFixture;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

public class SafeTensorsValidationTests
{
    private static SafeTensorsFormatException Fails(byte[] file)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Parse(file));
        Assert.IsAssignableFrom<FormatException>(e);
        return e;
    }

    private static string T(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void ShorterThanPrefix(int length)
    {
        var e = Fails(new byte[length]);
        Assert.Contains("shorter than the 8-byte", e.Message);
        Assert.Null(e.TensorName);
    }

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        var file = Build("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 3);
        Fails(file); // "{}" truncated to 3 bytes would be invalid anyway; now make it too long:
        BinaryPrimitives.WriteUInt64LittleEndian(file, 11);
        Assert.Contains("exceeds the 2 bytes", Fails(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Assert.Contains("exceeds the limit", Fails(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_001);
        Assert.Contains("exceeds the limit", Fails(file).Message);
    }

    [Fact]
    public void InvalidUtf8()
    {
        var e = Fails(BuildRaw([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []));
        Assert.Contains("UTF-8", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"a\":}")]
    [InlineData("{} x")]
    [InlineData("{}{}")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],}}")]
    [InlineData("{/*c*/}")]
    public void InvalidJson(string header)
    {
        var e = Fails(Build(header, new byte[4]));
        Assert.Contains("JSON", e.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("\"x\"")]
    [InlineData("null")]
    public void NotAnObject(string header) => Assert.Contains("not a JSON object", Fails(Build(header, [])).Message);

    [Fact]
    public void UnknownDtype()
    {
        var e = Fails(Build("{" + T("layer.0.weight", "F33", "[1]", "[0,4]") + "}", new byte[4]));
        Assert.Equal("layer.0.weight", e.TensorName);
        Assert.Contains("layer.0.weight", e.Message);
        Assert.Contains("unknown dtype 'F33'", e.Message);
        // dtype spelling is case-sensitive
        Assert.Contains("unknown dtype", Fails(Build("{" + T("w", "f32", "[1]", "[0,4]") + "}", new byte[4])).Message);
    }

    [Theory]
    [InlineData("[-1]", "non-negative integers")]
    [InlineData("[1.5]", "non-negative integers")]
    [InlineData("[\"2\"]", "non-negative integers")]
    [InlineData("[null]", "non-negative integers")]
    [InlineData("[[1]]", "non-negative integers")]
    [InlineData("[1e3]", "non-negative integers")]
    [InlineData("[99999999999999999999]", "non-negative integers")]
    [InlineData("2", "not a list")]
    [InlineData("{}", "not a list")]
    [InlineData("[4294967296,4294967296]", "overflows 64 bits")]
    [InlineData("[3037000500,3037000500]", "overflows 64 bits")]
    [InlineData("[1152921504606846976,4]", "byte length")]
    public void BadShape(string shape, string fragment)
    {
        var e = Fails(Build("{" + T("enc.w", "F32", shape, "[0,4]") + "}", new byte[4]));
        Assert.Equal("enc.w", e.TensorName);
        Assert.Contains("enc.w", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Theory]
    [InlineData("[0]", "has 1 entries, expected 2")]
    [InlineData("[0,4,8]", "has 3 entries, expected 2")]
    [InlineData("[]", "has 0 entries, expected 2")]
    [InlineData("[-4,0]", "non-negative integers")]
    [InlineData("[0.0,4]", "non-negative integers")]
    [InlineData("\"0,4\"", "not a list")]
    [InlineData("[8,4]", "begin > end")]
    [InlineData("[4,12]", "run past the end")]
    [InlineData("[0,8]", "span 8 bytes")]
    [InlineData("[0,2]", "span 2 bytes")]
    public void BadDataOffsets(string offsets, string fragment)
    {
        var e = Fails(Build("{" + T("dec.b", "F32", "[1]", offsets) + "}", new byte[8]));
        Assert.Equal("dec.b", e.TensorName);
        Assert.Contains("dec.b", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void ByteLengthMismatchNamesShapeAndDtype()
    {
        var e = Fails(Build("{" + T("x", "BF16", "[2,3]", "[0,10]") + "}", new byte[12]));
        Assert.Contains("Tensor 'x'", e.Message);
        Assert.Contains("[2, 3] of BF16 needs 12", e.Message);
    }

    [Fact]
    public void OverlappingRanges()
    {
        string h = "{" + T("a", "F32", "[2]", "[0,8]") + "," + T("b", "F32", "[2]", "[12,20]") + "," + T("c", "F32", "[2]", "[4,12]") + "}";
        var e = Fails(Build(h, new byte[20]));
        Assert.Contains("overlaps", e.Message);
        Assert.Contains("'c'", e.Message);
        Assert.Contains("'a'", e.Message);

        // identical ranges overlap too
        h = "{" + T("a", "F32", "[1]", "[0,4]") + "," + T("b", "F32", "[1]", "[0,4]") + "}";
        Assert.Equal("b", Fails(Build(h, new byte[4])).TensorName);

        // touching ranges and gaps are fine
        h = "{" + T("a", "F32", "[1]", "[8,12]") + "," + T("b", "F32", "[1]", "[4,8]") + "}";
        using var f = SafeTensorsFile.Parse(Build(h, new byte[12]));
        Assert.Equal(2, f.Tensors.Count);
    }

    [Fact]
    public void DuplicateNames()
    {
        string h = "{" + T("dup", "F32", "[1]", "[0,4]") + "," + T("dup", "F32", "[1]", "[4,8]") + "}";
        var e = Fails(Build(h, new byte[8]));
        Assert.Equal("dup", e.TensorName);
        Assert.Contains("more than once", e.Message);
    }

    [Theory]
    [InlineData("{\"k\":1}", "'k' is a Number")]
    [InlineData("{\"k\":null}", "'k' is a Null")]
    [InlineData("{\"k\":{}}", "'k' is a StartObject")]
    [InlineData("{\"k\":[\"v\"]}", "'k' is a StartArray")]
    [InlineData("{\"k\":\"a\",\"k\":\"b\"}", "key 'k' more than once")]
    [InlineData("[]", "must be an object")]
    [InlineData("\"x\"", "must be an object")]
    public void BadMetadata(string metadata, string fragment)
    {
        var e = Fails(Build("{\"__metadata__\":" + metadata + "}", []));
        Assert.Equal("__metadata__", e.TensorName);
        Assert.Contains("__metadata__", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void MetadataTwice() =>
        Assert.Contains("more than one", Fails(Build("{\"__metadata__\":{},\"__metadata__\":{}}", [])).Message);

    [Theory]
    [InlineData("{\"t\":1}", "not an object")]
    [InlineData("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "missing \"dtype\"")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "missing \"shape\"")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", "missing \"data_offsets\"")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":0}}", "unknown field 'extra'")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "'dtype' appears more than once")]
    [InlineData("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "dtype is not a string")]
    public void BadTensorEntry(string header, string fragment)
    {
        var e = Fails(Build(header, new byte[4]));
        Assert.Equal("t", e.TensorName);
        Assert.Contains("'t'", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void ValidHeaderWithTrailingSpacesAndNewlines()
    {
        using var f = SafeTensorsFile.Parse(Build("{" + T("t", "F32", "[1]", "[0,4]") + "}\n  ", Bytes(2f), padding: 3));
        Assert.Equal([2f], f.GetFloat32(0).ToArray());
    }

    [Fact]
    public void NonAsciiNamesAndEscapes()
    {
        string h = "{\"\\u00e9t\\u00e9\\n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"日本\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        using var f = SafeTensorsFile.Parse(Build(h, Bytes(1f, 2f)));
        Assert.Equal(["été\n", "日本"], f.Tensors.Select(t => t.Name));
        Assert.Equal(Encoding.UTF8.GetByteCount(h), (int)BinaryPrimitives.ReadUInt64LittleEndian(Build(h, [])));
    }
}
