using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// Applies an exact-k threshold: unit <c>i</c> is pruned when <c>s[i] &lt; t</c>, or when <c>s[i] == t</c> and fewer than
/// <c>ties</c> earlier units equal to <c>t</c> were pruned (lowest indices first). Writes a byte mask (1 keep, 0 prune)
/// or zeroes weights in place. Returns the tie quota left over, so a caller can carry it across segments.
/// </summary>
/// <remarks>
/// The tie quota is spent vector by vector in index order: while it lasts, each vector also compares for equality; a
/// vector whose ties exceed the quota keeps only its lowest <c>ties</c> equal lanes (<c>pdep</c> of the quota into the
/// equal-lane bits). Once the quota is spent the loop is a plain compare. Tails are scalar (never overlapped), because an
/// overlapped vector would spend the quota twice.
/// </remarks>
internal static class ThresholdMask
{
    /// <summary>Writes the byte mask for <paramref name="scoreSpan"/> into the start of <paramref name="maskSpan"/> (long enough).</summary>
    public static int WriteMask(ReadOnlySpan<float> scoreSpan, float t, int ties, Span<byte> maskSpan) =>
        WriteMask(ref MemoryMarshal.GetReference(scoreSpan), scoreSpan.Length, t, ties, ref MemoryMarshal.GetReference(maskSpan));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int WriteMask(ref float scores, nint n, float t, int ties, ref byte mask)
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vt = Vector512.Create(t);
            var one = Vector512<byte>.One;
            for (; i + 64 <= n; i += 64)
            {
                var p0 = Prune(Vector512.LoadUnsafe(ref scores, (nuint)i), vt, ref ties);
                var p1 = Prune(Vector512.LoadUnsafe(ref scores, (nuint)(i + 16)), vt, ref ties);
                var p2 = Prune(Vector512.LoadUnsafe(ref scores, (nuint)(i + 32)), vt, ref ties);
                var p3 = Prune(Vector512.LoadUnsafe(ref scores, (nuint)(i + 48)), vt, ref ties);
                // Pruned lanes are all ones (−1); narrowed to bytes and added to 1 they become 0, kept lanes 1.
                var pruned = Vector512.Narrow(Vector512.Narrow(p0, p1), Vector512.Narrow(p2, p3));
                (one + pruned).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            var one = Vector256<byte>.One;
            for (; i + 32 <= n; i += 32)
            {
                var p0 = Prune(Vector256.LoadUnsafe(ref scores, (nuint)i), vt, ref ties);
                var p1 = Prune(Vector256.LoadUnsafe(ref scores, (nuint)(i + 8)), vt, ref ties);
                var p2 = Prune(Vector256.LoadUnsafe(ref scores, (nuint)(i + 16)), vt, ref ties);
                var p3 = Prune(Vector256.LoadUnsafe(ref scores, (nuint)(i + 24)), vt, ref ties);
                var pruned = Vector256.Narrow(Vector256.Narrow(p0, p1), Vector256.Narrow(p2, p3));
                (one + pruned).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vt = Vector128.Create(t);
            var one = Vector128<byte>.One;
            for (; i + 16 <= n; i += 16)
            {
                var p0 = Prune(Vector128.LoadUnsafe(ref scores, (nuint)i), vt, ref ties);
                var p1 = Prune(Vector128.LoadUnsafe(ref scores, (nuint)(i + 4)), vt, ref ties);
                var p2 = Prune(Vector128.LoadUnsafe(ref scores, (nuint)(i + 8)), vt, ref ties);
                var p3 = Prune(Vector128.LoadUnsafe(ref scores, (nuint)(i + 12)), vt, ref ties);
                var pruned = Vector128.Narrow(Vector128.Narrow(p0, p1), Vector128.Narrow(p2, p3));
                (one + pruned).StoreUnsafe(ref mask, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref mask, i) = PruneScalar(Unsafe.Add(ref scores, i), t, ref ties) ? (byte)0 : (byte)1;
        }
        return ties;
    }

    /// <summary>
    /// Zeroes <c>weights[i]</c> where the rule prunes <c>TKey.Value(scores[i])</c>. The scores may be exactly the same
    /// memory as the weights (each vector is read before it is written); lengths are equal.
    /// </summary>
    public static int ZeroWeights<TKey>(Span<float> weightSpan, ReadOnlySpan<float> scoreSpan, float t, int ties)
        where TKey : struct, IOrderKey =>
        ZeroWeights<TKey>(ref MemoryMarshal.GetReference(weightSpan), ref MemoryMarshal.GetReference(scoreSpan), weightSpan.Length, t, ties);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ZeroWeights<TKey>(ref float weights, ref float scores, nint n, float t, int ties)
        where TKey : struct, IOrderKey
    {
        nint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vt = Vector512.Create(t);
            for (; i + 32 <= n; i += 32)
            {
                var w0 = Vector512.LoadUnsafe(ref weights, (nuint)i);
                var w1 = Vector512.LoadUnsafe(ref weights, (nuint)(i + 16));
                var p0 = Prune(TKey.Value(Vector512.LoadUnsafe(ref scores, (nuint)i)), vt, ref ties);
                var p1 = Prune(TKey.Value(Vector512.LoadUnsafe(ref scores, (nuint)(i + 16))), vt, ref ties);
                Vector512.AndNot(w0, p0.AsSingle()).StoreUnsafe(ref weights, (nuint)i);
                Vector512.AndNot(w1, p1.AsSingle()).StoreUnsafe(ref weights, (nuint)(i + 16));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            for (; i + 16 <= n; i += 16)
            {
                var w0 = Vector256.LoadUnsafe(ref weights, (nuint)i);
                var w1 = Vector256.LoadUnsafe(ref weights, (nuint)(i + 8));
                var p0 = Prune(TKey.Value(Vector256.LoadUnsafe(ref scores, (nuint)i)), vt, ref ties);
                var p1 = Prune(TKey.Value(Vector256.LoadUnsafe(ref scores, (nuint)(i + 8))), vt, ref ties);
                Vector256.AndNot(w0, p0.AsSingle()).StoreUnsafe(ref weights, (nuint)i);
                Vector256.AndNot(w1, p1.AsSingle()).StoreUnsafe(ref weights, (nuint)(i + 8));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vt = Vector128.Create(t);
            for (; i + 8 <= n; i += 8)
            {
                var w0 = Vector128.LoadUnsafe(ref weights, (nuint)i);
                var w1 = Vector128.LoadUnsafe(ref weights, (nuint)(i + 4));
                var p0 = Prune(TKey.Value(Vector128.LoadUnsafe(ref scores, (nuint)i)), vt, ref ties);
                var p1 = Prune(TKey.Value(Vector128.LoadUnsafe(ref scores, (nuint)(i + 4))), vt, ref ties);
                Vector128.AndNot(w0, p0.AsSingle()).StoreUnsafe(ref weights, (nuint)i);
                Vector128.AndNot(w1, p1.AsSingle()).StoreUnsafe(ref weights, (nuint)(i + 4));
            }
        }
        for (; i < n; i++)
        {
            if (PruneScalar(TKey.Value(Unsafe.Add(ref scores, i)), t, ref ties)) Unsafe.Add(ref weights, i) = 0f;
        }
        return ties;
    }

    /// <summary>Counts <c>scores[i] &lt; t</c> and <c>scores[i] == t</c> (a reduction: lane counters, scalar tail).</summary>
    public static void CountBelowEqual(ReadOnlySpan<float> scoreSpan, float t, out long below, out long equal) =>
        CountBelowEqual(ref MemoryMarshal.GetReference(scoreSpan), scoreSpan.Length, t, out below, out equal);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CountBelowEqual(ref float scores, nint n, float t, out long below, out long equal)
    {
        nint i = 0;
        below = 0;
        equal = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vt = Vector512.Create(t);
            Vector512<int> lt0 = default, lt1 = default, eq0 = default, eq1 = default;
            for (; i + 32 <= n; i += 32)
            {
                var a = Vector512.LoadUnsafe(ref scores, (nuint)i);
                var b = Vector512.LoadUnsafe(ref scores, (nuint)(i + 16));
                lt0 -= Vector512.LessThan(a, vt).AsInt32();
                lt1 -= Vector512.LessThan(b, vt).AsInt32();
                eq0 -= Vector512.Equals(a, vt).AsInt32();
                eq1 -= Vector512.Equals(b, vt).AsInt32();
            }
            // Every lane count is at most n/32 and their sum at most n < 2^31.
            below = Vector512.Sum(lt0 + lt1);
            equal = Vector512.Sum(eq0 + eq1);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vt = Vector256.Create(t);
            Vector256<int> lt0 = default, lt1 = default, eq0 = default, eq1 = default;
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector256.LoadUnsafe(ref scores, (nuint)i);
                var b = Vector256.LoadUnsafe(ref scores, (nuint)(i + 8));
                lt0 -= Vector256.LessThan(a, vt).AsInt32();
                lt1 -= Vector256.LessThan(b, vt).AsInt32();
                eq0 -= Vector256.Equals(a, vt).AsInt32();
                eq1 -= Vector256.Equals(b, vt).AsInt32();
            }
            below = Vector256.Sum(lt0 + lt1);
            equal = Vector256.Sum(eq0 + eq1);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var vt = Vector128.Create(t);
            Vector128<int> lt0 = default, lt1 = default, eq0 = default, eq1 = default;
            for (; i + 8 <= n; i += 8)
            {
                var a = Vector128.LoadUnsafe(ref scores, (nuint)i);
                var b = Vector128.LoadUnsafe(ref scores, (nuint)(i + 4));
                lt0 -= Vector128.LessThan(a, vt).AsInt32();
                lt1 -= Vector128.LessThan(b, vt).AsInt32();
                eq0 -= Vector128.Equals(a, vt).AsInt32();
                eq1 -= Vector128.Equals(b, vt).AsInt32();
            }
            below = Vector128.Sum(lt0 + lt1);
            equal = Vector128.Sum(eq0 + eq1);
        }
        for (; i < n; i++)
        {
            float s = Unsafe.Add(ref scores, i);
            below += s < t ? 1 : 0;
            equal += s == t ? 1 : 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PruneScalar(float s, float t, ref int ties)
    {
        if (s < t) return true;
        if (s == t && ties > 0)
        {
            ties--;
            return true;
        }
        return false;
    }

    /// <summary>All-ones lanes where the unit is pruned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Prune(Vector512<float> s, Vector512<float> t, ref int ties)
    {
        var lt = Vector512.LessThan(s, t).AsUInt32();
        if (ties == 0) return lt;
        var eq = Vector512.Equals(s, t).AsUInt32();
        if (eq == Vector512<uint>.Zero) return lt;
        uint lanes = (uint)eq.ExtractMostSignificantBits();
        return lt | Vector512.Equals(Vector512.Create(SpendTies(lanes, ref ties)) & LaneBits512, LaneBits512);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Prune(Vector256<float> s, Vector256<float> t, ref int ties)
    {
        var lt = Vector256.LessThan(s, t).AsUInt32();
        if (ties == 0) return lt;
        var eq = Vector256.Equals(s, t).AsUInt32();
        if (eq == Vector256<uint>.Zero) return lt;
        uint lanes = eq.ExtractMostSignificantBits();
        var bits = Vector256.Create(1u, 2, 4, 8, 16, 32, 64, 128);
        return lt | Vector256.Equals(Vector256.Create(SpendTies(lanes, ref ties)) & bits, bits);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<uint> Prune(Vector128<float> s, Vector128<float> t, ref int ties)
    {
        var lt = Vector128.LessThan(s, t).AsUInt32();
        if (ties == 0) return lt;
        var eq = Vector128.Equals(s, t).AsUInt32();
        if (eq == Vector128<uint>.Zero) return lt;
        uint lanes = eq.ExtractMostSignificantBits();
        var bits = Vector128.Create(1u, 2, 4, 8);
        return lt | Vector128.Equals(Vector128.Create(SpendTies(lanes, ref ties)) & bits, bits);
    }

    private static Vector512<uint> LaneBits512 =>
        Vector512.Create(1u, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);

    /// <summary>The lowest set bits of <paramref name="lanes"/> that the quota still covers; spends them (<see cref="TieQuota"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SpendTies(uint lanes, ref int ties)
    {
        long quota = ties;
        uint kept = (uint)TieQuota.SpendLowest(lanes, ref quota);
        ties = (int)quota;
        return kept;
    }
}
