using CommunityToolkit.HighPerformance.Buffers;
using System.Diagnostics;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// A pruned linear layer stored in whichever format multiplies fastest on this machine: <see cref="Prepare"/> builds
/// every format the weights allow, times each on the real matrix at the expected batch size, and keeps the winner.
/// </summary>
/// <remarks>
/// <para>Candidates: dense (always); CSR with 16-bit indices when the column count allows, else 32-bit; BSR 8×1,
/// 4×4, 4×1 and 1×4 when the blocks tile the shape and store at most twice the non-zeros; N:M with M = 4 or 8 when
/// every group already holds at most N ≤ M/2 non-zeros; shrunk dense when at least 10% of the rows or columns are
/// entirely zero. Zero is <c>value == 0f</c> (+0 and −0).</para>
/// <para>Selection: the fastest median wins, except that dense is kept unless a format is more than
/// <c>denseMargin</c> (10% by default) faster: a near-tie is not worth the indirection, and timings are noisy.
/// To force a format, call <see cref="Create"/> with that <see cref="SparseLayout"/>; nothing else (no environment
/// variable, no global setting) changes what <see cref="Prepare"/> picks.</para>
/// <para>Batch 1 with CSR: where the machine has 256- or 512-bit vectors, a CSR layer also keeps its entries in a
/// row-sliced layout (one row per vector lane, x read from registers by permutes; about 8 to 12 bytes per entry more)
/// and multiplies a single vector with it, summing each row's products one after the other in column order (a fused
/// multiply-add per entry), on any thread count. Larger batches use the CSR matrix.</para>
/// <para><see cref="Prepare"/> allocates and takes time (a few multiplies per candidate); <see cref="Multiply"/> and
/// <see cref="MultiplyParallel"/> then behave as the chosen kernel: same layout as <see cref="MatMul"/>, no
/// allocation once warm (a shrunk layer rents its gather/scatter scratch from the shared pool).</para>
/// </remarks>
public sealed class SparseLayer
{
    private readonly float[]? _dense;
    private readonly CsrMatrix? _csr;
    private readonly Csr16Matrix? _csr16;
    private readonly BsrMatrix? _bsr;
    private readonly NmSparseMatrix? _nm;
    private readonly ShrunkDense? _shrunk;
    // The batch-1 layout of a CSR layer (see SlicedCsr), built with it when this machine has a kernel for it.
    private readonly SlicedCsr? _sliced;

    private SparseLayer(int rows, int columns, SparseLayout layout, object storage, (SparseLayout Layout, double Milliseconds)[] timings, SlicedCsr? sliced)
    {
        _sliced = sliced;
        Rows = rows;
        Columns = columns;
        Layout = layout;
        Candidates = timings;
        switch (storage)
        {
            case float[] d: _dense = d; break;
            case CsrMatrix c: _csr = c; break;
            case Csr16Matrix c: _csr16 = c; break;
            case BsrMatrix b: _bsr = b; break;
            case NmSparseMatrix n: _nm = n; break;
            case ShrunkDense s: _shrunk = s; break;
        }
    }

    /// <summary>Rows of W (output units).</summary>
    public int Rows { get; }

    /// <summary>Columns of W (input features).</summary>
    public int Columns { get; }

    /// <summary>The chosen format with its parameters, e.g. <c>bsr:8x1</c>.</summary>
    public SparseLayout Layout { get; }

    /// <summary>Every candidate timed by <see cref="Prepare"/> with its median time of one single-threaded multiply at the
    /// batch hint, in the order tried (empty when the layout was given to <see cref="Create"/>).</summary>
    public IReadOnlyList<(SparseLayout Layout, double Milliseconds)> Candidates { get; }

    /// <summary>Stores a pruned weight in a given layout (no timing): the explicit way to force a format.</summary>
    /// <param name="weights">W, <c>[rows × columns]</c> row-major; zeros are pruned weights.</param>
    /// <param name="rows">Rows of W.</param>
    /// <param name="columns">Columns of W.</param>
    /// <param name="layout">The format and its parameters.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="ArgumentException">The length does not match the shape (<paramref name="weights"/>), or the layout
    /// does not fit the weights (<paramref name="layout"/>): blocks or groups that do not tile the shape, more than N
    /// non-zeros in an N:M group, more than 65,536 columns for 16-bit indices.</exception>
    public static SparseLayer Create(ReadOnlySpan<float> weights, int rows, int columns, SparseLayout layout)
    {
        CsrCore.CheckShape(weights, rows, columns, nameof(weights));
        // Fit is checked here, against the argument the caller chose, so the format constructors below cannot fail.
        switch (layout.Format)
        {
            case SparseFormat.Csr16 when columns > Csr16Matrix.MaxColumns:
                ThrowHelper.ThrowArgument(nameof(layout), $"{columns} columns exceed the {Csr16Matrix.MaxColumns} that 16-bit indices address.");
                break;
            case SparseFormat.Bsr when rows % layout.BlockRows != 0 || columns % layout.BlockColumns != 0:
                ThrowHelper.ThrowArgument(nameof(layout), $"{layout.BlockRows}×{layout.BlockColumns} blocks do not tile {rows}×{columns}.");
                break;
            case SparseFormat.NM when columns % layout.M != 0:
                ThrowHelper.ThrowArgument(nameof(layout), $"Groups of {layout.M} do not tile rows of {columns}.");
                break;
            case SparseFormat.NM when MaxPerGroup(weights, rows, columns, layout.M) > layout.N:
                ThrowHelper.ThrowArgument(nameof(layout), $"A group of {layout.M} holds more than {layout.N} non-zeros.");
                break;
        }
        object storage = layout.Format switch
        {
            SparseFormat.Dense => weights.ToArray(),
            SparseFormat.Csr => CsrMatrix.FromDense(weights, rows, columns),
            SparseFormat.Csr16 => Csr16Matrix.FromDense(weights, rows, columns),
            SparseFormat.Bsr => BsrMatrix.FromDense(weights, rows, columns, layout.BlockRows, layout.BlockColumns),
            SparseFormat.NM => NmSparseMatrix.FromDense(weights, rows, columns, layout.N, layout.M),
            _ => ShrunkDense.FromDense(weights, rows, columns),
        };
        SlicedCsr? sliced = !SlicedCsr.IsAccelerated ? null : storage switch
        {
            CsrMatrix c => SlicedCsr.From(rows, columns, c.RowPointers, c.ColumnIndices, c.Values),
            Csr16Matrix c => SlicedCsr.From(rows, columns, c.RowPointers, c.ColumnIndices, c.Values),
            _ => null,
        };
        return new SparseLayer(rows, columns, layout, storage, [], sliced);
    }

    /// <summary>
    /// Builds every candidate format for <paramref name="weights"/>, times one single-threaded multiply of each at
    /// <paramref name="batchHint"/>, and returns a layer using the fastest (dense on a near-tie).
    /// </summary>
    /// <param name="weights">W, <c>[rows × columns]</c> row-major; zeros are pruned weights.</param>
    /// <param name="rows">Rows of W.</param>
    /// <param name="columns">Columns of W.</param>
    /// <param name="batchHint">The batch size the layer will mostly see.</param>
    /// <param name="denseMargin">Dense is kept unless a format is faster by more than this fraction (default 0.1).</param>
    /// <param name="rounds">Timing rounds per candidate; the median is used.</param>
    /// <returns>The layer, with every candidate's timing in <see cref="Candidates"/>.</returns>
    /// <exception cref="ArgumentException">The length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or <paramref name="denseMargin"/> is negative.</exception>
    public static SparseLayer Prepare(ReadOnlySpan<float> weights, int rows, int columns, int batchHint, double denseMargin = 0.1, int rounds = 5)
    {
        CsrCore.CheckShape(weights, rows, columns, nameof(weights));
        if (batchHint <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batchHint), "The batch hint must be positive.");
        if (!(denseMargin >= 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(denseMargin), "The margin must be a non-negative number.");
        rounds = Math.Max(1, rounds);

        var names = new List<SparseLayout> { SparseLayout.Dense, columns <= Csr16Matrix.MaxColumns ? SparseLayout.Csr16 : SparseLayout.Csr };
        long nnz = NonZeroScan.Count(weights);
        foreach (var (r, c) in new[] { (8, 1), (4, 4), (4, 1), (1, 4) })
            if (rows % r == 0 && columns % c == 0 && (long)BsrMatrix.CountBlocks(weights, rows, columns, r, c) * r * c <= 2 * Math.Max(nnz, 1))
                names.Add(SparseLayout.Bsr(r, c));
        foreach (int m in new[] { 4, 8 })
        {
            int n = columns % m == 0 ? MaxPerGroup(weights, rows, columns, m) : int.MaxValue;
            if (n <= m / 2) names.Add(SparseLayout.NM(Math.Max(n, 1), m));
        }
        var probe = ShrunkDense.FromDense(weights, rows, columns);
        if (probe.Rows <= 0.9 * rows || probe.Columns <= 0.9 * columns) names.Add(SparseLayout.Shrunk);

        // Operands for timing: deterministic values, the real shape and batch.
        float[] x = new float[columns * batchHint];
        for (int i = 0; i < x.Length; i++) x[i] = (i * 0.618034f % 1f) - 0.5f;
        float[] y = new float[rows * batchHint];

        var timings = new (SparseLayout Layout, double Milliseconds)[names.Count];
        SparseLayer? best = null, dense = null;
        double bestMs = double.PositiveInfinity, denseMs = double.PositiveInfinity;
        for (int i = 0; i < names.Count; i++)
        {
            var layer = Create(weights, rows, columns, names[i]);
            double ms = layer.Time(x, y, batchHint, rounds);
            timings[i] = (layer.Layout, ms);
            if (layer.Layout.Format == SparseFormat.Dense) { dense = layer; denseMs = ms; }
            if (ms < bestMs) { best = layer; bestMs = ms; }
        }
        SparseLayer chosen = dense is not null && denseMs <= bestMs * (1 + denseMargin) ? dense : best!;
        return new SparseLayer(rows, columns, chosen.Layout, chosen.Storage, timings, chosen._sliced);
    }

    private object Storage => (object?)_dense ?? (object?)_csr ?? (object?)_csr16 ?? (object?)_bsr ?? (object?)_nm ?? _shrunk!;

    private double Time(float[] x, float[] y, int batch, int rounds)
    {
        Multiply(x, y, batch); // warm-up: first touch, JIT
        var sw = Stopwatch.StartNew();
        Multiply(x, y, batch);
        double once = Math.Max(sw.Elapsed.TotalMilliseconds, 1e-3);
        int reps = Math.Clamp((int)(2.0 / once), 1, 1000); // about 2 ms per round
        Span<double> t = stackalloc double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            sw.Restart();
            for (int i = 0; i < reps; i++) Multiply(x, y, batch);
            t[r] = sw.Elapsed.TotalMilliseconds / reps;
        }
        t.Sort();
        return t[rounds / 2];
    }

    private static int MaxPerGroup(ReadOnlySpan<float> weights, int rows, int columns, int m)
    {
        int groups = columns / m, max = 0;
        int[] counts = new int[groups];
        for (int r = 0; r < rows; r++)
        {
            counts.AsSpan().Clear();
            NonZeroScan.AddGroupCounts(weights.Slice(r * columns, columns), m, counts);
            foreach (int c in counts) max = Math.Max(max, c);
        }
        return max;
    }

    /// <summary>Computes <c>Y = W·X</c> with the chosen format (full-size operands whatever the format).</summary>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats, row-major.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int batch) => Run(x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c> on up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to <see cref="Multiply"/>.</summary>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats, row-major.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    public void MultiplyParallel(ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Run(x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    private void Run(ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        bool parallel = threads > 1;
        switch (Layout.Format)
        {
            case SparseFormat.Dense:
                if (parallel) MatMul.MultiplyParallel(_dense, Rows, Columns, x, y, batch, threads); else MatMul.Multiply(_dense, Rows, Columns, x, y, batch);
                return;
            case SparseFormat.Csr or SparseFormat.Csr16 when batch == 1 && _sliced is not null:
                MatMul.ValidateOperands(x, y, Columns, Rows, batch);
                _sliced.Multiply(x, y, threads);
                return;
            case SparseFormat.Csr:
                if (parallel) MatMul.MultiplyParallel(_csr!, x, y, batch, threads); else MatMul.Multiply(_csr!, x, y, batch);
                return;
            case SparseFormat.Csr16:
                if (parallel) MatMul.MultiplyParallel(_csr16!, x, y, batch, threads); else MatMul.Multiply(_csr16!, x, y, batch);
                return;
            case SparseFormat.Bsr:
                if (parallel) MatMul.MultiplyParallel(_bsr!, x, y, batch, threads); else MatMul.Multiply(_bsr!, x, y, batch);
                return;
            case SparseFormat.NM:
                if (parallel) MatMul.MultiplyParallel(_nm!, x, y, batch, threads); else MatMul.Multiply(_nm!, x, y, batch);
                return;
        }
        RunShrunk(x, y, batch, threads);
    }

    // Full-size operands around the shrunk GEMM: gather the kept input rows (only when columns were removed), run
    // the GEMM into a compact output, scatter it (zeros in removed rows).
    private void RunShrunk(ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        var s = _shrunk!;
        if (batch < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must not be negative.");
        MatMul.ValidateOperands(x, y, Columns, Rows, batch);
        bool gather = s.Columns != Columns;
        using SpanOwner<float> xs = gather ? SpanOwner<float>.Allocate(s.Columns * batch) : SpanOwner<float>.Empty;
        using SpanOwner<float> ys = SpanOwner<float>.Allocate(s.Rows * batch);
        ReadOnlySpan<float> xin = x;
        if (gather)
        {
            s.GatherInput(x, xs.Span, batch);
            xin = xs.Span;
        }
        if (threads > 1) MatMul.MultiplyParallel(s, xin, ys.Span, batch, threads); else MatMul.Multiply(s, xin, ys.Span, batch);
        s.ScatterOutput(ys.Span, y, batch);
    }

    /// <inheritdoc/>
    public override string ToString() => $"SparseLayer {Rows}×{Columns} as {Layout}";
}
