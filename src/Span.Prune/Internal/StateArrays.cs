using System.Buffers;

namespace Span.Prune.Internal;

/// <summary>
/// Where an engine keeps its state arrays: on the GC heap for an object that lives as long as its user wants
/// (<see cref="GlobalMagnitudePruning"/>), or rented from <see cref="ArrayPool{T}.Shared"/> for the length of one
/// call (<see cref="Pruning.Global"/>, which must not allocate), and then handed back by <see cref="Return{T}"/>.
/// </summary>
/// <remarks>
/// These arrays live in fields of the engine's structs, which a <c>SpanOwner&lt;T&gt;</c> (a ref struct) cannot; one-call
/// scratch that stays on the stack uses <c>SpanOwner&lt;T&gt;</c> instead. Either way the first <c>length</c>
/// elements of an array start zeroed.
/// </remarks>
internal readonly struct StateArrays(bool pooled)
{
    /// <summary>An array whose first <paramref name="length"/> elements are zero (a pooled one may be longer).</summary>
    public T[] Take<T>(int length)
    {
        if (!pooled) return new T[length];
        T[] array = ArrayPool<T>.Shared.Rent(length);
        Array.Clear(array, 0, length);
        return array;
    }

    /// <summary>Hands a pooled array back (nothing for a GC-owned one).</summary>
    public void Return<T>(T[]? array)
    {
        if (pooled && array is not null) ArrayPool<T>.Shared.Return(array);
    }
}
