using Span.Prune.Internal;
using Span.Prune.Sparse;

namespace Span.Prune.Tests.Sparse;

/// <summary>The allocation-free parallel row loop under every <c>MultiplyParallel</c>.</summary>
public class RowParallelTests
{
    /// <summary>Counts visits per row (into a caller array), throws on a chosen row.</summary>
    private readonly struct CountingKernel(int[] visits, int throwAt, int align) : IRowRangeKernel
    {
        public int Boundary(int chunk, int chunks) => RowParallel.EvenBoundary(chunk, chunks, visits.Length, align);

        public void Run(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                if (r == throwAt) throw new InvalidOperationException("row " + r);
                Interlocked.Increment(ref visits[r]);
            }
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(7, 1)]
    [InlineData(8, 1)]
    [InlineData(9, 1)]
    [InlineData(100, 24)]
    [InlineData(1000, 1)]
    public void For_RunsEveryRowExactlyOnce(int rows, int align)
    {
        for (int threads = 1; threads <= 4; threads++)
        {
            int[] visits = new int[rows];
            RowParallel.For(rows, threads, new CountingKernel(visits, -1, align));
            Assert.All(visits, v => Assert.Equal(1, v));
        }
    }

    [Fact]
    public void For_AKernelThatThrows_RethrowsOnTheCaller_AndTheLoopStillWorksAfterwards()
    {
        int[] visits = new int[500];
        var e = Assert.Throws<InvalidOperationException>(() => RowParallel.For(visits.Length, 2, new CountingKernel(visits, 321, 1)));
        Assert.Equal("row 321", e.Message);
        visits = new int[500];
        RowParallel.For(visits.Length, 2, new CountingKernel(visits, -1, 1));
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    /// <summary>
    /// The issue asks for no allocation per multiply, parallel overloads included. On a one-core machine the
    /// parallel calls run on the caller and the test still holds (trivially).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(33)]
    public void MultiplyParallel_DoesNotAllocate(int batch)
    {
        const int rows = 96, cols = 136;
        float[] w = MatMulReference.Pruned(rows, cols, 0.8, 5);
        float[] x = TestData.Uniform(cols * batch, 2), y = new float[rows * batch];
        var (csr, csr16, bsr, nm, shrunk) = SparseMatMulTests.EveryFormat(w, rows, cols);
        void All()
        {
            MatMul.MultiplyParallel(w, rows, cols, x, y, batch, 2);
            MatMul.MultiplyParallel(csr, x, y, batch, 2);
            MatMul.MultiplyParallel(csr16, x, y, batch, 2);
            MatMul.MultiplyParallel(bsr, x, y, batch, 2);
            MatMul.MultiplyParallel(nm, x, y, batch, 2);
            MatMul.MultiplyParallel(shrunk, x, y, batch, 2);
        }
        AllocationAssert.None(All, 20);
    }

    /// <summary>Several threads multiplying at once (more than the job pool holds) all get their own, exact results.</summary>
    [Fact]
    public void MultiplyParallel_ConcurrentCallers_GetBitIdenticalResults()
    {
        const int rows = 200, cols = 96, callers = RowJob<CountingKernel>.PoolSize + 4, calls = 25;
        var csr = new CsrMatrix[callers];
        var xs = new float[callers][];
        var expectedSparse = new float[callers][];
        var expectedDense = new float[callers][];
        var dense = new float[callers][];
        for (int c = 0; c < callers; c++)
        {
            int batch = c % 3 == 0 ? 1 : 5 + c;
            dense[c] = MatMulReference.Pruned(rows, cols, 0.6, 10 + c);
            csr[c] = CsrMatrix.FromDense(dense[c], rows, cols);
            xs[c] = TestData.Uniform(cols * batch, 20 + c);
            expectedSparse[c] = new float[rows * batch];
            expectedDense[c] = new float[rows * batch];
            MatMul.Multiply(csr[c], xs[c], expectedSparse[c], batch);
            MatMul.Multiply(dense[c], rows, cols, xs[c], expectedDense[c], batch);
        }
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = new Thread[callers];
        using var start = new Barrier(callers);
        for (int c = 0; c < callers; c++)
        {
            int id = c;
            threads[c] = new Thread(() =>
            {
                int batch = xs[id].Length / cols;
                float[] y = new float[rows * batch];
                start.SignalAndWait();
                for (int k = 0; k < calls; k++)
                {
                    Array.Fill(y, float.NaN);
                    MatMul.MultiplyParallel(csr[id], xs[id], y, batch, 2);
                    if (!BitsEqual(expectedSparse[id], y)) failures.Add($"caller {id} call {k}: sparse differs");
                    Array.Fill(y, float.NaN);
                    MatMul.MultiplyParallel(dense[id], rows, cols, xs[id], y, batch, 2);
                    if (!BitsEqual(expectedDense[id], y)) failures.Add($"caller {id} call {k}: dense differs");
                }
            });
            threads[c].Start();
        }
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
    }

    private static bool BitsEqual(float[] a, float[] b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i])) return false;
        return true;
    }
}

/// <summary>Runs alone (no other test allocating in the process), so the process-wide allocation count is meaningful.</summary>
[CollectionDefinition(nameof(ProcessAllocationCollection), DisableParallelization = true)]
public sealed class ProcessAllocationCollection;

[Collection(nameof(ProcessAllocationCollection))]
public class RowParallelProcessAllocationTests
{
    /// <summary>
    /// The pool threads allocate nothing either: over 200 parallel multiplies the whole process allocates less than
    /// 8 bytes per call (a per-call allocation anywhere, e.g. a Task, would cost ≥ 64 bytes each).
    /// </summary>
    [Fact]
    public void MultiplyParallel_WholeProcess_AllocatesAlmostNothing()
    {
        const int rows = 128, cols = 128, batch = 17, calls = 100;
        float[] w = MatMulReference.Pruned(rows, cols, 0.7, 8);
        float[] x = TestData.Uniform(cols * batch, 3), y = new float[rows * batch];
        var csr = CsrMatrix.FromDense(w, rows, cols);
        for (int i = 0; i < 50; i++)
        {
            MatMul.MultiplyParallel(csr, x, y, batch, 2);
            MatMul.MultiplyParallel(w, rows, cols, x, y, batch, 2);
        }
        // As AllocationAssert, but process-wide: the test host serialises finished tests' results on its own threads
        // and the pool may start a worker thread, so a window can be dirty; a per-call allocation dirties every window.
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 10 && allocated >= 2 * calls * 8; attempt++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < calls; i++)
            {
                MatMul.MultiplyParallel(csr, x, y, batch, 2);
                MatMul.MultiplyParallel(w, rows, cols, x, y, batch, 2);
            }
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        }
        Assert.True(allocated < 2 * calls * 8, $"{allocated} bytes over {2 * calls} parallel calls in the cleanest of 10 windows");
    }
}
