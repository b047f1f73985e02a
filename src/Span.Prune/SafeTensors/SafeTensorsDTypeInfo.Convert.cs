using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune.SafeTensors;

/// <summary>
/// Conversions between the floating safetensors dtypes (F16, BF16, F32, F64) stored as little-endian bytes and float32,
/// so tensors are scored in float32 and written back in their own dtype.
/// </summary>
/// <remarks>
/// Widening (F16/BF16 → F32) is exact. F64 → F32 rounds to nearest even, but a finite F64 value beyond the float32
/// range is refused (<see cref="SafeTensorsConversionException"/>) rather than silently becoming ±∞: a pruning score
/// or a written-back weight of ∞ would be a wrong answer, not a rounded one. NaN and ±∞ stay NaN and ±∞, and values
/// below the float32 subnormal range round to (signed) zero as any narrowing does. Narrowing rounds to nearest, ties to even (IEEE default), so a value that was
/// read from a dtype converts back to the identical bits, and pruned zeros stay exact (signed) zeros.
/// BF16 is the upper half of the binary32 bits: widen = <c>bits &lt;&lt; 16</c>; narrow =
/// <c>(bits + 0x7FFF + ((bits &gt;&gt; 16) &amp; 1)) &gt;&gt; 16</c>, with NaN kept NaN (quiet bit set, sign kept).
/// </remarks>
public static partial class SafeTensorsDTypeInfo
{
    /// <summary>Converts <paramref name="source"/> (little-endian elements of <paramref name="dtype"/>) to float32.</summary>
    /// <param name="source">Raw tensor bytes; the length must be a multiple of the dtype size.</param>
    /// <param name="dtype">F16, BF16, F32 or F64.</param>
    /// <param name="destination">Receives <c>source.Length / size</c> floats; must be at least that long.</param>
    /// <exception cref="ArgumentException">The dtype is not a convertible float, the source length is not a multiple of
    /// its size, or the destination is too short (nothing written).</exception>
    /// <exception cref="SafeTensorsConversionException">An F64 element is finite but outside the float32 range (the
    /// elements before it have been written).</exception>
    public static void ToFloat32(ReadOnlySpan<byte> source, SafeTensorsDType dtype, Span<float> destination) =>
        ToFloat32(source, dtype, destination, null, 0);

    /// <summary><see cref="ToFloat32(ReadOnlySpan{byte}, SafeTensorsDType, Span{float})"/> for a window of a named
    /// tensor whose first element has index <paramref name="firstElement"/>, so that a refusal names both.</summary>
    internal static void ToFloat32(ReadOnlySpan<byte> source, SafeTensorsDType dtype, Span<float> destination, string? tensorName, long firstElement)
    {
        int count = CheckArgs(source.Length, dtype, destination.Length, nameof(source), nameof(destination));
        destination = destination[..count];
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    source.CopyTo(MemoryMarshal.AsBytes(destination));
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                }
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < count; i++)
                {
                    double d = BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                    float f = (float)d;
                    if (float.IsInfinity(f) && double.IsFinite(d))
                        ThrowOutOfRange(tensorName, firstElement + i, d);
                    destination[i] = f;
                }
                break;
            case SafeTensorsDType.F16:
                if (BitConverter.IsLittleEndian)
                {
                    // Vectorised, exact widening.
                    TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }
                break;
            default: // BF16
                if (BitConverter.IsLittleEndian)
                {
                    Bf16ToF32(MemoryMarshal.Cast<byte, ushort>(source), MemoryMarshal.Cast<float, uint>(destination));
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                }
                break;
        }
    }

    /// <summary>Converts float32 values to little-endian elements of <paramref name="dtype"/>.</summary>
    /// <param name="source">The values.</param>
    /// <param name="dtype">F16, BF16, F32 or F64.</param>
    /// <param name="destination">Receives <c>source.Length × size</c> bytes; must be at least that long.</param>
    /// <remarks>Round to nearest, ties to even for F16 and BF16; F32 is copied; F64 widens exactly.</remarks>
    /// <exception cref="ArgumentException">The dtype is not a convertible float or the destination is too short (nothing written).</exception>
    public static void FromFloat32(ReadOnlySpan<float> source, SafeTensorsDType dtype, Span<byte> destination)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(dtype))
            ThrowHelper.ThrowArgument(nameof(dtype), $"dtype {dtype} is not F16, BF16, F32 or F64.");
        int size = SafeTensorsDTypeInfo.SizeOf(dtype);
        long needed = (long)source.Length * size;
        if (destination.Length < needed)
            ThrowHelper.ThrowArgument(nameof(destination), $"Destination length {destination.Length} is shorter than the required {needed}.");
        int count = source.Length;
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                if (BitConverter.IsLittleEndian)
                {
                    MemoryMarshal.AsBytes(source).CopyTo(destination);
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], source[i]);
                }
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < count; i++)
                    BinaryPrimitives.WriteDoubleLittleEndian(destination[(8 * i)..], source[i]);
                break;
            case SafeTensorsDType.F16:
                if (BitConverter.IsLittleEndian)
                {
                    TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination[..(2 * count)]));
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        BinaryPrimitives.WriteHalfLittleEndian(destination[(2 * i)..], (Half)source[i]);
                }
                break;
            default: // BF16
                if (BitConverter.IsLittleEndian)
                {
                    F32ToBf16(MemoryMarshal.Cast<float, uint>(source), MemoryMarshal.Cast<byte, ushort>(destination[..(2 * count)]));
                }
                else
                {
                    for (int i = 0; i < count; i++)
                        BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], RoundToBf16(BitConverter.SingleToUInt32Bits(source[i])));
                }
                break;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowOutOfRange(string? tensorName, long index, double value) =>
        throw new SafeTensorsConversionException(
            (tensorName is null ? "" : $"Tensor '{tensorName}': ") +
            $"F64 element {index} is {value:R}, outside the float32 range (±{float.MaxValue:R}); converting it would make it infinite. Read the tensor as bytes to keep it exact.",
            tensorName, index, value);

    /// <summary>Rounds one binary32 bit pattern to bfloat16, ties to even; NaN stays a (quiet) NaN with its sign.</summary>
    internal static ushort RoundToBf16(uint bits)
    {
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (ushort)((bits >> 16) | 0x0040u);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }

    private static int CheckArgs(int sourceBytes, SafeTensorsDType dtype, int destinationLength, string sourceName, string destinationName)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(dtype))
            ThrowHelper.ThrowArgument(nameof(dtype), $"dtype {dtype} is not F16, BF16, F32 or F64.");
        int size = SafeTensorsDTypeInfo.SizeOf(dtype);
        if (sourceBytes % size != 0)
            ThrowHelper.ThrowArgument(sourceName, $"Source length {sourceBytes} is not a multiple of the {size}-byte element size.");
        int count = sourceBytes / size;
        if (destinationLength < count)
            ThrowHelper.ThrowDestinationTooShort(destinationName, destinationLength, count);
        return count;
    }

    // bf16 → f32: zero-extend each 16-bit lane to 32 bits and shift into the upper half. Exact.
    private static void Bf16ToF32(ReadOnlySpan<ushort> src, Span<uint> dst)
    {
        ref ushort s = ref MemoryMarshal.GetReference(src);
        ref uint d = ref MemoryMarshal.GetReference(dst);
        nuint n = (nuint)src.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref s, i));
                (lo << 16).StoreUnsafe(ref d, i);
                (hi << 16).StoreUnsafe(ref d, i + (nuint)Vector512<uint>.Count);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref s, i));
                (lo << 16).StoreUnsafe(ref d, i);
                (hi << 16).StoreUnsafe(ref d, i + (nuint)Vector256<uint>.Count);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref s, i));
                (lo << 16).StoreUnsafe(ref d, i);
                (hi << 16).StoreUnsafe(ref d, i + (nuint)Vector128<uint>.Count);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = (uint)Unsafe.Add(ref s, i) << 16;
    }

    // f32 → bf16, round to nearest even: add 0x7FFF + lsb-of-result, keep the high half; NaN lanes → high half | quiet bit.
    private static void F32ToBf16(ReadOnlySpan<uint> src, Span<ushort> dst)
    {
        ref uint s = ref MemoryMarshal.GetReference(src);
        ref ushort d = ref MemoryMarshal.GetReference(dst);
        nuint n = (nuint)src.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var bias = Vector512.Create(0x7FFFu);
            var one = Vector512<uint>.One;
            var absMask = Vector512.Create(0x7FFF_FFFFu);
            var inf = Vector512.Create(0x7F80_0000u);
            var quiet = Vector512.Create(0x0040u);
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                var a = Vector512.LoadUnsafe(ref s, i);
                var b = Vector512.LoadUnsafe(ref s, i + (nuint)Vector512<uint>.Count);
                var ra = Vector512.ConditionalSelect(Vector512.GreaterThan(a & absMask, inf), (a >> 16) | quiet, (a + bias + ((a >> 16) & one)) >> 16);
                var rb = Vector512.ConditionalSelect(Vector512.GreaterThan(b & absMask, inf), (b >> 16) | quiet, (b + bias + ((b >> 16) & one)) >> 16);
                Vector512.Narrow(ra, rb).StoreUnsafe(ref d, i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var bias = Vector256.Create(0x7FFFu);
            var one = Vector256<uint>.One;
            var absMask = Vector256.Create(0x7FFF_FFFFu);
            var inf = Vector256.Create(0x7F80_0000u);
            var quiet = Vector256.Create(0x0040u);
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                var a = Vector256.LoadUnsafe(ref s, i);
                var b = Vector256.LoadUnsafe(ref s, i + (nuint)Vector256<uint>.Count);
                var ra = Vector256.ConditionalSelect(Vector256.GreaterThan(a & absMask, inf), (a >> 16) | quiet, (a + bias + ((a >> 16) & one)) >> 16);
                var rb = Vector256.ConditionalSelect(Vector256.GreaterThan(b & absMask, inf), (b >> 16) | quiet, (b + bias + ((b >> 16) & one)) >> 16);
                // Values are < 0x10000, so the narrowing truncation is exact.
                Vector256.Narrow(ra, rb).StoreUnsafe(ref d, i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var bias = Vector128.Create(0x7FFFu);
            var one = Vector128<uint>.One;
            var absMask = Vector128.Create(0x7FFF_FFFFu);
            var inf = Vector128.Create(0x7F80_0000u);
            var quiet = Vector128.Create(0x0040u);
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                var a = Vector128.LoadUnsafe(ref s, i);
                var b = Vector128.LoadUnsafe(ref s, i + (nuint)Vector128<uint>.Count);
                var ra = Vector128.ConditionalSelect(Vector128.GreaterThan(a & absMask, inf), (a >> 16) | quiet, (a + bias + ((a >> 16) & one)) >> 16);
                var rb = Vector128.ConditionalSelect(Vector128.GreaterThan(b & absMask, inf), (b >> 16) | quiet, (b + bias + ((b >> 16) & one)) >> 16);
                Vector128.Narrow(ra, rb).StoreUnsafe(ref d, i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = RoundToBf16(Unsafe.Add(ref s, i));
    }
}
