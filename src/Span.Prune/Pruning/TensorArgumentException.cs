namespace Span.Prune;

/// <summary>
/// An argument is wrong because of one tensor (layer) among many: it holds a NaN or ±∞ weight, a chunk runs past
/// its length, or a chunk has another element type than the tensor was declared with.
/// </summary>
/// <remarks>
/// Thrown by <see cref="GlobalMagnitudePruning"/> and <see cref="Pruning.Global"/>. <see cref="TensorIndex"/> says which
/// tensor, so a caller can name it in its own terms (a file's tensor name, a module path) without reading the message.
/// The message says what is wrong with the tensor without naming it — <c>"holds a NaN or infinite weight; ..."</c> — so
/// that the caller's name reads in front of it: <c>$"tensor '{names[e.TensorIndex]}': {e.Message}"</c>.
/// </remarks>
public sealed class TensorArgumentException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="tensorIndex">The index of the failing tensor, as the caller declared or passed it.</param>
    /// <param name="message">What is wrong with that tensor, said of it without naming it ("holds a NaN ...").</param>
    /// <param name="paramName">The parameter that carried the tensor or its chunk.</param>
    public TensorArgumentException(int tensorIndex, string message, string? paramName)
        : base(message, paramName) => TensorIndex = tensorIndex;

    /// <summary>The index of the failing tensor (0-based, in the order the tensors were declared or passed).</summary>
    public int TensorIndex { get; }
}
