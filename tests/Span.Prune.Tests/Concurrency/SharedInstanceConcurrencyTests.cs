using Span.Prune.Sparse;

namespace Span.Prune.Tests.Concurrency;

/// <summary>
/// 64 dedicated threads hammer shared layers and shared sparse matrices with mixed batch sizes; every result must be
/// bit-identical to the sequential result computed beforehand. Exercises the per-thread X scratch, the pooled
/// parallel work items and the immutability of the formats under contention.
/// </summary>
public class SharedInstanceConcurrencyTests
{
    private const int Threads = 64;
    private const int CallsPerThread = 600;
    private const int Rows = 96, Cols = 128; // ≥ 32 rows, so MultiplyParallel really splits the rows
    private static readonly int[] Batches = [1, 2, 7, 32];
    private static readonly string[] Layouts = ["dense", "csr", "csr16", "bsr:4x4", "nm:2:4", "shrunk"];

    /// <summary>One shared operation: a name and a multiply that writes Y for a given batch.</summary>
    private sealed record Op(string Name, MultiplyFn Run);

    private delegate void MultiplyFn(ReadOnlySpan<float> x, Span<float> y, int batch);

    private static float[] Weights()
    {
        // 2:4-compatible (so every layout applies) with whole zero rows and columns (so shrunk removes some).
        float[] w = TestData.Normal(Rows * Cols, 11);
        for (int i = 0; i < w.Length; i += 4) { w[i + 1] = 0; w[i + 3] = 0; }
        Array.Clear(w, 10 * Cols, Cols);
        Array.Clear(w, 50 * Cols, Cols);
        for (int r = 0; r < Rows; r++) { w[r * Cols + 8] = 0; w[r * Cols + 100] = 0; }
        return w;
    }

    private static List<Op> SharedOps(float[] w)
    {
        var ops = new List<Op>();
        foreach (string text in Layouts)
        {
            var layer = SparseLayer.Create(w, Rows, Cols, SparseLayout.Parse(text));
            ops.Add(new Op($"layer {text}", layer.Multiply));
            ops.Add(new Op($"layer {text} parallel", (x, y, b) => layer.MultiplyParallel(x, y, b, 4)));
        }
        var csr = CsrMatrix.FromDense(w, Rows, Cols);
        var csr16 = Csr16Matrix.FromDense(w, Rows, Cols);
        var bsr = BsrMatrix.FromDense(w, Rows, Cols, 4, 4);
        var nm = NmSparseMatrix.FromDense(w, Rows, Cols, 2, 4);
        var shrunkFull = ShrunkDense.FromDense(w, Rows, Cols, default, default); // keeps every row and column, so X and Y are full size
        ops.Add(new Op("csr", (x, y, b) => MatMul.Multiply(csr, x, y, b)));
        ops.Add(new Op("csr parallel", (x, y, b) => MatMul.MultiplyParallel(csr, x, y, b, 4)));
        ops.Add(new Op("csr16", (x, y, b) => MatMul.Multiply(csr16, x, y, b)));
        ops.Add(new Op("csr16 parallel", (x, y, b) => MatMul.MultiplyParallel(csr16, x, y, b, 4)));
        ops.Add(new Op("bsr", (x, y, b) => MatMul.Multiply(bsr, x, y, b)));
        ops.Add(new Op("bsr parallel", (x, y, b) => MatMul.MultiplyParallel(bsr, x, y, b, 4)));
        ops.Add(new Op("nm", (x, y, b) => MatMul.Multiply(nm, x, y, b)));
        ops.Add(new Op("nm parallel", (x, y, b) => MatMul.MultiplyParallel(nm, x, y, b, 4)));
        ops.Add(new Op("shrunk", (x, y, b) => MatMul.Multiply(shrunkFull, x, y, b)));
        ops.Add(new Op("shrunk parallel", (x, y, b) => MatMul.MultiplyParallel(shrunkFull, x, y, b, 4)));
        ops.Add(new Op("dense", (x, y, b) => MatMul.Multiply(w, Rows, Cols, x, y, b)));
        ops.Add(new Op("dense parallel", (x, y, b) => MatMul.MultiplyParallel(w, Rows, Cols, x, y, b, 4)));
        return ops;
    }

    [Fact]
    public void SixtyFourThreads_OnSharedInstances_GiveTheSequentialResultsBitForBit()
    {
        float[] w = Weights();
        List<Op> ops = SharedOps(w);
        float[][] xs = Batches.Select(b => TestData.Uniform(Cols * b, 100 + b)).ToArray();

        // Sequential results first, on this thread.
        var expected = new float[ops.Count, Batches.Length][];
        for (int o = 0; o < ops.Count; o++)
            for (int b = 0; b < Batches.Length; b++)
            {
                float[] y = TestData.NaNs(Rows * Batches[b]);
                ops[o].Run(xs[b], y, Batches[b]);
                expected[o, b] = y;
            }

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int seed = t;
            threads[t] = new Thread(() =>
            {
                var rng = new Random(seed);
                float[][] ys = Batches.Select(b => new float[Rows * b]).ToArray();
                start.SignalAndWait();
                for (int call = 0; call < CallsPerThread && failures.IsEmpty; call++)
                {
                    int o = rng.Next(ops.Count), b = rng.Next(Batches.Length);
                    float[] y = ys[b];
                    y.AsSpan().Fill(float.NaN);
                    try { ops[o].Run(xs[b], y, Batches[b]); }
                    catch (Exception e) { failures.Enqueue($"{ops[o].Name} batch {Batches[b]}: {e}"); return; }
                    if (!BitIdentical(expected[o, b], y)) failures.Enqueue($"{ops[o].Name} batch {Batches[b]} differs on thread {seed}, call {call}.");
                }
            }) { IsBackground = true, Name = $"concurrency-{t}" };
            threads[t].Start();
        }
        foreach (var thread in threads) Assert.True(thread.Join(TimeSpan.FromMinutes(2)), "a caller did not finish");
        Assert.True(failures.IsEmpty, string.Join(Environment.NewLine, failures.Take(5)));
    }

    private static bool BitIdentical(float[] a, float[] b) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
}
