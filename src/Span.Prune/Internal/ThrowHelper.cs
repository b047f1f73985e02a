using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

/// <summary>
/// Throw sites kept out of line so that validation in front of hot loops stays small and inlinable.
/// Every message names the parameter that is wrong. Concern-specific throws live in partial files
/// next to this one (<c>ThrowHelper.Selection.cs</c>, ...).
/// </summary>
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, string message) =>
        throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn]
    public static void ThrowLengthMismatch(string paramName, int actual, int expected) =>
        throw new ArgumentException($"Length {actual} does not match the expected length {expected}.", paramName);

    [DoesNotReturn]
    public static void ThrowDestinationTooShort(string paramName, int actual, int required) =>
        throw new ArgumentException($"Destination length {actual} is shorter than the required {required}.", paramName);

    [DoesNotReturn]
    public static void ThrowEmpty(string paramName) =>
        throw new ArgumentException("The input is empty.", paramName);

    [DoesNotReturn]
    public static void ThrowNotFinite(string paramName, int index) =>
        throw new ArgumentException($"Element {index} is NaN or infinite; pruning scores and weights must be finite.", paramName);

    [DoesNotReturn]
    public static void ThrowOverlap(string paramName) =>
        throw new ArgumentException("The destination overlaps an input in a way the operation does not support (only exact in-place aliasing is allowed).", paramName);

    [DoesNotReturn]
    public static void ThrowDefaultShape(string paramName) =>
        throw new ArgumentException("The weight shape is default(WeightShape); create it with WeightShape.Linear or WeightShape.Conv2D.", paramName);

    [DoesNotReturn]
    public static void ThrowRaggedGroups(string paramName, int rowLength, int m) =>
        throw new ArgumentException($"The group length M = {m} does not divide the row length {rowLength}; ragged N:M groups are not supported.", paramName);

    [DoesNotReturn]
    public static void ThrowSparsity(string paramName, double sparsity) =>
        throw new ArgumentOutOfRangeException(paramName, sparsity, "Sparsity must be a finite number in [0, 1].");

    [DoesNotReturn]
    public static void ThrowCount(string paramName, long count, long max) =>
        throw new ArgumentOutOfRangeException(paramName, count, $"Count must be in [0, {max}].");
}
