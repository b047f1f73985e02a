using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Span.Prune.Internal;

namespace Span.Prune.SafeTensors;

/// <summary>
/// Builds a safetensors file from tensors (name, dtype, shape, bytes) and <c>__metadata__</c>, in the order they are added.
/// </summary>
/// <remarks>
/// <para>Header: <c>__metadata__</c> first (if any), then the tensors in the order added; padded with spaces so that
/// 8 + header length is a multiple of 8 (the data buffer starts 8-byte aligned). Tensor data is contiguous in the same
/// order with no gaps: the reference reader rejects files whose offsets leave holes, so per-tensor padding is not offered;
/// tensor alignment therefore follows from the sizes of the tensors before it.</para>
/// <para><see cref="WriteFile"/> writes a temporary file in the target's directory and renames it over the target, so the
/// target is either the old file or the complete new one; the temporary file is deleted on failure. The rename makes the
/// replacement atomic for readers and across a crash of the process; surviving a power loss as well needs the data on
/// disk before the rename, which <c>flushToDisk</c> asks for (an fsync: about 1 s per GB written on the machine we
/// measured, so it is opt-in, as in numpy's and safetensors' own writers, which do not sync). It refuses
/// (<see cref="ArgumentException"/>) to write over any file currently open as a <see cref="SafeTensorsFile"/> or listed
/// in <c>inputPathsToProtect</c> (full paths compared, a symbolic-link file resolved to its final target; ordinal on
/// Linux, case-insensitive elsewhere; hard links are not detected). Writing to a symbolic link replaces the link itself
/// with the new file.</para>
/// </remarks>
public sealed class SafeTensorsWriter
{
    private readonly List<Entry> _tensors = [];
    private readonly List<KeyValuePair<string, string>> _metadata = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _metadataKeys = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, SafeTensorsDType DType, long[] Shape, long ByteLength, ReadOnlyMemory<byte> Data, Action<Stream>? Source);

    /// <summary>Number of tensors added so far.</summary>
    public int Count => _tensors.Count;

    /// <summary>Adds a <c>__metadata__</c> entry (kept in insertion order).</summary>
    /// <param name="key">Metadata key; unique.</param>
    /// <param name="value">Metadata value.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">The key was already added.</exception>
    public SafeTensorsWriter AddMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        CheckUtf16(key, nameof(key));
        CheckUtf16(value, nameof(value));
        if (!_metadataKeys.Add(key))
            ThrowHelper.ThrowArgument(nameof(key), $"Metadata key '{key}' was already added.");
        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a tensor whose bytes are in memory (not copied; keep them unchanged until written).</summary>
    /// <param name="name">Unique tensor name (may be empty), not <c>__metadata__</c>.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Non-negative dimensions.</param>
    /// <param name="data">Little-endian bytes; length = element count × dtype size.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">Bad or duplicate name, negative dimension, or wrong data length.</exception>
    public SafeTensorsWriter Add(string name, SafeTensorsDType dtype, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        long bytes = Check(name, dtype, shape);
        if (data.Length != bytes)
            ThrowHelper.ThrowArgument(nameof(data), $"Tensor '{name}': data has {data.Length} bytes, shape × dtype size needs {bytes}.");
        _names.Add(name);
        _tensors.Add(new(name, dtype, shape.ToArray(), bytes, data, null));
        return this;
    }

    /// <summary>Adds a tensor whose bytes are produced while writing (streaming: one tensor at a time).</summary>
    /// <param name="name">Unique tensor name (may be empty), not <c>__metadata__</c>.</param>
    /// <param name="dtype">Element type.</param>
    /// <param name="shape">Non-negative dimensions.</param>
    /// <param name="source">Called once during writing; must write exactly element count × dtype size bytes.</param>
    /// <returns>This writer.</returns>
    /// <exception cref="ArgumentException">Bad or duplicate name, or negative dimension.</exception>
    public SafeTensorsWriter Add(string name, SafeTensorsDType dtype, ReadOnlySpan<long> shape, Action<Stream> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        long bytes = Check(name, dtype, shape);
        _names.Add(name);
        _tensors.Add(new(name, dtype, shape.ToArray(), bytes, default, source));
        return this;
    }

    /// <summary>Writes the file to <paramref name="path"/> through a temporary file and an atomic rename.</summary>
    /// <param name="path">Target path; replaced if it exists.</param>
    /// <param name="inputPathsToProtect">Further paths that must not be overwritten (e.g. the inputs being read).</param>
    /// <param name="flushToDisk">Flush the temporary file to the storage device (fsync) before the rename, so that the
    /// target survives a power loss as either the old or the new file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is an open <see cref="SafeTensorsFile"/> or a protected path.</exception>
    /// <exception cref="InvalidOperationException">A data source wrote the wrong number of bytes (the target is unchanged).</exception>
    public void WriteFile(string path, IEnumerable<string>? inputPathsToProtect = null, bool flushToDisk = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string canonical = SafeTensorsFile.CanonicalPath(full);
        if (SafeTensorsFile.IsOpen(canonical))
            ThrowHelper.ThrowArgument(nameof(path), $"Refusing to write over '{full}': it is open as an input.");
        if (inputPathsToProtect is not null)
        {
            var comparer = SafeTensorsFile.PathComparer;
            foreach (string p in inputPathsToProtect)
            {
                if (comparer.Equals(SafeTensorsFile.CanonicalPath(p), canonical))
                    ThrowHelper.ThrowArgument(nameof(path), $"Refusing to write over '{full}': it is a protected input path.");
            }
        }

        string directory = Path.GetDirectoryName(full)!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Path.GetRandomFileName()}.tmp");
        try
        {
            // Preallocating the final length lets the file system lay the file out in one go.
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
                BufferSize = 1 << 16, PreallocationSize = FileLength(),
            };
            using (var stream = new FileStream(temp, options))
            {
                WriteTo(stream);
                stream.Flush(flushToDisk);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes the complete file (prefix, header, data) to <paramref name="destination"/>.</summary>
    /// <param name="destination">A writable stream.</param>
    /// <exception cref="InvalidOperationException">A data source wrote the wrong number of bytes.</exception>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        byte[] header = BuildHeader();
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        destination.Write(prefix);
        destination.Write(header);
        foreach (var t in _tensors)
        {
            if (t.Source is null)
            {
                destination.Write(t.Data.Span);
                continue;
            }
            var counting = new CountingStream(destination, t.ByteLength);
            t.Source(counting);
            if (counting.Written != t.ByteLength)
                throw new InvalidOperationException($"Tensor '{t.Name}': the data source wrote {counting.Written} bytes, expected {t.ByteLength}.");
        }
    }

    /// <summary>The complete file as a byte array (for small files and tests).</summary>
    /// <returns>The file image.</returns>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>The length prefix and padded header alone, for tests that lay out large (sparse) files themselves.</summary>
    internal byte[] HeaderBytesForTest()
    {
        byte[] header = BuildHeader();
        var result = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        return result;
    }

    /// <summary>Length of the complete file: prefix, padded header and every tensor's bytes.</summary>
    private long FileLength()
    {
        long length = 8 + BuildHeader().Length;
        foreach (var t in _tensors)
            length += t.ByteLength;
        return length;
    }

    private byte[] BuildHeader()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = false,
            SkipValidation = false,
            // Raw UTF-8 for non-ASCII names (as serde_json writes them); quotes, backslashes and controls are still escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in _metadata)
                    w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", SafeTensorsDTypeInfo.GetName(t.DType));
                w.WriteStartArray("shape");
                foreach (long d in t.Shape)
                    w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + t.ByteLength);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += t.ByteLength;
            }
            w.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) & ~7;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private long Check(string name, SafeTensorsDType dtype, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        // The empty name is a valid key for the reference reader (and for ours); "__metadata__" is not a tensor name.
        if (name == "__metadata__")
            ThrowHelper.ThrowArgument(nameof(name), $"'{name}' is not a valid tensor name.");
        CheckUtf16(name, nameof(name));
        if (_names.Contains(name))
            ThrowHelper.ThrowArgument(nameof(name), $"Tensor '{name}' was already added.");
        if (shape.Length > SafeTensorsFile.MaxRank)
            ThrowHelper.ThrowArgument(nameof(shape), $"Tensor '{name}': {shape.Length} dimensions exceed the reader's limit of {SafeTensorsFile.MaxRank}.");
        // Sizes in bits, as the format defines them, so F4 and F6 tensors are written too; the reader refuses the
        // same overflows and partial bytes, so everything written here reads back.
        long bits = SafeTensorsDTypeInfo.BitSizeOf(dtype);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
                ThrowHelper.ThrowArgument(nameof(shape), $"Tensor '{name}': dimension {d} is negative.");
            if (d != 0 && count > long.MaxValue / bits / d)
                ThrowHelper.ThrowArgument(nameof(shape), $"Tensor '{name}': the size in bits overflows 64 bits.");
            count *= d;
        }
        if (count * bits % 8 != 0)
            ThrowHelper.ThrowArgument(nameof(shape), $"Tensor '{name}': {count} elements of {SafeTensorsDTypeInfo.GetName(dtype)} are not a whole number of bytes.");
        return count * bits / 8;
    }

    /// <summary>Lone surrogates cannot be encoded as UTF-8; reject them here rather than midway through writing.</summary>
    private static void CheckUtf16(string s, string paramName)
    {
        var span = s.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out _, out int consumed) != OperationStatus.Done)
                ThrowHelper.ThrowArgument(paramName, "The string contains an unpaired surrogate and cannot be written as UTF-8.");
            span = span[consumed..];
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Forwards writes and counts them; refuses to exceed the tensor's byte length.</summary>
    private sealed class CountingStream(Stream inner, long limit) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written + buffer.Length > limit)
                throw new InvalidOperationException($"The data source wrote more than the tensor's {limit} bytes.");
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}
