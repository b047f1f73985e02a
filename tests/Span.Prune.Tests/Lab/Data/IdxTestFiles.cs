using System.Buffers.Binary;
using System.IO.Compression;

namespace Span.Prune.Tests.Lab.Data;

/// <summary>
/// An IDX writer of the tests' own (independent of the loader under test), gzip helpers, a temporary directory and a
/// non-seekable stream, for building good and deliberately broken data sets.
/// </summary>
internal static class IdxTestFiles
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    /// <summary>An images file: magic, count, rows, columns (big-endian int32), then the pixels as given.</summary>
    public static byte[] Images(ReadOnlySpan<byte> pixels, int headerCount, int rows = 28, int columns = 28, int magic = ImagesMagic)
    {
        var file = new byte[16 + pixels.Length];
        BinaryPrimitives.WriteInt32BigEndian(file, magic);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), headerCount);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(12), columns);
        pixels.CopyTo(file.AsSpan(16));
        return file;
    }

    /// <summary>A labels file: magic, count (big-endian int32), then the labels as given.</summary>
    public static byte[] Labels(ReadOnlySpan<byte> labels, int headerCount, int magic = LabelsMagic)
    {
        var file = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(file, magic);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), headerCount);
        labels.CopyTo(file.AsSpan(8));
        return file;
    }

    /// <summary>Reproducible pixels; <paramref name="compressible"/> gives a patterned image so that large sets gzip fast.</summary>
    public static byte[] Pixels(int count, int seed, int imageSize = 28 * 28, bool compressible = false)
    {
        var pixels = new byte[(long)count * imageSize];
        if (compressible)
        {
            for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i / imageSize * 7 + i % imageSize) * (seed | 1));
        }
        else
        {
            new Random(seed).NextBytes(pixels);
        }
        return pixels;
    }

    /// <summary>Labels cycling through 0…9 from <paramref name="start"/>.</summary>
    public static byte[] LabelValues(int count, int start = 0)
    {
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)((i + start) % 10);
        return labels;
    }

    public static byte[] Gzip(byte[] raw, CompressionLevel level = CompressionLevel.Fastest)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, level, leaveOpen: true)) gzip.Write(raw);
        return buffer.ToArray();
    }

    /// <summary>Decompresses a whole gzip file with the framework's decoder (the tests' independent reader path).</summary>
    public static byte[] Gunzip(Stream compressed)
    {
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
        var raw = new MemoryStream();
        gzip.CopyTo(raw);
        return raw.ToArray();
    }

    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "spanprune-idx-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        /// <summary>Writes <paramref name="raw"/> under <paramref name="name"/>, or gzipped under <paramref name="name"/>.gz.</summary>
        public string Write(string name, byte[] raw, bool gzip)
        {
            string path = File(gzip ? name + ".gz" : name);
            System.IO.File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);
            return path;
        }

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

    /// <summary>A forward-only view of a byte array, like a pipe: CanSeek is false and Length throws.</summary>
    public sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data, writable: false);

        public bool Disposed { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        // Short reads on purpose (at most 4,000 bytes), as pipes give them; the reader must loop.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 4000));
        public override int Read(Span<byte> buffer) => _inner.Read(buffer[..Math.Min(buffer.Length, 4000)]);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
