using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Span.Prune.Internal;

/// <summary>
/// 64-byte-aligned float scratch for one call: the sparse kernels' packed copy of X and the dense GEMM's packed tiles.
/// <c>using var scratch = new AlignedScratch(length);</c> then <see cref="Span"/>; disposing hands a shared buffer back.
/// </summary>
/// <remarks>
/// <para>Why aligned: the SpMM kernels load whole rows of X (one or two 512-bit vectors per stored weight) at random
/// rows. Managed arrays are only 8- or 16-byte aligned, so nearly every such load straddles two cache lines and costs
/// two; copying X once into a 64-byte-aligned buffer halves the load cost (CSR SpMM at 90% sparsity and batch 32 became
/// about 1.7× faster on 4096², measured), for a copy of <c>cols·batch</c> floats.</para>
/// <para>Where the memory lives (all pinned arrays on the pinned object heap, so their addresses never move):
/// a request of up to <see cref="ThreadLimit"/> floats (64 KiB) uses a thread-static buffer, allocated on first use and
/// grown up to that size, then reused: it lives as long as the thread, so a server pins at most 64 KiB per thread
/// whatever the batch. A larger request rents from one process-wide pool of at most <see cref="SharedSlots"/> buffers
/// and returns it when the call ends (a buffer returned to a full pool replaces a smaller one, or is left to the GC).
/// Either way steady-state calls allocate nothing, as long as no more than <see cref="SharedSlots"/> large calls run at
/// once; beyond that the extra callers allocate a buffer each and the GC reclaims it.</para>
/// <para>One scratch per thread at a time: a second scratch of the thread-static size on the same thread, before the
/// first is disposed, would share its memory. No kernel nests them.</para>
/// </remarks>
internal ref struct AlignedScratch
{
    /// <summary>The largest request (in floats, alignment slack included) served by the thread-static buffer: 64 KiB.</summary>
    public const int ThreadLimit = 1 << 14;

    /// <summary>Buffers the shared pool keeps: one per core, at least 2, at most 64.</summary>
    public static readonly int SharedSlots = Math.Clamp(Environment.ProcessorCount, 2, 64);

    private const int Slack = 64 / sizeof(float); // floats skipped at most to reach a 64-byte boundary

    [ThreadStatic] private static float[]? t_buffer;
    private static readonly float[]?[] s_shared = new float[SharedSlots][];

    private float[]? _rented;

    /// <summary>A 64-byte-aligned span of <paramref name="length"/> floats (contents undefined; empty for 0).</summary>
    public AlignedScratch(int length)
    {
        if (length == 0) return;
        int needed = length + Slack;
        float[] buffer;
        if ((uint)needed <= ThreadLimit)
        {
            buffer = t_buffer ??= Allocate(ThreadLimit, needed);
            if (buffer.Length < needed) t_buffer = buffer = Allocate(ThreadLimit, needed);
        }
        else
        {
            _rented = buffer = RentShared(needed);
        }
        Span = AlignedSlice(buffer, length);
    }

    /// <summary>The scratch, valid until <see cref="Dispose"/>.</summary>
    public Span<float> Span { get; }

    /// <summary>Hands a shared buffer back to the pool (nothing for the thread-static one).</summary>
    public void Dispose()
    {
        if (_rented is { } buffer)
        {
            _rented = null;
            ReturnShared(buffer);
        }
    }

    /// <summary>Bytes of this thread's buffer (0 before first use): what the thread keeps pinned.</summary>
    internal static long ThreadBytes => (long)(t_buffer?.Length ?? 0) * sizeof(float);

    /// <summary>Bytes of the buffers in the shared pool right now.</summary>
    internal static long SharedBytes
    {
        get
        {
            long sum = 0;
            foreach (float[]? b in s_shared) sum += (long)(b?.Length ?? 0) * sizeof(float);
            return sum;
        }
    }

    /// <summary>A pinned buffer for <paramref name="needed"/> floats, rounded up to reduce regrowth when the batch varies a little.</summary>
    private static float[] Allocate(int limit, int needed) =>
        GC.AllocateUninitializedArray<float>((int)Math.Min(limit, Math.Max((long)Math.Max(needed, 1024) * 5 / 4, needed)), pinned: true);

    private static unsafe Span<float> AlignedSlice(float[] buffer, int length)
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        int offset = (int)((64 - (address & 63)) & 63) / sizeof(float);
        return buffer.AsSpan(offset, length);
    }

    private static float[] RentShared(int needed)
    {
        float[]?[] pool = s_shared;
        for (int i = 0; i < pool.Length; i++)
        {
            float[]? b = Volatile.Read(ref pool[i]);
            if (b is not null && b.Length >= needed && Interlocked.CompareExchange(ref pool[i], null, b) == b) return b;
        }
        return Allocate(Array.MaxLength, needed);
    }

    private static void ReturnShared(float[] buffer)
    {
        float[]?[] pool = s_shared;
        for (int i = 0; i < pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref pool[i], buffer, null) is null) return;
        }
        // Full: keep the larger buffers, so that the largest request in use stops allocating.
        for (int i = 0; i < pool.Length; i++)
        {
            float[]? b = Volatile.Read(ref pool[i]);
            if (b is not null && b.Length < buffer.Length && Interlocked.CompareExchange(ref pool[i], buffer, b) == b) return;
        }
    }
}
