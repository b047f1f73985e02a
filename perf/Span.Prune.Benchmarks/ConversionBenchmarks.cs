using BenchmarkDotNet.Attributes;
using Span.Prune.Sparse;

namespace Span.Prune.Benchmarks;

/// <summary>
/// Dense → sparse conversion of a pruned 4096×4096 matrix (allocating <c>FromDense</c>, which counts then fills).
/// The baseline is a naive scalar CSR conversion (one branch per element, list-free but unvectorised).
/// </summary>
[MemoryDiagnoser]
public class ConversionBenchmarks
{
    private const int N = 4096;
    private float[] _unstructured = null!, _blocks = null!, _twoFour = null!;

    /// <summary>Fraction of zeros in the unstructured and block-pruned inputs (the N:M input is always 2:4).</summary>
    [Params(0.5, 0.9)]
    public double Sparsity { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _unstructured = new float[N * N];
        _blocks = new float[N * N];
        _twoFour = new float[N * N];
        for (int i = 0; i < _unstructured.Length; i++)
        {
            float v = (float)(rng.NextDouble() * 2 - 1);
            _unstructured[i] = rng.NextDouble() < Sparsity ? 0f : v;
            _twoFour[i] = (i & 3) < 2 ? v : 0f;
        }
        for (int br = 0; br < N / 4; br++)
            for (int bc = 0; bc < N / 4; bc++)
            {
                if (rng.NextDouble() < Sparsity) continue;
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 4; c++) _blocks[(br * 4 + r) * N + bc * 4 + c] = 1f + r + c;
            }
    }

    [Benchmark(Baseline = true)]
    public int NaiveCsr()
    {
        int nnz = 0;
        foreach (float v in _unstructured) if (v != 0f) nnz++;
        var rp = new int[N + 1];
        var ci = new int[nnz];
        var vals = new float[nnz];
        int k = 0;
        for (int r = 0; r < N; r++)
        {
            for (int c = 0; c < N; c++)
            {
                float v = _unstructured[r * N + c];
                if (v == 0f) continue;
                ci[k] = c;
                vals[k++] = v;
            }
            rp[r + 1] = k;
        }
        return k;
    }

    [Benchmark]
    public int Csr() => CsrMatrix.FromDense(_unstructured, N, N).NonZeroCount;

    [Benchmark]
    public int Csr16() => SparseLayer.Create(_unstructured, N, N, SparseLayout.Csr16).Columns;

    [Benchmark]
    public int Bsr4x4() => BsrMatrix.FromDense(_blocks, N, N, 4, 4).BlockCount;

    [Benchmark]
    public int Bsr8x1() => BsrMatrix.FromDense(_blocks, N, N, 8, 1).BlockCount;

    [Benchmark]
    public int Nm2of4() => NmSparseMatrix.FromDense(_twoFour, N, N, 2, 4).KeptPerRow;

    [Benchmark]
    public int Shrunk() => ShrunkDense.FromDense(_unstructured, N, N).Rows;
}
