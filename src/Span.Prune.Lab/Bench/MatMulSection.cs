using Span.Prune.Sparse;

namespace Span.Prune.Lab.Bench;

/// <summary>
/// Y = W·X with W 4096×4096 pruned in the structure of each format, against our dense GEMM/GEMV with the same shape
/// and batch, measured alternately in the same run. GFLOPS are dense-equivalent (<c>2·rows·cols·batch</c> / time).
/// </summary>
internal sealed class MatMulSection : IReportSection
{
    private static readonly SparseFormat[] SparseFormats =
        [SparseFormat.Csr, SparseFormat.Csr16, SparseFormat.Bsr, SparseFormat.NM, SparseFormat.Shrunk];

    public string Name => "sparse and dense matmul (4096×4096)";

    public IEnumerable<ReportRow> Measure(BenchSize size)
    {
        double[] sparsities = size switch
        {
            BenchSize.Full => [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98],
            BenchSize.Quick => [0.5, 0.9, 0.95],
            _ => [0.5, 0.9],
        };
        int[] batches = size == BenchSize.Smoke ? [1, 8] : [1, 8, 32, 128];
        int runs = size switch { BenchSize.Full => 15, BenchSize.Quick => 7, _ => 3 };
        int side = size == BenchSize.Smoke ? 256 : 4096;
        foreach (int batch in batches)
        {
            bool denseRowDone = false;
            foreach (double sparsity in sparsities)
            {
                var workload = MatMulWorkload.Create(side, side, batch, sparsity, seed: 7);
                int reps = Repetitions(() => workload.Run(SparseFormat.Dense));
                double denseMs = 0;
                foreach (SparseFormat format in SparseFormats)
                {
                    if (!workload.Has(format)) continue;
                    var (ours, dense) = Stopwatches.Compare(
                        () => { for (int i = 0; i < reps; i++) workload.Run(format); },
                        () => { for (int i = 0; i < reps; i++) workload.Run(SparseFormat.Dense); },
                        runs);
                    ours /= reps;
                    dense /= reps;
                    denseMs = dense;
                    yield return new ReportRow("matmul", workload.Layout(format).ToString(), 0, side, side, batch, sparsity,
                        ours, dense, "dense (ours)", workload.DenseFlops / (ours * 1e6), Math.Round(workload.ActualSparsity(format), 4));
                }
                if (!denseRowDone)
                {
                    denseRowDone = true;
                    yield return new ReportRow("matmul", "dense", 0, side, side, batch, 0, denseMs, denseMs, "dense (ours)", workload.DenseFlops / (denseMs * 1e6));
                }
            }
        }
    }

    /// <summary>Calls per timed sample so that one sample lasts about 10 ms (one dense call at batch 1 is ≈3 ms).</summary>
    private static int Repetitions(Action denseCall)
    {
        denseCall();
        double once = Stopwatches.Measure(denseCall, 3);
        return Math.Clamp((int)Math.Ceiling(10 / Math.Max(once, 1e-3)), 1, 50);
    }
}
