using Span.Prune.Internal;

namespace Span.Prune.SafeTensors;

/// <summary>Element types of the safetensors format, spelled as in the header (<c>"F32"</c>, <c>"BF16"</c>, ...).</summary>
/// <remarks>
/// Every dtype of the reference implementation (huggingface/safetensors <c>Dtype</c>) is listed, so any file it reads
/// parses here too; only F16, BF16, F32 and F64 convert to float32, the others can be inspected and copied as bytes.
/// The values added after the first release (<see cref="F4"/> onwards) are appended so earlier values keep their numbers.
/// </remarks>
public enum SafeTensorsDType
{
    /// <summary>Boolean, one byte (<c>"BOOL"</c>).</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer (<c>"U8"</c>).</summary>
    U8,
    /// <summary>Signed 8-bit integer (<c>"I8"</c>).</summary>
    I8,
    /// <summary>8-bit float E5M2 (<c>"F8_E5M2"</c>); stored and copied, not converted.</summary>
    F8E5M2,
    /// <summary>8-bit float E4M3 (<c>"F8_E4M3"</c>); stored and copied, not converted.</summary>
    F8E4M3,
    /// <summary>Signed 16-bit integer (<c>"I16"</c>).</summary>
    I16,
    /// <summary>Unsigned 16-bit integer (<c>"U16"</c>).</summary>
    U16,
    /// <summary>IEEE 754 binary16 (<c>"F16"</c>).</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a binary32 (<c>"BF16"</c>).</summary>
    BF16,
    /// <summary>Signed 32-bit integer (<c>"I32"</c>).</summary>
    I32,
    /// <summary>Unsigned 32-bit integer (<c>"U32"</c>).</summary>
    U32,
    /// <summary>IEEE 754 binary32 (<c>"F32"</c>).</summary>
    F32,
    /// <summary>IEEE 754 binary64 (<c>"F64"</c>).</summary>
    F64,
    /// <summary>Signed 64-bit integer (<c>"I64"</c>).</summary>
    I64,
    /// <summary>Unsigned 64-bit integer (<c>"U64"</c>).</summary>
    U64,
    /// <summary>4-bit float E2M1 of the OCP microscaling formats (<c>"F4"</c>); two elements per byte.</summary>
    F4,
    /// <summary>6-bit float E2M3 of the OCP microscaling formats (<c>"F6_E2M3"</c>); four elements per three bytes.</summary>
    F6E2M3,
    /// <summary>6-bit float E3M2 of the OCP microscaling formats (<c>"F6_E3M2"</c>); four elements per three bytes.</summary>
    F6E3M2,
    /// <summary>8-bit exponent-only scale E8M0 of the OCP microscaling formats (<c>"F8_E8M0"</c>).</summary>
    F8E8M0,
    /// <summary>8-bit float E4M3, finite, no negative zero (<c>"F8_E4M3FNUZ"</c>).</summary>
    F8E4M3Fnuz,
    /// <summary>8-bit float E5M2, finite, no negative zero (<c>"F8_E5M2FNUZ"</c>).</summary>
    F8E5M2Fnuz,
    /// <summary>Complex number of two binary32 parts, real first (<c>"C64"</c>).</summary>
    C64,
}

/// <summary>Everything about a <see cref="SafeTensorsDType"/>: size, header spelling and parsing here; conversion to
/// and from float32 in <c>SafeTensorsDTypeInfo.Convert.cs</c>.</summary>
public static partial class SafeTensorsDTypeInfo
{
    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is F4 or F6, whose elements are smaller than a byte
    /// (use <see cref="BitSizeOf"/>).</exception>
    public static int SizeOf(SafeTensorsDType dtype)
    {
        int bits = BitSizeOf(dtype);
        if (bits % 8 != 0)
            ThrowHelper.ThrowArgument(nameof(dtype), $"{GetName(dtype)} elements are {bits} bits, not a whole number of bytes; use BitSizeOf.");
        return bits / 8;
    }

    /// <summary>Bits per element of <paramref name="dtype"/>: 4 for F4, 6 for F6, otherwise 8 × <see cref="SizeOf"/>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>4, 6, 8, 16, 32 or 64.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public static int BitSizeOf(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.F4 => 4,
        SafeTensorsDType.F6E2M3 or SafeTensorsDType.F6E3M2 => 6,
        SafeTensorsDType.Bool or SafeTensorsDType.U8 or SafeTensorsDType.I8
            or SafeTensorsDType.F8E5M2 or SafeTensorsDType.F8E4M3 or SafeTensorsDType.F8E8M0
            or SafeTensorsDType.F8E4M3Fnuz or SafeTensorsDType.F8E5M2Fnuz => 8,
        SafeTensorsDType.I16 or SafeTensorsDType.U16 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 => 16,
        SafeTensorsDType.I32 or SafeTensorsDType.U32 or SafeTensorsDType.F32 => 32,
        SafeTensorsDType.F64 or SafeTensorsDType.I64 or SafeTensorsDType.U64 or SafeTensorsDType.C64 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>The header spelling of <paramref name="dtype"/>, e.g. <c>"BF16"</c>.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>The string written in the header's <c>"dtype"</c> field.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a defined value.</exception>
    public static string GetName(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool => "BOOL",
        SafeTensorsDType.U8 => "U8",
        SafeTensorsDType.I8 => "I8",
        SafeTensorsDType.F8E5M2 => "F8_E5M2",
        SafeTensorsDType.F8E4M3 => "F8_E4M3",
        SafeTensorsDType.I16 => "I16",
        SafeTensorsDType.U16 => "U16",
        SafeTensorsDType.F16 => "F16",
        SafeTensorsDType.BF16 => "BF16",
        SafeTensorsDType.I32 => "I32",
        SafeTensorsDType.U32 => "U32",
        SafeTensorsDType.F32 => "F32",
        SafeTensorsDType.F64 => "F64",
        SafeTensorsDType.I64 => "I64",
        SafeTensorsDType.U64 => "U64",
        SafeTensorsDType.F4 => "F4",
        SafeTensorsDType.F6E2M3 => "F6_E2M3",
        SafeTensorsDType.F6E3M2 => "F6_E3M2",
        SafeTensorsDType.F8E8M0 => "F8_E8M0",
        SafeTensorsDType.F8E4M3Fnuz => "F8_E4M3FNUZ",
        SafeTensorsDType.F8E5M2Fnuz => "F8_E5M2FNUZ",
        SafeTensorsDType.C64 => "C64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>Parses a header dtype spelling (case-sensitive, as the format defines it).</summary>
    /// <param name="name">The header string, e.g. <c>"F16"</c>.</param>
    /// <param name="dtype">The parsed type, or <see cref="SafeTensorsDType.Bool"/> when this returns false.</param>
    /// <returns><see langword="true"/> when <paramref name="name"/> is a known dtype.</returns>
    public static bool TryParse(string? name, out SafeTensorsDType dtype)
    {
        switch (name)
        {
            case "BOOL": dtype = SafeTensorsDType.Bool; return true;
            case "U8": dtype = SafeTensorsDType.U8; return true;
            case "I8": dtype = SafeTensorsDType.I8; return true;
            case "F8_E5M2": dtype = SafeTensorsDType.F8E5M2; return true;
            case "F8_E4M3": dtype = SafeTensorsDType.F8E4M3; return true;
            case "I16": dtype = SafeTensorsDType.I16; return true;
            case "U16": dtype = SafeTensorsDType.U16; return true;
            case "F16": dtype = SafeTensorsDType.F16; return true;
            case "BF16": dtype = SafeTensorsDType.BF16; return true;
            case "I32": dtype = SafeTensorsDType.I32; return true;
            case "U32": dtype = SafeTensorsDType.U32; return true;
            case "F32": dtype = SafeTensorsDType.F32; return true;
            case "F64": dtype = SafeTensorsDType.F64; return true;
            case "I64": dtype = SafeTensorsDType.I64; return true;
            case "U64": dtype = SafeTensorsDType.U64; return true;
            case "F4": dtype = SafeTensorsDType.F4; return true;
            case "F6_E2M3": dtype = SafeTensorsDType.F6E2M3; return true;
            case "F6_E3M2": dtype = SafeTensorsDType.F6E3M2; return true;
            case "F8_E8M0": dtype = SafeTensorsDType.F8E8M0; return true;
            case "F8_E4M3FNUZ": dtype = SafeTensorsDType.F8E4M3Fnuz; return true;
            case "F8_E5M2FNUZ": dtype = SafeTensorsDType.F8E5M2Fnuz; return true;
            case "C64": dtype = SafeTensorsDType.C64; return true;
            default: dtype = SafeTensorsDType.Bool; return false;
        }
    }

    /// <summary>True for the dtypes that <see cref="SafeTensorsDTypeInfo"/> converts to and from float32: F16, BF16, F32, F64.</summary>
    /// <param name="dtype">The element type.</param>
    /// <returns>Whether the type is a convertible floating type.</returns>
    public static bool IsConvertibleFloat(SafeTensorsDType dtype) =>
        dtype is SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F32 or SafeTensorsDType.F64;
}
