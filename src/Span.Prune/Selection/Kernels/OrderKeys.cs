using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// How a float maps to the order-preserving unsigned key that the radix histogram bins, and to the value that
/// comparisons see. Implemented by structs and passed as type arguments, so each kernel is specialised.
/// </summary>
internal interface IOrderKey
{
    /// <summary>Right shift from the 32-bit key to its 16-bit histogram bin.</summary>
    static abstract int BinShift { get; }

    /// <summary>First and last bins that hold finite values; the bins outside hold exactly ±∞ and NaN.</summary>
    static abstract int FirstFiniteBin { get; }

    /// <inheritdoc cref="FirstFiniteBin"/>
    static abstract int LastFiniteBin { get; }

    static abstract uint Key(uint bits);

    static abstract Vector512<uint> Key(Vector512<uint> bits);

    static abstract Vector256<uint> Key(Vector256<uint> bits);

    static abstract Vector128<uint> Key(Vector128<uint> bits);

    /// <summary>The value comparisons see: the float itself, or its magnitude.</summary>
    static abstract float Value(float x);

    static abstract Vector512<float> Value(Vector512<float> x);

    static abstract Vector256<float> Value(Vector256<float> x);

    static abstract Vector128<float> Value(Vector128<float> x);

    /// <summary>The compared value whose key is <paramref name="key"/>.</summary>
    static abstract float ValueOfKey(uint key);
}

/// <summary>
/// Signed values. Key: positives get the sign bit set, negatives have every bit flipped, so unsigned key order is float
/// order (<c>−∞ &lt; … &lt; −0 &lt; +0 &lt; … &lt; +∞</c>; NaNs sort beyond ±∞). Bins are the top 16 key bits: bins
/// <c>0x0000–0x007F</c> hold only −∞ and negative NaNs, <c>0xFF80–0xFFFF</c> only +∞ and positive NaNs. −0 (bin 0x7FFF)
/// and +0 (bin 0x8000) have different keys; callers merge those two bins so that ±0 stay equal.
/// </summary>
internal readonly struct SignedKey : IOrderKey
{
    public static int BinShift => 16;
    public static int FirstFiniteBin => 0x0080;
    public static int LastFiniteBin => 0xFF7F;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Key(uint bits) => bits ^ (uint)(((int)bits >> 31) | int.MinValue);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Key(Vector512<uint> bits) =>
        bits ^ (Vector512.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32() | Vector512.Create(0x80000000u));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Key(Vector256<uint> bits) =>
        bits ^ (Vector256.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32() | Vector256.Create(0x80000000u));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Key(Vector128<uint> bits) =>
        bits ^ (Vector128.ShiftRightArithmetic(bits.AsInt32(), 31).AsUInt32() | Vector128.Create(0x80000000u));

    public static float Value(float x) => x;
    public static Vector512<float> Value(Vector512<float> x) => x;
    public static Vector256<float> Value(Vector256<float> x) => x;
    public static Vector128<float> Value(Vector128<float> x) => x;

    public static float ValueOfKey(uint key) =>
        BitConverter.UInt32BitsToSingle(key >= 0x80000000u ? key ^ 0x80000000u : ~key);
}

/// <summary>
/// Magnitudes <c>|x|</c>: the key is the magnitude bits <c>bits &amp; 0x7FFFFFFF</c> (already ordered; ±0 share key 0).
/// Bins are key bits 30…15, so 256 bins per octave; bins <c>0xFF00–0xFFFF</c> hold only ∞ and NaN.
/// </summary>
internal readonly struct MagnitudeKey : IOrderKey
{
    public static int BinShift => 15;
    public static int FirstFiniteBin => 0;
    public static int LastFiniteBin => 0xFEFF;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Key(uint bits) => bits & 0x7FFFFFFFu;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Key(Vector512<uint> bits) => bits & Vector512.Create(0x7FFFFFFFu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Key(Vector256<uint> bits) => bits & Vector256.Create(0x7FFFFFFFu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Key(Vector128<uint> bits) => bits & Vector128.Create(0x7FFFFFFFu);

    public static float Value(float x) => MathF.Abs(x);
    public static Vector512<float> Value(Vector512<float> x) => Vector512.Abs(x);
    public static Vector256<float> Value(Vector256<float> x) => Vector256.Abs(x);
    public static Vector128<float> Value(Vector128<float> x) => Vector128.Abs(x);

    public static float ValueOfKey(uint key) => BitConverter.UInt32BitsToSingle(key);
}
