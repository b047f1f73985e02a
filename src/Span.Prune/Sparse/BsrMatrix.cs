using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// A block-sparse matrix (BSR): dense R×C blocks in CSR order, the format for block-structured pruning
/// (<see cref="Granularity.Block"/>). Every stored weight costs 4 bytes plus <c>4/(R·C)</c> bytes of index, and
/// one load of the dense operand feeds R multiply-adds, which is why blocks beat CSR at larger batches.
/// </summary>
/// <remarks>
/// <para>Layout: the matrix is cut into <c>(Rows/R) × (Columns/C)</c> blocks. Block row <c>b</c> stores blocks
/// <c>BlockRowPointers[b] .. BlockRowPointers[b+1]</c>; block <c>k</c> sits at block column
/// <c>BlockColumnIndices[k]</c> (columns <c>C·index .. C·index + C − 1</c>, sorted ascending, no duplicates) and its
/// R·C values are <c>Values[k·R·C ..]</c>, row-major inside the block.</para>
/// <para>A block is stored when any of its elements is non-zero (<c>value == 0f</c> is zero, so +0 and −0 are
/// zero and NaN is not) — or, with a mask, when any of its mask bytes is non-zero; inside a stored block, masked-out
/// elements are stored as +0. Ragged shapes (<c>Rows % R ≠ 0</c> or <c>Columns % C ≠ 0</c>) are rejected.</para>
/// <para>Any R, C ≥ 1 is accepted; 1×4, 4×1, 4×4, 8×1 (and any R ∈ {1, 4, 8}) have register-blocked kernels,
/// other R fall back to a row-at-a-time kernel.</para>
/// </remarks>
public sealed class BsrMatrix
{
    private readonly int[] _blockRowPointers;
    private readonly int[] _blockColumnIndices;
    private readonly float[] _values;

    /// <summary>Validates a BSR structure and copies it into a new matrix.</summary>
    /// <param name="rows">Row count, a multiple of <paramref name="blockRows"/>.</param>
    /// <param name="columns">Column count, a multiple of <paramref name="blockColumns"/>.</param>
    /// <param name="blockRows">R, rows per block (≥ 1).</param>
    /// <param name="blockColumns">C, columns per block (≥ 1).</param>
    /// <param name="blockRowPointers"><c>Rows/R + 1</c> non-decreasing offsets, from 0 to the block count.</param>
    /// <param name="blockColumnIndices">Block column of each block; strictly increasing within a block row and in <c>[0, Columns/C)</c>.</param>
    /// <param name="values">R·C values per block, row-major inside the block.</param>
    /// <exception cref="ArgumentException">An invariant is broken, or the blocks do not tile the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public BsrMatrix(int rows, int columns, int blockRows, int blockColumns, ReadOnlySpan<int> blockRowPointers, ReadOnlySpan<int> blockColumnIndices, ReadOnlySpan<float> values)
    {
        CheckBlocks(rows, columns, blockRows, blockColumns);
        if ((long)blockColumnIndices.Length * blockRows * blockColumns != values.Length)
            ThrowHelper.ThrowArgument(nameof(values), $"There are {values.Length} values for {blockColumnIndices.Length} blocks of {blockRows}×{blockColumns}; expected {(long)blockColumnIndices.Length * blockRows * blockColumns}.");
        CsrCore.Validate(rows / blockRows, columns / blockColumns, blockRowPointers, blockColumnIndices, blockColumnIndices.Length, nameof(blockRowPointers), nameof(blockColumnIndices));
        Rows = rows;
        Columns = columns;
        BlockRows = blockRows;
        BlockColumns = blockColumns;
        _blockRowPointers = blockRowPointers.ToArray();
        _blockColumnIndices = blockColumnIndices.ToArray();
        _values = values.ToArray();
    }

    private BsrMatrix(int rows, int columns, int blockRows, int blockColumns, int[] blockRowPointers, int[] blockColumnIndices, float[] values)
    {
        Rows = rows;
        Columns = columns;
        BlockRows = blockRows;
        BlockColumns = blockColumns;
        _blockRowPointers = blockRowPointers;
        _blockColumnIndices = blockColumnIndices;
        _values = values;
    }

    /// <summary>Row count.</summary>
    public int Rows { get; }

    /// <summary>Column count.</summary>
    public int Columns { get; }

    /// <summary>R, rows per block.</summary>
    public int BlockRows { get; }

    /// <summary>C, columns per block.</summary>
    public int BlockColumns { get; }

    /// <summary>Stored blocks.</summary>
    public int BlockCount => _blockColumnIndices.Length;

    /// <summary>Stored values, <c>BlockCount·R·C</c> (explicit zeros inside stored blocks included).</summary>
    public int StoredCount => _values.Length;

    /// <summary>Fraction of entries not stored: <c>1 − StoredCount / (Rows·Columns)</c>.</summary>
    public double Sparsity => Rows == 0 || Columns == 0 ? 0 : 1 - (double)StoredCount / ((long)Rows * Columns);

    /// <summary>The <c>Rows/R + 1</c> block-row offsets.</summary>
    public ReadOnlySpan<int> BlockRowPointers => _blockRowPointers;

    /// <summary>Block column of each stored block.</summary>
    public ReadOnlySpan<int> BlockColumnIndices => _blockColumnIndices;

    /// <summary>Block values, R·C per block, row-major inside a block; writable (the structure is not).</summary>
    public Span<float> Values => _values;

    internal int[] BlockRowPointerArray => _blockRowPointers;
    internal int[] BlockColumnIndexArray => _blockColumnIndices;
    internal float[] ValueArray => _values;

    private static void CheckBlocks(int rows, int columns, int blockRows, int blockColumns)
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must not be negative.");
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "Columns must not be negative.");
        if (blockRows <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(blockRows), "Block rows must be positive.");
        if (blockColumns <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(blockColumns), "Block columns must be positive.");
        if (rows % blockRows != 0) ThrowHelper.ThrowRaggedBlocks(nameof(blockRows), rows, columns, blockRows, blockColumns);
        if (columns % blockColumns != 0) ThrowHelper.ThrowRaggedBlocks(nameof(blockColumns), rows, columns, blockRows, blockColumns);
    }

    private static void CheckDense(ReadOnlySpan<float> dense, int rows, int columns, int blockRows, int blockColumns)
    {
        CheckBlocks(rows, columns, blockRows, blockColumns);
        if ((long)rows * columns != dense.Length) ThrowHelper.ThrowShape(nameof(dense), dense.Length, rows, columns);
    }

    /// <summary>Blocks a conversion of <paramref name="dense"/> stores: the R×C blocks holding any non-zero value.</summary>
    /// <exception cref="ArgumentException">The length does not match, or the blocks do not tile the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static int CountBlocks(ReadOnlySpan<float> dense, int rows, int columns, int blockRows, int blockColumns)
    {
        CheckDense(dense, rows, columns, blockRows, blockColumns);
        return Build(dense, default, false, rows, columns, blockRows, blockColumns, default, default, default);
    }

    /// <summary>Blocks a conversion with <paramref name="mask"/> stores: the R×C blocks holding any non-zero mask byte.</summary>
    /// <exception cref="ArgumentException">The length does not match, or the blocks do not tile the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static int CountBlocks(ReadOnlySpan<byte> mask, int rows, int columns, int blockRows, int blockColumns)
    {
        CheckBlocks(rows, columns, blockRows, blockColumns);
        if ((long)rows * columns != mask.Length) ThrowHelper.ThrowShape(nameof(mask), mask.Length, rows, columns);
        return Build(default, mask, true, rows, columns, blockRows, blockColumns, default, default, default);
    }

    /// <summary>Writes the BSR form of a dense matrix into caller buffers, storing blocks with any non-zero value.</summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="blockRows">R.</param>
    /// <param name="blockColumns">C.</param>
    /// <param name="blockRowPointers">Destination of exactly <c>rows/R + 1</c> offsets.</param>
    /// <param name="blockColumnIndices">Destination of at least <see cref="CountBlocks(ReadOnlySpan{float}, int, int, int, int)"/> indices.</param>
    /// <param name="values">Destination of at least <c>blocks·R·C</c> values.</param>
    /// <returns>The block count written.</returns>
    /// <exception cref="ArgumentException">A length does not match, or the blocks do not tile the shape; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static int Fill(ReadOnlySpan<float> dense, int rows, int columns, int blockRows, int blockColumns, Span<int> blockRowPointers, Span<int> blockColumnIndices, Span<float> values)
    {
        int blocks = CountBlocks(dense, rows, columns, blockRows, blockColumns);
        CheckDestinations(blocks, rows, blockRows, blockColumns, blockRowPointers, blockColumnIndices, values);
        return Build(dense, default, false, rows, columns, blockRows, blockColumns, blockRowPointers, blockColumnIndices, values);
    }

    /// <summary>Writes the BSR form of a dense matrix into caller buffers, storing blocks with any non-zero <paramref name="mask"/> byte.</summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="mask">One byte per element (1 = keep).</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="blockRows">R.</param>
    /// <param name="blockColumns">C.</param>
    /// <param name="blockRowPointers">Destination of exactly <c>rows/R + 1</c> offsets.</param>
    /// <param name="blockColumnIndices">Destination of at least <see cref="CountBlocks(ReadOnlySpan{byte}, int, int, int, int)"/> indices.</param>
    /// <param name="values">Destination of at least <c>blocks·R·C</c> values.</param>
    /// <returns>The block count written.</returns>
    /// <exception cref="ArgumentException">A length does not match, or the blocks do not tile the shape; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static int Fill(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns, int blockRows, int blockColumns, Span<int> blockRowPointers, Span<int> blockColumnIndices, Span<float> values)
    {
        CheckDense(dense, rows, columns, blockRows, blockColumns);
        CsrCore.CheckMask(dense, mask);
        int blocks = Build(default, mask, true, rows, columns, blockRows, blockColumns, default, default, default);
        CheckDestinations(blocks, rows, blockRows, blockColumns, blockRowPointers, blockColumnIndices, values);
        return Build(dense, mask, true, rows, columns, blockRows, blockColumns, blockRowPointers, blockColumnIndices, values);
    }

    /// <summary>Converts a dense matrix, storing the R×C blocks that hold any non-zero value; allocates the arrays once.</summary>
    /// <exception cref="ArgumentException">The length does not match, or the blocks do not tile the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static BsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int blockRows, int blockColumns)
    {
        int blocks = CountBlocks(dense, rows, columns, blockRows, blockColumns);
        var rp = new int[rows / blockRows + 1];
        var ci = new int[blocks];
        var v = new float[(long)blocks * blockRows * blockColumns];
        Build(dense, default, false, rows, columns, blockRows, blockColumns, rp, ci, v);
        return new BsrMatrix(rows, columns, blockRows, blockColumns, rp, ci, v);
    }

    /// <summary>Converts a dense matrix, storing the R×C blocks that hold any non-zero <paramref name="mask"/> byte; allocates once.</summary>
    /// <exception cref="ArgumentException">A length does not match, or the blocks do not tile the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a block dimension is not positive.</exception>
    public static BsrMatrix FromDense(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns, int blockRows, int blockColumns)
    {
        CheckDense(dense, rows, columns, blockRows, blockColumns);
        CsrCore.CheckMask(dense, mask);
        int blocks = Build(default, mask, true, rows, columns, blockRows, blockColumns, default, default, default);
        var rp = new int[rows / blockRows + 1];
        var ci = new int[blocks];
        var v = new float[(long)blocks * blockRows * blockColumns];
        Build(dense, mask, true, rows, columns, blockRows, blockColumns, rp, ci, v);
        return new BsrMatrix(rows, columns, blockRows, blockColumns, rp, ci, v);
    }

    private static void CheckDestinations(int blocks, int rows, int blockRows, int blockColumns, Span<int> blockRowPointers, Span<int> blockColumnIndices, Span<float> values)
    {
        int pointers = rows / blockRows + 1;
        long needed = (long)blocks * blockRows * blockColumns;
        if (blockRowPointers.Length != pointers) ThrowHelper.ThrowLengthMismatch(nameof(blockRowPointers), blockRowPointers.Length, pointers);
        if (blockColumnIndices.Length < blocks) ThrowHelper.ThrowDestinationTooShort(nameof(blockColumnIndices), blockColumnIndices.Length, blocks);
        if (values.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(values), values.Length, (int)Math.Min(needed, int.MaxValue));
    }

    /// <summary>
    /// Counts (empty destinations) or writes the blocks. Per block row, the non-zeros of its R rows are tallied per
    /// block column, so the scan costs one pass over the rows whatever the block shape.
    /// </summary>
    private static int Build(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, bool useMask, int rows, int columns, int blockRows, int blockColumns,
        Span<int> blockRowPointers, Span<int> blockColumnIndices, Span<float> values)
    {
        bool write = !blockRowPointers.IsEmpty;
        int blockCols = columns / blockColumns, blockSize = blockRows * blockColumns, blocks = 0;
        using SpanOwner<int> rented = SpanOwner<int>.Allocate(blockCols);
        Span<int> counts = rented.Span;
        if (write) blockRowPointers[0] = 0;
        for (int br = 0; br < rows / blockRows; br++)
        {
            counts.Clear();
            for (int i = 0; i < blockRows; i++)
            {
                int start = (br * blockRows + i) * columns;
                if (useMask) NonZeroScan.AddGroupCounts(mask.Slice(start, columns), blockColumns, counts);
                else NonZeroScan.AddGroupCounts(dense.Slice(start, columns), blockColumns, counts);
            }
            for (int bc = 0; bc < blockCols; bc++)
            {
                if (counts[bc] == 0) continue;
                if (write)
                {
                    blockColumnIndices[blocks] = bc;
                    Span<float> block = values.Slice(blocks * blockSize, blockSize);
                    for (int i = 0; i < blockRows; i++)
                    {
                        int start = (br * blockRows + i) * columns + bc * blockColumns;
                        Span<float> dst = block.Slice(i * blockColumns, blockColumns);
                        dense.Slice(start, blockColumns).CopyTo(dst);
                        if (useMask)
                        {
                            ReadOnlySpan<byte> m = mask.Slice(start, blockColumns);
                            for (int j = 0; j < blockColumns; j++) if (m[j] == 0) dst[j] = 0f;
                        }
                    }
                }
                blocks++;
            }
            if (write) blockRowPointers[br + 1] = blocks;
        }
        return blocks;
    }

    /// <summary>Writes the dense <c>[Rows × Columns]</c> form into the first <c>Rows·Columns</c> elements of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void ToDense(Span<float> destination)
    {
        long needed = (long)Rows * Columns;
        if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, (int)Math.Min(needed, int.MaxValue));
        destination.Slice(0, (int)needed).Clear();
        int r = BlockRows, c = BlockColumns;
        for (int br = 0; br < Rows / r; br++)
        {
            for (int k = _blockRowPointers[br]; k < _blockRowPointers[br + 1]; k++)
            {
                int col0 = _blockColumnIndices[k] * c;
                for (int i = 0; i < r; i++)
                    _values.AsSpan(k * r * c + i * c, c).CopyTo(destination.Slice((br * r + i) * Columns + col0, c));
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"BsrMatrix {Rows}×{Columns}, {BlockRows}×{BlockColumns} blocks: {BlockCount} (sparsity {Sparsity:P1})";
}
