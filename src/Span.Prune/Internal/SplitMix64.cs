using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014, "Fast Splittable Pseudorandom Number Generators"; the constants of
/// Vigna's reference <c>splitmix64.c</c>) used as a counter-based generator: output <c>i</c> of seed <c>s</c> is
/// <c>Mix(s + (i + 1)·γ)</c>, <c>γ = 0x9E3779B97F4A7C15</c>, all arithmetic modulo 2⁶⁴. Because element <c>i</c>
/// depends only on <c>(s, i)</c>, the vector and scalar paths give identical bits on every machine.
/// </summary>
internal static class SplitMix64
{
    public const ulong Gamma = 0x9E37_79B9_7F4A_7C15;
    private const ulong Mul1 = 0xBF58_476D_1CE4_E5B9;
    private const ulong Mul2 = 0x94D0_49BB_1331_11EB;

    /// <summary>2⁻²⁴: the top 24 bits of an output, scaled, are exactly a float in [0, 1).</summary>
    private const float UnitScale = 1f / (1 << 24);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * Mul1;
        z = (z ^ (z >> 27)) * Mul2;
        return z ^ (z >> 31);
    }

    /// <summary><c>destination[i] = (Mix(seed + (i + 1)·γ) >> 40)·2⁻²⁴</c>, uniform on the 2²⁴ floats <c>k·2⁻²⁴</c> in [0, 1).</summary>
    public static void FillUnit(Span<float> destination, ulong seed)
    {
        ref float d = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)destination.Length;
        nuint i = 0;
        // 64-bit lane multiplies are native with AVX-512 (vpmullq); narrower paths would emulate them, so below
        // 512 bits the scalar loop is used.
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            Vector512<ulong> gamma = Vector512.Create(Gamma);
            Vector512<ulong> counterLo = Vector512.Create(seed) + (Vector512<ulong>.Indices + Vector512<ulong>.One) * gamma;
            Vector512<ulong> counterHi = counterLo + Vector512.Create(unchecked(8 * Gamma));
            Vector512<ulong> step = Vector512.Create(unchecked(16 * Gamma));
            Vector512<float> scale = Vector512.Create(UnitScale);
            for (; i + (nuint)Vector512<float>.Count <= length; i += (nuint)Vector512<float>.Count)
            {
                Vector512<uint> bits = Vector512.Narrow(
                    Vector512.ShiftRightLogical(Mix(counterLo), 40),
                    Vector512.ShiftRightLogical(Mix(counterHi), 40));
                (Vector512.ConvertToSingle(bits.AsInt32()) * scale).StoreUnsafe(ref d, i);
                counterLo += step;
                counterHi += step;
            }
        }
        ulong counter = seed + (ulong)i * Gamma;
        for (; i < length; i++)
        {
            counter += Gamma;
            Unsafe.Add(ref d, i) = (Mix(counter) >> 40) * UnitScale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(Mul1);
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(Mul2);
        return z ^ Vector512.ShiftRightLogical(z, 31);
    }
}
