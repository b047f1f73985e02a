using System.Diagnostics.CodeAnalysis;

namespace Span.Prune.Internal;

// Throws for the sparse formats and matrix multiplies. Every message names the broken invariant and where it
// breaks (row, group, position), so a malformed structure can be fixed without a debugger.
internal static partial class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowShape(string paramName, long actual, int rows, int columns) =>
        throw new ArgumentException($"Length {actual} does not match the shape {rows}×{columns} = {(long)rows * columns}.", paramName);

    [DoesNotReturn]
    public static void ThrowRaggedBlocks(string paramName, int rows, int columns, int blockRows, int blockColumns) =>
        throw new ArgumentException($"Blocks of {blockRows}×{blockColumns} do not tile a {rows}×{columns} matrix; ragged block edges are not supported.", paramName);

    [DoesNotReturn]
    public static void ThrowTooManyInGroup(string paramName, int row, int group, int count, int n, int m) =>
        throw new ArgumentException($"Row {row}, group {group} (columns {group * m}..{group * m + m - 1}) has {count} non-zeros; {n}:{m} sparsity allows at most {n}.", paramName);

    [DoesNotReturn]
    public static void ThrowPointerStart(string paramName, int value) =>
        throw new ArgumentException($"The first row pointer must be 0 but is {value}.", paramName);

    [DoesNotReturn]
    public static void ThrowPointerDecreasing(string paramName, int row, int previous, int value) =>
        throw new ArgumentException($"Row pointers must be non-decreasing: entry {row + 1} = {value} is less than entry {row} = {previous}.", paramName);

    [DoesNotReturn]
    public static void ThrowPointerEnd(string paramName, int last, int count) =>
        throw new ArgumentException($"The last row pointer is {last} but there are {count} stored entries; it must equal the entry count.", paramName);

    [DoesNotReturn]
    public static void ThrowIndexOutOfRange(string paramName, int row, int position, long index, int limit) =>
        throw new ArgumentException($"Index {index} at position {position} (row {row}) is outside [0, {limit}).", paramName);

    [DoesNotReturn]
    public static void ThrowIndexNotIncreasing(string paramName, int row, int position, long previous, long index) =>
        throw new ArgumentException($"Indices of row {row} must be strictly increasing (sorted, no duplicates): position {position} holds {index} after {previous}.", paramName);

    [DoesNotReturn]
    public static void ThrowColumnsTooManyFor16Bit(string paramName, int columns) =>
        throw new ArgumentOutOfRangeException(paramName, columns, "A 16-bit column index addresses at most 65536 columns.");
}
