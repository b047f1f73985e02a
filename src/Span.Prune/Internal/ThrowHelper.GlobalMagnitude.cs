using System.Diagnostics.CodeAnalysis;
using Span.Prune.SafeTensors;

namespace Span.Prune.Internal;

// Throw sites of the streaming global selection (GlobalMagnitudeThreshold).
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowGlobalNonFinite(string paramName, int tensor) =>
        throw new ArgumentException($"Tensor {tensor} holds a NaN or infinite weight; pruning weights must be finite.", paramName);

    [DoesNotReturn]
    public static void ThrowGlobalDType(string paramName, int tensor, SafeTensorsDType declared, string given) =>
        throw new ArgumentException($"Tensor {tensor} was declared {SafeTensorsDTypeInfo.GetName(declared)}, but {given} elements were given.", paramName);

    [DoesNotReturn]
    public static void ThrowGlobalTooMany(string paramName, int tensor, long seen, long length) =>
        throw new ArgumentException($"Tensor {tensor} has {length} elements; this pass has already been given {seen}, and this chunk would exceed them.", paramName);

    [DoesNotReturn]
    public static void ThrowGlobalIncomplete(int tensor, long seen, long length) =>
        throw new InvalidOperationException($"Tensor {tensor} has {length} elements, but only {seen} were scanned in this pass.");

    [DoesNotReturn]
    public static void ThrowGlobalPhase(string operation, string phase) =>
        throw new InvalidOperationException($"{operation} is not allowed {phase}.");

    [DoesNotReturn]
    public static void ThrowGlobalCapsInfeasible(string paramName, long capacity, long pruneCount) =>
        throw new ArgumentException($"The per-tensor caps allow pruning at most {capacity} weights in total, fewer than the requested {pruneCount}.", paramName);
}
