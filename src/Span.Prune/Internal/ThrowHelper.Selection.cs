using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

// Throw sites of the selection concern (Selection.*, Scoring.Lamp). Names carry "Selection" so that the partial
// files of other concerns cannot collide with them when branches merge.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSelectionRank(string paramName, int k, int length) =>
        throw new ArgumentOutOfRangeException(paramName, k, $"The order statistic must be in [0, {length - 1}] for {length} values.");

    [DoesNotReturn]
    public static void ThrowSelectionNegative(string paramName, int value) =>
        throw new ArgumentOutOfRangeException(paramName, value, "The value must not be negative.");

    [DoesNotReturn]
    public static void ThrowSelectionSegmentLengths(string paramName, long sum, int expected) =>
        throw new ArgumentException($"The segment lengths sum to {sum}, but the scores hold {expected} units.", paramName);

    [DoesNotReturn]
    public static void ThrowSelectionCapsInfeasible(string paramName, long capacity, int pruneCount) =>
        throw new ArgumentException($"The per-segment caps allow pruning at most {capacity} units in total, fewer than the requested {pruneCount}.", paramName);
}
