using System.Reflection;
using Span.Prune.Sparse;
using Xunit.Abstractions;

namespace Span.Prune.Tests.Concurrency;

/// <summary>
/// Measures the memory one thread pins in <c>Internal.AlignedScratch</c> (the only thread-static buffer of the
/// library; the other thread-statics are ints and enums of the selection test hooks) after multiplies of each format
/// at the quick bench's shapes: 4096 columns, batches 1, 8, 32 and 128.
/// </summary>
/// <remarks>
/// The sparse kernels copy X (<c>columns·batch</c> floats) into the buffer for batch ≥ 4; the dense GEMM packs only its
/// narrow or ragged batch tile. The buffer is sized <c>max(length + 16, 1024)·5/4</c> floats, grows, never shrinks,
/// and is freed with its thread. The row count does not change the figure, so 64 rows stand in for 4096.
/// </remarks>
public class PerThreadScratchTests(ITestOutputHelper output)
{
    private const int Rows = 64, Cols = 4096;

    private static readonly FieldInfo BufferField =
        typeof(SparseMatMul).Assembly.GetType("Span.Prune.Internal.AlignedScratch", throwOnError: true)!
            .GetField("t_buffer", BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>This thread's scratch buffer, in bytes (0 before first use).</summary>
    private static long PinnedBytes() => BufferField.GetValue(null) is float[] b ? (long)b.Length * sizeof(float) : 0;

    [Fact]
    public void ScratchPerThread_IsBounded_AndFreedWithTheThread()
    {
        float[] w = MatMul.MatMulReference.Pruned(Rows, Cols, 0.9, 3);
        for (int i = 0; i < w.Length; i += 4) { w[i + 1] = 0; w[i + 2] = 0; w[i + 3] = 0; } // fits 1:4
        string[] layouts = ["dense", "csr", "csr16", "bsr:4x4", "nm:1:4", "shrunk"];
        int[] batches = [1, 8, 32, 128];
        var layers = layouts.Select(l => SparseLayer.Create(w, Rows, Cols, SparseLayout.Parse(l))).ToArray();
        var xs = batches.ToDictionary(b => b, b => TestData.Uniform(Cols * b, b));

        var lines = new List<string>();
        WeakReference? buffer = null;
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
            long all = PinnedBytes();
            lock (lines) lines.Add($"one thread, every format and batch: {all:N0} B");
            // Bound: the largest request is Cols·128 floats (the sparse X copy), sized (n + 16)·5/4.
            Assert.Equal((long)(Cols * 128 + 16) * 5 / 4 * sizeof(float), all);
            buffer = new WeakReference(BufferField.GetValue(null));
        });
        thread.Start();
        thread.Join();
        foreach (string line in lines) output.WriteLine(line);

        // The buffer is referenced only by its thread's thread-static slot: once the thread has ended, it is collectable.
        for (int i = 0; i < 5 && buffer!.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(buffer!.IsAlive, "the scratch buffer outlived its thread");
    }
}
