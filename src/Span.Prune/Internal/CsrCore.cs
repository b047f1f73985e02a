using System.Numerics;
using Span.Prune.Internal;
using Span.Prune.Sparse;

namespace Span.Prune.Internal;

/// <summary>Conversion and validation shared by <see cref="CsrMatrix"/> (int32 indices) and <see cref="Csr16Matrix"/> (16-bit indices).</summary>
internal static class CsrCore
{
    public static void CheckShape(ReadOnlySpan<float> dense, int rows, int columns, string denseName = "dense")
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must not be negative.");
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "Columns must not be negative.");
        if ((long)rows * columns != dense.Length) ThrowHelper.ThrowShape(denseName, dense.Length, rows, columns);
    }

    public static void CheckMask(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask)
    {
        if (mask.Length != dense.Length) ThrowHelper.ThrowLengthMismatch(nameof(mask), mask.Length, dense.Length);
    }

    /// <summary>Validates the destinations, then writes row pointers, indices and values; returns the entry count.</summary>
    public static int Fill<TIndex>(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, bool useMask, int rows, int columns,
        Span<int> rowPointers, Span<TIndex> columnIndices, Span<float> values)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        int count = useMask ? Masking.CountKept(mask) : NonZeroScan.Count(dense);
        if (rowPointers.Length != rows + 1) ThrowHelper.ThrowLengthMismatch(nameof(rowPointers), rowPointers.Length, rows + 1);
        if (columnIndices.Length < count) ThrowHelper.ThrowDestinationTooShort(nameof(columnIndices), columnIndices.Length, count);
        if (values.Length < count) ThrowHelper.ThrowDestinationTooShort(nameof(values), values.Length, count);
        int c = 0;
        rowPointers[0] = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = dense.Slice(r * columns, columns);
            c += useMask
                ? NonZeroScan.Compress(row, mask.Slice(r * columns, columns), 0, columnIndices[c..], values[c..])
                : NonZeroScan.Compress(row, 0, columnIndices[c..], values[c..]);
            rowPointers[r + 1] = c;
        }
        return c;
    }

    /// <summary>Checks every CSR invariant; throws naming the first broken one.</summary>
    public static void Validate<TIndex>(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<TIndex> columnIndices, int valueCount,
        string rowPointersName = "rowPointers", string columnIndicesName = "columnIndices")
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must not be negative.");
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "Columns must not be negative.");
        if (rowPointers.Length != rows + 1) ThrowHelper.ThrowLengthMismatch(rowPointersName, rowPointers.Length, rows + 1);
        if (valueCount != columnIndices.Length) ThrowHelper.ThrowArgument("values", $"There are {valueCount} values but {columnIndices.Length} column indices; the lengths must match.");
        if (rowPointers[0] != 0) ThrowHelper.ThrowPointerStart(rowPointersName, rowPointers[0]);
        for (int r = 0; r < rows; r++)
            if (rowPointers[r + 1] < rowPointers[r]) ThrowHelper.ThrowPointerDecreasing(rowPointersName, r, rowPointers[r], rowPointers[r + 1]);
        if (rowPointers[rows] != columnIndices.Length) ThrowHelper.ThrowPointerEnd(rowPointersName, rowPointers[rows], columnIndices.Length);
        for (int r = 0; r < rows; r++)
        {
            long previous = -1;
            for (int i = rowPointers[r]; i < rowPointers[r + 1]; i++)
            {
                long col = long.CreateTruncating(columnIndices[i]);
                if (col < 0 || col >= columns) ThrowHelper.ThrowIndexOutOfRange(columnIndicesName, r, i, col, columns);
                if (col <= previous) ThrowHelper.ThrowIndexNotIncreasing(columnIndicesName, r, i, previous, col);
                previous = col;
            }
        }
    }

    public static void ToDense<TIndex>(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<TIndex> columnIndices, ReadOnlySpan<float> values, Span<float> destination)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        long needed = (long)rows * columns;
        if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, (int)Math.Min(needed, int.MaxValue));
        destination.Slice(0, (int)needed).Clear();
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = destination.Slice(r * columns, columns);
            for (int i = rowPointers[r]; i < rowPointers[r + 1]; i++) row[int.CreateTruncating(columnIndices[i])] = values[i];
        }
    }
}
