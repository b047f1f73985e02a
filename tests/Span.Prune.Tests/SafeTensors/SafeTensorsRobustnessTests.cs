using System.Buffers.Binary;
using static Span.Prune.Tests.SafeTensors.SafeTensorsFixture;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

/// <summary>
/// Issue 11.5 and 11.6: files that change under the reader, tensors over 2 GiB, values that do not fit float32, and the
/// round trip through the writer.
/// </summary>
public class SafeTensorsRobustnessTests
{
    private static byte[] ThreeTensors() => new SafeTensorsWriter()
        .Add("f32", SafeTensorsDType.F32, [64, 64], Bytes(Enumerable.Range(0, 4096).Select(i => (float)i).ToArray()))
        .Add("f16", SafeTensorsDType.F16, [4096], Bytes(Enumerable.Range(0, 4096).Select(i => BitConverter.HalfToUInt16Bits((Half)(i % 100))).ToArray()))
        .Add("f64", SafeTensorsDType.F64, [4096], Bytes(Enumerable.Range(0, 4096).Select(i => (double)i).ToArray()))
        .ToArray();

    /// <summary>
    /// A file truncated after it was opened: every read of the lost bytes reports a short read as a format error. With
    /// the old memory mapping the F16 / F64 conversions touched pages past the end of the file and the process died
    /// of SIGBUS; F32 surfaced as a plain IOException.
    /// </summary>
    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("f64")]
    public void TruncatedWhileOpen_IsFormatError(string tensor)
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        byte[] image = ThreeTensors();
        File.WriteAllBytes(path, image);
        using var f = SafeTensorsFile.Open(path);
        var info = f.GetTensor(tensor);
        using (var shrink = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            shrink.SetLength(image.Length - f.DataLength); // keep the prefix and header, lose all data

        var dst = new float[info.ElementCount];
        void Check(Action read)
        {
            var e = Assert.Throws<SafeTensorsFormatException>(read);
            Assert.Equal(SafeTensorsFormatRule.Truncated, e.Rule);
            Assert.Equal(tensor, e.TensorName);
        }
        Check(() => f.ReadAsFloat32(info.Index, dst));
        Check(() => f.GetBytes(info.Index));
        Check(() => f.GetByteRange(info.Index, 8, 8));
        Check(() => f.ReadByteRange(info.Index, 0, new byte[16]));
        if (tensor == "f32")
            Check(() => f.GetFloat32(info.Index));
    }

    /// <summary>A file that shrinks between the length query and the header read is a truncation, not a crash.</summary>
    [Fact]
    public void TruncatedBeforeOpen_IsFormatError()
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        byte[] image = ThreeTensors();
        File.WriteAllBytes(path, image[..20]);
        Assert.Equal(SafeTensorsFormatRule.HeaderLength, Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path)).Rule);
        File.WriteAllBytes(path, image[..5]);
        Assert.Equal(SafeTensorsFormatRule.FileTooShort, Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsFile.Open(path)).Rule);
    }

    /// <summary>
    /// Open validates the header on the handle it later reads from: replacing the path afterwards does not change
    /// what the open file reads.
    /// </summary>
    [Fact]
    public void Open_ReadsThroughOneHandle()
    {
        using var dir = new TempDir();
        string path = dir.File("t.safetensors");
        File.WriteAllBytes(path, ThreeTensors());
        using var f = SafeTensorsFile.Open(path);
        string other = dir.File("other.safetensors");
        File.WriteAllBytes(other, new SafeTensorsWriter().Add("x", SafeTensorsDType.I8, [3], new byte[] { 1, 2, 3 }).ToArray());
        File.Move(other, path, overwrite: true);
        var values = new float[4096];
        f.ReadAsFloat32("f32", values);
        Assert.Equal(Enumerable.Range(0, 4096).Select(i => (float)i), values);
    }

    /// <summary>
    /// Issue 11.6: F64 values beyond the float32 range used to become ±∞ silently. They are refused, naming the tensor
    /// and the element; NaN, ±∞ and values that round to float.MaxValue still convert.
    /// </summary>
    [Fact]
    public void F64_BeyondFloatRange_IsRefused()
    {
        // Half a float ulp above float.MaxValue is 2^103: a tie, which rounds to even, i.e. to ∞ (refused); a quarter
        // ulp above rounds down to float.MaxValue (accepted).
        double justBelow = float.MaxValue + Math.Pow(2, 102);
        double[] fine = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -justBelow, float.Epsilon / 4];
        byte[] image = new SafeTensorsWriter()
            .Add("ok", SafeTensorsDType.F64, [fine.Length], Bytes(fine))
            .Add("big", SafeTensorsDType.F64, [3], Bytes(1.0, 3.5e38, 2.0))
            .Add("neg", SafeTensorsDType.F64, [2], Bytes(-(float.MaxValue + Math.Pow(2, 103)), 0.0))
            .ToArray();
        using var dir = new TempDir();
        string path = dir.File("f64.safetensors");
        File.WriteAllBytes(path, image);
        foreach (var f in new[] { SafeTensorsFile.Parse(image), SafeTensorsFile.Open(path) })
        {
            using (f)
            {
                var ok = new float[fine.Length];
                f.ReadAsFloat32("ok", ok);
                Assert.Equal(fine.Select(d => (float)d), ok);
                Assert.Equal(-float.MaxValue, ok[3]);

                var e = Assert.Throws<SafeTensorsConversionException>(() => f.ReadAsFloat32("big", new float[3]));
                Assert.Equal("big", e.TensorName);
                Assert.Equal(1, e.ElementIndex);
                Assert.Equal(3.5e38, e.Value);
                Assert.Contains("'big'", e.Message);
                e = Assert.Throws<SafeTensorsConversionException>(() => f.ReadAsFloat32("neg", new float[2]));
                Assert.Equal(0, e.ElementIndex);
                // The exact bytes stay readable.
                Assert.Equal(3.5e38, BinaryPrimitives.ReadDoubleLittleEndian(f.GetBytes("big")[8..]));
            }
        }
        var span = Assert.Throws<SafeTensorsConversionException>(() => SafeTensorsDTypeInfo.ToFloat32(Bytes(0.0, 0.0, -1e39), SafeTensorsDType.F64, new float[3]));
        Assert.Null(span.TensorName);
        Assert.Equal(2, span.ElementIndex);
    }

    /// <summary>The refusal is found in any chunk of a large tensor, with the index counted from the tensor's start.</summary>
    [Fact]
    public void F64_OutOfRange_DeepInALargeTensor_NamesTheElement()
    {
        var values = new double[300_000];
        values[^2] = 1e39;
        using var dir = new TempDir();
        string path = dir.File("f64.safetensors");
        File.WriteAllBytes(path, new SafeTensorsWriter().Add("w", SafeTensorsDType.F64, [values.Length], Bytes(values)).ToArray());
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<SafeTensorsConversionException>(() => f.ReadAsFloat32(0, new float[values.Length]));
        Assert.Equal(values.Length - 2, e.ElementIndex);
    }

    /// <summary>Chunked conversion from disk equals the in-memory conversion, across chunk boundaries.</summary>
    [Theory]
    [InlineData(SafeTensorsDType.F16, 1_000_003)]
    [InlineData(SafeTensorsDType.BF16, 524_289)]
    [InlineData(SafeTensorsDType.F64, 131_073)]
    [InlineData(SafeTensorsDType.F32, 262_145)]
    public void ReadAsFloat32_FromDisk_EqualsInMemory(SafeTensorsDType dtype, int count)
    {
        var rng = new Random(count);
        var floats = new float[count];
        for (int i = 0; i < count; i++) floats[i] = (float)(rng.NextDouble() * 200 - 100);
        var bytes = new byte[(long)count * SafeTensorsDTypeInfo.SizeOf(dtype)];
        SafeTensorsDTypeInfo.FromFloat32(floats, dtype, bytes);
        byte[] image = new SafeTensorsWriter().Add("x", SafeTensorsDType.I8, [3], new byte[3]).Add("w", dtype, [count], bytes).ToArray();
        using var dir = new TempDir();
        string path = dir.File("w.safetensors");
        File.WriteAllBytes(path, image);
        var expected = new float[count];
        SafeTensorsDTypeInfo.ToFloat32(bytes, dtype, expected);
        var actual = new float[count + 1];
        actual.AsSpan().Fill(float.NaN);
        using var f = SafeTensorsFile.Open(path);
        f.ReadAsFloat32("w", actual);
        Assert.Equal(expected, actual[..count]);
        Assert.True(float.IsNaN(actual[count])); // only the prefix is written
    }

    /// <summary>
    /// Issue 11.5: an F32 tensor over 2 GiB made ReadAsFloat32 throw NotSupportedException. It now reads in pieces.
    /// The file is sparse (zeros cost no disk), with known values written at both ends and across the 2 GiB mark.
    /// </summary>
    [Fact]
    public void ReadAsFloat32_F32Over2GiB()
    {
        const long count = (1L << 29) + 3; // 2 GiB + 12 bytes
        using var dir = new TempDir();
        string path = dir.File("big.safetensors");
        byte[] header = new SafeTensorsWriter().Add("big", SafeTensorsDType.F32, [count], _ => { }).HeaderBytesForTest();
        using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            fs.Write(header);
            fs.SetLength(header.Length + count * 4);
            void Put(long index, float value)
            {
                fs.Position = header.Length + index * 4;
                fs.Write(Bytes(value));
            }
            Put(0, 1f);
            Put((1L << 29) - 1, 2f);
            Put(1L << 29, 3f);
            Put(count - 1, 4f);
        }
        float[] values = GC.AllocateUninitializedArray<float>((int)count);
        values.AsSpan().Fill(float.NaN);
        using (var f = SafeTensorsFile.Open(path))
        {
            Assert.True(f.Tensors[0].ByteLength > int.MaxValue);
            f.ReadAsFloat32(0, values);
            Assert.Throws<NotSupportedException>(() => f.GetBytes(0)); // one span cannot hold it; the message says what to use
        }
        Assert.Equal(1f, values[0]);
        Assert.Equal(2f, values[(1 << 29) - 1]);
        Assert.Equal(3f, values[1 << 29]);
        Assert.Equal(4f, values[^1]);
        Assert.Equal(0f, values[12345678]);
        Assert.Equal(-1, Array.FindIndex(values, float.IsNaN));
    }

    /// <summary>A tensor of more elements than a span holds cannot be converted into one: a clear ArgumentException.</summary>
    [Fact]
    public void ReadAsFloat32_MoreElementsThanASpan_IsArgumentException()
    {
        string h = "{\"big\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[0,0]},\"huge\":{\"dtype\":\"F16\",\"shape\":[0,4294967296],\"data_offsets\":[0,0]}}";
        using var f = SafeTensorsFile.Parse(Build(h, []));
        Assert.Equal(0, f.GetTensor("huge").ElementCount); // zero elements: fine
        var e = Assert.Throws<ArgumentException>(() => f.ReadAsFloat32("big", new float[1]));
        Assert.Contains("only F16, BF16, F32 and F64", e.Message);
    }

    /// <summary>Valid dtypes the library cannot convert parse, report their dtype and are readable as bytes; converting is refused clearly.</summary>
    [Fact]
    public void UnconvertibleDtypes_ParseAndReadAsBytes()
    {
        var w = new SafeTensorsWriter();
        foreach (var dt in Enum.GetValues<SafeTensorsDType>())
            w.Add(SafeTensorsDTypeInfo.GetName(dt), dt, [2, 4], new byte[SafeTensorsDTypeInfo.BitSizeOf(dt)]);
        using var f = SafeTensorsFile.Parse(w.ToArray());
        foreach (var t in f.Tensors)
        {
            Assert.Equal(SafeTensorsDTypeInfo.GetName(t.DType), t.Name);
            Assert.Equal(SafeTensorsDTypeInfo.BitSizeOf(t.DType), f.GetBytes(t.Index).Length); // 8 elements × bits / 8
            if (!SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType))
            {
                var e = Assert.Throws<ArgumentException>(() => f.ReadAsFloat32(t.Index, new float[8]));
                Assert.Contains(t.Name, e.Message);
                Assert.Null(t.ElementType);
            }
        }
    }

    /// <summary>parse → write → parse is byte-identical for a file the writer made, with every dtype, metadata,
    /// escapes, an empty name and zero-element tensors.</summary>
    [Fact]
    public void RoundTrip_WriterFile_IsByteIdentical()
    {
        var w = new SafeTensorsWriter().AddMetadata("format", "pt").AddMetadata("q\"\\\n", "日本 é");
        int seed = 1;
        foreach (var dt in Enum.GetValues<SafeTensorsDType>())
        {
            var data = new byte[SafeTensorsDTypeInfo.BitSizeOf(dt) * 3];
            new Random(seed++).NextBytes(data);
            w.Add("t." + SafeTensorsDTypeInfo.GetName(dt), dt, [4, 6], data);
        }
        w.Add("", SafeTensorsDType.F32, [0, 5], Array.Empty<byte>()).Add("scalar", SafeTensorsDType.F64, [], Bytes(Math.PI));
        byte[] original = w.ToArray();
        Assert.Equal(original, SafeTensorsCorpusTests.Rewrite(original));
    }
}
