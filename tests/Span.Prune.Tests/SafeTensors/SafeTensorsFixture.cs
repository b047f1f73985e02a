using System.Buffers.Binary;
using System.Text;

namespace Span.Prune.Tests.SafeTensors;

/// <summary>Builds safetensors images by hand (independent of <see cref="SafeTensorsWriter"/>) and temp directories.</summary>
internal static class SafeTensorsFixture
{
    /// <summary>Prefix (u64 LE header length) + header JSON bytes (+ optional space padding) + data.</summary>
    public static byte[] Build(string headerJson, ReadOnlySpan<byte> data, int padding = 0)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson + new string(' ', padding));
        return BuildRaw(header, data);
    }

    public static byte[] BuildRaw(ReadOnlySpan<byte> header, ReadOnlySpan<byte> data)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file.AsSpan(8));
        data.CopyTo(file.AsSpan(8 + header.Length));
        return file;
    }

    public static byte[] Bytes(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), values[i]);
        return b;
    }

    public static byte[] Bytes(params double[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(8 * i), values[i]);
        return b;
    }

    public static byte[] Bytes(params ushort[] values)
    {
        var b = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2 * i), values[i]);
        return b;
    }

    public static byte[] Bytes(params long[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8 * i), values[i]);
        return b;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Bytes of a small valid file with F32, BF16, F16, F64, I64 tensors and metadata.</summary>
    public static byte[] SmallFile()
    {
        const string header =
            "{\"__metadata__\":{\"format\":\"pt\",\"b\":\"x\"}," +
            "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," +
            "\"bf\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}," +
            "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[32,36]}," +
            "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[36,44]}," +
            "\"i\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[44,52]}}";
        var data = Concat(
            Bytes(1f, -2f, 3.5f, 0f, -0f, 1e-3f),
            Bytes((ushort)0x3F80, (ushort)0xC000, (ushort)0x0000, (ushort)0x8000), // 1, -2, +0, -0
            Bytes(BitConverter.HalfToUInt16Bits((Half)0.5f), BitConverter.HalfToUInt16Bits((Half)(-3f))),
            Bytes(0.1),
            Bytes(-7L));
        return Build(header, data, padding: 5);
    }

    public sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "spanprune-st-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
