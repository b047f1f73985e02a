using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Scoring
{
    // Shared argument checks, in the library's order: lengths and shapes, then overlap, then finiteness
    // (the NaN policy: nothing is written when an input holds NaN or ±∞).

    private static void CheckStatisticLength<TCriterion>(int weightsLength, int statisticLength, string statisticName)
        where TCriterion : struct, IElementCriterion
    {
        if (statisticLength == weightsLength) return;
        if (TCriterion.UsesStatistic || statisticLength != 0)
            ThrowHelper.ThrowStatisticLength(statisticName, statisticLength, weightsLength, TCriterion.UsesStatistic);
    }

    /// <summary>Only exact aliasing (same start) is allowed between a destination and an input of the same length.</summary>
    private static void CheckInPlace(ReadOnlySpan<float> input, ReadOnlySpan<float> destination, string destinationName)
    {
        if (destination.Overlaps(input, out int offset) && offset != 0)
            ThrowHelper.ThrowOverlap(destinationName);
    }

    private static void CheckDisjoint(ReadOnlySpan<float> input, ReadOnlySpan<float> destination, string destinationName)
    {
        if (destination.Overlaps(input))
            ThrowHelper.ThrowOverlap(destinationName);
    }

    private static void CheckFinite(ReadOnlySpan<float> values, string paramName)
    {
        int index = FiniteScan.IndexOfNonFinite(values);
        if (index >= 0) ThrowHelper.ThrowNotFinite(paramName, index);
    }
}
