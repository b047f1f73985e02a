using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Masking
{
    /// <summary>Packs a byte mask (non-zero = keep) into bits, LSB first; bits past the end of the last word are cleared.</summary>
    /// <param name="mask">One byte per element.</param>
    /// <param name="bits">Destination of at least <see cref="BitMaskLength"/>(<c>mask.Length</c>) words.</param>
    /// <exception cref="ArgumentException"><paramref name="bits"/> is too short.</exception>
    public static void Pack(ReadOnlySpan<byte> mask, Span<ulong> bits)
    {
        int words = BitMaskLength(mask.Length);
        if (bits.Length < words) ThrowHelper.ThrowDestinationTooShort(nameof(bits), bits.Length, words);

        ref byte m = ref MemoryMarshal.GetReference(mask);
        int full = mask.Length >> 6;
        for (int word = 0; word < full; word++)
        {
            // 64 mask bytes → 64 bits: compare with zero and take the lane sign bits (vpmovb2m / pmovmskb).
            ref byte chunk = ref Unsafe.Add(ref m, word << 6);
            ulong zero;
            if (Vector512.IsHardwareAccelerated)
            {
                zero = Vector512.Equals(Vector512.LoadUnsafe(ref chunk), Vector512<byte>.Zero).ExtractMostSignificantBits();
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                zero = 0;
                for (int q = 0; q < 4; q++)
                    zero |= (ulong)Vector128.Equals(Vector128.LoadUnsafe(ref chunk, (nuint)(q * 16)), Vector128<byte>.Zero).ExtractMostSignificantBits() << (q * 16);
            }
            else
            {
                zero = 0;
                for (int j = 0; j < 64; j++) zero |= (Unsafe.Add(ref chunk, j) == 0 ? 1UL : 0UL) << j;
            }
            bits[word] = ~zero;
        }
        if (full < words)
        {
            ulong last = 0;
            for (int j = full << 6, bit = 0; j < mask.Length; j++, bit++)
                last |= (Unsafe.Add(ref m, j) != 0 ? 1UL : 0UL) << bit;
            bits[full] = last;
        }
    }

    /// <summary>Unpacks the first <c>mask.Length</c> bits into bytes (1 = keep, 0 = prune).</summary>
    /// <param name="bits">Packed mask of at least <see cref="BitMaskLength"/>(<c>mask.Length</c>) words.</param>
    /// <param name="mask">Destination; its length is the element count.</param>
    /// <exception cref="ArgumentException"><paramref name="bits"/> is too short.</exception>
    public static void Unpack(ReadOnlySpan<ulong> bits, Span<byte> mask)
    {
        int words = BitMaskLength(mask.Length);
        if (bits.Length < words) ThrowHelper.ThrowArgument(nameof(bits), $"Bit mask has {bits.Length} words; {words} are needed for {mask.Length} elements.");
        for (int i = 0; i < mask.Length; i++)
            mask[i] = (byte)((bits[i >> 6] >> (i & 63)) & 1);
    }

    /// <summary>Number of kept (non-zero) entries of a byte mask.</summary>
    public static int CountKept(ReadOnlySpan<byte> mask)
    {
        ref byte m = ref MemoryMarshal.GetReference(mask);
        nuint length = (nuint)mask.Length, i = 0;
        int zeros = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 64 <= length; i += 64)
                zeros += BitOperations.PopCount(Vector512.Equals(Vector512.LoadUnsafe(ref m, i), Vector512<byte>.Zero).ExtractMostSignificantBits());
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
                zeros += BitOperations.PopCount(Vector128.Equals(Vector128.LoadUnsafe(ref m, i), Vector128<byte>.Zero).ExtractMostSignificantBits());
        }
        for (; i < length; i++) zeros += Unsafe.Add(ref m, i) == 0 ? 1 : 0;
        return mask.Length - zeros;
    }

    /// <summary>Number of set bits among the first <paramref name="length"/> bits of a packed mask.</summary>
    /// <exception cref="ArgumentException"><paramref name="bits"/> is shorter than <paramref name="length"/> needs.</exception>
    public static int CountKept(ReadOnlySpan<ulong> bits, int length)
    {
        int words = BitMaskLength(length);
        if (bits.Length < words) ThrowHelper.ThrowArgument(nameof(bits), $"Bit mask has {bits.Length} words; {words} are needed for {length} elements.");
        int full = length >> 6, count = 0;
        for (int w = 0; w < full; w++) count += BitOperations.PopCount(bits[w]);
        if (full < words) count += BitOperations.PopCount(bits[full] & ((1UL << (length & 63)) - 1));
        return count;
    }
}
