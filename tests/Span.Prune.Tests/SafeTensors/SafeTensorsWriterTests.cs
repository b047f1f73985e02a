using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static Span.Prune.Tests.SafeTensors.SafeTensorsFixture;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

public class SafeTensorsWriterTests
{
    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void RoundTrip_EveryDtype_PreservesOrderShapesBytesAndMetadata()
    {
        var dtypes = Enum.GetValues<SafeTensorsDType>();
        var writer = new SafeTensorsWriter();
        writer.AddMetadata("z-first", "1").AddMetadata("format", "pt").AddMetadata("unicode", "é\"\\\n日本");
        var expected = new List<(string Name, SafeTensorsDType DType, long[] Shape, byte[] Data)>();
        int seed = 0;
        // Reverse alphabetical names and mixed dtypes: order must be insertion order, not sorted.
        foreach (var dt in dtypes.Reverse())
        {
            long[] shape = (seed % 4) switch { 0 => [3, 5], 1 => [7], 2 => [], _ => [2, 0, 4] };
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (SafeTensorsDTypeInfo.BitSizeOf(dt) % 8 != 0 && count % 8 != 0)
                shape = [8]; // sub-byte dtypes (F4, F6) need a whole number of bytes
            count = shape.Aggregate(1L, (a, b) => a * b);
            var data = RandomBytes((int)(count * SafeTensorsDTypeInfo.BitSizeOf(dt) / 8), seed);
            string name = $"{(char)('z' - seed)}.{SafeTensorsDTypeInfo.GetName(dt)}";
            if (seed % 2 == 0)
                writer.Add(name, dt, shape, data);
            else
                writer.Add(name, dt, shape, s => s.Write(data));
            expected.Add((name, dt, shape, data));
            seed++;
        }

        using var dir = new TempDir();
        string path = dir.File("out.safetensors");
        writer.WriteFile(path);
        byte[] image = File.ReadAllBytes(path);
        Assert.Equal(writer.ToArray(), image);

        // Header padded with spaces to a multiple of 8.
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(image);
        Assert.Equal(0, n % 8);
        string headerText = Encoding.UTF8.GetString(image, 8, (int)n);
        Assert.EndsWith("}", headerText.TrimEnd(' '));
        Assert.True(headerText.Length - headerText.TrimEnd(' ').Length < 8);

        // Independent check of the header with JsonDocument (not our parser).
        using (var doc = JsonDocument.Parse(headerText))
        {
            var props = doc.RootElement.EnumerateObject().ToList();
            Assert.Equal("__metadata__", props[0].Name);
            Assert.Equal(expected.Select(e => e.Name), props.Skip(1).Select(p => p.Name));
            Assert.Equal("é\"\\\n日本", props[0].Value.GetProperty("unicode").GetString());
        }
        Assert.Contains("日本", headerText); // non-ASCII written as raw UTF-8, not \u escapes

        using var f = SafeTensorsFile.Open(path);
        Assert.Equal([new("z-first", "1"), new("format", "pt"), new("unicode", "é\"\\\n日本")], f.Metadata);
        Assert.Equal(expected.Count, f.Tensors.Count);
        long offset = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            var t = f.Tensors[i];
            Assert.Equal(expected[i].Name, t.Name);
            Assert.Equal(expected[i].DType, t.DType);
            Assert.Equal(expected[i].Shape, t.Shape.ToArray());
            Assert.Equal(expected[i].Data, f.GetBytes(i).ToArray());
            Assert.Equal(offset, t.DataOffset); // contiguous, no gaps
            offset += t.ByteLength;
        }
        Assert.Equal(offset, f.DataLength);
    }

    [Fact]
    public void RoundTrip_PrunedBF16AndF16_ThroughFloat32()
    {
        // Read BF16/F16, zero some entries in float32, write back: zeros exact, the rest bit-identical.
        var rng = new Random(5);
        var bf = new ushort[300];
        var hf = new ushort[300];
        for (int i = 0; i < 300; i++)
        {
            bf[i] = (ushort)rng.Next(0, 0x7F80);                 // finite bf16
            hf[i] = (ushort)(rng.Next(0, 0x7C00) | (i % 2 << 15)); // finite f16, both signs
        }
        var input = new SafeTensorsWriter().Add("bf", SafeTensorsDType.BF16, [300], Bytes(bf)).Add("hf", SafeTensorsDType.F16, [3, 100], Bytes(hf)).ToArray();
        using var f = SafeTensorsFile.Parse(input);
        var w = new SafeTensorsWriter();
        foreach (var t in f.Tensors)
        {
            var values = new float[t.ElementCount];
            f.ReadAsFloat32(t.Index, values);
            for (int i = 0; i < values.Length; i += 3)
                values[i] = 0f;
            var bytes = new byte[t.ByteLength];
            SafeTensorsDTypeInfo.FromFloat32(values, t.DType, bytes);
            w.Add(t.Name, t.DType, t.Shape, bytes);
        }
        using var g = SafeTensorsFile.Parse(w.ToArray());
        foreach (var (name, src) in new[] { ("bf", bf), ("hf", hf) })
        {
            var got = g.GetBytes(name);
            for (int i = 0; i < 300; i++)
                Assert.Equal(i % 3 == 0 ? (ushort)0 : src[i], BinaryPrimitives.ReadUInt16LittleEndian(got[(2 * i)..]));
        }
    }

    [Fact]
    public void EmptyWriter_WritesValidEmptyFile()
    {
        var image = new SafeTensorsWriter().ToArray();
        Assert.Equal(16, image.Length); // 8-byte prefix + "{}" padded to 8
        using var f = SafeTensorsFile.Parse(image);
        Assert.Empty(f.Tensors);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteFile_WithAndWithoutFlushToDisk_WritesTheSameImageAsToArray(bool flushToDisk)
    {
        using var dir = new TempDir();
        string path = dir.File("out.safetensors");
        File.WriteAllBytes(path, new byte[100_000]); // an older, longer file is replaced, not overwritten in place
        var data = new byte[4 * 333];
        for (int i = 0; i < data.Length; i++)
            data[i] = (byte)(i * 7);
        var w = new SafeTensorsWriter()
            .AddMetadata("format", "pt")
            .Add("a", SafeTensorsDType.F32, [3, 111], data)
            .Add("b", SafeTensorsDType.U8, [5], s => s.Write([1, 2, 3, 4, 5]));
        w.WriteFile(path, flushToDisk: flushToDisk);
        Assert.Equal(w.ToArray(), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void FailingSource_LeavesTargetUnchangedAndNoTempFile()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        byte[] original = SmallFile();
        File.WriteAllBytes(path, original);

        var w = new SafeTensorsWriter()
            .Add("a", SafeTensorsDType.F32, [1000], new byte[4000])
            .Add("b", SafeTensorsDType.F32, [4], s =>
            {
                s.Write(new byte[8]);
                throw new IOException("disk on fire");
            });
        var e = Assert.Throws<IOException>(() => w.WriteFile(path));
        Assert.Equal("disk on fire", e.Message);
        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void SourceWritingWrongByteCount_FailsAndLeavesNothing(int written)
    {
        using var dir = new TempDir();
        string path = dir.File("new.safetensors");
        var w = new SafeTensorsWriter().Add("x", SafeTensorsDType.F32, [1], s => s.Write(new byte[written]));
        var e = Assert.Throws<InvalidOperationException>(() => w.WriteFile(path));
        Assert.Contains("4", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void RefusesToOverwriteAnOpenInput()
    {
        using var dir = new TempDir();
        string path = dir.File("in.safetensors");
        File.WriteAllBytes(path, SmallFile());
        using (var input = SafeTensorsFile.Open(path))
        {
            var w = new SafeTensorsWriter().Add("x", SafeTensorsDType.F32, [1], new byte[4]);
            // Same file through a different spelling of the path.
            string alias = Path.Combine(dir.Path, ".", "..", Path.GetFileName(dir.Path), "in.safetensors");
            var e = Assert.Throws<ArgumentException>(() => w.WriteFile(alias));
            Assert.Equal("path", e.ParamName);
            Assert.Contains("open as an input", e.Message);
            Assert.Equal(SmallFile(), File.ReadAllBytes(path));
            Assert.Equal([path], Directory.GetFiles(dir.Path));
            // Another target is fine while the input is open.
            w.WriteFile(dir.File("out.safetensors"));
        }
        // Closed: allowed again.
        new SafeTensorsWriter().WriteFile(path);
        Assert.Equal(16, new FileInfo(path).Length);
    }

    [Fact]
    public void RefusesToOverwriteAnOpenInputThroughASymbolicLink()
    {
        using var dir = new TempDir();
        string path = dir.File("in.safetensors");
        File.WriteAllBytes(path, SmallFile());
        string link = dir.File("link.safetensors");
        try
        {
            File.CreateSymbolicLink(link, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return; // no symlink support here (e.g. unprivileged Windows)
        }
        using (SafeTensorsFile.Open(link))
        {
            Assert.Throws<ArgumentException>(() => new SafeTensorsWriter().WriteFile(path));
        }
        using (SafeTensorsFile.Open(path))
        {
            Assert.Throws<ArgumentException>(() => new SafeTensorsWriter().WriteFile(link));
        }
        Assert.Throws<ArgumentException>(() => new SafeTensorsWriter().WriteFile(path, [link]));
        Assert.Equal(SmallFile(), File.ReadAllBytes(path));
    }

    [Fact]
    public void RefusesToOverwriteProtectedPath()
    {
        using var dir = new TempDir();
        string path = dir.File("in.safetensors");
        File.WriteAllBytes(path, SmallFile());
        var w = new SafeTensorsWriter();
        var e = Assert.Throws<ArgumentException>(() => w.WriteFile(path, [dir.File("other"), Path.Combine(dir.Path, "sub", "..", "in.safetensors")]));
        Assert.Equal("path", e.ParamName);
        Assert.Equal(SmallFile(), File.ReadAllBytes(path));
        w.WriteFile(path, [dir.File("other")]);
        Assert.Equal(16, new FileInfo(path).Length);
    }

    [Fact]
    public void Add_Throws_OnBadInput()
    {
        var w = new SafeTensorsWriter().Add("a", SafeTensorsDType.F32, [1], new byte[4]).AddMetadata("k", "v");
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => w.Add("a", SafeTensorsDType.F32, [1], new byte[4])).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => w.Add("__metadata__", SafeTensorsDType.F32, [1], new byte[4])).ParamName);
        // The empty name is valid (the reference reader accepts it), so the writer writes it.
        Assert.Equal(2, new SafeTensorsWriter().Add("", SafeTensorsDType.F32, [1], new byte[4]).Add("x", SafeTensorsDType.I8, [0], Array.Empty<byte>()).Count);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => w.Add("b", SafeTensorsDType.F4, [3], new byte[2])).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => w.Add("b", SafeTensorsDType.I8, new long[SafeTensorsFile.MaxRank + 1], Array.Empty<byte>())).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => w.Add("b", SafeTensorsDType.F32, [-1], new byte[4])).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => w.Add("b", SafeTensorsDType.F32, [1L << 40, 1L << 40], new byte[4])).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => w.Add("b", SafeTensorsDType.BF16, [3], new byte[4])).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => w.AddMetadata("k", "w")).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => w.Add("bad\uD800", SafeTensorsDType.F32, [1], new byte[4])).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentException>(() => w.AddMetadata("k2", "\uDC00x")).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentException>(() => w.AddMetadata("\uD83D", "x")).ParamName);
        Assert.Equal(1, w.Count);
    }
}
