using System.Runtime.ExceptionServices;

namespace Span.Prune.Internal;

/// <summary>A kernel over a contiguous range of output rows, run by <see cref="RowParallel"/>.</summary>
internal interface IRowRangeKernel
{
    /// <summary>Computes output rows <c>[start, end)</c>.</summary>
    void Run(int start, int end);

    /// <summary>
    /// First row of chunk <paramref name="chunk"/> of <paramref name="chunks"/> (chunk 0 starts at 0, chunk
    /// <c>chunks</c> ends at the row count); must be non-decreasing. Lets a sparse kernel balance non-zeros.
    /// </summary>
    int Boundary(int chunk, int chunks);
}

/// <summary>
/// Runs a row kernel on several threads without allocating. Rows are the unit of work and every row is computed by
/// exactly the code the single-threaded call runs, so results are identical bit for bit whatever the partition and
/// whichever thread runs a chunk.
/// </summary>
/// <remarks>
/// <para>Design: the rows are cut into <see cref="ChunksPerThread"/> chunks per thread. A pooled
/// <see cref="RowJob{TKernel}"/> (a cached <see cref="IThreadPoolWorkItem"/> that holds a copy of the struct kernel) is
/// queued once per extra thread; the calling thread and the pool threads claim chunks with one interlocked increment
/// each until none is left, so a pool thread that starts late (the machine is busy) costs nothing: the caller simply
/// runs more chunks. The caller then waits for the chunks still running (spin, then block on a reused
/// <see cref="ManualResetEventSlim"/>).</para>
/// <para>Reuse: a job goes back to its pool only when the caller and every queued item have finished with it
/// (reference count), so a work item that the pool dequeues after the call returned never sees the next call's
/// kernel. Several callers at once rent different jobs; when all <see cref="RowJob{TKernel}.PoolSize"/> jobs of a
/// kernel type are busy, the call runs on the calling thread alone rather than allocate (same bits).</para>
/// <para>Nothing is allocated per call once a job exists (the thread pool's queue reuses its segments; the event's
/// lock object is created on its first blocking wait and kept).</para>
/// </remarks>
internal static class RowParallel
{
    /// <summary>Chunks per thread: more than one, so a thread slowed by a neighbour on a shared machine is helped out.</summary>
    private const int ChunksPerThread = 4;

    /// <summary>Threads to use for <paramref name="maxDegreeOfParallelism"/> (−1 or 0 = all processors).</summary>
    public static int Degree(int maxDegreeOfParallelism) =>
        maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount);

    public static void For<TKernel>(int rows, int maxDegreeOfParallelism, in TKernel kernel)
        where TKernel : struct, IRowRangeKernel
    {
        int threads = Math.Min(Degree(maxDegreeOfParallelism), rows);
        RowJob<TKernel>? job = threads > 1 ? RowJob<TKernel>.Rent() : null;
        if (job is null)
        {
            kernel.Run(0, rows);
            return;
        }
        int chunks = (int)Math.Min((long)threads * ChunksPerThread, rows);
        job.Start(kernel, rows, chunks, threads - 1);
        for (int i = 1; i < threads; i++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        job.RunChunks();
        job.WaitAndRelease();
    }

    /// <summary>Even split of <paramref name="rows"/> rows, each boundary rounded down to a multiple of <paramref name="align"/>.</summary>
    public static int EvenBoundary(int chunk, int chunks, int rows, int align)
    {
        if (chunk >= chunks) return rows;
        int b = (int)((long)rows * chunk / chunks);
        return b - b % align;
    }

    /// <summary>Boundary that gives each chunk about the same number of non-zeros (binary search in the row pointers).</summary>
    public static int BalancedBoundary(ReadOnlySpan<int> rowPointers, int chunk, int chunks)
    {
        int rows = rowPointers.Length - 1;
        if (chunk >= chunks) return rows;
        long target = (long)rowPointers[rows] * chunk / chunks;
        int lo = 0, hi = rows;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (rowPointers[mid] < target) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}

/// <summary>One parallel row loop in flight: the kernel, the chunk counters and the completion event; pooled per kernel type.</summary>
internal sealed class RowJob<TKernel> : IThreadPoolWorkItem
    where TKernel : struct, IRowRangeKernel
{
    /// <summary>Jobs kept per kernel type: enough for a few concurrent callers; more callers run single-threaded.</summary>
    public const int PoolSize = 8;

    private static readonly RowJob<TKernel>?[] s_free = new RowJob<TKernel>?[PoolSize];
    private static int s_created;

    private readonly ManualResetEventSlim _done = new(false);
    private TKernel _kernel;
    private int _rows, _chunks;
    private int _next;        // next chunk to claim (grows past _chunks as late arrivals find nothing)
    private int _unfinished;  // chunks not yet completed; 0 sets _done
    private int _references;  // the caller plus queued work items that have not finished with this job
    private Exception? _error;

    /// <summary>A free job, a new one while fewer than <see cref="PoolSize"/> exist, otherwise null.</summary>
    public static RowJob<TKernel>? Rent()
    {
        RowJob<TKernel>?[] free = s_free;
        for (int i = 0; i < free.Length; i++)
        {
            RowJob<TKernel>? job = Interlocked.Exchange(ref free[i], null);
            if (job is not null) return job;
        }
        if (Volatile.Read(ref s_created) >= PoolSize || Interlocked.Increment(ref s_created) > PoolSize) return null;
        return new RowJob<TKernel>();
    }

    public void Start(in TKernel kernel, int rows, int chunks, int queued)
    {
        _kernel = kernel;
        _rows = rows;
        _chunks = chunks;
        _next = 0;
        _unfinished = chunks;
        _references = queued + 1;
        _error = null;
        _done.Reset();
        // The thread pool's enqueue publishes these writes (it is a full fence) before any worker reads them.
    }

    /// <summary>Pool thread: help with the chunks, then drop this item's reference.</summary>
    public void Execute()
    {
        RunChunks();
        Release();
    }

    /// <summary>Claims and runs chunks until none is left.</summary>
    public void RunChunks()
    {
        int chunk;
        while ((chunk = Interlocked.Increment(ref _next) - 1) < _chunks)
        {
            try
            {
                int start = chunk == 0 ? 0 : _kernel.Boundary(chunk, _chunks);
                int end = chunk == _chunks - 1 ? _rows : _kernel.Boundary(chunk + 1, _chunks);
                if (end > start) _kernel.Run(start, end);
            }
            catch (Exception e)
            {
                // Validated kernels do not throw; if one does, the caller rethrows it instead of the pool thread crashing the process.
                Interlocked.CompareExchange(ref _error, e, null);
            }
            if (Interlocked.Decrement(ref _unfinished) == 0) _done.Set();
        }
    }

    /// <summary>Caller: wait until every chunk is done, drop the caller's reference, rethrow a chunk's exception.</summary>
    public void WaitAndRelease()
    {
        if (Volatile.Read(ref _unfinished) != 0) _done.Wait();
        Exception? error = _error;
        Release();
        if (error is not null) ExceptionDispatchInfo.Throw(error);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        _kernel = default; // drop the pointers into the caller's (no longer pinned) buffers
        RowJob<TKernel>?[] free = s_free;
        for (int i = 0; i < free.Length; i++)
            if (Interlocked.CompareExchange(ref free[i], this, null) is null) return;
    }
}
