using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Span.Prune.Sparse;

namespace Span.Prune.Lab.Bench;

/// <summary>
/// One matrix-multiply comparison, shared by the quick report (<see cref="QuickReport"/>) and the BenchmarkDotNet
/// suite (perf/): a random W <c>[rows × cols]</c> pruned at the same target sparsity in the structure of each
/// <see cref="SparseFormat"/>, the operands, and a single-threaded <see cref="Run"/> per format.
/// </summary>
/// <remarks>
/// <para>Each format gets the pruning it is built for, so the comparison is "what does this kind of pruning buy":
/// <see cref="SparseFormat.Dense"/> = unpruned W (the baseline); <see cref="SparseFormat.Csr"/> and
/// <see cref="SparseFormat.Csr16"/> = unstructured, each weight dropped with probability s; <see cref="SparseFormat.Bsr"/>
/// = whole R×C blocks dropped with probability s; <see cref="SparseFormat.NM"/> = random N of every M (the pattern of
/// <see cref="Layout"/>, whose sparsity 1 − N/M is the closest to s among 2:4, 1:4, 1:8, 1:16, 1:32, 1:64);
/// <see cref="SparseFormat.Shrunk"/> = a fraction s of the rows removed (its X is full, its Y holds the kept rows only).</para>
/// <para>Values are standard normal, X is uniform in [−1, 1), and every random choice comes from one seeded stream of
/// <see cref="Scoring.Random(Span{float}, ulong)"/>, so a workload is the same on every machine.</para>
/// </remarks>
public sealed class MatMulWorkload
{
    private readonly int _blockRows;
    private readonly int _blockColumns;

    private MatMulWorkload(int rows, int cols, int batch, double sparsity, int seed, int blockRows, int blockColumns, bool includeDense)
    {
        Rows = rows;
        Columns = cols;
        Batch = batch;
        TargetSparsity = sparsity;
        _blockRows = blockRows;
        _blockColumns = blockColumns;
        var rng = new UniformStream(unchecked((ulong)seed));
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = rng.Normal();
        X = new float[cols * batch];
        for (int i = 0; i < X.Length; i++) X[i] = rng.Next() * 2 - 1;
        Y = new float[rows * batch];
        Dense = includeDense ? w : [];

        float[] pruned = new float[w.Length];
        // Unstructured.
        for (int i = 0; i < w.Length; i++) pruned[i] = rng.Next() < sparsity ? 0f : w[i];
        Csr = CsrMatrix.FromDense(pruned, rows, cols);
        // CSR with 16-bit indices is a layout of SparseLayer, not a public matrix type (at batch 1 the layer runs its
        // sliced kernel, as a user's layer does).
        Csr16 = cols <= Csr16MaxColumns ? SparseLayer.Create(pruned, rows, cols, SparseLayout.Csr16) : null;

        // Blocks.
        if (rows % blockRows == 0 && cols % blockColumns == 0)
        {
            Array.Copy(w, pruned, w.Length);
            for (int br = 0; br < rows / blockRows; br++)
                for (int bc = 0; bc < cols / blockColumns; bc++)
                {
                    if (rng.Next() >= sparsity) continue;
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
                    int pick = t + (int)((double)rng.Next() * (m - t));
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
            if (rng.Next() >= sparsity) { keep[r] = 1; kept++; }
        if (kept == 0) keep[0] = 1;
        Shrunk = ShrunkDense.FromDense(w, rows, cols, keep, []);
    }

    /// <summary>Rows of W (and of Y).</summary>
    public int Rows { get; }

    /// <summary>Columns of W (rows of X).</summary>
    public int Columns { get; }

    /// <summary>Columns of X and Y.</summary>
    public int Batch { get; }

    /// <summary>The fraction of pruned weights every format aimed at; <see cref="ActualSparsity"/> is what each got.</summary>
    public double TargetSparsity { get; }

    /// <summary>Dense-equivalent floating-point operations of one multiply, <c>2·rows·cols·batch</c> (GFLOPS are
    /// reported on this basis, whatever the format skips).</summary>
    public double DenseFlops => 2.0 * Rows * Columns * Batch;

    // The operands and the matrices: the tests check each against its dense form; the report and perf only Run them.
    internal float[] Dense { get; }
    internal float[] X { get; }
    internal float[] Y { get; }
    internal CsrMatrix Csr { get; }
    internal SparseLayer? Csr16 { get; }

    /// <summary>The widest matrix that 16-bit column indices address.</summary>
    private const int Csr16MaxColumns = 65536;
    internal BsrMatrix? Bsr { get; }
    internal NmSparseMatrix? Nm { get; }
    internal ShrunkDense Shrunk { get; }

    /// <summary>Builds every format for one shape, batch and target sparsity.</summary>
    /// <param name="rows">Rows of W, positive.</param>
    /// <param name="cols">Columns of W, positive.</param>
    /// <param name="batch">Columns of X, positive.</param>
    /// <param name="sparsity">Target fraction of pruned weights, in [0, 1).</param>
    /// <param name="seed">Seed of all random values.</param>
    /// <param name="blockRows">R of the BSR blocks, positive; BSR is built only when it divides <paramref name="rows"/>.</param>
    /// <param name="blockColumns">C of the BSR blocks, positive; BSR is built only when it divides <paramref name="cols"/>.</param>
    /// <param name="includeDense">Keep the unpruned dense W (the baseline); without it <see cref="SparseFormat.Dense"/> cannot run.</param>
    /// <returns>The workload. CSR and shrunk are always built; see <see cref="Has"/> for the others.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension or block dimension is not positive, or
    /// <paramref name="sparsity"/> is outside [0, 1).</exception>
    public static MatMulWorkload Create(int rows, int cols, int batch, double sparsity, int seed = 1, int blockRows = 4, int blockColumns = 4, bool includeDense = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockRows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockColumns);
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "Sparsity must be in [0, 1).");
        return new MatMulWorkload(rows, cols, batch, sparsity, seed, blockRows, blockColumns, includeDense);
    }

    /// <summary>The N:M pattern whose sparsity 1 − N/M is closest to <paramref name="sparsity"/> among 2:4, 1:4, 1:8, …, 1:64.</summary>
    internal static (int N, int M) NmFor(double sparsity)
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

    /// <summary>Whether <paramref name="format"/> was built for this shape (and so can <see cref="Run"/>).</summary>
    /// <param name="format">The format.</param>
    /// <returns>False for Dense without <c>includeDense</c>, CSR16 beyond 65,536 columns,
    /// BSR whose block does not divide the shape, N:M whose M does not divide the columns, and undefined values.</returns>
    public bool Has(SparseFormat format) => format switch
    {
        SparseFormat.Dense => Dense.Length > 0,
        SparseFormat.Csr => true,
        SparseFormat.Csr16 => Csr16 is not null,
        SparseFormat.Bsr => Bsr is not null,
        SparseFormat.NM => Nm is not null,
        SparseFormat.Shrunk => true,
        _ => false,
    };

    /// <summary>The layout this workload uses for <paramref name="format"/>: its BSR block, its N:M pattern. Its
    /// <see cref="SparseLayout.ToString"/> (<c>csr</c>, <c>bsr:4x4</c>, <c>nm:1:8</c>, …) names the report's rows.</summary>
    /// <param name="format">The format.</param>
    /// <returns>The layout, also for a format that <see cref="Has"/> says was not built.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="format"/> is not a defined value.</exception>
    public SparseLayout Layout(SparseFormat format) => format switch
    {
        SparseFormat.Dense => SparseLayout.Dense,
        SparseFormat.Csr => SparseLayout.Csr,
        SparseFormat.Csr16 => SparseLayout.Csr16,
        SparseFormat.Bsr => SparseLayout.Bsr(_blockRows, _blockColumns),
        SparseFormat.NM => SparseLayout.NM(NmFor(TargetSparsity).N, NmFor(TargetSparsity).M),
        SparseFormat.Shrunk => SparseLayout.Shrunk,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a SparseFormat."),
    };

    /// <summary>Fraction of W's entries that <paramref name="format"/> does not store (explicit zeros inside blocks and
    /// N:M padding count as stored; shrunk counts its removed rows).</summary>
    /// <param name="format">The format.</param>
    /// <returns>The fraction, 0 for Dense, NaN for a format that was not built.</returns>
    public double ActualSparsity(SparseFormat format) => format switch
    {
        SparseFormat.Dense => 0,
        SparseFormat.Csr => Csr.Sparsity,
        SparseFormat.Csr16 => Csr16 is null ? double.NaN : Csr.Sparsity, // the same entries as CSR
        SparseFormat.Bsr => Bsr?.Sparsity ?? double.NaN,
        SparseFormat.NM => Nm?.Sparsity ?? double.NaN,
        SparseFormat.Shrunk => 1 - (double)Shrunk.Rows / Rows,
        _ => double.NaN,
    };

    /// <summary>One single-threaded multiply <c>Y = W·X</c> in <paramref name="format"/>.</summary>
    /// <param name="format">A format that <see cref="Has"/> says was built.</param>
    /// <exception cref="InvalidOperationException"><paramref name="format"/> was not built for this workload.</exception>
    public void Run(SparseFormat format)
    {
        if (!Has(format)) ThrowNotBuilt(format);
        switch (format)
        {
            case SparseFormat.Dense: MatMul.Multiply(Dense, Rows, Columns, X, Y, Batch); break;
            case SparseFormat.Csr: MatMul.Multiply(Csr, X, Y, Batch); break;
            case SparseFormat.Csr16: Csr16!.Multiply(X, Y, Batch); break;
            case SparseFormat.Bsr: MatMul.Multiply(Bsr!, X, Y, Batch); break;
            case SparseFormat.NM: MatMul.Multiply(Nm!, X, Y, Batch); break;
            default: MatMul.Multiply(Shrunk, X, Y.AsSpan(0, Shrunk.Rows * Batch), Batch); break;
        }
    }

    /// <summary>One multiply in <paramref name="format"/> on up to <paramref name="threads"/> threads.</summary>
    internal void RunParallel(SparseFormat format, int threads)
    {
        if (!Has(format)) ThrowNotBuilt(format);
        switch (format)
        {
            case SparseFormat.Dense: MatMul.MultiplyParallel(Dense, Rows, Columns, X, Y, Batch, threads); break;
            case SparseFormat.Csr: MatMul.MultiplyParallel(Csr, X, Y, Batch, threads); break;
            case SparseFormat.Csr16: Csr16!.MultiplyParallel(X, Y, Batch, threads); break;
            case SparseFormat.Bsr: MatMul.MultiplyParallel(Bsr!, X, Y, Batch, threads); break;
            case SparseFormat.NM: MatMul.MultiplyParallel(Nm!, X, Y, Batch, threads); break;
            default: MatMul.MultiplyParallel(Shrunk, X, Y.AsSpan(0, Shrunk.Rows * Batch), Batch, threads); break;
        }
    }

    /// <summary>
    /// Median milliseconds per single-threaded multiply over <paramref name="rounds"/> rounds, each of enough
    /// repetitions to last about <paramref name="roundMilliseconds"/> (after one warm-up call).
    /// </summary>
    internal double MedianMilliseconds(SparseFormat format, int rounds = 5, double roundMilliseconds = 20)
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

    [DoesNotReturn]
    private static void ThrowNotBuilt(SparseFormat format) =>
        throw new InvalidOperationException($"The workload has no {format} matrix for this shape (see Has).");
}
