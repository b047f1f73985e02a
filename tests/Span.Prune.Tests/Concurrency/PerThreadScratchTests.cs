using System.Reflection;
using Span.Prune.Sparse;
using Xunit.Abstractions;

namespace Span.Prune.Tests.Concurrency;

/// <summary>
/// Measures the memory the multiplies keep in <c>Internal.AlignedScratch</c> (the only thread-static buffer of the
/// library; the other thread-statics are ints and enums of the selection test hooks) after multiplies of each format
/// at the quick bench's shapes: 4096 columns, batches 1, 8, 32 and 128.
/// </summary>
/// <remarks>
/// The sparse kernels copy X (<c>columns·batch</c> floats) for batch ≥ 4; the dense GEMM packs only its narrow or
/// ragged batch tile. Requests up to 16,384 floats (64 KiB, alignment slack included) use a thread-static buffer that
/// lives with its thread; larger ones rent from a shared pool of at most <c>clamp(cores, 2, 64)</c> buffers and give
/// them back at the end of the call. The figures are read through reflection (thread-static buffer length, pool
/// contents), not from the allocator: they are what stays pinned between calls. 64 rows stand in for 4096 (the row
/// count does not change the scratch).
/// </remarks>
[Collection(nameof(Sparse.ProcessAllocationCollection))] // reads the process-wide pool: no other test may rent from it meanwhile
public class PerThreadScratchTests(ITestOutputHelper output)
{
    private const int Rows = 64, Cols = 4096;
    private const long ThreadLimitBytes = (1 << 14) * sizeof(float);

    private static readonly Type Scratch = typeof(MatMul).Assembly.GetType("Span.Prune.Internal.AlignedScratch", throwOnError: true)!;
    private static readonly FieldInfo BufferField = Scratch.GetField("t_buffer", BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly FieldInfo PoolField = Scratch.GetField("s_shared", BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>This thread's scratch buffer, in bytes (0 before first use).</summary>
    private static long PinnedBytes() => BufferField.GetValue(null) is float[] b ? (long)b.Length * sizeof(float) : 0;

    /// <summary>Buffers in the shared pool and their bytes.</summary>
    private static (int Count, long Bytes) Pool()
    {
        var pool = (float[]?[])PoolField.GetValue(null)!;
        return (pool.Count(b => b is not null), pool.Sum(b => (long)(b?.Length ?? 0) * sizeof(float)));
    }

    private static int PoolSlots => ((Array)PoolField.GetValue(null)!).Length;

    private static (SparseLayer[] Layers, int[] Batches, Dictionary<int, float[]> Xs) Setup()
    {
        float[] w = Sparse.MatMulReference.Pruned(Rows, Cols, 0.9, 3);
        for (int i = 0; i < w.Length; i += 4) { w[i + 1] = 0; w[i + 2] = 0; w[i + 3] = 0; } // fits 1:4
        string[] layouts = ["dense", "csr", "csr16", "bsr:4x4", "nm:1:4", "shrunk"];
        int[] batches = [1, 8, 32, 128];
        var layers = layouts.Select(l => SparseLayer.Create(w, Rows, Cols, SparseLayout.Parse(l))).ToArray();
        return (layers, batches, batches.ToDictionary(b => b, b => TestData.Uniform(Cols * b, b)));
    }

    /// <summary>
    /// A request that every ISA serves from the thread's own buffer: a sparse multiply copies X for batch ≥ 4 on every
    /// vector width, and 512 columns × batch 4 is 8 KiB (the 4096-column batches above all go to the shared pool; only
    /// the AVX-512 dense GEMM packs a small tile, so without this the thread buffer would stay empty on the 256- and
    /// 128-bit legs and the bound would be checked on nothing).
    /// </summary>
    private static void SmallSparseMultiply()
    {
        const int columns = 512, batch = 4;
        var layer = SparseLayer.Create(Sparse.MatMulReference.Pruned(Rows, columns, 0.9, 5), Rows, columns, SparseLayout.Csr);
        layer.Multiply(TestData.Uniform(columns * batch, 7), new float[Rows * batch], batch);
    }

    [Fact]
    public void ScratchPerThread_IsBoundedBy64KiB_AndFreedWithTheThread()
    {
        var (layers, batches, xs) = Setup();
        var lines = new List<string>();
        WeakReference? buffer = null;
        long all = 0;
        var thread = new Thread(() =>
        {
            foreach (var layer in layers)
            {
                var fresh = new Thread(() =>
                {
                    var row = new List<string>();
                    foreach (int b in batches)
                    {
                        layer.Multiply(xs[b], new float[Rows * b], b);
                        row.Add($"b{b}: {PinnedBytes():N0} B");
                    }
                    lock (lines) lines.Add($"{layer.Layout,-8} {string.Join(", ", row)}");
                });
                fresh.Start();
                fresh.Join();
            }
            foreach (var layer in layers)
                foreach (int b in batches) layer.Multiply(xs[b], new float[Rows * b], b);
            SmallSparseMultiply();
            all = PinnedBytes();
            lock (lines) lines.Add($"one thread, every format and batch: {all:N0} B kept by the thread");
            buffer = new WeakReference(BufferField.GetValue(null));
        });
        thread.Start();
        thread.Join();
        // Asserted here, not on the thread: an assertion that throws on a raw thread takes the test host down.
        // Before the bound, that thread kept the largest request, Cols·128 floats sized (n + 16)·5/4: 2.5 MiB.
        Assert.InRange(all, 1, ThreadLimitBytes);
        var (count, bytes) = Pool();
        lines.Add($"shared pool: {count} of {PoolSlots} buffers, {bytes:N0} B");
        foreach (string line in lines) output.WriteLine(line);
        // The batch-128 buffers (Cols·128 floats + slack, rounded by 5/4) went back to the pool at the end of their calls.
        Assert.InRange(count, 1, PoolSlots);
        Assert.True(bytes >= ((long)Cols * 128 + 16) * sizeof(float));

        // The buffer is referenced only by its thread's thread-static slot: once the thread has ended, it is collectable.
        for (int i = 0; i < 5 && buffer!.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(buffer!.IsAlive, "the scratch buffer outlived its thread");
    }

    [Fact]
    public void ManyThreads_KeepAtMost64KiBEach_AndThePoolAtMostItsSlots_ResultsBitIdentical()
    {
        // 200 threads (a server's pool) each multiply at batch 128 at the same time (a barrier): every one needs a large
        // buffer at once, so most allocate, and afterwards the pool keeps at most its slots.
        const int threads = 200;
        var (layers, _, xs) = Setup();
        SparseLayer layer = layers[1]; // csr
        float[] x = xs[128], expected = new float[Rows * 128];
        layer.Multiply(x, expected, 128);
        var kept = new long[threads];
        var same = new bool[threads];
        using var barrier = new Barrier(threads);
        var all = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var y = new float[Rows * 128];
            barrier.SignalAndWait();
            layer.Multiply(x, y, 128);
            SmallSparseMultiply(); // a small request: the thread-static buffer
            same[t] = y.AsSpan().SequenceEqual(expected);
            kept[t] = PinnedBytes();
        }, maxStackSize: 256 << 10)).ToArray();
        foreach (var t in all) t.Start();
        foreach (var t in all) t.Join();

        var (count, bytes) = Pool();
        output.WriteLine($"{threads} threads: at most {kept.Max():N0} B kept per thread ({kept.Sum():N0} B in all); shared pool {count} of {PoolSlots} buffers, {bytes:N0} B");
        Assert.All(same, Assert.True);
        Assert.All(kept, k => Assert.InRange(k, 1, ThreadLimitBytes));
        Assert.InRange(count, 1, PoolSlots); // every buffer beyond the slots went to the GC
    }
}
