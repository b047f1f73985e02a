using Span.Prune.Internal;
namespace Span.Prune.Sparse;

/// <summary>
/// A sparse matrix in compressed sparse row (CSR) form with 32-bit column indices: the format for unstructured
/// (element-wise) pruning.
/// </summary>
/// <remarks>
/// <para>Layout: row <c>r</c> stores <c>Values[RowPointers[r] .. RowPointers[r+1])</c> at columns
/// <c>ColumnIndices[same range]</c>, sorted ascending without duplicates; <c>RowPointers[0] = 0</c> and
/// <c>RowPointers[Rows] = NonZeroCount</c>. Memory: <c>8·nnz + 4·(Rows+1)</c> bytes. When
/// <c>Columns ≤ 65536</c>, a <see cref="SparseLayer"/> with <see cref="SparseLayout.Csr16"/> stores the same structure
/// with 16-bit column indices, in <c>6·nnz + 4·(Rows+1)</c> bytes.</para>
/// <para>Conversion from a pruned dense matrix stores every value that is not zero: <c>value == 0f</c> is the
/// test, so +0 and −0 are both dropped (−0 comes back as +0) and NaN is stored. The mask overloads store every
/// entry whose mask byte is non-zero instead (mask convention: 1 = keep), including kept weights that happen to be 0.</para>
/// <para>Two-phase use: <see cref="CountNonZeros(ReadOnlySpan{float})"/>, then <see cref="Fill(ReadOnlySpan{float}, int, int, Span{int}, Span{int}, Span{float})"/>
/// into your own buffers; or <see cref="FromDense(ReadOnlySpan{float}, int, int)"/>, which counts and allocates exactly once.</para>
/// <para>The structure is immutable: the constructor validates it and copies it, so the kernels can index
/// without bounds checks. The values may be updated in place (for example by masked fine-tuning).</para>
/// </remarks>
public sealed class CsrMatrix
{
    private readonly int[] _rowPointers;
    private readonly int[] _columnIndices;
    private readonly float[] _values;

    /// <summary>Validates a CSR structure and copies it into a new matrix.</summary>
    /// <param name="rows">Row count (≥ 0).</param>
    /// <param name="columns">Column count (≥ 0).</param>
    /// <param name="rowPointers"><c>Rows + 1</c> non-decreasing offsets, starting at 0 and ending at the entry count.</param>
    /// <param name="columnIndices">Column of each entry; strictly increasing within a row and in <c>[0, columns)</c>.</param>
    /// <param name="values">Value of each entry; same length as <paramref name="columnIndices"/>.</param>
    /// <exception cref="ArgumentException">An invariant is broken; the message says which one and where.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public CsrMatrix(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<int> columnIndices, ReadOnlySpan<float> values)
    {
        CsrCore.Validate(rows, columns, rowPointers, columnIndices, values.Length);
        Rows = rows;
        Columns = columns;
        _rowPointers = rowPointers.ToArray();
        _columnIndices = columnIndices.ToArray();
        _values = values.ToArray();
    }

    // Trusted: the arrays were just built by Fill.
    private CsrMatrix(int rows, int columns, int[] rowPointers, int[] columnIndices, float[] values)
    {
        Rows = rows;
        Columns = columns;
        _rowPointers = rowPointers;
        _columnIndices = columnIndices;
        _values = values;
    }

    /// <summary>Row count.</summary>
    public int Rows { get; }

    /// <summary>Column count.</summary>
    public int Columns { get; }

    /// <summary>Stored entries (nnz).</summary>
    public int NonZeroCount => _values.Length;

    /// <summary>Fraction of entries not stored: <c>1 − nnz / (Rows·Columns)</c> (0 for an empty matrix).</summary>
    public double Sparsity => Rows == 0 || Columns == 0 ? 0 : 1 - (double)NonZeroCount / ((long)Rows * Columns);

    /// <summary>The <c>Rows + 1</c> row offsets.</summary>
    public ReadOnlySpan<int> RowPointers => _rowPointers;

    /// <summary>Column index of each stored entry.</summary>
    public ReadOnlySpan<int> ColumnIndices => _columnIndices;

    /// <summary>Value of each stored entry; writable (the structure is not).</summary>
    public Span<float> Values => _values;

    internal int[] RowPointerArray => _rowPointers;
    internal int[] ColumnIndexArray => _columnIndices;
    internal float[] ValueArray => _values;

    /// <summary>Entries a conversion of <paramref name="dense"/> stores: the values that are not zero (+0 and −0 are zero, NaN is not).</summary>
    public static int CountNonZeros(ReadOnlySpan<float> dense) => Internal.NonZeroScan.Count(dense);

    /// <summary>Entries a conversion with <paramref name="mask"/> stores: the non-zero mask bytes.</summary>
    public static int CountNonZeros(ReadOnlySpan<byte> mask) => Masking.CountKept(mask);

    /// <summary>Writes the CSR form of a dense <c>[rows × columns]</c> row-major matrix into caller buffers; stores the non-zero values.</summary>
    /// <param name="dense">The dense matrix, length <c>rows·columns</c>.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="rowPointers">Destination of exactly <c>rows + 1</c> offsets.</param>
    /// <param name="columnIndices">Destination of at least <see cref="CountNonZeros(ReadOnlySpan{float})"/> indices.</param>
    /// <param name="values">Destination of at least as many values.</param>
    /// <returns>The entry count written.</returns>
    /// <exception cref="ArgumentException">A length does not match; nothing is written.</exception>
    public static int Fill(ReadOnlySpan<float> dense, int rows, int columns, Span<int> rowPointers, Span<int> columnIndices, Span<float> values)
    {
        CsrCore.CheckShape(dense, rows, columns);
        return CsrCore.Fill(dense, default, false, rows, columns, rowPointers, columnIndices, values);
    }

    /// <summary>Writes the CSR form of a dense matrix, storing the entries whose <paramref name="mask"/> byte is non-zero.</summary>
    /// <param name="dense">The dense matrix, length <c>rows·columns</c>.</param>
    /// <param name="mask">One byte per element (1 = keep), same length as <paramref name="dense"/>.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="rowPointers">Destination of exactly <c>rows + 1</c> offsets.</param>
    /// <param name="columnIndices">Destination of at least <see cref="CountNonZeros(ReadOnlySpan{byte})"/> indices.</param>
    /// <param name="values">Destination of at least as many values.</param>
    /// <returns>The entry count written.</returns>
    /// <exception cref="ArgumentException">A length does not match; nothing is written.</exception>
    public static int Fill(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns, Span<int> rowPointers, Span<int> columnIndices, Span<float> values)
    {
        CsrCore.CheckShape(dense, rows, columns);
        CsrCore.CheckMask(dense, mask);
        return CsrCore.Fill(dense, mask, true, rows, columns, rowPointers, columnIndices, values);
    }

    /// <summary>Converts a dense <c>[rows × columns]</c> matrix, storing its non-zero values; allocates the three arrays once.</summary>
    /// <exception cref="ArgumentException">The length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns)
    {
        CsrCore.CheckShape(dense, rows, columns);
        int nnz = CountNonZeros(dense);
        var rp = new int[rows + 1];
        var ci = new int[nnz];
        var v = new float[nnz];
        CsrCore.Fill(dense, default, false, rows, columns, rp, ci, v);
        return new CsrMatrix(rows, columns, rp, ci, v);
    }

    /// <summary>Converts a dense matrix, storing the entries whose <paramref name="mask"/> byte is non-zero; allocates once.</summary>
    /// <exception cref="ArgumentException">A length does not match the shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    public static CsrMatrix FromDense(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns)
    {
        CsrCore.CheckShape(dense, rows, columns);
        CsrCore.CheckMask(dense, mask);
        int nnz = CountNonZeros(mask);
        var rp = new int[rows + 1];
        var ci = new int[nnz];
        var v = new float[nnz];
        CsrCore.Fill(dense, mask, true, rows, columns, rp, ci, v);
        return new CsrMatrix(rows, columns, rp, ci, v);
    }

    /// <summary>Writes the dense <c>[Rows × Columns]</c> form (zeros where nothing is stored) into the first <c>Rows·Columns</c> elements.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void ToDense(Span<float> destination) => CsrCore.ToDense<int>(Rows, Columns, _rowPointers, _columnIndices, _values, destination);

    /// <inheritdoc/>
    public override string ToString() => $"CsrMatrix {Rows}×{Columns}, nnz {NonZeroCount} (sparsity {Sparsity:P1})";
}
