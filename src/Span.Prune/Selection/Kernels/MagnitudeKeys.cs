using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Span.Prune.SelectionKernels;

// The key makers of the global magnitude engine, one per element type (see IMagnitudeKey). |w| of an IEEE float
// orders like its bits with the sign cleared, so most keys are the bits themselves.

/// <summary>float32: the key is the bits with the sign cleared, <c>bits &amp; 0x7FFFFFFF</c> (31 bits, two levels).</summary>
internal readonly struct Float32Key : IMagnitudeKey<Float32Key, float>
{
    public static uint Key(float value) => BitConverter.SingleToUInt32Bits(value) & 0x7FFFFFFFu;

    public static void Keys(ReadOnlySpan<float> source, Span<uint> keys) =>
        TensorPrimitives.BitwiseAnd(MemoryMarshal.Cast<float, uint>(source), 0x7FFFFFFFu, keys);

    public static void CountHigh(ReadOnlySpan<float> chunk, Span<uint> histograms, int subStride) =>
        MagnitudeRadix.Count32(MemoryMarshal.Cast<float, uint>(chunk), histograms, subStride);

    public static void CountLow(ReadOnlySpan<float> chunk, uint bin, Span<uint> low) =>
        MagnitudeRadix.CountLow(MemoryMarshal.Cast<float, uint>(chunk), bin, low);

    public static long Apply(ReadOnlySpan<float> source, Span<float> destination, uint cut, long ties, ref long zeros) =>
        MagnitudeRadix.Apply32(MemoryMarshal.Cast<float, uint>(source), MemoryMarshal.Cast<float, uint>(destination), cut, ties, ref zeros);
}

/// <summary>
/// bfloat16 bits: the key is <c>(bits &amp; 0x7FFF) &lt;&lt; 16</c>, which is exactly the float32 key of the widened
/// value, so BF16 ranks with float32 keys of other tensors; 15 bits, one level.
/// </summary>
internal readonly struct BFloat16Key : IMagnitudeKey<BFloat16Key, ushort>
{
    public static bool WholeKeyInFirstLevel => true;

    public static uint Key(ushort value) => (uint)(value & 0x7FFF) << 16;

    public static void Keys(ReadOnlySpan<ushort> source, Span<uint> keys)
    {
        for (int i = 0; i < source.Length; i++) keys[i] = Key(source[i]);
    }

    public static void CountHigh(ReadOnlySpan<ushort> chunk, Span<uint> histograms, int subStride) =>
        MagnitudeRadix.Count16(chunk, histograms, subStride);

    public static long Apply(ReadOnlySpan<ushort> source, Span<ushort> destination, uint cut, long ties, ref long zeros) =>
        MagnitudeRadix.Apply16(source, destination, cut, ties, ref zeros);
}

/// <summary>
/// binary16 when every tensor is F16: the key is the F16's own magnitude bits, <c>(bits &amp; 0x7FFF) &lt;&lt; 16</c>
/// (an F16 key space, not float32's: ±∞ and NaN start at bin <c>0x7C00</c>); 15 bits, one level.
/// </summary>
internal readonly struct Float16Key : IMagnitudeKey<Float16Key, Half>
{
    public static bool WholeKeyInFirstLevel => true;

    public static int FirstNonFiniteBin => 0x7C00;

    public static uint Key(Half value) => (uint)(BitConverter.HalfToUInt16Bits(value) & 0x7FFF) << 16;

    public static void Keys(ReadOnlySpan<Half> source, Span<uint> keys)
    {
        for (int i = 0; i < source.Length; i++) keys[i] = Key(source[i]);
    }

    public static void CountHigh(ReadOnlySpan<Half> chunk, Span<uint> histograms, int subStride) =>
        MagnitudeRadix.Count16(MemoryMarshal.Cast<Half, ushort>(chunk), histograms, subStride);

    public static long Apply(ReadOnlySpan<Half> source, Span<Half> destination, uint cut, long ties, ref long zeros) =>
        MagnitudeRadix.Apply16(MemoryMarshal.Cast<Half, ushort>(source), MemoryMarshal.Cast<Half, ushort>(destination), cut, ties, ref zeros);
}

/// <summary>
/// binary16 among wider element types: the float32 key of its exact widening, so it ranks with them; 31 bits, two
/// levels (counting and masking by converted keys).
/// </summary>
internal readonly struct WidenedFloat16Key : IMagnitudeKey<WidenedFloat16Key, Half>
{
    public static uint Key(Half value) => BitConverter.SingleToUInt32Bits((float)value) & 0x7FFFFFFFu;

    public static void Keys(ReadOnlySpan<Half> source, Span<uint> keys)
    {
        Span<uint> result = keys[..source.Length];
        TensorPrimitives.ConvertToSingle(source, MemoryMarshal.Cast<uint, float>(result));
        TensorPrimitives.BitwiseAnd(result, 0x7FFFFFFFu, result);
    }
}

/// <summary>
/// binary64: the float32 key of <c>(float)w</c>, as float32 scoring sees it (a value beyond the float32 range becomes
/// ∞ and is rejected as non-finite); 31 bits, two levels.
/// </summary>
internal readonly struct Float64Key : IMagnitudeKey<Float64Key, double>
{
    public static uint Key(double value) => BitConverter.SingleToUInt32Bits((float)value) & 0x7FFFFFFFu;

    public static void Keys(ReadOnlySpan<double> source, Span<uint> keys)
    {
        for (int i = 0; i < source.Length; i++) keys[i] = Key(source[i]);
    }
}
