using System.Diagnostics;
using Span.Prune.Internal;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Bench;

/// <summary>Formats a <see cref="MatMulWorkload"/> can run.</summary>
internal enum MatMulFormat
{
    Dense,
    Csr,
    Csr16,
    Bsr,
    Nm,
    Shrunk,
}

/// <summary>
/// One matrix-multiply comparison for the perf report (<see cref="MatMulSection"/>) and the BenchmarkDotNet suite
/// (perf/, which references this CLI); it lives here rather than in the library because only they use it: a random W <c>[rows × cols]</c> pruned at the
/// same target sparsity in the structure of each format, the operands, and a single-threaded <see cref="Run"/> per format.
/// </summary>
/// <remarks>
/// <para>Each format gets the pruning it is built for, so the comparison is "what does this kind of pruning buy":
/// dense = unpruned W (the baseline); csr / csr16 = unstructured, each weight dropped with probability s;
/// bsr = whole R×C blocks dropped with probability s; nm = random N of every M (N:M picked by <see cref="NmFor"/>,
/// whose sparsity N/M is the closest to s among 2:4, 1:4, 1:8, 1:16, 1:32, 1:64); shrunk = a fraction s of the rows
/// removed (its X is full, its Y holds the kept rows only).</para>
/// <para>Values are standard normal (seeded, reproducible); X is uniform in [−1, 1).</para>
/// </remarks>
internal sealed class MatMulWorkload
{
    public int Rows { get; }
    public int Columns { get; }
    public int Batch { get; }
    public double TargetSparsity { get; }
    public int BlockRows { get; }
    public int BlockColumns { get; }
    public float[] Dense { get; }
    public float[] X { get; }
    public float[] Y { get; }
    public CsrMatrix Csr { get; }
    public Csr16Matrix? Csr16 { get; }
    public BsrMatrix? Bsr { get; }
    public NmSparseMatrix? Nm { get; }
    public ShrunkDense Shrunk { get; }

    private MatMulWorkload(int rows, int cols, int batch, double sparsity, int seed, int blockRows, int blockColumns, bool includeDense)
    {
        Rows = rows;
        Columns = cols;
        Batch = batch;
        TargetSparsity = sparsity;
        BlockRows = blockRows;
        BlockColumns = blockColumns;
        var rng = new SeededStream((ulong)seed * 0x9E3779B97F4A7C15UL + 1);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = rng.Normal();
        X = new float[cols * batch];
        for (int i = 0; i < X.Length; i++) X[i] = (float)(rng.NextDouble() * 2 - 1);
        Y = new float[rows * batch];
        Dense = includeDense ? w : [];

        float[] pruned = new float[w.Length];
        // Unstructured.
        for (int i = 0; i < w.Length; i++) pruned[i] = rng.NextDouble() < sparsity ? 0f : w[i];
        Csr = CsrMatrix.FromDense(pruned, rows, cols);
        Csr16 = cols <= Csr16Matrix.MaxColumns ? Csr16Matrix.FromDense(pruned, rows, cols) : null;

        // Blocks.
        if (rows % blockRows == 0 && cols % blockColumns == 0)
        {
            Array.Copy(w, pruned, w.Length);
            for (int br = 0; br < rows / blockRows; br++)
                for (int bc = 0; bc < cols / blockColumns; bc++)
                {
                    if (rng.NextDouble() >= sparsity) continue;
                    for (int i = 0; i < blockRows; i++)
                        Array.Clear(pruned, (br * blockRows + i) * cols + bc * blockColumns, blockColumns);
                }
            Bsr = BsrMatrix.FromDense(pruned, rows, cols, blockRows, blockColumns);
        }

        // N:M: keep N random positions of every group (partial Fisher–Yates on the group's positions).
        var (n, m) = NmFor(sparsity);
        if (cols % m == 0)
        {
            Array.Clear(pruned);
            Span<int> order = stackalloc int[m];
            for (int g = 0; g < rows * cols; g += m)
            {
                for (int t = 0; t < m; t++) order[t] = t;
                for (int t = 0; t < n; t++)
                {
                    int pick = t + (int)(rng.NextDouble() * (m - t));
                    (order[t], order[pick]) = (order[pick], order[t]);
                    pruned[g + order[t]] = w[g + order[t]];
                }
            }
            Nm = NmSparseMatrix.FromDense(pruned, rows, cols, n, m);
        }

        // Rows removed.
        byte[] keep = new byte[rows];
        int kept = 0;
        for (int r = 0; r < rows; r++)
            if (rng.NextDouble() >= sparsity) { keep[r] = 1; kept++; }
        if (kept == 0) keep[0] = 1;
        Shrunk = ShrunkDense.FromDense(w, rows, cols, keep, []);
    }

    /// <summary>Builds every format for one shape, batch and target sparsity.</summary>
    /// <param name="rows">Rows of W.</param>
    /// <param name="cols">Columns of W.</param>
    /// <param name="batch">Columns of X.</param>
    /// <param name="sparsity">Target fraction of pruned weights, in [0, 1).</param>
    /// <param name="seed">Seed of all random values.</param>
    /// <param name="blockRows">R of the BSR blocks.</param>
    /// <param name="blockColumns">C of the BSR blocks.</param>
    /// <param name="includeDense">Keep the unpruned dense W (the baseline).</param>
    public static MatMulWorkload Create(int rows, int cols, int batch, double sparsity, int seed = 1, int blockRows = 4, int blockColumns = 4, bool includeDense = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "Sparsity must be in [0, 1).");
        return new MatMulWorkload(rows, cols, batch, sparsity, seed, blockRows, blockColumns, includeDense);
    }

    /// <summary>The N:M pattern whose sparsity 1 − N/M is closest to <paramref name="sparsity"/> among 2:4, 1:4, 1:8, …, 1:64.</summary>
    public static (int N, int M) NmFor(double sparsity)
    {
        (int, int) best = (2, 4);
        double bestGap = Math.Abs(sparsity - 0.5);
        for (int m = 4; m <= 64; m *= 2)
        {
            double gap = Math.Abs(sparsity - (1 - 1.0 / m));
            if (gap < bestGap) { best = (1, m); bestGap = gap; }
        }
        return best;
    }

    /// <summary>Whether <paramref name="format"/> could be built for this shape.</summary>
    public bool Has(MatMulFormat format) => format switch
    {
        MatMulFormat.Dense => Dense.Length > 0,
        MatMulFormat.Csr16 => Csr16 is not null,
        MatMulFormat.Bsr => Bsr is not null,
        MatMulFormat.Nm => Nm is not null,
        _ => true,
    };

    /// <summary>Report name: dense, csr, csr16, bsr:RxC, nm:N:M, shrunk.</summary>
    public string Name(MatMulFormat format) => format switch
    {
        MatMulFormat.Dense => "dense",
        MatMulFormat.Csr => "csr",
        MatMulFormat.Csr16 => "csr16",
        MatMulFormat.Bsr => $"bsr:{BlockRows}x{BlockColumns}",
        MatMulFormat.Nm => Nm is null ? "nm" : $"nm:{Nm.N}:{Nm.M}",
        _ => "shrunk",
    };

    /// <summary>Fraction of W's entries the format does not store (explicit zeros inside blocks and N:M padding count as stored).</summary>
    public double ActualSparsity(MatMulFormat format) => format switch
    {
        MatMulFormat.Dense => 0,
        MatMulFormat.Csr => Csr.Sparsity,
        MatMulFormat.Csr16 => Csr16?.Sparsity ?? double.NaN,
        MatMulFormat.Bsr => Bsr?.Sparsity ?? double.NaN,
        MatMulFormat.Nm => Nm?.Sparsity ?? double.NaN,
        _ => 1 - (double)Shrunk.Rows / Rows,
    };

    /// <summary>Dense-equivalent floating-point operations, <c>2·rows·cols·batch</c> (GFLOPS are reported on this basis).</summary>
    public double DenseFlops => 2.0 * Rows * Columns * Batch;

    /// <summary>One single-threaded multiply in <paramref name="format"/>.</summary>
    public void Run(MatMulFormat format)
    {
        switch (format)
        {
            case MatMulFormat.Dense: DenseMatMul.Multiply(Dense, Rows, Columns, X, Y, Batch); break;
            case MatMulFormat.Csr: SparseMatMul.Multiply(Csr, X, Y, Batch); break;
            case MatMulFormat.Csr16: SparseMatMul.Multiply(Csr16!, X, Y, Batch); break;
            case MatMulFormat.Bsr: SparseMatMul.Multiply(Bsr!, X, Y, Batch); break;
            case MatMulFormat.Nm: SparseMatMul.Multiply(Nm!, X, Y, Batch); break;
            default: SparseMatMul.Multiply(Shrunk, X, Y.AsSpan(0, Shrunk.Rows * Batch), Batch); break;
        }
    }

    /// <summary>One multiply in <paramref name="format"/> on up to <paramref name="threads"/> threads.</summary>
    public void RunParallel(MatMulFormat format, int threads)
    {
        switch (format)
        {
            case MatMulFormat.Dense: DenseMatMul.MultiplyParallel(Dense, Rows, Columns, X, Y, Batch, threads); break;
            case MatMulFormat.Csr: SparseMatMul.MultiplyParallel(Csr, X, Y, Batch, threads); break;
            case MatMulFormat.Csr16: SparseMatMul.MultiplyParallel(Csr16!, X, Y, Batch, threads); break;
            case MatMulFormat.Bsr: SparseMatMul.MultiplyParallel(Bsr!, X, Y, Batch, threads); break;
            case MatMulFormat.Nm: SparseMatMul.MultiplyParallel(Nm!, X, Y, Batch, threads); break;
            default: SparseMatMul.MultiplyParallel(Shrunk, X, Y.AsSpan(0, Shrunk.Rows * Batch), Batch, threads); break;
        }
    }

    /// <summary>
    /// Median milliseconds per single-threaded multiply over <paramref name="rounds"/> rounds, each of enough
    /// repetitions to last about <paramref name="roundMilliseconds"/> (after one warm-up call).
    /// </summary>
    public double MedianMilliseconds(MatMulFormat format, int rounds = 5, double roundMilliseconds = 20)
    {
        Run(format);
        var sw = Stopwatch.StartNew();
        Run(format);
        double once = Math.Max(sw.Elapsed.TotalMilliseconds, 1e-3);
        int reps = Math.Clamp((int)(roundMilliseconds / once), 1, 100_000);
        Span<double> times = stackalloc double[Math.Max(1, rounds)];
        for (int t = 0; t < times.Length; t++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) Run(format);
            times[t] = sw.Elapsed.TotalMilliseconds / reps;
        }
        times.Sort();
        return times[times.Length / 2];
    }

    /// <summary>Seeded stream over the library's one generator, <see cref="SplitMix64"/>, so building a 4096²
    /// workload takes well under a second.</summary>
    private struct SeededStream(ulong state)
    {
        private ulong _s = state;

        public double NextDouble() => (SplitMix64.Mix(_s += SplitMix64.Gamma) >> 11) * (1.0 / (1UL << 53));

        // Box–Muller; one of the pair is enough here.
        public float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - NextDouble())) * Math.Cos(2 * Math.PI * NextDouble()));
    }
}
