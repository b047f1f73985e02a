using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Applies pruning masks to weights in place, packs and unpacks bit masks, and expands unit masks of any
/// granularity to elements.
/// </summary>
/// <remarks>
/// <para>Mask convention (as <c>torch.nn.utils.prune</c>): one <see cref="byte"/> per unit, non-zero = keep,
/// 0 = prune. Bit masks are <see cref="ulong"/> words, bit <c>i % 64</c> of word <c>i / 64</c> (LSB first) set = keep.</para>
/// <para>Pruned weights become exactly <c>+0.0f</c>, whatever they held (a selection, not a multiplication, so
/// a NaN or −0 weight cannot survive as NaN·0 or −0). Applying a mask again after a weight update re-prunes the
/// same entries, which is how masked fine-tuning keeps pruned weights at zero; the same call zeroes a gradient.</para>
/// </remarks>
public static partial class Masking
{
    /// <summary>Zeroes <c>weights[i]</c> wherever <c>mask[i] == 0</c>.</summary>
    /// <param name="weights">Weights, modified in place (also usable on a gradient).</param>
    /// <param name="mask">One byte per element; 0 = prune.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Apply(Span<float> weights, ReadOnlySpan<byte> mask)
    {
        if (mask.Length != weights.Length) ThrowHelper.ThrowLengthMismatch(nameof(mask), mask.Length, weights.Length);
        ApplyByteMask(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(mask), (nuint)weights.Length);
    }

    /// <summary>Zeroes <c>weights[i]</c> wherever bit <c>i</c> of <paramref name="bits"/> is clear.</summary>
    /// <param name="weights">Weights, modified in place.</param>
    /// <param name="bits">Packed mask of at least <see cref="BitMaskLength"/>(<c>weights.Length</c>) words; bits past the end are ignored.</param>
    /// <exception cref="ArgumentException"><paramref name="bits"/> is too short.</exception>
    public static void Apply(Span<float> weights, ReadOnlySpan<ulong> bits)
    {
        int words = BitMaskLength(weights.Length);
        if (bits.Length < words) ThrowHelper.ThrowDestinationTooShort(nameof(bits), bits.Length, words);
        ApplyBitMask(ref MemoryMarshal.GetReference(weights), ref MemoryMarshal.GetReference(bits), (nuint)weights.Length);
    }

    /// <summary>Words needed to pack a mask of <paramref name="length"/> elements: <c>⌈length / 64⌉</c>.</summary>
    public static int BitMaskLength(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return (int)(((uint)length + 63u) >> 6);
    }

    // Widening a byte mask to 32-bit lanes: vpmovzxbd loads 16 (AVX-512), 8 (AVX2) or 4 (SSE4.1) bytes and
    // zero-extends them; `!= 0` then selects. Cross-platform fallbacks widen in two steps.
    private static void ApplyByteMask(ref float w, ref byte m, nuint length)
    {
        nuint i = 0;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512<int> lanes = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref m, i));
                Vector512<float> keep = Vector512.Equals(lanes, Vector512<int>.Zero).AsSingle();
                Vector512.AndNot(Vector512.LoadUnsafe(ref w, i), keep).StoreUnsafe(ref w, i);
            }
        }
        if (Avx2.IsSupported)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256<int> lanes = Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref m, i))).AsByte());
                Vector256<float> prune = Vector256.Equals(lanes, Vector256<int>.Zero).AsSingle();
                Vector256.AndNot(Vector256.LoadUnsafe(ref w, i), prune).StoreUnsafe(ref w, i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128<byte> bytes = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref m, i))).AsByte();
                Vector128<uint> lanes = Vector128.WidenLower(Vector128.WidenLower(bytes));
                Vector128<float> prune = Vector128.Equals(lanes, Vector128<uint>.Zero).AsSingle();
                Vector128.AndNot(Vector128.LoadUnsafe(ref w, i), prune).StoreUnsafe(ref w, i);
            }
        }
        for (; i < length; i++)
        {
            if (Unsafe.Add(ref m, i) == 0) Unsafe.Add(ref w, i) = 0f;
        }
    }

    // A bit mask is expanded by broadcasting the word's relevant bits to every lane and testing each lane's own
    // bit (lane j tests 1 << j), which needs no gather and no table.
    private static void ApplyBitMask(ref float w, ref ulong bits, nuint length)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> laneBits = Vector512.Create(1u, 1u << 1, 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 6, 1u << 7,
                1u << 8, 1u << 9, 1u << 10, 1u << 11, 1u << 12, 1u << 13, 1u << 14, 1u << 15);
            for (; i + 16 <= length; i += 16)
            {
                uint chunk = (uint)(Unsafe.Add(ref bits, i >> 6) >> (int)(i & 63)) & 0xFFFF;
                Vector512<float> keep = Vector512.Equals(Vector512.Create(chunk) & laneBits, laneBits).AsSingle();
                (Vector512.LoadUnsafe(ref w, i) & keep).StoreUnsafe(ref w, i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> laneBits = Vector256.Create(1u, 1u << 1, 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 6, 1u << 7);
            for (; i + 8 <= length; i += 8)
            {
                uint chunk = (uint)(Unsafe.Add(ref bits, i >> 6) >> (int)(i & 63)) & 0xFF;
                Vector256<float> keep = Vector256.Equals(Vector256.Create(chunk) & laneBits, laneBits).AsSingle();
                (Vector256.LoadUnsafe(ref w, i) & keep).StoreUnsafe(ref w, i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<uint> laneBits = Vector128.Create(1u, 1u << 1, 1u << 2, 1u << 3);
            for (; i + 4 <= length; i += 4)
            {
                uint chunk = (uint)(Unsafe.Add(ref bits, i >> 6) >> (int)(i & 63)) & 0xF;
                Vector128<float> keep = Vector128.Equals(Vector128.Create(chunk) & laneBits, laneBits).AsSingle();
                (Vector128.LoadUnsafe(ref w, i) & keep).StoreUnsafe(ref w, i);
            }
        }
        for (; i < length; i++)
        {
            if (((Unsafe.Add(ref bits, i >> 6) >> (int)(i & 63)) & 1) == 0) Unsafe.Add(ref w, i) = 0f;
        }
    }
}
