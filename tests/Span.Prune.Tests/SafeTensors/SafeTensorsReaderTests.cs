using System.Buffers.Binary;
using static Span.Prune.Tests.SafeTensors.SafeTensorsFixture;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

public class SafeTensorsReaderTests
{
    private static void AssertSmallFile(SafeTensorsFile f)
    {
        Assert.Equal(["w", "bf", "h", "d", "i"], f.Tensors.Select(t => t.Name));
        Assert.Equal([SafeTensorsDType.F32, SafeTensorsDType.BF16, SafeTensorsDType.F16, SafeTensorsDType.F64, SafeTensorsDType.I64], f.Tensors.Select(t => t.DType));
        Assert.Equal([2L, 3L], f.Tensors[0].Shape.ToArray());
        Assert.Empty(f.Tensors[4].Shape.ToArray());
        Assert.Equal([6L, 4L, 2L, 1L, 1L], f.Tensors.Select(t => t.ElementCount));
        Assert.Equal([0L, 24L, 32L, 36L, 44L], f.Tensors.Select(t => t.DataOffset));
        Assert.Equal([24L, 8L, 4L, 8L, 8L], f.Tensors.Select(t => t.ByteLength));
        Assert.Equal(Enumerable.Range(0, 5), f.Tensors.Select(t => t.Index));
        Assert.Equal([new("format", "pt"), new("b", "x")], f.Metadata);
        Assert.Equal(52, f.DataLength);

        Assert.Equal([1f, -2f, 3.5f, 0f, -0f, 1e-3f], f.GetFloat32("w").ToArray());
        Assert.Equal(f.GetFloat32(0).ToArray(), f.GetFloat32("w").ToArray());
        Assert.True(float.IsNegative(f.GetFloat32("w")[4]));
        Assert.Equal(Bytes(1f, -2f, 3.5f, 0f, -0f, 1e-3f), f.GetBytes("w").ToArray());
        Assert.Equal(-7L, BinaryPrimitives.ReadInt64LittleEndian(f.GetBytes(4)));

        // F32 through ReadAsFloat32 (positioned reads for a file on disk, a copy for an in-memory image): same bits,
        // −0 kept, nothing written past the tensor.
        var w32 = new float[7];
        w32[6] = float.NaN;
        f.ReadAsFloat32("w", w32);
        Assert.Equal(f.GetFloat32("w").ToArray().Select(BitConverter.SingleToInt32Bits), w32[..6].Select(BitConverter.SingleToInt32Bits));
        Assert.True(float.IsNaN(w32[6]));

        var bf = new float[5];
        bf[4] = float.NaN;
        f.ReadAsFloat32("bf", bf);
        Assert.Equal(new[] { 1f, -2f, 0f, -0f }, bf[..4]);
        Assert.True(float.IsNegative(bf[3]));
        Assert.True(float.IsNaN(bf[4])); // nothing past ElementCount written

        var h = new float[2];
        f.ReadAsFloat32(2, h);
        Assert.Equal([0.5f, -3f], h);

        var d = new float[1];
        f.ReadAsFloat32("d", d);
        Assert.Equal((float)0.1, d[0]);

        var w = new float[6];
        f.ReadAsFloat32("w", w);
        Assert.Equal(f.GetFloat32("w").ToArray(), w);

        Assert.True(f.TryGetTensor("h", out var info));
        Assert.Equal("h", info.Name);
        Assert.False(f.TryGetTensor("nope", out _));
        Assert.Throws<KeyNotFoundException>(() => f.GetBytes("nope").Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.GetBytes(5).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.GetBytes(-1).Length);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => f.GetFloat32("bf").Length).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentException>(() => f.GetFloat32(1).Length).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => f.ReadAsFloat32("i", new float[1])).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentException>(() => f.ReadAsFloat32(4, new float[1])).ParamName);
        var sentinel = TestData.NaNs(5);
        var e = Assert.Throws<ArgumentException>(() => f.ReadAsFloat32("w", sentinel));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("'w'", e.Message);
        Assert.All(sentinel, v => Assert.True(float.IsNaN(v)));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => f.ReadAsFloat32(0, new float[5])).ParamName);
    }

    [Fact]
    public void Parse_HandBuiltFile_ExposesTensorsInHeaderOrder()
    {
        using var f = SafeTensorsFile.Parse(SmallFile());
        Assert.Null(f.FullPath);
        AssertSmallFile(f);
    }

    [Fact]
    public void Open_HandBuiltFile_MapsAndReadsZeroCopy()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        File.WriteAllBytes(path, SmallFile());
        var f = SafeTensorsFile.Open(path);
        Assert.Equal(Path.GetFullPath(path), f.FullPath);
        AssertSmallFile(f);
        f.Dispose();
        f.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => f.GetBytes(0).Length);
    }

    [Fact]
    public void GetByteRange_WindowsMatchTheWholeTensor()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        File.WriteAllBytes(path, SmallFile());
        using var mapped = SafeTensorsFile.Open(path);
        using var parsed = SafeTensorsFile.Parse(SmallFile());
        foreach (var f in new[] { mapped, parsed })
        {
            for (int t = 0; t < f.Tensors.Count; t++)
            {
                byte[] whole = f.GetBytes(t).ToArray();
                for (int off = 0; off <= whole.Length; off++)
                {
                    for (int len = 0; off + len <= whole.Length; len++)
                        Assert.Equal(whole.AsSpan(off, len).ToArray(), f.GetByteRange(t, off, len).ToArray());
                }
                Assert.Equal("byteOffset", Assert.Throws<ArgumentOutOfRangeException>(() => f.GetByteRange(t, -1, 0).Length).ParamName);
                Assert.Equal("byteOffset", Assert.Throws<ArgumentOutOfRangeException>(() => f.GetByteRange(t, whole.Length + 1, 0).Length).ParamName);
                Assert.Equal("byteLength", Assert.Throws<ArgumentOutOfRangeException>(() => f.GetByteRange(t, 1, whole.Length).Length).ParamName);
                Assert.Equal("byteLength", Assert.Throws<ArgumentOutOfRangeException>(() => f.GetByteRange(t, 0, -1).Length).ParamName);
            }
            Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => f.GetByteRange(5, 0, 0).Length).ParamName);
        }
    }

    [Fact]
    public void EmptyHeaderObject_NoTensors()
    {
        using var f = SafeTensorsFile.Parse(Build("{}", [], padding: 6));
        Assert.Empty(f.Tensors);
        Assert.Empty(f.Metadata);
    }

    [Fact]
    public void ZeroElementTensors_MayShareOffsets()
    {
        // Zero-byte tensors sit where the offsets chain passes (here 0 and the end, 4); the reference refuses one
        // at an offset the chain never reaches (see the corpus case zero_size_tensor_past_end).
        const string h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"c\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[4,4]}}";
        using var f = SafeTensorsFile.Parse(Build(h, Bytes(5f)));
        Assert.Equal(0, f.GetFloat32("a").Length);
        Assert.Equal([5f], f.GetFloat32("b").ToArray());
        Assert.Equal(0, f.Tensors[2].ElementCount);
    }

    [Fact]
    public void Open_EmptyFile_IsFormatError()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.safetensors");
        File.WriteAllBytes(path, []);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("shorter than the 8-byte", e.Message);
    }

    [Fact]
    public void Open_BadFile_IsFormatErrorAndReleasesTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, Build("{\"w\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", Bytes(1f)));
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w", e.TensorName);
        // Not registered as open: a writer may replace it.
        new SafeTensorsWriter().WriteFile(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Empty(f.Tensors);
    }

    [Fact]
    public void Open_MissingFile_IsFileNotFound()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(dir.File("none.safetensors")));
    }

    [Fact]
    public void UnalignedF32Data_ReadsCorrectly()
    {
        // A 2-byte tensor first puts the F32 tensor at an odd-of-4 address.
        const string h = "{\"p\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]},\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[2,14]}}";
        using var f = SafeTensorsFile.Parse(Build(h, Concat([9, 0], Bytes(1.5f, -2.25f, 8f))));
        Assert.Equal([1.5f, -2.25f, 8f], f.GetFloat32("w").ToArray());
    }
}
