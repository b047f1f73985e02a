using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Sparse matrix multiply `Y = W·X` with W in a sparse format: CsrMatrix,
// BsrMatrix, NmSparseMatrix or ShrunkDense.
// Layout as MatMul: X is `[Columns × batch]` row-major (a batch row contiguous), Y is
// `[Rows × batch]` row-major and is overwritten: `Y[r, b] = Σ_k W[r, k]·X[k, b]` over the stored entries.
// Batch 1 runs a matrix-vector kernel. For ShrunkDense the operands are the shrunk ones
// (`[Columns × batch]` in, `[Rows × batch]` out).
// Determinism: each output is accumulated in an order fixed by the matrix structure, the batch size and the
// machine, so the `MultiplyParallel` overloads (rows split over threads, balanced by stored entries) give
// results identical bit for bit to `Multiply`. Sums differ from the dense product only by rounding
// (entries are summed in a different order), and entries that are not stored contribute nothing even where X holds
// an infinity or NaN (the dense product would give 0·∞ = NaN there).
// Kernels: CSR and N:M broadcast each stored weight against a contiguous row of X and keep a tile of Y
// (one or two vectors of the batch) in registers with four accumulator chains per row; BSR shares each loaded row
// of X between the R rows of a block; batch tiles are the outer loop, rows the inner one. For batch ≥ 4, X is first
// copied into 64-byte-aligned per-thread scratch, one contiguous panel per batch tile (unaligned loads straddle
// cache lines, and a strided tile of a wide X thrashes a few L2 sets). Batch 1 runs matrix-vector kernels: for CSR
// and 1:M / 2:M, 8-wide vectors of x assembled from scalar loads (faster than hardware gathers, measured); a permute of
// a 32-column window for 2:4; scalar register-blocked loops for BSR and other N:M.
// Allocation: none per call in steady state (the X copy lives in a per-thread buffer that grows on first use
// and never shrinks), and none in the parallel overloads either: they queue pooled work items to the thread pool, the
// calling thread takes a share of the rows, and the work items are reused across calls.
public static partial class MatMul
{
    private const int ParallelMinRows = 32;

    /// <summary>Computes <c>Y = W·X</c> with a CSR matrix.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void Multiply(CsrMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch) => Csr(weights, x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c> with a CSR matrix on up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to the single-threaded call.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void MultiplyParallel(CsrMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Csr(weights, x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    /// <summary>Computes <c>Y = W·X</c> with a 16-bit-index CSR matrix.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    internal static void Multiply(Csr16Matrix weights, ReadOnlySpan<float> x, Span<float> y, int batch) => Csr16(weights, x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c> with a 16-bit-index CSR matrix on up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to the single-threaded call.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    internal static void MultiplyParallel(Csr16Matrix weights, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Csr16(weights, x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    /// <summary>Computes <c>Y = W·X</c> with a block-sparse matrix.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void Multiply(BsrMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch) => Bsr(weights, x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c> with a block-sparse matrix on up to <paramref name="maxDegreeOfParallelism"/> threads (whole block rows per thread); bit-identical to the single-threaded call.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void MultiplyParallel(BsrMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Bsr(weights, x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    /// <summary>Computes <c>Y = W·X</c> with an N:M sparse matrix.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void Multiply(NmSparseMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch) => Nm(weights, x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c> with an N:M sparse matrix on up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to the single-threaded call.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c>.</param>
    /// <param name="x">X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Y, at least <c>Rows·batch</c> floats; the first <c>Rows·batch</c> are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void MultiplyParallel(NmSparseMatrix weights, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Nm(weights, x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    /// <summary>Computes <c>Y = W·X</c> with a shrunk dense matrix on shrunk operands (the dense GEMM on the kept block).</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c> kept block.</param>
    /// <param name="x">Shrunk X, exactly <c>Columns·batch</c> floats (see <see cref="ShrunkDense.GatherInput"/>).</param>
    /// <param name="y">Shrunk Y, at least <c>Rows·batch</c> floats (see <see cref="ShrunkDense.ScatterOutput"/>).</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void Multiply(ShrunkDense weights, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        ArgumentNullException.ThrowIfNull(weights);
        MatMul.Multiply(weights.WeightArray, weights.Rows, weights.Columns, x, y, batch);
    }

    /// <summary>Computes <c>Y = W·X</c> with a shrunk dense matrix on up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to the single-threaded call.</summary>
    /// <param name="weights">W, <c>[Rows × Columns]</c> kept block.</param>
    /// <param name="x">Shrunk X, exactly <c>Columns·batch</c> floats.</param>
    /// <param name="y">Shrunk Y, at least <c>Rows·batch</c> floats.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps <paramref name="x"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    public static void MultiplyParallel(ShrunkDense weights, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        MatMul.MultiplyParallel(weights.WeightArray, weights.Rows, weights.Columns, x, y, batch, maxDegreeOfParallelism);
    }

    /// <summary>The batch tiles of the SpMM kernels: one or two vectors of the widest accelerated width that fits.</summary>
    private enum BatchTile : byte { V512x2, V512x1, V256x2, V256x1, V128x2, V128x1, Scalar }

    /// <summary>
    /// The next tile for <paramref name="remaining"/> batch columns (the batch is cut greedily from the left, so the
    /// tiling depends only on the batch size and the machine).
    /// </summary>
    private static BatchTile NextBatchTile(int remaining, out int width)
    {
        if (SimdLevel.Has512)
        {
            if (remaining >= 32) { width = 32; return BatchTile.V512x2; }
            if (remaining >= 16) { width = 16; return BatchTile.V512x1; }
        }
        if (SimdLevel.Has256)
        {
            if (remaining >= 16) { width = 16; return BatchTile.V256x2; }
            if (remaining >= 8) { width = 8; return BatchTile.V256x1; }
        }
        if (SimdLevel.Has128)
        {
            if (remaining >= 8) { width = 8; return BatchTile.V128x2; }
            if (remaining >= 4) { width = 4; return BatchTile.V128x1; }
        }
        width = 1;
        return BatchTile.Scalar;
    }

    /// <summary>
    /// X as the SpMM kernels read it. For batch ≥ 4, X is copied into 64-byte-aligned per-thread scratch as one
    /// contiguous panel per batch tile: the tile starting at column j of width w is <c>[columns × w]</c> at offset
    /// <c>j·columns</c>, returned with <paramref name="xStride"/> = 0 (meaning "panels"). Two reasons, both measured
    /// on 4096² at 90%: unaligned vector loads straddle cache lines (aligned: CSR batch 32 1.7× faster), and a tile
    /// of a wide row-major X (stride 512 B at batch 128) maps onto a quarter of the L2 sets and thrashes, where a
    /// contiguous panel does not. For batch &lt; 4 (scalar and gather paths), X itself with stride = batch.
    /// <paramref name="panels"/> is the caller's <see cref="AlignedScratch"/> of <see cref="PanelLength"/> floats.
    /// </summary>
    private static ReadOnlySpan<float> Aligned(ReadOnlySpan<float> x, int columns, int batch, Span<float> panels, out int xStride)
    {
        if (batch < 4)
        {
            xStride = batch;
            return x;
        }
        xStride = 0;
        for (int j = 0, w; j < batch; j += w)
        {
            NextBatchTile(batch - j, out w);
            Span<float> panel = panels.Slice(j * columns, w * columns);
            if (w == batch) x.CopyTo(panel);
            else for (int k = 0; k < columns; k++) x.Slice(k * batch + j, w).CopyTo(panel.Slice(k * w, w));
        }
        return panels;
    }

    /// <summary>Floats of the aligned copy of X that <see cref="Aligned"/> writes: none below batch 4.</summary>
    private static int PanelLength(int columns, int batch) => batch < 4 ? 0 : columns * batch;

    /// <summary>Start of the X panel of the tile at column <paramref name="j"/>: a packed panel (stride 0) or X itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Panel(ref float x, int xStride, int columns, int j) =>
        ref xStride == 0 ? ref Unsafe.Add(ref x, (nint)j * columns) : ref Unsafe.Add(ref x, j);

    /// <summary>Row stride inside the panel of a tile of width <paramref name="width"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint PanelStride(int xStride, int width) => xStride == 0 ? width : xStride;

    private static void Check(object weights, int rows, int columns, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (batch < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must not be negative.");
        MatMul.ValidateOperands(x, y, columns, rows, batch);
    }

    private static unsafe void Csr(CsrMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        Check(w, w?.Rows ?? 0, w?.Columns ?? 0, x, y, batch);
        if (w!.Rows == 0 || batch == 0) return;
        using var scratch = new AlignedScratch(PanelLength(w.Columns, batch));
        ReadOnlySpan<float> xa = Aligned(x, w.Columns, batch, scratch.Span, out int xStride);
        if (threads <= 1 || w.Rows < ParallelMinRows)
        {
            CsrRows(ref MemoryMarshal.GetArrayDataReference(w.RowPointerArray), ref MemoryMarshal.GetArrayDataReference(w.ColumnIndexArray),
                ref MemoryMarshal.GetArrayDataReference(w.ValueArray), w.Columns, ref MemoryMarshal.GetReference(xa), xStride, ref MemoryMarshal.GetReference(y), batch, 0, w.Rows);
            return;
        }
        fixed (int* rp = w.RowPointerArray) fixed (int* ci = w.ColumnIndexArray) fixed (float* v = w.ValueArray)
        fixed (float* px = xa) fixed (float* py = y)
            RowParallel.For(w.Rows, threads, new CsrKernel<int>(rp, ci, v, w.Columns, px, xStride, py, w.Rows, batch));
    }

    private static unsafe void Csr16(Csr16Matrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        Check(w, w?.Rows ?? 0, w?.Columns ?? 0, x, y, batch);
        if (w!.Rows == 0 || batch == 0) return;
        using var scratch = new AlignedScratch(PanelLength(w.Columns, batch));
        ReadOnlySpan<float> xa = Aligned(x, w.Columns, batch, scratch.Span, out int xStride);
        if (threads <= 1 || w.Rows < ParallelMinRows)
        {
            CsrRows(ref MemoryMarshal.GetArrayDataReference(w.RowPointerArray), ref MemoryMarshal.GetArrayDataReference(w.ColumnIndexArray),
                ref MemoryMarshal.GetArrayDataReference(w.ValueArray), w.Columns, ref MemoryMarshal.GetReference(xa), xStride, ref MemoryMarshal.GetReference(y), batch, 0, w.Rows);
            return;
        }
        fixed (int* rp = w.RowPointerArray) fixed (ushort* ci = w.ColumnIndexArray) fixed (float* v = w.ValueArray)
        fixed (float* px = xa) fixed (float* py = y)
            RowParallel.For(w.Rows, threads, new CsrKernel<ushort>(rp, ci, v, w.Columns, px, xStride, py, w.Rows, batch));
    }

    private static unsafe void Bsr(BsrMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        Check(w, w?.Rows ?? 0, w?.Columns ?? 0, x, y, batch);
        if (w!.Rows == 0 || batch == 0) return;
        using var scratch = new AlignedScratch(PanelLength(w.Columns, batch));
        ReadOnlySpan<float> xa = Aligned(x, w.Columns, batch, scratch.Span, out int xStride);
        int blockRows = w.Rows / w.BlockRows;
        if (threads <= 1 || blockRows < 2)
        {
            BsrBlockRows(ref MemoryMarshal.GetArrayDataReference(w.BlockRowPointerArray), ref MemoryMarshal.GetArrayDataReference(w.BlockColumnIndexArray),
                ref MemoryMarshal.GetArrayDataReference(w.ValueArray), w.BlockRows, w.BlockColumns, w.Columns, ref MemoryMarshal.GetReference(xa), xStride, ref MemoryMarshal.GetReference(y), batch, 0, blockRows);
            return;
        }
        fixed (int* rp = w.BlockRowPointerArray) fixed (int* ci = w.BlockColumnIndexArray) fixed (float* v = w.ValueArray)
        fixed (float* px = xa) fixed (float* py = y)
            RowParallel.For(blockRows, threads, new BsrKernel(rp, ci, v, w.BlockRows, w.BlockColumns, w.Columns, px, xStride, py, blockRows, batch));
    }

    private static unsafe void Nm(NmSparseMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        Check(w, w?.Rows ?? 0, w?.Columns ?? 0, x, y, batch);
        if (w!.Rows == 0 || batch == 0) return;
        using var scratch = new AlignedScratch(PanelLength(w.Columns, batch));
        ReadOnlySpan<float> xa = Aligned(x, w.Columns, batch, scratch.Span, out int xStride);
        if (threads <= 1 || w.Rows < ParallelMinRows)
        {
            NmRows(ref MemoryMarshal.GetArrayDataReference(w.ValueArray), ref MemoryMarshal.GetArrayDataReference(w.IndexArray),
                ref w.PackedPositions is null ? ref Unsafe.NullRef<uint>() : ref MemoryMarshal.GetArrayDataReference(w.PackedPositions), w.Columns, w.N, w.M,
                ref MemoryMarshal.GetReference(xa), xStride, ref MemoryMarshal.GetReference(y), batch, 0, w.Rows);
            return;
        }
        fixed (float* v = w.ValueArray) fixed (byte* idx = w.IndexArray) fixed (uint* packed = w.PackedPositions)
        fixed (float* px = xa) fixed (float* py = y)
            RowParallel.For(w.Rows, threads, new NmKernel(v, idx, packed, w.Columns, w.N, w.M, px, xStride, py, w.Rows, batch));
    }

    private readonly unsafe struct CsrKernel<TIndex>(int* rowPtr, TIndex* cols, float* vals, int columns, float* x, int xStride, float* y, int rows, int batch) : IRowRangeKernel
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        public int Boundary(int chunk, int chunks) => RowParallel.BalancedBoundary(new ReadOnlySpan<int>(rowPtr, rows + 1), chunk, chunks);

        public void Run(int start, int end) => CsrRows(ref *rowPtr, ref *cols, ref *vals, columns, ref *x, xStride, ref *y, batch, start, end);
    }

    private readonly unsafe struct BsrKernel(int* rowPtr, int* cols, float* vals, int r, int c, int columns, float* x, int xStride, float* y, int blockRows, int batch) : IRowRangeKernel
    {
        public int Boundary(int chunk, int chunks) => RowParallel.BalancedBoundary(new ReadOnlySpan<int>(rowPtr, blockRows + 1), chunk, chunks);

        public void Run(int start, int end) => BsrBlockRows(ref *rowPtr, ref *cols, ref *vals, r, c, columns, ref *x, xStride, ref *y, batch, start, end);
    }

    private readonly unsafe struct NmKernel(float* vals, byte* idx, uint* packed, int columns, int n, int m, float* x, int xStride, float* y, int rows, int batch) : IRowRangeKernel
    {
        public int Boundary(int chunk, int chunks) => RowParallel.EvenBoundary(chunk, chunks, rows, 1);

        public void Run(int start, int end) => NmRows(ref *vals, ref *idx, ref *packed, columns, n, m, ref *x, xStride, ref *y, batch, start, end);
    }
}
