using CommunityToolkit.HighPerformance.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// N:M masks by in-group rank: element <c>j</c> of a group of <c>m</c> has rank
/// <c>#{i : s_i &lt; s_j, or s_i == s_j and i &lt; j}</c> (its position in a stable ascending sort of the group), and is
/// kept iff <c>rank ≥ m − n</c>. That prunes the <c>m − n</c> lowest scores, ties pruned lowest index first — the
/// exact-k rule applied to every group.
/// </summary>
/// <remarks>
/// <para>M = 4 (2:4 and friends) is vectorised: a group is one 128-bit lane, and its rank comes from comparing each
/// lane with the three in-group rotations (<c>vpermilps</c>), no sorting. 16 groups (64 values) make one 64-byte store.</para>
/// <para>Other M ≤ 32 count ranks with O(M²) scalar comparisons; larger M sorts (score, index) keys per group.</para>
/// </remarks>
internal static class GroupRank
{
    /// <summary>Writes the N:M mask of <paramref name="scoreSpan"/> (length a multiple of <paramref name="m"/>).</summary>
    public static void Mask(ReadOnlySpan<float> scoreSpan, int n, int m, Span<byte> maskSpan) =>
        Mask(ref MemoryMarshal.GetReference(scoreSpan), scoreSpan.Length, n, m, ref MemoryMarshal.GetReference(maskSpan));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Mask(ref float scores, nint length, int n, int m, ref byte mask)
    {
        if (m == 4)
        {
            Mask4(ref scores, length, 4 - n, ref mask);
        }
        else if (m <= 32)
        {
            for (nint g = 0; g < length; g += m) MaskSmall(ref Unsafe.Add(ref scores, g), m, m - n, ref Unsafe.Add(ref mask, g));
        }
        else
        {
            using SpanOwner<ulong> keys = SpanOwner<ulong>.Allocate(m);
            for (nint g = 0; g < length; g += m) MaskSorted(ref Unsafe.Add(ref scores, g), m, m - n, ref Unsafe.Add(ref mask, g), keys.Span);
        }
    }

    private static void Mask4(ref float scores, nint length, int prunePerGroup, ref byte mask)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var need = Vector512.Create(prunePerGroup);
            for (; i + 64 <= length; i += 64)
            {
                var k0 = Keep(Vector512.LoadUnsafe(ref scores, (nuint)i), need);
                var k1 = Keep(Vector512.LoadUnsafe(ref scores, (nuint)(i + 16)), need);
                var k2 = Keep(Vector512.LoadUnsafe(ref scores, (nuint)(i + 32)), need);
                var k3 = Keep(Vector512.LoadUnsafe(ref scores, (nuint)(i + 48)), need);
                // Kept lanes are all ones (−1): narrowed to bytes and negated they become 1.
                (Vector512<byte>.Zero - Vector512.Narrow(Vector512.Narrow(k0, k1), Vector512.Narrow(k2, k3))).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var need = Vector256.Create(prunePerGroup);
            for (; i + 32 <= length; i += 32)
            {
                var k0 = Keep(Vector256.LoadUnsafe(ref scores, (nuint)i), need);
                var k1 = Keep(Vector256.LoadUnsafe(ref scores, (nuint)(i + 8)), need);
                var k2 = Keep(Vector256.LoadUnsafe(ref scores, (nuint)(i + 16)), need);
                var k3 = Keep(Vector256.LoadUnsafe(ref scores, (nuint)(i + 24)), need);
                (Vector256<byte>.Zero - Vector256.Narrow(Vector256.Narrow(k0, k1), Vector256.Narrow(k2, k3))).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var need = Vector128.Create(prunePerGroup);
            for (; i + 16 <= length; i += 16)
            {
                var k0 = Keep(Vector128.LoadUnsafe(ref scores, (nuint)i), need);
                var k1 = Keep(Vector128.LoadUnsafe(ref scores, (nuint)(i + 4)), need);
                var k2 = Keep(Vector128.LoadUnsafe(ref scores, (nuint)(i + 8)), need);
                var k3 = Keep(Vector128.LoadUnsafe(ref scores, (nuint)(i + 12)), need);
                (Vector128<byte>.Zero - Vector128.Narrow(Vector128.Narrow(k0, k1), Vector128.Narrow(k2, k3))).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        for (; i < length; i += 4) MaskSmall(ref Unsafe.Add(ref scores, i), 4, prunePerGroup, ref Unsafe.Add(ref mask, i));
    }

    // Rotation r compares in-group lane j with lane (j + r) mod 4; that lane has the lower index iff j ≥ 4 − r, so it
    // also counts when equal there. rank = Σ_r [other < self] + [other == self and other index lower].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Keep(Vector512<float> s, Vector512<int> need)
    {
        var r1 = Vector512.Shuffle(s, Vector512.Create(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
        var r2 = Vector512.Shuffle(s, Vector512.Create(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
        var r3 = Vector512.Shuffle(s, Vector512.Create(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14));
        var low1 = Vector512.Create(0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, -1, 0, 0, 0, -1).AsSingle();
        var low2 = Vector512.Create(0, 0, -1, -1, 0, 0, -1, -1, 0, 0, -1, -1, 0, 0, -1, -1).AsSingle();
        var low3 = Vector512.Create(0, -1, -1, -1, 0, -1, -1, -1, 0, -1, -1, -1, 0, -1, -1, -1).AsSingle();
        var rank = -(Vector512.LessThan(r1, s) | (Vector512.Equals(r1, s) & low1)).AsInt32()
                   - (Vector512.LessThan(r2, s) | (Vector512.Equals(r2, s) & low2)).AsInt32()
                   - (Vector512.LessThan(r3, s) | (Vector512.Equals(r3, s) & low3)).AsInt32();
        return Vector512.GreaterThanOrEqual(rank, need).AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Keep(Vector256<float> s, Vector256<int> need)
    {
        var r1 = Vector256.Shuffle(s, Vector256.Create(1, 2, 3, 0, 5, 6, 7, 4));
        var r2 = Vector256.Shuffle(s, Vector256.Create(2, 3, 0, 1, 6, 7, 4, 5));
        var r3 = Vector256.Shuffle(s, Vector256.Create(3, 0, 1, 2, 7, 4, 5, 6));
        var low1 = Vector256.Create(0, 0, 0, -1, 0, 0, 0, -1).AsSingle();
        var low2 = Vector256.Create(0, 0, -1, -1, 0, 0, -1, -1).AsSingle();
        var low3 = Vector256.Create(0, -1, -1, -1, 0, -1, -1, -1).AsSingle();
        var rank = -(Vector256.LessThan(r1, s) | (Vector256.Equals(r1, s) & low1)).AsInt32()
                   - (Vector256.LessThan(r2, s) | (Vector256.Equals(r2, s) & low2)).AsInt32()
                   - (Vector256.LessThan(r3, s) | (Vector256.Equals(r3, s) & low3)).AsInt32();
        return Vector256.GreaterThanOrEqual(rank, need).AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Keep(Vector128<float> s, Vector128<int> need)
    {
        var r1 = Vector128.Shuffle(s, Vector128.Create(1, 2, 3, 0));
        var r2 = Vector128.Shuffle(s, Vector128.Create(2, 3, 0, 1));
        var r3 = Vector128.Shuffle(s, Vector128.Create(3, 0, 1, 2));
        var low1 = Vector128.Create(0, 0, 0, -1).AsSingle();
        var low2 = Vector128.Create(0, 0, -1, -1).AsSingle();
        var low3 = Vector128.Create(0, -1, -1, -1).AsSingle();
        var rank = -(Vector128.LessThan(r1, s) | (Vector128.Equals(r1, s) & low1)).AsInt32()
                   - (Vector128.LessThan(r2, s) | (Vector128.Equals(r2, s) & low2)).AsInt32()
                   - (Vector128.LessThan(r3, s) | (Vector128.Equals(r3, s) & low3)).AsInt32();
        return Vector128.GreaterThanOrEqual(rank, need).AsUInt32();
    }

    private static void MaskSmall(ref float s, int m, int prunePerGroup, ref byte mask)
    {
        for (int j = 0; j < m; j++)
        {
            float x = Unsafe.Add(ref s, j);
            int rank = 0;
            for (int i = 0; i < m; i++)
            {
                float y = Unsafe.Add(ref s, i);
                rank += y < x || (y == x && i < j) ? 1 : 0;
            }
            Unsafe.Add(ref mask, j) = rank >= prunePerGroup ? (byte)1 : (byte)0;
        }
    }

    private static void MaskSorted(ref float s, int m, int prunePerGroup, ref byte mask, Span<ulong> keys)
    {
        for (int j = 0; j < m; j++)
        {
            // Order-preserving key with −0 folded into +0 (they compare equal), index in the low half for the tie rule.
            uint bits = BitConverter.SingleToUInt32Bits(Unsafe.Add(ref s, j));
            if (bits == 0x80000000u) bits = 0;
            uint key = bits ^ (uint)(((int)bits >> 31) | int.MinValue);
            keys[j] = ((ulong)key << 32) | (uint)j;
        }
        keys.Sort();
        for (int r = 0; r < m; r++) Unsafe.Add(ref mask, (int)(uint)keys[r]) = r >= prunePerGroup ? (byte)1 : (byte)0;
    }
}
