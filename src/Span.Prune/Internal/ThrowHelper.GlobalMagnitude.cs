using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

// Throw sites of the global magnitude engine (GlobalMagnitudePruning, Pruning.Global). A problem with one tensor is a
// TensorArgumentException carrying its index; its message is what is wrong with the tensor, said of it without naming
// it ("holds a NaN ..."), so a caller can put its own name for the tensor in front.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowTensorNonFinite(string paramName, int tensor) =>
        throw new TensorArgumentException(tensor, "holds a NaN or infinite weight; pruning weights must be finite.", paramName);

    [DoesNotReturn]
    public static void ThrowTensorElementType(string paramName, int tensor, ElementType declared, ElementType given) =>
        throw new TensorArgumentException(tensor, $"was declared {declared}, but {given} elements were given.", paramName);

    [DoesNotReturn]
    public static void ThrowTensorTooMany(string paramName, int tensor, long seen, long length) =>
        throw new TensorArgumentException(tensor, $"has {length} elements; this pass has already been given {seen}, and this chunk would exceed them.", paramName);

    [DoesNotReturn]
    public static void ThrowGlobalIncomplete(int tensor, long seen, long length) =>
        throw new InvalidOperationException($"Tensor {tensor} has {length} elements, but only {seen} were scanned in this pass.");

    [DoesNotReturn]
    public static void ThrowGlobalPhase(string operation, string phase) =>
        throw new InvalidOperationException($"{operation} is not allowed {phase}.");

    [DoesNotReturn]
    public static void ThrowGlobalCapsInfeasible(string paramName, long capacity, long pruneCount) =>
        throw new ArgumentException($"The per-tensor caps allow pruning at most {capacity} weights in total, fewer than the requested {pruneCount}.", paramName);

    [DoesNotReturn]
    public static void ThrowGlobalTooManyHistograms(string paramName, int needed, int max) =>
        throw new ArgumentException($"The tensors need {needed} separate histograms, more than the {max} one selection can hold; with a per-tensor cap, large tensors keep a histogram each (in memory, every layer does): group them, or select without a cap.", paramName);
}
