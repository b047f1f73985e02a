using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Span.Prune.Internal;

namespace Span.Prune.SafeTensors;

/// <summary>
/// A read-only safetensors file: the header parsed and validated once, tensor bytes read on demand with positioned
/// reads from the one open handle (<see cref="Open"/>), or served zero-copy from a caller's buffer (<see cref="Parse"/>).
/// </summary>
/// <remarks>
/// <para>Layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON header, then the data buffer; each tensor's
/// <c>data_offsets</c> are relative to byte 8 + N. Tensors are exposed in header order; <see cref="Metadata"/> keeps the
/// <c>__metadata__</c> order. A file is accepted exactly when the reference reader (huggingface/safetensors) accepts it,
/// with the few documented exceptions listed on <see cref="SafeTensorsFormatRule"/> and in the README: shapes of more
/// than <see cref="MaxRank"/> dimensions or with a dimension above <see cref="long.MaxValue"/>, and serde's alternative
/// array / map spellings of an entry or a dtype, are refused.</para>
/// <para>Every malformed input raises <see cref="SafeTensorsFormatException"/> (with its <see cref="SafeTensorsFormatRule"/>)
/// from <see cref="Open"/> or <see cref="Parse"/>; after construction all ranges are proven in bounds.</para>
/// <para>Why no memory mapping: reading a page of a mapped file that another process has truncated kills the process
/// (SIGBUS), which no exception handler can catch. Positioned reads (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>)
/// instead return short, which is reported as <see cref="SafeTensorsFormatRule.Truncated"/>. They are also one copy from
/// the page cache, where faulting a mapping costs a fault per 4 KiB page (measured ≈4× slower for F32). The header is
/// read and validated through the same handle the data is later read from, so replacing the path after
/// <see cref="Open"/> changes nothing that this object reads.</para>
/// <para>For an opened file, <see cref="GetBytes(int)"/>, <see cref="GetByteRange"/> and <see cref="GetFloat32(int)"/>
/// read into a new array on each call (a single span holds at most <see cref="Array.MaxLength"/> elements; use
/// <see cref="ReadByteRange"/> or <see cref="ReadAsFloat32(int, Span{float})"/> with caller-owned buffers for large tensors
/// and streaming). For a parsed buffer they are zero-copy views of it.</para>
/// <para>While a file is open its full path is registered, and <see cref="SafeTensorsWriter"/> refuses to write over
/// it. Always dispose: the handle and the registration are released only by <see cref="Dispose"/>.</para>
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>
    /// The most dimensions a tensor's shape may have. The reference reader has no limit short of its 100 MB header;
    /// this one is far above any real tensor (NumPy allows 64) and stops a hostile header from making the reader build
    /// a shape array of tens of millions of entries.
    /// </summary>
    public const int MaxRank = 1024;

    /// <summary>Bytes converted per positioned read: big enough to amortise the system call, small enough to stay in cache.</summary>
    private const int ConvertChunkBytes = 1 << 20;

    /// <summary>Largest single positioned read: the operating system caps one read near 2 GiB anyway.</summary>
    private const int MaxReadBytes = 1 << 30;

    private static readonly Dictionary<string, int> s_openPaths = new(PathComparer);

    private readonly SafeTensorsHeader _header;
    private readonly ReadOnlyMemory<byte> _memory;      // Parse: the caller's buffer (whole file image)
    private readonly SafeFileHandle? _handle;            // Open: every read goes through this one handle
    private readonly string? _fullPath;
    private bool _disposed;

    private SafeTensorsFile(SafeTensorsHeader header, ReadOnlyMemory<byte> memory)
    {
        _header = header;
        _memory = memory;
    }

    private SafeTensorsFile(SafeTensorsHeader header, SafeFileHandle handle, string fullPath)
    {
        _header = header;
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

    /// <summary>Opens <paramref name="path"/> read-only and validates its header, read through the same handle.</summary>
    /// <param name="path">The safetensors file.</param>
    /// <returns>The open file; dispose it to close the handle.</returns>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file.</exception>
    /// <exception cref="IOException">The file cannot be opened (also <see cref="UnauthorizedAccessException"/>, <see cref="FileNotFoundException"/>).</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = CanonicalPath(path);
        var handle = File.OpenHandle(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            int got = ReadFully(handle, prefix, 0);
            long n = SafeTensorsHeader.ReadHeaderLength(prefix[..got], got < 8 ? got : length);
            // n ≤ 100 MB (checked above), so the header fits an array.
            byte[] json = GC.AllocateUninitializedArray<byte>((int)n);
            if (ReadFully(handle, json, 8) != json.Length)
                throw new SafeTensorsFormatException(SafeTensorsFormatRule.Truncated, "The file ended inside the header (was it truncated while being opened?).");
            var header = SafeTensorsHeader.Parse(json, 8 + n, length - 8 - n);
            var file = new SafeTensorsFile(header, handle, fullPath);
            lock (s_openPaths)
            {
                s_openPaths[fullPath] = s_openPaths.GetValueOrDefault(fullPath) + 1;
            }
            return file;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Parses a complete safetensors image held in memory (no copy; the buffer must stay unchanged).</summary>
    /// <param name="fileBytes">The whole file: prefix, header and data.</param>
    /// <returns>A file over <paramref name="fileBytes"/>; disposing it releases nothing but marks it closed.</returns>
    /// <exception cref="SafeTensorsFormatException">The bytes are not a valid safetensors file.</exception>
    public static SafeTensorsFile Parse(ReadOnlyMemory<byte> fileBytes) =>
        new(SafeTensorsHeader.ParseFile(fileBytes.Span), fileBytes);

    /// <summary>Full path of the open file (symbolic links resolved), or <see langword="null"/> for an in-memory file.</summary>
    public string? FullPath => _fullPath;

    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors => _header.Tensors;

    /// <summary>The <c>__metadata__</c> entries in header order (empty when the header has none or it is <c>null</c>).</summary>
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

    /// <summary>The raw little-endian bytes of tensor <paramref name="index"/>: a view of the buffer for
    /// <see cref="Parse"/>, a new array read from the file for <see cref="Open"/>.</summary>
    /// <param name="index">Header-order index.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="NotSupportedException">The tensor is larger than <see cref="Array.MaxLength"/> bytes (use <see cref="ReadByteRange"/>).</exception>
    /// <exception cref="SafeTensorsFormatException">The file was truncated while open.</exception>
    public ReadOnlySpan<byte> GetBytes(int index) => Bytes(Info(index, nameof(index)));

    /// <summary>The raw little-endian bytes of tensor <paramref name="name"/>; see <see cref="GetBytes(int)"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public ReadOnlySpan<byte> GetBytes(string name) => Bytes(GetTensor(name));

    /// <summary>
    /// A window of the raw bytes of tensor <paramref name="index"/>: a view for <see cref="Parse"/>, a new array for
    /// <see cref="Open"/> (prefer <see cref="ReadByteRange"/> with a reused buffer when streaming a file).
    /// </summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="byteOffset">First byte of the window, relative to the tensor's first byte.</param>
    /// <param name="byteLength">Window length in bytes.</param>
    /// <returns>The window.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range or the window is not inside the tensor.</exception>
    /// <exception cref="SafeTensorsFormatException">The file was truncated while open.</exception>
    public ReadOnlySpan<byte> GetByteRange(int index, long byteOffset, int byteLength)
    {
        var info = Info(index, nameof(index));
        CheckWindow(info, byteOffset, byteLength, nameof(byteLength));
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handle is null)
            return _memory.Span.Slice((int)(_header.DataStart + info.DataOffset + byteOffset), byteLength);
        byte[] bytes = GC.AllocateUninitializedArray<byte>(byteLength);
        ReadPositioned(info, byteOffset, bytes);
        return bytes;
    }

    /// <summary>Tensor <paramref name="index"/> as float32; it must be F32. A view for <see cref="Parse"/>, a new array for <see cref="Open"/>.</summary>
    /// <param name="index">Header-order index.</param>
    /// <returns>The elements.</returns>
    /// <exception cref="ArgumentException">The tensor is not F32 (use <see cref="ReadAsFloat32(int, Span{float})"/>).</exception>
    /// <exception cref="PlatformNotSupportedException">The host is big-endian.</exception>
    public ReadOnlySpan<float> GetFloat32(int index) => Float32(Info(index, nameof(index)), nameof(index));

    /// <summary>Tensor <paramref name="name"/> as float32; it must be F32. See <see cref="GetFloat32(int)"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The elements.</returns>
    /// <exception cref="ArgumentException">The tensor is not F32.</exception>
    public ReadOnlySpan<float> GetFloat32(string name) => Float32(GetTensor(name), nameof(name));

    /// <summary>Converts tensor <paramref name="index"/> (F16, BF16, F32 or F64) to float32 into <paramref name="destination"/>.</summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="destination">At least <see cref="SafeTensorInfo.ElementCount"/> floats; the first that many are written.</param>
    /// <remarks>Widening from F16/BF16 is exact; F64 rounds to nearest even and refuses values beyond the float32 range.
    /// Any length that a <see cref="Span{T}"/> can hold works (an F32 tensor of up to 8 GiB): the file is read in chunks.</remarks>
    /// <exception cref="ArgumentException">The dtype is not convertible or the destination is too short (a tensor of
    /// more than <see cref="int.MaxValue"/> elements cannot be converted into one span).</exception>
    /// <exception cref="SafeTensorsConversionException">An F64 element is finite but outside the float32 range.</exception>
    /// <exception cref="SafeTensorsFormatException">The file was truncated while open.</exception>
    public void ReadAsFloat32(int index, Span<float> destination)
    {
        var info = Info(index, nameof(index));
        CheckConvertible(info, destination.Length, nameof(index), nameof(destination));
        Convert(info, destination[..(int)info.ElementCount]);
    }

    /// <summary>Converts tensor <paramref name="name"/> (F16, BF16, F32 or F64) to float32 into <paramref name="destination"/>.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">At least <see cref="SafeTensorInfo.ElementCount"/> floats.</param>
    /// <exception cref="ArgumentException">The dtype is not convertible or the destination is too short.</exception>
    /// <exception cref="SafeTensorsConversionException">An F64 element is finite but outside the float32 range.</exception>
    public void ReadAsFloat32(string name, Span<float> destination)
    {
        var info = GetTensor(name);
        CheckConvertible(info, destination.Length, nameof(name), nameof(destination));
        Convert(info, destination[..(int)info.ElementCount]);
    }

    /// <summary>
    /// Copies a window of the raw bytes of tensor <paramref name="index"/> into <paramref name="destination"/>: for a
    /// file on disk with positioned reads, for an in-memory file by copying.
    /// </summary>
    /// <param name="index">Header-order index.</param>
    /// <param name="byteOffset">First byte of the window, relative to the tensor's first byte.</param>
    /// <param name="destination">Receives the window; its length is the window length.</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range or the window is not inside the tensor.</exception>
    /// <exception cref="SafeTensorsFormatException">The file ended early (it was truncated while open).</exception>
    public void ReadByteRange(int index, long byteOffset, Span<byte> destination)
    {
        var info = Info(index, nameof(index));
        CheckWindow(info, byteOffset, destination.Length, nameof(destination));
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handle is null)
            _memory.Span.Slice((int)(_header.DataStart + info.DataOffset + byteOffset), destination.Length).CopyTo(destination);
        else
            ReadPositioned(info, byteOffset, destination);
    }

    /// <summary>Closes the file. Spans obtained earlier from a parsed buffer must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_handle is not null)
        {
            _handle.Dispose();
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

    /// <summary>True when some open <see cref="SafeTensorsFile"/> reads <paramref name="fullPath"/>.</summary>
    internal static bool IsOpen(string fullPath)
    {
        lock (s_openPaths)
        {
            return s_openPaths.ContainsKey(fullPath);
        }
    }

    private SafeTensorInfo Info(int index, string paramName)
    {
        if ((uint)index >= (uint)_header.Tensors.Length)
            ThrowHelper.ThrowArgumentOutOfRange(paramName, $"Index {index} is not in [0, {_header.Tensors.Length}).");
        return _header.Tensors[index];
    }

    private static void CheckWindow(SafeTensorInfo info, long byteOffset, int byteLength, string lengthParam)
    {
        if (byteOffset < 0 || byteOffset > info.ByteLength)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteOffset), $"Offset {byteOffset} is not in [0, {info.ByteLength}] for tensor '{info.Name}'.");
        if (byteLength < 0 || byteLength > info.ByteLength - byteOffset)
            ThrowHelper.ThrowArgumentOutOfRange(lengthParam, $"Length {byteLength} runs past the {info.ByteLength} bytes of tensor '{info.Name}'.");
    }

    /// <summary>Converts the whole tensor into <paramref name="destination"/> (exactly its element count).</summary>
    private void Convert(SafeTensorInfo info, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handle is null)
        {
            // In memory the tensor is below 2 GiB (it is inside one array).
            var bytes = _memory.Span.Slice((int)(_header.DataStart + info.DataOffset), (int)info.ByteLength);
            SafeTensorsDTypeInfo.ToFloat32(bytes, info.DType, destination, info.Name, 0);
            return;
        }
        if (info.DType == SafeTensorsDType.F32 && BitConverter.IsLittleEndian)
        {
            // Straight into the destination, in pieces whose byte length fits an int (the tensor may exceed 2 GiB).
            const int FloatsPerRead = MaxReadBytes / sizeof(float);
            for (int done = 0; done < destination.Length; done += FloatsPerRead)
            {
                var piece = destination.Slice(done, Math.Min(FloatsPerRead, destination.Length - done));
                ReadPositioned(info, (long)done * sizeof(float), MemoryMarshal.AsBytes(piece));
            }
            return;
        }
        int size = SafeTensorsDTypeInfo.SizeOf(info.DType);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ConvertChunkBytes);
        try
        {
            int perChunk = ConvertChunkBytes / size;
            for (int done = 0; done < destination.Length; done += perChunk)
            {
                int n = Math.Min(perChunk, destination.Length - done);
                var chunk = buffer.AsSpan(0, n * size);
                ReadPositioned(info, (long)done * size, chunk);
                SafeTensorsDTypeInfo.ToFloat32(chunk, info.DType, destination.Slice(done, n), info.Name, done);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ReadOnlySpan<byte> Bytes(SafeTensorInfo info)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength > Array.MaxLength)
            throw new NotSupportedException($"Tensor '{info.Name}' is {info.ByteLength} bytes; a single span holds at most {Array.MaxLength}. Read it in windows with ReadByteRange.");
        if (_handle is null)
            return _memory.Span.Slice((int)(_header.DataStart + info.DataOffset), (int)info.ByteLength);
        byte[] bytes = GC.AllocateUninitializedArray<byte>((int)info.ByteLength);
        ReadPositioned(info, 0, bytes);
        return bytes;
    }

    private ReadOnlySpan<float> Float32(SafeTensorInfo info, string tensorParam)
    {
        if (info.DType != SafeTensorsDType.F32)
            ThrowHelper.ThrowArgument(tensorParam, $"Tensor '{info.Name}' is {SafeTensorsDTypeInfo.GetName(info.DType)}, not F32; use ReadAsFloat32 to convert.");
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Float32 views need a little-endian host; use ReadAsFloat32.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_handle is null)
        {
            // Unaligned float loads are fine on every .NET target; MemoryMarshal.Cast does not require alignment.
            return MemoryMarshal.Cast<byte, float>(Bytes(info));
        }
        if (info.ElementCount > Array.MaxLength)
            throw new NotSupportedException($"Tensor '{info.Name}' has {info.ElementCount} elements; a single span holds at most {Array.MaxLength}. Read it in windows with ReadByteRange.");
        float[] values = GC.AllocateUninitializedArray<float>((int)info.ElementCount);
        Convert(info, values);
        return values;
    }

    /// <summary>Reads <paramref name="target"/> from the tensor's bytes at <paramref name="byteOffset"/>; a short read
    /// means the file shrank after it was validated.</summary>
    private void ReadPositioned(SafeTensorInfo info, long byteOffset, Span<byte> target)
    {
        long offset = _header.DataStart + info.DataOffset + byteOffset;
        if (ReadFully(_handle!, target, offset) != target.Length)
            throw new SafeTensorsFormatException(SafeTensorsFormatRule.Truncated,
                $"Tensor '{info.Name}': the file ended before byte {info.DataOffset + info.ByteLength} of the data (was it truncated while open?).", info.Name);
    }

    /// <summary>Reads until <paramref name="target"/> is full or the file ends; returns the bytes read.</summary>
    private static int ReadFully(SafeFileHandle handle, Span<byte> target, long offset)
    {
        int total = 0;
        while (total < target.Length)
        {
            int n = RandomAccess.Read(handle, target[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }

    private static void CheckConvertible(SafeTensorInfo info, int destinationLength, string tensorParam, string destinationParam)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(info.DType))
            ThrowHelper.ThrowArgument(tensorParam, $"Tensor '{info.Name}' is {SafeTensorsDTypeInfo.GetName(info.DType)}; only F16, BF16, F32 and F64 convert to float32 (read other dtypes as bytes).");
        if (destinationLength < info.ElementCount)
            ThrowHelper.ThrowArgument(destinationParam, info.ElementCount > int.MaxValue
                ? $"Tensor '{info.Name}' has {info.ElementCount} elements, more than one span can hold; read it in windows with ReadByteRange and SafeTensorsDTypeInfo.ToFloat32."
                : $"Destination length {destinationLength} is shorter than the {info.ElementCount} elements of tensor '{info.Name}'.");
    }
}
