using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

// Throws used by the streaming accumulators (Statistics/) and by BatchNormScaling (Scaling/).
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowNoBatches() =>
        throw new InvalidOperationException("No batch has been added since construction or the last Reset; the statistic is undefined.");

    [DoesNotReturn]
    public static void ThrowTooManyBatches() =>
        throw new InvalidOperationException($"The accumulator has already counted {int.MaxValue} batches; read it and call Reset.");

    [DoesNotReturn]
    public static void ThrowActivationShapeMismatch(string paramName, int actual, Int128 expected, string shape) =>
        throw new ArgumentException($"Length {actual} does not match the {shape} shape, which holds {expected} elements.", paramName);

    [DoesNotReturn]
    public static void ThrowVarianceNotPositive(string paramName, int index, float variance, float epsilon) =>
        throw new ArgumentException($"Element {index} is {variance}; a running variance must be non-negative and variance + epsilon ({epsilon}) must be positive.", paramName);
}
