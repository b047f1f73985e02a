using CommunityToolkit.HighPerformance.Helpers;

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
/// Runs a row kernel on several threads. Rows are the unit of work and every row is computed by exactly the
/// code the single-threaded call runs, so results are identical bit for bit whatever the partition.
/// </summary>
/// <remarks>
/// The kernel is a struct passed by <c>in</c> to <see cref="ParallelHelper"/>: no closure, no delegate per call.
/// The thread pool's task bookkeeping still allocates a few hundred bytes per call; the single-threaded entry
/// points are the allocation-free ones.
/// </remarks>
internal static class RowParallel
{
    /// <summary>Threads to use for <paramref name="maxDegreeOfParallelism"/> (−1 or 0 = all processors).</summary>
    public static int Degree(int maxDegreeOfParallelism) =>
        maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount);

    public static void For<TKernel>(int rows, int maxDegreeOfParallelism, in TKernel kernel)
        where TKernel : struct, IRowRangeKernel
    {
        int chunks = Math.Min(Degree(maxDegreeOfParallelism), rows);
        if (chunks <= 1)
        {
            kernel.Run(0, rows);
            return;
        }
        ParallelHelper.For(0, chunks, new Chunk<TKernel>(kernel, rows, chunks), 1);
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

    private readonly struct Chunk<TKernel>(TKernel kernel, int rows, int chunks) : IAction
        where TKernel : struct, IRowRangeKernel
    {
        public void Invoke(int i)
        {
            int start = i == 0 ? 0 : kernel.Boundary(i, chunks);
            int end = i == chunks - 1 ? rows : kernel.Boundary(i + 1, chunks);
            if (end > start) kernel.Run(start, end);
        }
    }
}
