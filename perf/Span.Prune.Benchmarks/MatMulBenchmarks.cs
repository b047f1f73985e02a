using BenchmarkDotNet.Attributes;
using Span.Prune.Lab.Bench;
using Span.Prune.Sparse;

namespace Span.Prune.Benchmarks;

/// <summary>
/// Y = W·X with W 4096×4096, single thread: the dense GEMM/GEMV baseline against every sparse format, each pruned
/// in its own structure at the same target sparsity (see <see cref="MatMulWorkload"/>: csr = unstructured, bsr = 4×4
/// blocks, nm = the N:M pattern nearest the sparsity, shrunk = rows removed). Read the Ratio column as
/// "time relative to dense"; below 1 the format is faster.
/// </summary>
/// <remarks>Full sweep: <c>dotnet run -c Release --project perf/Span.Prune.Benchmarks -- --filter '*MatMulBenchmarks*'</c>.</remarks>
[MemoryDiagnoser]
public class MatMulBenchmarks
{
    private MatMulWorkload _w = null!;

    /// <summary>Target fraction of pruned weights.</summary>
    [Params(0.5, 0.7, 0.8, 0.9, 0.95, 0.98)]
    public double Sparsity { get; set; }

    /// <summary>Columns of X and Y.</summary>
    [Params(1, 8, 32, 128)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _w = MatMulWorkload.Create(4096, 4096, Batch, Sparsity, seed: 1, blockRows: 4, blockColumns: 4);

    [Benchmark(Baseline = true)]
    public void Dense() => _w.Run(SparseFormat.Dense);

    [Benchmark]
    public void Csr() => _w.Run(SparseFormat.Csr);

    [Benchmark]
    public void Csr16() => _w.Run(SparseFormat.Csr16);

    [Benchmark]
    public void Bsr() => _w.Run(SparseFormat.Bsr);

    [Benchmark]
    public void Nm() => _w.Run(SparseFormat.NM);

    [Benchmark]
    public void Shrunk() => _w.Run(SparseFormat.Shrunk);
}
