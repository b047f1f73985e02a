using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Span.Prune.Internal;

namespace Span.Prune.SafeTensors;

/// <summary>
/// A read-only safetensors file: the header parsed and validated once, tensor bytes served zero-copy from a read-only
/// memory mapping (<see cref="Open"/>) or from a caller's buffer (<see cref="Parse"/>).
/// </summary>
/// <remarks>
/// <para>Layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON header, then the data buffer; each tensor's
/// <c>data_offsets</c> are relative to byte 8 + N. Tensors are exposed in header order; <see cref="Metadata"/> keeps the
/// <c>__metadata__</c> order.</para>
/// <para>Every malformed input raises <see cref="SafeTensorsFormatException"/> from <see cref="Open"/> or <see cref="Parse"/>;
/// after construction all ranges are proven in bounds, so the accessors cannot read outside the data.</para>
/// <para>Spans returned by <see cref="GetBytes(int)"/> and <see cref="GetFloat32(int)"/> point into the mapping and are
/// valid only until <see cref="Dispose"/>. A single span is limited to <see cref="int.MaxValue"/> elements; read larger
/// tensors in windows with <see cref="GetByteRange"/>.</para>
/// <para>The file must not be truncated or rewritten in place by another process while it is open: as with any
/// memory mapping, reading pages that no longer exist faults the process. Always dispose: the mapping and the
/// open-path registration are released only by <see cref="Dispose"/>.</para>
/// <para>While a file is open its full path is registered, and <see cref="SafeTensorsWriter"/> refuses to write over it.</para>
/// </remarks>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private static readonly Dictionary<string, int> s_openPaths = new(PathComparer);

    private readonly SafeTensorsHeader _header;
    private readonly ReadOnlyMemory<byte> _memory;      // Parse: the caller's buffer (whole file image)
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;                               // Open: start of the mapped file
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle? _handle; // Open: for positioned F32 reads
    private readonly string? _fullPath;
    private bool _disposed;

    private SafeTensorsFile(SafeTensorsHeader header, ReadOnlyMemory<byte> memory)
    {
        _header = header;
        _memory = memory;
    }

    private SafeTensorsFile(SafeTensorsHeader header, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* pointer,
        Microsoft.Win32.SafeHandles.SafeFileHandle handle, string fullPath)
    {
        _header = header;
        _map = map;
        _view = view;
        _pointer = pointer;
        _handle = handle;
        _fullPath = fullPath;
    }

    /// <summary>Path comparison used to protect open inputs: ordinal on Linux, case-insensitive elsewhere.</summary>
    internal static StringComparer PathComparer => OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    /// <summary>
    /// The path used to recognise "the same file": absolute, and for a symbolic link the final target. Hard links and
    /// links in directory components are not resolved.
    /// </summary>
    internal static string CanonicalPath(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var target = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return target is null ? full : Path.GetFullPath(target.FullName);
        }
        catch (IOException)
        {
            return full;
        }
        catch (UnauthorizedAccessException)
        {
            return full;
        }
    }

    /// <summary>Memory-maps <paramref name="path"/> read-only and validates its header.</summary>
    /// <param name="path">The safetensors file.</param>
    /// <returns>The open file; dispose it to unmap.</returns>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file.</exception>
    /// <exception cref="IOException">The file cannot be opened (also <see cref="UnauthorizedAccessException"/>, <see cref="FileNotFoundException"/>).</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = CanonicalPath(path);
        using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length >= 8)
            stream.ReadExactly(prefix);
        long n = SafeTensorsHeader.ReadHeaderLength(prefix, length); // also rejects files shorter than 8 bytes (not mappable when empty)

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null;
        byte* pointer = null;
        try
        {
            handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            // Header ≤ 100 MB (checked above), so it fits a span.
            var header = SafeTensorsHeader.Parse(new ReadOnlySpan<byte>(pointer + 8, (int)n), length - 8 - n).WithDataStart(8 + n);
            var file = new SafeTensorsFile(header, map, view, pointer, handle, fullPath);
            lock (s_openPaths)
            {
                s_openPaths[fullPath] = s_openPaths.GetValueOrDefault(fullPath) + 1;
            }
            return file;
        }
        catch
        {
            if (pointer != null)
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            handle?.Dispose();
            throw;
        }
    }

    /// <summary>Parses a complete safetensors image held in memory (no copy; the buffer must stay unchanged).</summary>
    /// <param name="fileBytes">The whole file: prefix, header and data.</param>
    /// <returns>A file over <paramref name="fileBytes"/>; disposing it releases nothing but marks it closed.</returns>
    /// <exception cref="SafeTensorsFormatException">The bytes are not a valid safetensors file.</exception>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> fileBytes) =>
        new(SafeTensorsHeader.ParseFile(fileBytes.Span), fileBytes);

    /// <summary>Full path of the mapped file (symbolic links resolved), or <see langword="null"/> for an in-memory file.</summary>
    public string? FullPath => _fullPath;

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors => _header.Tensors;

    /// <summary>The <c>__metadata__</c> entries in header order (empty when the header has none).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata => _header.Metadata;

    /// <summary>Size in bytes of the data buffer (file length − 8 − header length).</summary>
    public long DataLength => _header.DataLength;

    /// <summary>Finds a tensor by name.</summary>
    /// <param name="name">Tensor name (ordinal comparison).</param>
    /// <param name="info">The tensor, or <see langword="null"/>.</param>
    /// <returns>Whether the tensor exists.</returns>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorInfo? info)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_header.ByName.TryGetValue(name, out int i))
        {
            info = _header.Tensors[i];
            return true;
        }
        info = null;
        return false;
    }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>Its header entry.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafeTensorInfo GetTensor(string name) =>
        TryGetTensor(name, out var info) ? info : throw new KeyNotFoundException($"The file has no tensor named '{name}'.");

    /// <summary>The raw little-endian bytes of tensor <paramref name="index"/> (zero-copy).</summary>
    /// <param name="index">Header-order index.</param>
    /// <returns>A span over the mapping, valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="NotSupportedException">The tensor is larger than <see cref="int.MaxValue"/> bytes.</exception>
    public ReadOnlySpan<byte> GetBytes(int index)
    {
        if ((uint)index >= (uint)_header.Tensors.Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index), $"Index {index} is not in [0, {_header.Tensors.Length}).");
        return Slice(_header.Tensors[index]);
    }

    /// <summary>The raw little-endian bytes of tensor <paramref name="name"/> (zero-copy).</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>A span over the mapping, valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public ReadOnlySpan<byte> GetBytes(string name) => Slice(GetTensor(name));

    /// <summary>
    /// A window of the raw bytes of tensor <paramref name="index"/> (zero-copy), for tensors too large for one span or
    /// for streaming a tensor in chunks.
    /// </summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="byteOffset">First byte of the window, relative to the tensor's first byte.</param>
    /// <param name="byteLength">Window length in bytes.</param>
    /// <returns>A span over the mapping, valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range or the window is not inside the tensor.</exception>
    public ReadOnlySpan<byte> GetByteRange(int index, long byteOffset, int byteLength)
    {
        if ((uint)index >= (uint)_header.Tensors.Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index), $"Index {index} is not in [0, {_header.Tensors.Length}).");
        var info = _header.Tensors[index];
        if (byteOffset < 0 || byteOffset > info.ByteLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteOffset), $"Offset {byteOffset} is not in [0, {info.ByteLength}] for tensor '{info.Name}'.");
        if (byteLength < 0 || byteLength > info.ByteLength - byteOffset)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteLength), $"Length {byteLength} runs past the {info.ByteLength} bytes of tensor '{info.Name}'.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        long start = _header.DataStart + info.DataOffset + byteOffset;
        if (_view is null)
            return _memory.Span.Slice((int)start, byteLength);
        return new ReadOnlySpan<byte>(_pointer + start, byteLength);
    }

    /// <summary>Tensor <paramref name="index"/> as float32, zero-copy; it must be F32.</summary>
    /// <param name="index">Header-order index.</param>
    /// <returns>The elements, valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="ArgumentException">The tensor is not F32 (use <see cref="ReadAsFloat32(int, Span{float})"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public ReadOnlySpan<float> GetFloat32(int index)
    {
        var bytes = GetBytes(index);
        return AsFloat32(_header.Tensors[index], bytes, nameof(index));
    }

    /// <summary>Tensor <paramref name="name"/> as float32, zero-copy; it must be F32.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The elements, valid until <see cref="Dispose"/>.</returns>
    /// <exception cref="ArgumentException">The tensor is not F32.</exception>
    public ReadOnlySpan<float> GetFloat32(string name)
    {
        var info = GetTensor(name);
        return AsFloat32(info, Slice(info), nameof(name));
    }

    /// <summary>Converts tensor <paramref name="index"/> (F16, BF16, F32 or F64) to float32 into <paramref name="destination"/>.</summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="destination">At least <see cref="SafeTensorInfo.ElementCount"/> floats; the first that many are written.</param>
    /// <remarks>Widening from F16/BF16 is exact; F64 rounds to nearest even. See <see cref="SafeTensorsConvert"/>.</remarks>
    /// <exception cref="ArgumentException">The dtype is not convertible or the destination is too short.</exception>
    public void ReadAsFloat32(int index, Span<float> destination)
    {
        var bytes = GetBytes(index);
        var info = _header.Tensors[index];
        CheckConvertible(info, destination.Length, nameof(index), nameof(destination));
        ConvertOrRead(info, bytes, destination);
    }

    /// <summary>
    /// F32 from a file on disk is read with positioned reads straight into the destination: from the page cache that
    /// is one copy, where touching the mapping costs a page fault per 4 KiB (measured ≈4× slower on a 64 MB tensor).
    /// Other dtypes convert from the mapping.
    /// </summary>
    private void ConvertOrRead(SafeTensorInfo info, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        if (info.DType != SafeTensorsDType.F32 || _handle is null || !BitConverter.IsLittleEndian)
        {
            SafeTensorsConvert.ToFloat32(bytes, info.DType, destination);
            return;
        }
        ReadPositioned(info, 0, MemoryMarshal.AsBytes(destination[..(int)info.ElementCount]));
    }

    /// <summary>
    /// Copies a window of the raw bytes of tensor <paramref name="index"/> into <paramref name="destination"/>: for a
    /// file on disk with positioned reads (from the page cache one copy, without faulting the mapping page by page and
    /// without growing the process's resident set by the file's size), for an in-memory file by copying.
    /// </summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="byteOffset">First byte of the window, relative to the tensor's first byte.</param>
    /// <param name="destination">Receives the window; its length is the window length.</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range or the window is not inside the tensor.</exception>
    /// <exception cref="IOException">The file ended early (it was truncated while open).</exception>
    public void ReadByteRange(int index, long byteOffset, Span<byte> destination)
    {
        if ((uint)index >= (uint)_header.Tensors.Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index), $"Index {index} is not in [0, {_header.Tensors.Length}).");
        var info = _header.Tensors[index];
        if (byteOffset < 0 || byteOffset > info.ByteLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteOffset), $"Offset {byteOffset} is not in [0, {info.ByteLength}] for tensor '{info.Name}'.");
        if (destination.Length > info.ByteLength - byteOffset)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(destination), $"Length {destination.Length} runs past the {info.ByteLength} bytes of tensor '{info.Name}'.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handle is null)
            _memory.Span.Slice((int)(_header.DataStart + info.DataOffset + byteOffset), destination.Length).CopyTo(destination);
        else
            ReadPositioned(info, byteOffset, destination);
    }

    private void ReadPositioned(SafeTensorInfo info, long byteOffset, Span<byte> target)
    {
        long offset = _header.DataStart + info.DataOffset + byteOffset;
        while (!target.IsEmpty)
        {
            int n = RandomAccess.Read(_handle!, target, offset);
            if (n == 0) throw new IOException($"Tensor '{info.Name}': the file ended early (was it truncated while open?).");
            target = target[n..];
            offset += n;
        }
    }

    /// <summary>Converts tensor <paramref name="name"/> (F16, BF16, F32 or F64) to float32 into <paramref name="destination"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">At least <see cref="SafeTensorInfo.ElementCount"/> floats.</param>
    /// <exception cref="ArgumentException">The dtype is not convertible or the destination is too short.</exception>
    public void ReadAsFloat32(string name, Span<float> destination)
    {
        var info = GetTensor(name);
        var bytes = Slice(info);
        CheckConvertible(info, destination.Length, nameof(name), nameof(destination));
        ConvertOrRead(info, bytes, destination);
    }

    /// <summary>Unmaps the file. Spans obtained earlier must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_view is not null)
        {
            _pointer = null;
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
            _handle?.Dispose();
            lock (s_openPaths)
            {
                int c = s_openPaths.GetValueOrDefault(_fullPath!) - 1;
                if (c <= 0)
                    s_openPaths.Remove(_fullPath!);
                else
                    s_openPaths[_fullPath!] = c;
            }
        }
    }

    /// <summary>True when some open <see cref="SafeTensorsFile"/> maps <paramref name="fullPath"/>.</summary>
    internal static bool IsOpen(string fullPath)
    {
        lock (s_openPaths)
        {
            return s_openPaths.ContainsKey(fullPath);
        }
    }

    private static void CheckConvertible(SafeTensorInfo info, int destinationLength, string tensorParam, string destinationParam)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(info.DType))
            ThrowHelper.ThrowArgument(tensorParam, $"Tensor '{info.Name}' is {SafeTensorsDTypeInfo.GetName(info.DType)}; only F16, BF16, F32 and F64 convert to float32.");
        if (destinationLength < info.ElementCount)
            ThrowHelper.ThrowArgument(destinationParam, $"Destination length {destinationLength} is shorter than the {info.ElementCount} elements of tensor '{info.Name}'.");
    }

    private static ReadOnlySpan<float> AsFloat32(SafeTensorInfo info, ReadOnlySpan<byte> bytes, string tensorParam)
    {
        if (info.DType != SafeTensorsDType.F32)
            ThrowHelper.ThrowArgument(tensorParam, $"Tensor '{info.Name}' is {SafeTensorsDTypeInfo.GetName(info.DType)}, not F32; use ReadAsFloat32 to convert.");
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Zero-copy float32 views need a little-endian host; use ReadAsFloat32.");
        // Unaligned float loads are fine on every .NET target; MemoryMarshal.Cast does not require alignment.
        return MemoryMarshal.Cast<byte, float>(bytes);
    }

    private ReadOnlySpan<byte> Slice(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength > int.MaxValue)
            throw new NotSupportedException($"Tensor '{info.Name}' is {info.ByteLength} bytes; a single span holds at most {int.MaxValue}.");
        long start = _header.DataStart + info.DataOffset;
        if (_view is null)
            return _memory.Span.Slice((int)start, (int)info.ByteLength);
        // In bounds: the header validation proved DataOffset + ByteLength ≤ DataLength.
        return new ReadOnlySpan<byte>(_pointer + start, (int)info.ByteLength);
    }
}
