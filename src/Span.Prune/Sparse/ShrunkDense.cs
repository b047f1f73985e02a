using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// A dense matrix with pruned rows and columns physically removed, plus the maps back to the original indices:
/// the format for structured (row / column / channel) pruning. Multiplying it is an ordinary dense GEMM on a
/// smaller matrix, so it gets the full speed of <see cref="MatMul"/>.
/// </summary>
/// <remarks>
/// <para>Layout: <c>Weights</c> is <c>[Rows × Columns]</c> row-major; kept row <c>i</c> was original row
/// <c>RowMap[i]</c> and kept column <c>j</c> was original column <c>ColumnMap[j]</c>; both maps are strictly increasing.</para>
/// <para>A shrunk layer consumes a shrunk input <c>[Columns × batch]</c> (see <see cref="GatherInput"/>) and produces a
/// shrunk output <c>[Rows × batch]</c> (see <see cref="ScatterOutput"/>). In a network, removing output unit j of one
/// layer removes input column j of the next one: <see cref="UnitRemoval.RemoveUnits"/> does both (and a BatchNorm in between).</para>
/// </remarks>
public sealed class ShrunkDense
{
    private readonly float[] _weights;
    private readonly int[] _rowMap;
    private readonly int[] _columnMap;

    /// <summary>Validates the maps and copies a shrunk matrix.</summary>
    /// <param name="originalRows">Row count before removal.</param>
    /// <param name="originalColumns">Column count before removal.</param>
    /// <param name="rowMap">Original index of each kept row, strictly increasing, in <c>[0, originalRows)</c>.</param>
    /// <param name="columnMap">Original index of each kept column, strictly increasing, in <c>[0, originalColumns)</c>.</param>
    /// <param name="weights">The kept <c>[rowMap.Length × columnMap.Length]</c> block, row-major.</param>
    /// <exception cref="ArgumentException">A map is not strictly increasing or out of range, or the weight length does not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An original dimension is negative.</exception>
    public ShrunkDense(int originalRows, int originalColumns, ReadOnlySpan<int> rowMap, ReadOnlySpan<int> columnMap, ReadOnlySpan<float> weights)
    {
        if (originalRows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(originalRows), "Rows must not be negative.");
        if (originalColumns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(originalColumns), "Columns must not be negative.");
        CheckMap(rowMap, originalRows, nameof(rowMap));
        CheckMap(columnMap, originalColumns, nameof(columnMap));
        if ((long)rowMap.Length * columnMap.Length != weights.Length) ThrowHelper.ThrowShape(nameof(weights), weights.Length, rowMap.Length, columnMap.Length);
        OriginalRows = originalRows;
        OriginalColumns = originalColumns;
        _rowMap = rowMap.ToArray();
        _columnMap = columnMap.ToArray();
        _weights = weights.ToArray();
    }

    private ShrunkDense(int originalRows, int originalColumns, int[] rowMap, int[] columnMap, float[] weights)
    {
        OriginalRows = originalRows;
        OriginalColumns = originalColumns;
        _rowMap = rowMap;
        _columnMap = columnMap;
        _weights = weights;
    }

    private static void CheckMap(ReadOnlySpan<int> map, int limit, string name)
    {
        int previous = -1;
        for (int i = 0; i < map.Length; i++)
        {
            if (map[i] < 0 || map[i] >= limit) ThrowHelper.ThrowIndexOutOfRange(name, 0, i, map[i], limit);
            if (map[i] <= previous) ThrowHelper.ThrowIndexNotIncreasing(name, 0, i, previous, map[i]);
            previous = map[i];
        }
    }

    /// <summary>Kept rows.</summary>
    public int Rows => _rowMap.Length;

    /// <summary>Kept columns.</summary>
    public int Columns => _columnMap.Length;

    /// <summary>Rows of the original matrix.</summary>
    public int OriginalRows { get; }

    /// <summary>Columns of the original matrix.</summary>
    public int OriginalColumns { get; }

    /// <summary>The kept block, <c>[Rows × Columns]</c> row-major; writable.</summary>
    public Span<float> Weights => _weights;

    /// <summary>Original row of each kept row (strictly increasing).</summary>
    public ReadOnlySpan<int> RowMap => _rowMap;

    /// <summary>Original column of each kept column (strictly increasing).</summary>
    public ReadOnlySpan<int> ColumnMap => _columnMap;

    internal float[] WeightArray => _weights;

    /// <summary>
    /// Removes every row and every column that is entirely zero (+0 or −0), keeping the rest. The round trip through
    /// <see cref="ToDense"/> is exact (up to the sign of removed zeros).
    /// </summary>
    /// <exception cref="ArgumentException">The length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static ShrunkDense FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        CsrCore.CheckShape(dense, rows, columns);
        Span<int> counts = columns <= 1024 ? stackalloc int[columns] : new int[columns];
        counts.Clear();
        int keptRows = 0;
        var rowKeep = new byte[rows];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = dense.Slice(r * columns, columns);
            if (!NonZeroScan.Any(row)) continue;
            rowKeep[r] = 1;
            keptRows++;
            NonZeroScan.AddGroupCounts(row, 1, counts);
        }
        var columnKeep = new byte[columns];
        for (int c = 0; c < columns; c++) columnKeep[c] = counts[c] != 0 ? (byte)1 : (byte)0;
        return Build(dense, rows, columns, rowKeep, columnKeep);
    }

    /// <summary>Keeps the rows and columns whose mask byte is non-zero (1 = keep); an empty mask keeps all of them.</summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="rowMask"><paramref name="rows"/> bytes, or empty to keep every row.</param>
    /// <param name="columnMask"><paramref name="columns"/> bytes, or empty to keep every column.</param>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static ShrunkDense FromDense(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<byte> rowMask, ReadOnlySpan<byte> columnMask)
    {
        CsrCore.CheckShape(dense, rows, columns);
        if (!rowMask.IsEmpty && rowMask.Length != rows) ThrowHelper.ThrowLengthMismatch(nameof(rowMask), rowMask.Length, rows);
        if (!columnMask.IsEmpty && columnMask.Length != columns) ThrowHelper.ThrowLengthMismatch(nameof(columnMask), columnMask.Length, columns);
        return Build(dense, rows, columns, rowMask, columnMask);
    }

    /// <summary>
    /// Writes the kept block and maps into caller buffers (two-phase use: size them with
    /// <see cref="Masking.CountKept(ReadOnlySpan{byte})"/> of each mask).
    /// </summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="rowMask"><paramref name="rows"/> bytes, 1 = keep.</param>
    /// <param name="columnMask"><paramref name="columns"/> bytes, 1 = keep.</param>
    /// <param name="weights">Destination of at least <c>keptRows·keptColumns</c> floats.</param>
    /// <param name="rowMap">Destination of exactly <c>keptRows</c> indices.</param>
    /// <param name="columnMap">Destination of exactly <c>keptColumns</c> indices.</param>
    /// <exception cref="ArgumentException">A length does not match; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static void Fill(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<byte> rowMask, ReadOnlySpan<byte> columnMask,
        Span<float> weights, Span<int> rowMap, Span<int> columnMap)
    {
        CsrCore.CheckShape(dense, rows, columns);
        if (rowMask.Length != rows) ThrowHelper.ThrowLengthMismatch(nameof(rowMask), rowMask.Length, rows);
        if (columnMask.Length != columns) ThrowHelper.ThrowLengthMismatch(nameof(columnMask), columnMask.Length, columns);
        int keptRows = Masking.CountKept(rowMask), keptColumns = Masking.CountKept(columnMask);
        if (rowMap.Length != keptRows) ThrowHelper.ThrowLengthMismatch(nameof(rowMap), rowMap.Length, keptRows);
        if (columnMap.Length != keptColumns) ThrowHelper.ThrowLengthMismatch(nameof(columnMap), columnMap.Length, keptColumns);
        long needed = (long)keptRows * keptColumns;
        if (weights.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(weights), weights.Length, (int)needed);
        FillCore(dense, rows, columns, rowMask, columnMask, weights, rowMap, columnMap);
    }

    private static ShrunkDense Build(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<byte> rowMask, ReadOnlySpan<byte> columnMask)
    {
        int keptRows = rowMask.IsEmpty ? rows : Masking.CountKept(rowMask);
        int keptColumns = columnMask.IsEmpty ? columns : Masking.CountKept(columnMask);
        var rowMap = new int[keptRows];
        var columnMap = new int[keptColumns];
        var w = new float[(long)keptRows * keptColumns];
        FillCore(dense, rows, columns, rowMask, columnMask, w, rowMap, columnMap);
        return new ShrunkDense(rows, columns, rowMap, columnMap, w);
    }

    private static void FillCore(ReadOnlySpan<float> dense, int rows, int columns, ReadOnlySpan<byte> rowMask, ReadOnlySpan<byte> columnMask,
        Span<float> weights, Span<int> rowMap, Span<int> columnMap)
    {
        for (int r = 0, k = 0; r < rows; r++) if (rowMask.IsEmpty || rowMask[r] != 0) rowMap[k++] = r;
        for (int c = 0, k = 0; c < columns; c++) if (columnMask.IsEmpty || columnMask[c] != 0) columnMap[k++] = c;
        int kc = columnMap.Length;
        for (int i = 0; i < rowMap.Length; i++)
        {
            ReadOnlySpan<float> src = dense.Slice(rowMap[i] * columns, columns);
            Span<float> dst = weights.Slice(i * kc, kc);
            if (kc == columns) src.CopyTo(dst);
            else for (int j = 0; j < kc; j++) dst[j] = src[columnMap[j]];
        }
    }

    /// <summary>Removes more rows: keeps current row <c>i</c> where <c>keep[i] != 0</c>, composing the row map.</summary>
    /// <exception cref="ArgumentException"><paramref name="keep"/> is not <see cref="Rows"/> long.</exception>
    public ShrunkDense RemoveRows(ReadOnlySpan<byte> keep)
    {
        if (keep.Length != Rows) ThrowHelper.ThrowLengthMismatch(nameof(keep), keep.Length, Rows);
        var map = new int[Masking.CountKept(keep)];
        var w = new float[(long)map.Length * Columns];
        for (int i = 0, k = 0; i < Rows; i++)
        {
            if (keep[i] == 0) continue;
            map[k] = _rowMap[i];
            _weights.AsSpan(i * Columns, Columns).CopyTo(w.AsSpan(k * Columns, Columns));
            k++;
        }
        return new ShrunkDense(OriginalRows, OriginalColumns, map, _columnMap, w);
    }

    /// <summary>Removes more columns: keeps current column <c>j</c> where <c>keep[j] != 0</c>, composing the column map.</summary>
    /// <exception cref="ArgumentException"><paramref name="keep"/> is not <see cref="Columns"/> long.</exception>
    public ShrunkDense RemoveColumns(ReadOnlySpan<byte> keep)
    {
        if (keep.Length != Columns) ThrowHelper.ThrowLengthMismatch(nameof(keep), keep.Length, Columns);
        var map = new int[Masking.CountKept(keep)];
        for (int j = 0, k = 0; j < Columns; j++) if (keep[j] != 0) map[k++] = _columnMap[j];
        var w = new float[(long)Rows * map.Length];
        for (int i = 0; i < Rows; i++)
        {
            ReadOnlySpan<float> src = _weights.AsSpan(i * Columns, Columns);
            Span<float> dst = w.AsSpan(i * map.Length, map.Length);
            for (int j = 0, k = 0; j < Columns; j++) if (keep[j] != 0) dst[k++] = src[j];
        }
        return new ShrunkDense(OriginalRows, OriginalColumns, _rowMap, map, w);
    }

    /// <summary>Writes the original-shape <c>[OriginalRows × OriginalColumns]</c> matrix, zeros where rows or columns were removed.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void ToDense(Span<float> destination)
    {
        long needed = (long)OriginalRows * OriginalColumns;
        if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, (int)Math.Min(needed, int.MaxValue));
        destination.Slice(0, (int)needed).Clear();
        for (int i = 0; i < Rows; i++)
        {
            Span<float> dst = destination.Slice(_rowMap[i] * OriginalColumns, OriginalColumns);
            ReadOnlySpan<float> src = _weights.AsSpan(i * Columns, Columns);
            for (int j = 0; j < Columns; j++) dst[_columnMap[j]] = src[j];
        }
    }

    /// <summary>Selects the kept input rows: <c>[OriginalColumns × batch]</c> → <c>[Columns × batch]</c>.</summary>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public void GatherInput(ReadOnlySpan<float> x, Span<float> destination, int batch)
    {
        if (batch < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must not be negative.");
        if ((long)OriginalColumns * batch != x.Length) ThrowHelper.ThrowShape(nameof(x), x.Length, OriginalColumns, batch);
        if ((long)Columns * batch > destination.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, Columns * batch);
        for (int j = 0; j < Columns; j++) x.Slice(_columnMap[j] * batch, batch).CopyTo(destination.Slice(j * batch, batch));
    }

    /// <summary>Expands a shrunk output to the original rows: <c>[Rows × batch]</c> → <c>[OriginalRows × batch]</c>, zeros in removed rows.</summary>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public void ScatterOutput(ReadOnlySpan<float> y, Span<float> destination, int batch)
    {
        if (batch < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must not be negative.");
        if ((long)Rows * batch != y.Length) ThrowHelper.ThrowShape(nameof(y), y.Length, Rows, batch);
        if ((long)OriginalRows * batch > destination.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, OriginalRows * batch);
        destination.Slice(0, OriginalRows * batch).Clear();
        for (int i = 0; i < Rows; i++) y.Slice(i * batch, batch).CopyTo(destination.Slice(_rowMap[i] * batch, batch));
    }

    /// <inheritdoc/>
    public override string ToString() => $"ShrunkDense {Rows}×{Columns} of {OriginalRows}×{OriginalColumns}";
}
