using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowScratchTooShort(string paramName, int actual, int required) =>
        throw new ArgumentException($"Scratch length {actual} is shorter than the required {required} (see the matching ScratchLength method); pass an empty span to use the shared pool.", paramName);

    [DoesNotReturn]
    public static void ThrowProblemTooLarge(string paramName, long elements) =>
        throw new ArgumentOutOfRangeException(paramName, $"The regression problem needs {elements} elements in one buffer; spans hold at most {Array.MaxLength}.");

    [DoesNotReturn]
    public static void ThrowInvalidKeepMask(string paramName, int index, byte value) =>
        throw new ArgumentException($"Mask element {index} is {value}; a keep mask holds only 0 (pruned) or 1 (keep).", paramName);

    [DoesNotReturn]
    public static void ThrowEmptyKeepMask(string paramName) =>
        throw new ArgumentException("The keep mask keeps no channel; a refit needs at least one kept channel.", paramName);

    [DoesNotReturn]
    public static void ThrowNotPositiveDefinite(string paramName, int pivot, int dimension, double ridge) =>
        throw new ArgumentException(
            $"The kept-input Gram matrix X_keptᵀX_kept + ρI (dimension {dimension}, ρ = {ridge:G6}) is not positive definite at pivot {pivot}: " +
            "the kept input columns are linearly dependent or all zero. Use more samples, or a larger relativeRidge.", paramName);

    [DoesNotReturn]
    public static void ThrowChannelCount(string paramName, int count, int channels) =>
        throw new ArgumentOutOfRangeException(paramName, count, $"The number of kept channels must be in [1, {channels}] (the layer's input channels).");
}
