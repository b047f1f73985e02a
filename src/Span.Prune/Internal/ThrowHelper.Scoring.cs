using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowStatisticLength(string paramName, int actual, int expected, bool used) =>
        throw new ArgumentException(
            used
                ? $"Length {actual} does not match the weights' length {expected}; the criterion reads one statistic per weight."
                : $"Length {actual} is neither 0 nor the weights' length {expected}; the criterion ignores the statistic, so pass an empty span.",
            paramName);

    [DoesNotReturn]
    public static void ThrowUnknownGranularity(string paramName, GranularityKind kind) =>
        throw new ArgumentException($"Unknown granularity kind {kind}.", paramName);

    [DoesNotReturn]
    public static void ThrowNegativeElement(string paramName, int index) =>
        throw new ArgumentException($"Element {index} is negative; a norm is never negative.", paramName);

    [DoesNotReturn]
    public static void ThrowNotMultiple(string paramName, int length, int features) =>
        throw new ArgumentException($"Length {length} is not a multiple of the feature count {features}; activations are [tokens, features] row-major.", paramName);
}
