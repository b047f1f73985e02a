using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The exact-k tie rule: of the units equal to the threshold, those of the lowest tensor (layer, segment) are pruned
/// first, and within a tensor the lowest indices, until the quota is spent. <see cref="Take"/> hands the quota out
/// across tensors, <see cref="SpendLowest"/> across the lanes of a vector. Shared by the in-memory threshold masks,
/// <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/> and the
/// global magnitude engine (<see cref="GlobalThresholdSolver"/>).
/// </summary>
internal static class TieQuota
{
    /// <summary>
    /// The ties one tensor takes, tensors asking in order: all its <paramref name="equal"/> units, at most
    /// <paramref name="room"/> (what its cap still allows), at most what is left of the quota (which this reduces).
    /// </summary>
    public static long Take(long equal, long room, ref long quota)
    {
        long take = Math.Min(Math.Min(equal, room), quota);
        quota -= take;
        return take;
    }

    /// <summary>
    /// The lowest <paramref name="ties"/> set bits of <paramref name="lanes"/> (all of them when the quota allows),
    /// subtracted from the quota.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SpendLowest(ulong lanes, ref long ties)
    {
        int count = BitOperations.PopCount(lanes);
        if (count <= ties)
        {
            ties -= count;
            return lanes;
        }
        // 0 ≤ ties < count ≤ 64: deposit that many ones into the lane positions, lowest first.
        ulong kept;
        if (Bmi2.X64.IsSupported)
        {
            kept = Bmi2.X64.ParallelBitDeposit((1UL << (int)ties) - 1, lanes);
        }
        else
        {
            kept = 0;
            for (long j = 0; j < ties; j++)
            {
                kept |= lanes & (0 - lanes);
                lanes &= lanes - 1;
            }
        }
        ties = 0;
        return kept;
    }
}
