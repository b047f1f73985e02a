using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The exact-k tie rule at vector granularity: of the lanes equal to the threshold, the lowest indices are pruned
/// until the quota is spent. Shared by the in-memory threshold masks and the streaming global masks.
/// </summary>
internal static class TieQuota
{
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
