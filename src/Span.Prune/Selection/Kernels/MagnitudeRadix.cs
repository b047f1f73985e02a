using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// Kernels of the global magnitude engine (<see cref="MagnitudeHistograms"/>, <see cref="GlobalMagnitudePruning"/>,
/// <see cref="Pruning.Global"/>), working on raw bits: the magnitude <c>|w|</c> of an IEEE float orders like the
/// integer <c>bits &amp; ~sign</c>, so a 16-bit weight has a 15-bit magnitude key and a float32 a 31-bit one.
/// </summary>
/// <remarks>
/// <para><b>Histograms</b> (<see cref="Count16"/>, <see cref="Count32"/>): 2¹⁵ bins — the whole 15-bit key, or the
/// high 15 bits of a 31-bit key. Counting is scalar increments (there is no fast SIMD scatter-add), made cheap by
/// reading 4 keys per 64-bit load and by spreading consecutive elements over 4 sub-histograms: runs of equal keys
/// (zeros of an already pruned model, BF16 ties) would otherwise chain each increment on the store of the previous
/// one (a store-forwarding stall per element). The sub-histograms are <c>subStride</c> bins apart: <see cref="Bins"/>
/// for 4 separate ones (merged by <see cref="MergeAndClear"/>), or 0 to count a short chunk straight into one
/// histogram, where the merge would cost more than the stalls.</para>
/// <para><b>Masking</b> (<see cref="Apply16"/>, <see cref="Apply32"/>): <c>key &lt; cut</c> is pruned, and the first
/// <c>ties</c> elements with <c>key == cut</c> (index order). Keys fit the signed lane type (≤ 0x7FFF, ≤ 0x7FFFFFFF), so
/// the compares are the native signed ones on every width. A pruned element becomes +0 (an and-not of the compare
/// mask), a kept one keeps its bits. While a tie quota is left each vector also compares for equality and spends it
/// lane by lane; afterwards the loop is one compare and one and-not per vector. Tails are scalar (never overlapped:
/// the quota and the zero count would be spent twice).</para>
/// </remarks>
internal static class MagnitudeRadix
{
    /// <summary>Bins of the first-level histogram: 15 key bits.</summary>
    public const int Bins = 1 << 15;

    /// <summary>Bins of the second-level histogram: the low 16 bits of a 31-bit key.</summary>
    public const int LowBins = 1 << 16;

    /// <summary>Sub-histograms of one counting call (<see cref="Bins"/> each, consecutive).</summary>
    public const int SubHistograms = 4;

    /// <summary>
    /// Counts the 15-bit keys <c>src[i] &amp; 0x7FFF</c> into 4 sub-histograms of <see cref="Bins"/>,
    /// <paramref name="subStride"/> apart (<see cref="Bins"/> or 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Count16(ReadOnlySpan<ushort> source, Span<uint> histograms, int subStride)
    {
        Debug.Assert(histograms.Length >= 3 * subStride + Bins);
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint h0 = ref MemoryMarshal.GetReference(histograms);
        ref uint h1 = ref Unsafe.Add(ref h0, subStride);
        ref uint h2 = ref Unsafe.Add(ref h0, 2 * subStride);
        ref uint h3 = ref Unsafe.Add(ref h0, 3 * subStride);
        nint n = source.Length, i = 0;
        for (; i + 8 <= n; i += 8)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref src, i)));
            ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<ushort, byte>(ref Unsafe.Add(ref src, i + 4)));
            Unsafe.Add(ref h0, (nint)(a & 0x7FFF))++;
            Unsafe.Add(ref h1, (nint)((a >> 16) & 0x7FFF))++;
            Unsafe.Add(ref h2, (nint)((a >> 32) & 0x7FFF))++;
            Unsafe.Add(ref h3, (nint)((a >> 48) & 0x7FFF))++;
            Unsafe.Add(ref h0, (nint)(b & 0x7FFF))++;
            Unsafe.Add(ref h1, (nint)((b >> 16) & 0x7FFF))++;
            Unsafe.Add(ref h2, (nint)((b >> 32) & 0x7FFF))++;
            Unsafe.Add(ref h3, (nint)((b >> 48) & 0x7FFF))++;
        }
        for (; i < n; i++) Unsafe.Add(ref h0, (nint)(Unsafe.Add(ref src, i) & 0x7FFFu))++;
    }

    /// <summary>
    /// Counts the high 15 bits of the 31-bit keys <c>src[i] &amp; 0x7FFFFFFF</c> into 4 sub-histograms,
    /// <paramref name="subStride"/> apart (<see cref="Bins"/> or 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Count32(ReadOnlySpan<uint> source, Span<uint> histograms, int subStride)
    {
        Debug.Assert(histograms.Length >= 3 * subStride + Bins);
        ref uint src = ref MemoryMarshal.GetReference(source);
        ref uint h0 = ref MemoryMarshal.GetReference(histograms);
        ref uint h1 = ref Unsafe.Add(ref h0, subStride);
        ref uint h2 = ref Unsafe.Add(ref h0, 2 * subStride);
        ref uint h3 = ref Unsafe.Add(ref h0, 3 * subStride);
        nint n = source.Length, i = 0;
        for (; i + 4 <= n; i += 4)
        {
            ulong a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<uint, byte>(ref Unsafe.Add(ref src, i)));
            ulong b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.As<uint, byte>(ref Unsafe.Add(ref src, i + 2)));
            Unsafe.Add(ref h0, (nint)((a >> 16) & 0x7FFF))++;
            Unsafe.Add(ref h1, (nint)((a >> 48) & 0x7FFF))++;
            Unsafe.Add(ref h2, (nint)((b >> 16) & 0x7FFF))++;
            Unsafe.Add(ref h3, (nint)((b >> 48) & 0x7FFF))++;
        }
        for (; i < n; i++) Unsafe.Add(ref h0, (nint)((Unsafe.Add(ref src, i) >> 16) & 0x7FFF))++;
    }

    /// <summary>
    /// Adds the 4 sub-histograms into <paramref name="histogram"/> and zeroes them (so the scratch is ready for the next
    /// call without a separate clearing pass); returns the count that landed in bins ≥ <paramref name="firstNonFinite"/>
    /// (the keys of ∞ and NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint MergeAndClear(Span<uint> subHistograms, Span<uint> histogram, int firstNonFinite)
    {
        uint nonFinite = 0;
        for (int s = 0; s < SubHistograms; s++)
        {
            foreach (uint c in subHistograms.Slice(s * Bins + firstNonFinite, Bins - firstNonFinite)) nonFinite |= c;
        }
        ref uint s0 = ref MemoryMarshal.GetReference(subHistograms);
        ref uint h = ref MemoryMarshal.GetReference(histogram);
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i < Bins; i += 16)
            {
                Vector512<uint> sum = Vector512.LoadUnsafe(ref h, i)
                    + Vector512.LoadUnsafe(ref s0, i) + Vector512.LoadUnsafe(ref s0, i + Bins)
                    + Vector512.LoadUnsafe(ref s0, i + 2 * Bins) + Vector512.LoadUnsafe(ref s0, i + 3 * Bins);
                sum.StoreUnsafe(ref h, i);
                Vector512<uint>.Zero.StoreUnsafe(ref s0, i);
                Vector512<uint>.Zero.StoreUnsafe(ref s0, i + Bins);
                Vector512<uint>.Zero.StoreUnsafe(ref s0, i + 2 * Bins);
                Vector512<uint>.Zero.StoreUnsafe(ref s0, i + 3 * Bins);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i < Bins; i += 8)
            {
                Vector256<uint> sum = Vector256.LoadUnsafe(ref h, i)
                    + Vector256.LoadUnsafe(ref s0, i) + Vector256.LoadUnsafe(ref s0, i + Bins)
                    + Vector256.LoadUnsafe(ref s0, i + 2 * Bins) + Vector256.LoadUnsafe(ref s0, i + 3 * Bins);
                sum.StoreUnsafe(ref h, i);
                Vector256<uint>.Zero.StoreUnsafe(ref s0, i);
                Vector256<uint>.Zero.StoreUnsafe(ref s0, i + Bins);
                Vector256<uint>.Zero.StoreUnsafe(ref s0, i + 2 * Bins);
                Vector256<uint>.Zero.StoreUnsafe(ref s0, i + 3 * Bins);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i < Bins; i += 4)
            {
                Vector128<uint> sum = Vector128.LoadUnsafe(ref h, i)
                    + Vector128.LoadUnsafe(ref s0, i) + Vector128.LoadUnsafe(ref s0, i + Bins)
                    + Vector128.LoadUnsafe(ref s0, i + 2 * Bins) + Vector128.LoadUnsafe(ref s0, i + 3 * Bins);
                sum.StoreUnsafe(ref h, i);
                Vector128<uint>.Zero.StoreUnsafe(ref s0, i);
                Vector128<uint>.Zero.StoreUnsafe(ref s0, i + Bins);
                Vector128<uint>.Zero.StoreUnsafe(ref s0, i + 2 * Bins);
                Vector128<uint>.Zero.StoreUnsafe(ref s0, i + 3 * Bins);
            }
        }
        for (; i < Bins; i++)
        {
            Unsafe.Add(ref h, i) += Unsafe.Add(ref s0, i) + Unsafe.Add(ref s0, i + Bins) + Unsafe.Add(ref s0, i + 2 * Bins) + Unsafe.Add(ref s0, i + 3 * Bins);
            Unsafe.Add(ref s0, i) = Unsafe.Add(ref s0, i + Bins) = Unsafe.Add(ref s0, i + 2 * Bins) = Unsafe.Add(ref s0, i + 3 * Bins) = 0;
        }
        return nonFinite;
    }

    /// <summary>
    /// Second level: for the elements whose 31-bit key lies in first-level bin <paramref name="bin"/>, counts the low 16
    /// key bits into <paramref name="low"/> (<see cref="LowBins"/>). The bin holds a small share of a tensor, so vectors
    /// without a match are skipped with one compare.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CountLow(ReadOnlySpan<uint> source, uint bin, Span<uint> low)
    {
        ref uint src = ref MemoryMarshal.GetReference(source);
        ref uint h = ref MemoryMarshal.GetReference(low);
        nint n = source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<uint> magnitude = Vector512.Create(0x7FFFFFFFu), target = Vector512.Create(bin);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<uint> v = Vector512.LoadUnsafe(ref src, (nuint)i);
                ulong hits = Vector512.Equals(Vector512.ShiftRightLogical(v & magnitude, 16), target).ExtractMostSignificantBits();
                for (; hits != 0; hits &= hits - 1)
                    Unsafe.Add(ref h, (nint)(Unsafe.Add(ref src, i + BitOperations.TrailingZeroCount(hits)) & 0xFFFF))++;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> magnitude = Vector256.Create(0x7FFFFFFFu), target = Vector256.Create(bin);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<uint> v = Vector256.LoadUnsafe(ref src, (nuint)i);
                uint hits = Vector256.Equals(Vector256.ShiftRightLogical(v & magnitude, 16), target).ExtractMostSignificantBits();
                for (; hits != 0; hits &= hits - 1)
                    Unsafe.Add(ref h, (nint)(Unsafe.Add(ref src, i + BitOperations.TrailingZeroCount(hits)) & 0xFFFF))++;
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<uint> magnitude = Vector128.Create(0x7FFFFFFFu), target = Vector128.Create(bin);
            for (; i + 4 <= n; i += 4)
            {
                Vector128<uint> v = Vector128.LoadUnsafe(ref src, (nuint)i);
                uint hits = Vector128.Equals(Vector128.ShiftRightLogical(v & magnitude, 16), target).ExtractMostSignificantBits();
                for (; hits != 0; hits &= hits - 1)
                    Unsafe.Add(ref h, (nint)(Unsafe.Add(ref src, i + BitOperations.TrailingZeroCount(hits)) & 0xFFFF))++;
            }
        }
        for (; i < n; i++)
        {
            uint v = Unsafe.Add(ref src, i);
            if (((v & 0x7FFFFFFF) >> 16) == bin) Unsafe.Add(ref h, (nint)(v & 0xFFFF))++;
        }
    }

    /// <summary>
    /// Masks 16-bit floats (BF16 bits, or F16 by its own keys): <c>dst[i] = 0</c> where <c>key &lt; cut</c> or where
    /// <c>key == cut</c> while the tie quota lasts, else <c>src[i]</c>. <paramref name="source"/> may be exactly
    /// <paramref name="destination"/>. Adds the elements of magnitude 0 in the output to <paramref name="zeros"/>;
    /// returns the tie quota left. <paramref name="fullCut"/> is the cut as a full 31-bit key (15-bit key &lt;&lt; 16 |
    /// low bits): a cut with non-zero low bits lies strictly between two 16-bit values (and then has no ties), so it
    /// is rounded up.
    /// </summary>
    public static long Apply16(ReadOnlySpan<ushort> source, Span<ushort> destination, uint fullCut, long ties, ref long zeros) =>
        Apply(ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(source)), ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(source)),
            ref Unsafe.As<ushort, short>(ref MemoryMarshal.GetReference(destination)), source.Length, (short)((fullCut + 0xFFFF) >> 16), (short)0x7FFF, ties, ref zeros);

    /// <summary>As <see cref="Apply16"/> for float32 bits (31-bit keys).</summary>
    public static long Apply32(ReadOnlySpan<uint> source, Span<uint> destination, uint cut, long ties, ref long zeros) =>
        Apply(ref Unsafe.As<uint, int>(ref MemoryMarshal.GetReference(source)), ref Unsafe.As<uint, int>(ref MemoryMarshal.GetReference(source)),
            ref Unsafe.As<uint, int>(ref MemoryMarshal.GetReference(destination)), source.Length, (int)cut, int.MaxValue, ties, ref zeros);

    /// <summary>
    /// The masking loop for signed lanes (short or int): the magnitude keys <c>keys[i] &amp; magnitude</c> are
    /// non-negative, so the native signed compares order them. The keys are the elements' own bits (magnitude
    /// pruning: <paramref name="keys"/> is <paramref name="src"/>) or separate scores'; the zero count is that of the
    /// output elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Apply<T>(ref T keys, ref T src, ref T dst, nint n, T cut, T magnitude, long ties, ref long zeros)
        where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
    {
        nint i = 0;
        long zeroLanes = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<T> c = Vector512.Create(cut), m = Vector512.Create(magnitude);
            for (; ties > 0 && i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
            {
                Vector512<T> v = Vector512.LoadUnsafe(ref src, (nuint)i), key = Vector512.LoadUnsafe(ref keys, (nuint)i) & m;
                Vector512<T> less = Vector512.LessThan(key, c), equal = Vector512.Equals(key, c);
                ulong equalBits = equal.ExtractMostSignificantBits();
                ulong zeroBits = Vector512.Equals(v & m, Vector512<T>.Zero).ExtractMostSignificantBits();
                if (BitOperations.PopCount(equalBits) <= ties)
                {
                    // The whole vector's ties fit the quota: one more or-ed compare.
                    ties -= BitOperations.PopCount(equalBits);
                    Vector512<T> pruned = less | equal;
                    zeroLanes += BitOperations.PopCount(pruned.ExtractMostSignificantBits() | zeroBits);
                    Vector512.AndNot(v, pruned).StoreUnsafe(ref dst, (nuint)i);
                }
                else
                {
                    // The quota ends inside this vector: its lowest equal lanes, stored lane by lane (once per tensor).
                    ulong pruned = less.ExtractMostSignificantBits() | TieQuota.SpendLowest(equalBits, ref ties);
                    zeroLanes += BitOperations.PopCount(pruned | zeroBits);
                    StoreSelected(ref dst, ref src, i, Vector512<T>.Count, pruned);
                }
            }
            for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
            {
                Vector512<T> v = Vector512.LoadUnsafe(ref src, (nuint)i);
                Vector512<T> kept = v & Vector512.GreaterThanOrEqual(Vector512.LoadUnsafe(ref keys, (nuint)i) & m, c);
                zeroLanes += BitOperations.PopCount(Vector512.Equals(kept & m, Vector512<T>.Zero).ExtractMostSignificantBits());
                kept.StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<T> c = Vector256.Create(cut), m = Vector256.Create(magnitude);
            for (; ties > 0 && i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
            {
                Vector256<T> v = Vector256.LoadUnsafe(ref src, (nuint)i), key = Vector256.LoadUnsafe(ref keys, (nuint)i) & m;
                Vector256<T> less = Vector256.LessThan(key, c), equal = Vector256.Equals(key, c);
                ulong equalBits = equal.ExtractMostSignificantBits();
                ulong zeroBits = Vector256.Equals(v & m, Vector256<T>.Zero).ExtractMostSignificantBits();
                if (BitOperations.PopCount(equalBits) <= ties)
                {
                    // The whole vector's ties fit the quota: one more or-ed compare.
                    ties -= BitOperations.PopCount(equalBits);
                    Vector256<T> pruned = less | equal;
                    zeroLanes += BitOperations.PopCount(pruned.ExtractMostSignificantBits() | zeroBits);
                    Vector256.AndNot(v, pruned).StoreUnsafe(ref dst, (nuint)i);
                }
                else
                {
                    // The quota ends inside this vector: its lowest equal lanes, stored lane by lane (once per tensor).
                    ulong pruned = less.ExtractMostSignificantBits() | TieQuota.SpendLowest(equalBits, ref ties);
                    zeroLanes += BitOperations.PopCount(pruned | zeroBits);
                    StoreSelected(ref dst, ref src, i, Vector256<T>.Count, pruned);
                }
            }
            for (; i + Vector256<T>.Count <= n; i += Vector256<T>.Count)
            {
                Vector256<T> v = Vector256.LoadUnsafe(ref src, (nuint)i);
                Vector256<T> kept = v & Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref keys, (nuint)i) & m, c);
                zeroLanes += BitOperations.PopCount(Vector256.Equals(kept & m, Vector256<T>.Zero).ExtractMostSignificantBits());
                kept.StoreUnsafe(ref dst, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<T> c = Vector128.Create(cut), m = Vector128.Create(magnitude);
            for (; ties > 0 && i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
            {
                Vector128<T> v = Vector128.LoadUnsafe(ref src, (nuint)i), key = Vector128.LoadUnsafe(ref keys, (nuint)i) & m;
                Vector128<T> less = Vector128.LessThan(key, c), equal = Vector128.Equals(key, c);
                ulong equalBits = equal.ExtractMostSignificantBits();
                ulong zeroBits = Vector128.Equals(v & m, Vector128<T>.Zero).ExtractMostSignificantBits();
                if (BitOperations.PopCount(equalBits) <= ties)
                {
                    // The whole vector's ties fit the quota: one more or-ed compare.
                    ties -= BitOperations.PopCount(equalBits);
                    Vector128<T> pruned = less | equal;
                    zeroLanes += BitOperations.PopCount(pruned.ExtractMostSignificantBits() | zeroBits);
                    Vector128.AndNot(v, pruned).StoreUnsafe(ref dst, (nuint)i);
                }
                else
                {
                    // The quota ends inside this vector: its lowest equal lanes, stored lane by lane (once per tensor).
                    ulong pruned = less.ExtractMostSignificantBits() | TieQuota.SpendLowest(equalBits, ref ties);
                    zeroLanes += BitOperations.PopCount(pruned | zeroBits);
                    StoreSelected(ref dst, ref src, i, Vector128<T>.Count, pruned);
                }
            }
            for (; i + Vector128<T>.Count <= n; i += Vector128<T>.Count)
            {
                Vector128<T> v = Vector128.LoadUnsafe(ref src, (nuint)i);
                Vector128<T> kept = v & Vector128.GreaterThanOrEqual(Vector128.LoadUnsafe(ref keys, (nuint)i) & m, c);
                zeroLanes += BitOperations.PopCount(Vector128.Equals(kept & m, Vector128<T>.Zero).ExtractMostSignificantBits());
                kept.StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref src, i);
            T key = Unsafe.Add(ref keys, i) & magnitude;
            bool prune = key < cut || (key == cut && TakeTie(ref ties));
            if (prune || (v & magnitude) == T.Zero) zeroLanes++;
            Unsafe.Add(ref dst, i) = prune ? T.Zero : v;
        }
        zeros += zeroLanes;
        return ties;
    }

    /// <summary>
    /// Masks float32 weights in place by the 31-bit keys of separate scores (LAMP in <see cref="Pruning.Global"/>), with
    /// the loop of <see cref="Apply32"/>; the zero count is not kept (the caller reports pruned counts only).
    /// </summary>
    public static long ApplyByScores(ReadOnlySpan<float> scores, Span<float> weights, uint cut, long ties)
    {
        Debug.Assert(scores.Length == weights.Length);
        long zeros = 0;
        ref int w = ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(weights));
        return Apply(ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(scores)), ref w, ref w, weights.Length, (int)cut, int.MaxValue, ties, ref zeros);
    }

    /// <summary>Masks elements of any dtype by precomputed 31-bit keys (the F16-among-wider and F64 paths).</summary>
    public static long ApplyByKeys<T>(ReadOnlySpan<uint> keys, ReadOnlySpan<T> source, Span<T> destination, uint cut, long ties, ref long zeros)
        where T : unmanaged, INumberBase<T>
    {
        long zeroCount = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            bool prune = Prunes(keys[i], cut, ref ties);
            if (prune || keys[i] == 0) zeroCount++;
            destination[i] = prune ? T.Zero : source[i];
        }
        zeros += zeroCount;
        return ties;
    }

    /// <summary>
    /// The decision of <see cref="Apply32"/> for one 31-bit key (the scalar path of dtypes whose key is computed by a
    /// conversion: F16 among wider dtypes, F64).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Prunes(uint key, uint cut, ref long ties) => key < cut || (key == cut && TakeTie(ref ties));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TakeTie(ref long ties)
    {
        if (ties <= 0) return false;
        ties--;
        return true;
    }

    /// <summary>Stores <c>lanes</c> elements from <paramref name="src"/> at <paramref name="i"/>, zero where <paramref name="pruned"/> has a bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSelected<T>(ref T dst, ref T src, nint i, int lanes, ulong pruned)
        where T : unmanaged, INumberBase<T>
    {
        for (int j = 0; j < lanes; j++)
            Unsafe.Add(ref dst, i + j) = (pruned >> j & 1) != 0 ? T.Zero : Unsafe.Add(ref src, i + j);
    }
}
