using CommunityToolkit.HighPerformance.Buffers;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Reused scratch for the streaming loops, which convert one tensor at a time: CommunityToolkit's pooled
/// <see cref="ArrayPoolBufferWriter{T}"/> grows to the largest request and is reused, so memory stays at about the
/// largest tensor without allocating per tensor.
/// </summary>
internal static class ScratchBuffers
{
    /// <summary>The first <paramref name="length"/> elements of <paramref name="buffer"/>'s pooled storage (contents left from earlier use).</summary>
    public static Span<T> Take<T>(this ArrayPoolBufferWriter<T> buffer, long length) => buffer.GetSpan(checked((int)length))[..(int)length];
}
