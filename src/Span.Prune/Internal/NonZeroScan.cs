using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// Finds the stored entries of a dense row for the sparse formats: either the non-zero values, or the entries
/// whose mask byte is non-zero. Works 16 elements at a time: one compare gives a 16-bit mask, and the set bits
/// are walked with trailing-zero counts, so the cost follows the number of non-zeros rather than the row length.
/// </summary>
/// <remarks>
/// Zero test: <c>value == 0f</c> in IEEE comparison, so both +0 and −0 are zero (a −0 is not stored and comes back
/// as +0), and NaN is not zero (it is stored and propagates through a multiply, as in the dense product).
/// </remarks>
internal static class NonZeroScan
{
    /// <summary>Bit <c>i</c> set when <c>p[i] != 0</c>, for the 16 floats at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NonZeroBits16(ref float p)
    {
        if (Vector512.IsHardwareAccelerated)
            return ~(uint)Vector512.Equals(Vector512.LoadUnsafe(ref p), Vector512<float>.Zero).ExtractMostSignificantBits() & 0xFFFF;
        if (Vector256.IsHardwareAccelerated)
        {
            uint lo = Vector256.Equals(Vector256.LoadUnsafe(ref p), Vector256<float>.Zero).ExtractMostSignificantBits();
            uint hi = Vector256.Equals(Vector256.LoadUnsafe(ref Unsafe.Add(ref p, 8)), Vector256<float>.Zero).ExtractMostSignificantBits();
            return ~(lo | hi << 8) & 0xFFFF;
        }
        if (Vector128.IsHardwareAccelerated)
        {
            uint zeros = 0;
            for (int q = 0; q < 4; q++)
                zeros |= Vector128.Equals(Vector128.LoadUnsafe(ref Unsafe.Add(ref p, 4 * q)), Vector128<float>.Zero).ExtractMostSignificantBits() << (4 * q);
            return ~zeros & 0xFFFF;
        }
        uint bits = 0;
        for (int i = 0; i < 16; i++) if (Unsafe.Add(ref p, i) != 0f) bits |= 1u << i;
        return bits;
    }

    /// <summary>Bit <c>i</c> set when <c>m[i] != 0</c>, for the 16 bytes at <paramref name="m"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint KeptBits16(ref byte m)
    {
        if (Vector128.IsHardwareAccelerated)
            return ~Vector128.Equals(Vector128.LoadUnsafe(ref m), Vector128<byte>.Zero).ExtractMostSignificantBits() & 0xFFFF;
        uint bits = 0;
        for (int i = 0; i < 16; i++) if (Unsafe.Add(ref m, i) != 0) bits |= 1u << i;
        return bits;
    }

    /// <summary>Number of non-zero values.</summary>
    public static int Count(ReadOnlySpan<float> values)
    {
        ref float p = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0, count = 0;
        for (; i + 16 <= n; i += 16) count += BitOperations.PopCount(NonZeroBits16(ref Unsafe.Add(ref p, i)));
        for (; i < n; i++) if (Unsafe.Add(ref p, i) != 0f) count++;
        return count;
    }

    /// <summary>True when some value is non-zero.</summary>
    public static bool Any(ReadOnlySpan<float> values)
    {
        ref float p = ref MemoryMarshal.GetReference(values);
        int n = values.Length, i = 0;
        for (; i + 16 <= n; i += 16) if (NonZeroBits16(ref Unsafe.Add(ref p, i)) != 0) return true;
        for (; i < n; i++) if (Unsafe.Add(ref p, i) != 0f) return true;
        return false;
    }

    /// <summary>True when some mask byte is non-zero.</summary>
    public static bool Any(ReadOnlySpan<byte> mask) => mask.IndexOfAnyExcept((byte)0) >= 0;

    /// <summary>
    /// Writes the non-zero values of <paramref name="row"/> and their positions (plus <paramref name="indexBase"/>)
    /// in ascending order; returns how many. The destinations must hold at least that many.
    /// </summary>
    public static int Compress<TIndex>(ReadOnlySpan<float> row, int indexBase, Span<TIndex> indices, Span<float> values)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        ref TIndex di = ref MemoryMarshal.GetReference(indices);
        ref float dv = ref MemoryMarshal.GetReference(values);
        int n = row.Length, i = 0, c = 0;
        for (; i + 16 <= n; i += 16)
        {
            for (uint bits = NonZeroBits16(ref Unsafe.Add(ref p, i)); bits != 0; bits &= bits - 1)
            {
                int j = i + BitOperations.TrailingZeroCount(bits);
                Unsafe.Add(ref dv, c) = Unsafe.Add(ref p, j);
                Unsafe.Add(ref di, c) = TIndex.CreateTruncating(indexBase + j);
                c++;
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref p, i);
            if (v == 0f) continue;
            Unsafe.Add(ref dv, c) = v;
            Unsafe.Add(ref di, c) = TIndex.CreateTruncating(indexBase + i);
            c++;
        }
        return c;
    }

    /// <summary>As <see cref="Compress{TIndex}(ReadOnlySpan{float}, int, Span{TIndex}, Span{float})"/>, keeping the entries whose mask byte is non-zero (whatever their value).</summary>
    public static int Compress<TIndex>(ReadOnlySpan<float> row, ReadOnlySpan<byte> mask, int indexBase, Span<TIndex> indices, Span<float> values)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        ref byte m = ref MemoryMarshal.GetReference(mask);
        ref TIndex di = ref MemoryMarshal.GetReference(indices);
        ref float dv = ref MemoryMarshal.GetReference(values);
        int n = row.Length, i = 0, c = 0;
        for (; i + 16 <= n; i += 16)
        {
            for (uint bits = KeptBits16(ref Unsafe.Add(ref m, i)); bits != 0; bits &= bits - 1)
            {
                int j = i + BitOperations.TrailingZeroCount(bits);
                Unsafe.Add(ref dv, c) = Unsafe.Add(ref p, j);
                Unsafe.Add(ref di, c) = TIndex.CreateTruncating(indexBase + j);
                c++;
            }
        }
        for (; i < n; i++)
        {
            if (Unsafe.Add(ref m, i) == 0) continue;
            Unsafe.Add(ref dv, c) = Unsafe.Add(ref p, i);
            Unsafe.Add(ref di, c) = TIndex.CreateTruncating(indexBase + i);
            c++;
        }
        return c;
    }

    /// <summary>Adds to <c>counts[j / groupSize]</c> one for every non-zero <c>row[j]</c>.</summary>
    public static void AddGroupCounts(ReadOnlySpan<float> row, int groupSize, Span<int> counts)
    {
        ref float p = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        for (; i + 16 <= n; i += 16)
            for (uint bits = NonZeroBits16(ref Unsafe.Add(ref p, i)); bits != 0; bits &= bits - 1)
                counts[(i + BitOperations.TrailingZeroCount(bits)) / groupSize]++;
        for (; i < n; i++) if (Unsafe.Add(ref p, i) != 0f) counts[i / groupSize]++;
    }

    /// <summary>Adds to <c>counts[j / groupSize]</c> one for every non-zero <c>mask[j]</c>.</summary>
    public static void AddGroupCounts(ReadOnlySpan<byte> mask, int groupSize, Span<int> counts)
    {
        ref byte p = ref MemoryMarshal.GetReference(mask);
        int n = mask.Length, i = 0;
        for (; i + 16 <= n; i += 16)
            for (uint bits = KeptBits16(ref Unsafe.Add(ref p, i)); bits != 0; bits &= bits - 1)
                counts[(i + BitOperations.TrailingZeroCount(bits)) / groupSize]++;
        for (; i < n; i++) if (Unsafe.Add(ref p, i) != 0) counts[i / groupSize]++;
    }
}
