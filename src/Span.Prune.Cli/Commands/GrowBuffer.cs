namespace Span.Prune.Cli.Commands;

/// <summary>
/// A scratch array that grows to the largest request and is reused: the streaming loops convert one tensor at a
/// time, so one buffer per role keeps memory at about the largest tensor without allocating per tensor.
/// </summary>
internal sealed class GrowBuffer<T>
{
    private T[] _array = [];

    /// <summary>The first <paramref name="length"/> elements (contents left from earlier use).</summary>
    public Span<T> Take(long length)
    {
        if (_array.Length < length) _array = new T[length];
        return _array.AsSpan(0, (int)length);
    }
}
