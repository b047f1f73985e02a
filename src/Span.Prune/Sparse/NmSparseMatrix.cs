using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// An N:M semi-structured sparse matrix (e.g. 2:4): every run of M consecutive elements of a row keeps at most N,
/// stored compressed along the rows as N values plus N one-byte in-group positions per group. There are no row
/// pointers: every row holds exactly <c>Columns·N/M</c> entries, so row <c>r</c> starts at <c>r·KeptPerRow</c>.
/// </summary>
/// <remarks>
/// <para>Layout: <c>Values</c> and <c>Indices</c> are <c>[Rows × KeptPerRow]</c>, <c>KeptPerRow = (Columns/M)·N</c>.
/// Entry <c>t</c> of group <c>g</c> of row <c>r</c> sits at <c>r·KeptPerRow + g·N + t</c> and holds the element at
/// column <c>g·M + Indices[..]</c>; the N positions of a group are strictly increasing and below M. Memory: 5 bytes
/// per kept entry (2:4 → 2.5 bytes per dense element, 62.5% of dense).</para>
/// <para>Conversion: a group with more than N stored entries (non-zero values, or non-zero mask bytes with the mask
/// overloads; +0 and −0 are zero, NaN is not) is rejected with an <see cref="ArgumentException"/> naming the row and
/// group, before anything is written. A group with fewer is padded with explicit zeros at its lowest unused
/// positions, so the count per row stays fixed; the round trip to dense is still exact.</para>
/// <para>Limits: <c>1 ≤ N ≤ M ≤ 256</c> (a position fits a byte) and <c>Columns % M == 0</c> (ragged groups are rejected).
/// 2:4 has a dedicated batch-1 kernel (a two-source permute in place of a gather).</para>
/// </remarks>
public sealed class NmSparseMatrix
{
    private readonly float[] _values;
    private readonly byte[] _indices;

    /// <summary>Validates an N:M structure and copies it into a new matrix.</summary>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count, a multiple of <paramref name="m"/>.</param>
    /// <param name="n">Entries kept per group.</param>
    /// <param name="m">Group length.</param>
    /// <param name="values"><c>rows·(columns/m)·n</c> values.</param>
    /// <param name="indices">In-group position of each value; strictly increasing within a group and below <paramref name="m"/>.</param>
    /// <exception cref="ArgumentException">An invariant is broken; the message says which one and where.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public NmSparseMatrix(int rows, int columns, int n, int m, ReadOnlySpan<float> values, ReadOnlySpan<byte> indices)
    {
        int length = CompressedLength(rows, columns, n, m);
        if (values.Length != length) ThrowHelper.ThrowLengthMismatch(nameof(values), values.Length, length);
        if (indices.Length != length) ThrowHelper.ThrowLengthMismatch(nameof(indices), indices.Length, length);
        int groups = columns / m;
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = (r * groups + g) * n, previous = -1;
                for (int t = 0; t < n; t++)
                {
                    int idx = indices[start + t];
                    if (idx >= m) ThrowHelper.ThrowIndexOutOfRange(nameof(indices), r, start + t, idx, m);
                    if (idx <= previous) ThrowHelper.ThrowIndexNotIncreasing(nameof(indices), r, start + t, previous, idx);
                    previous = idx;
                }
            }
        }
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _values = values.ToArray();
        _indices = indices.ToArray();
        PackedPositions = Pack(rows, KeptPerRow, m, _indices);
    }

    private NmSparseMatrix(int rows, int columns, int n, int m, float[] values, byte[] indices)
    {
        Rows = rows;
        Columns = columns;
        N = n;
        M = m;
        _values = values;
        _indices = indices;
        PackedPositions = Pack(rows, KeptPerRow, m, _indices);
    }

    /// <summary>
    /// For M ≤ 4, the positions again at 2 bits each (entry t of a row in bits 2·(t mod 16) of word t / 16 of that
    /// row; <see cref="PackedWordsPerRow"/> words per row), else null. The batch-1 kernel streams values plus these
    /// words — 4.25 instead of 5 bytes per entry — because at batch 1 the multiply is bound by memory bandwidth.
    /// </summary>
    internal uint[]? PackedPositions { get; }

    internal int PackedWordsPerRow => (KeptPerRow + 15) / 16;

    private static uint[]? Pack(int rows, int kept, int m, byte[] indices)
    {
        if (m > 4) return null;
        int words = (kept + 15) / 16;
        var packed = new uint[rows * words];
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < kept; t++)
                packed[r * words + t / 16] |= (uint)indices[r * kept + t] << (2 * (t % 16));
        return packed;
    }

    /// <summary>Row count.</summary>
    public int Rows { get; }

    /// <summary>Column count.</summary>
    public int Columns { get; }

    /// <summary>Entries kept per group.</summary>
    public int N { get; }

    /// <summary>Group length.</summary>
    public int M { get; }

    /// <summary>Entries per row: <c>(Columns/M)·N</c>.</summary>
    public int KeptPerRow => Columns / M * N;

    /// <summary>Fraction of entries not stored, <c>1 − N/M</c> (padding zeros count as stored).</summary>
    public double Sparsity => 1 - (double)N / M;

    /// <summary>Stored values, <c>[Rows × KeptPerRow]</c>; writable (the structure is not).</summary>
    public Span<float> Values => _values;

    /// <summary>In-group position of each stored value.</summary>
    public ReadOnlySpan<byte> Indices => _indices;

    internal float[] ValueArray => _values;
    internal byte[] IndexArray => _indices;

    /// <summary>Length of <c>Values</c> and <c>Indices</c> for a shape: <c>rows·(columns/m)·n</c> (the count phase of a two-phase conversion).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative, or not <c>1 ≤ n ≤ m ≤ 256</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="m"/> does not divide <paramref name="columns"/>.</exception>
    public static int CompressedLength(int rows, int columns, int n, int m)
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must not be negative.");
        if (columns < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(columns), "Columns must not be negative.");
        if (m < 1 || m > 256) ThrowHelper.ThrowArgumentOutOfRange(nameof(m), "M must be in [1, 256] (positions are stored in a byte).");
        if (n < 1 || n > m) ThrowHelper.ThrowArgumentOutOfRange(nameof(n), "N must be in [1, M].");
        if (columns % m != 0) ThrowHelper.ThrowRaggedGroups(nameof(m), columns, m);
        return (int)((long)rows * (columns / m) * n);
    }

    /// <summary>Writes the N:M form of a dense matrix into caller buffers, storing its non-zero values.</summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="n">Entries kept per group.</param>
    /// <param name="m">Group length.</param>
    /// <param name="values">Destination of at least <see cref="CompressedLength"/> values.</param>
    /// <param name="indices">Destination of at least as many positions.</param>
    /// <exception cref="ArgumentException">A length does not match, or a group holds more than N non-zeros; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static void Fill(ReadOnlySpan<float> dense, int rows, int columns, int n, int m, Span<float> values, Span<byte> indices) =>
        FillChecked(dense, default, false, rows, columns, n, m, values, indices);

    /// <summary>Writes the N:M form of a dense matrix into caller buffers, storing the entries whose <paramref name="mask"/> byte is non-zero.</summary>
    /// <param name="dense">The dense <c>[rows × columns]</c> row-major matrix.</param>
    /// <param name="mask">One byte per element (1 = keep).</param>
    /// <param name="rows">Row count.</param>
    /// <param name="columns">Column count.</param>
    /// <param name="n">Entries kept per group.</param>
    /// <param name="m">Group length.</param>
    /// <param name="values">Destination of at least <see cref="CompressedLength"/> values.</param>
    /// <param name="indices">Destination of at least as many positions.</param>
    /// <exception cref="ArgumentException">A length does not match, or a group keeps more than N entries; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static void Fill(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns, int n, int m, Span<float> values, Span<byte> indices) =>
        FillChecked(dense, mask, true, rows, columns, n, m, values, indices);

    /// <summary>Converts a dense matrix, storing its non-zero values; allocates the two arrays once.</summary>
    /// <exception cref="ArgumentException">The length does not match, or a group holds more than N non-zeros.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static NmSparseMatrix FromDense(ReadOnlySpan<float> dense, int rows, int columns, int n, int m)
    {
        int length = Check(dense, default, false, rows, columns, n, m);
        var v = new float[length];
        var i = new byte[length];
        Write(dense, default, false, rows, columns, n, m, v, i);
        return new NmSparseMatrix(rows, columns, n, m, v, i);
    }

    /// <summary>Converts a dense matrix, storing the entries whose <paramref name="mask"/> byte is non-zero; allocates once.</summary>
    /// <exception cref="ArgumentException">A length does not match, or a group keeps more than N entries.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range.</exception>
    public static NmSparseMatrix FromDense(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, int rows, int columns, int n, int m)
    {
        int length = Check(dense, mask, true, rows, columns, n, m);
        var v = new float[length];
        var i = new byte[length];
        Write(dense, mask, true, rows, columns, n, m, v, i);
        return new NmSparseMatrix(rows, columns, n, m, v, i);
    }

    private static void FillChecked(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, bool useMask, int rows, int columns, int n, int m, Span<float> values, Span<byte> indices)
    {
        int length = Check(dense, mask, useMask, rows, columns, n, m);
        if (values.Length < length) ThrowHelper.ThrowDestinationTooShort(nameof(values), values.Length, length);
        if (indices.Length < length) ThrowHelper.ThrowDestinationTooShort(nameof(indices), indices.Length, length);
        Write(dense, mask, useMask, rows, columns, n, m, values, indices);
    }

    /// <summary>Validates shape and lengths, and that no group holds more than N entries; returns the compressed length.</summary>
    private static int Check(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, bool useMask, int rows, int columns, int n, int m)
    {
        int length = CompressedLength(rows, columns, n, m);
        if ((long)rows * columns != dense.Length) ThrowHelper.ThrowShape(nameof(dense), dense.Length, rows, columns);
        if (useMask) CsrCore.CheckMask(dense, mask);
        int groups = columns / m;
        using SpanOwner<int> rented = SpanOwner<int>.Allocate(Math.Max(1, groups));
        Span<int> counts = rented.Span.Slice(0, groups);
        for (int r = 0; r < rows; r++)
        {
            counts.Clear();
            if (useMask) NonZeroScan.AddGroupCounts(mask.Slice(r * columns, columns), m, counts);
            else NonZeroScan.AddGroupCounts(dense.Slice(r * columns, columns), m, counts);
            for (int g = 0; g < groups; g++)
                if (counts[g] > n) ThrowHelper.ThrowTooManyInGroup(useMask ? nameof(mask) : nameof(dense), r, g, counts[g], n, m);
        }
        return length;
    }

    // Group by group: the stored positions in ascending order, then (if fewer than N) the lowest unused positions,
    // merged so that the N positions stay sorted. Padding entries hold +0.
    private static void Write(ReadOnlySpan<float> dense, ReadOnlySpan<byte> mask, bool useMask, int rows, int columns, int n, int m, Span<float> values, Span<byte> indices)
    {
        int groups = columns / m, o = 0;
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int start = r * columns + g * m;
                int stored = 0;
                for (int j = 0; j < m; j++)
                    if (useMask ? mask[start + j] != 0 : dense[start + j] != 0f) stored++;
                int padding = n - stored;
                for (int j = 0; j < m; j++)
                {
                    bool keep = useMask ? mask[start + j] != 0 : dense[start + j] != 0f;
                    if (keep)
                    {
                        values[o] = dense[start + j];
                        indices[o++] = (byte)j;
                    }
                    else if (padding > 0)
                    {
                        values[o] = 0f;
                        indices[o++] = (byte)j;
                        padding--;
                    }
                }
            }
        }
    }

    /// <summary>Writes the dense <c>[Rows × Columns]</c> form into the first <c>Rows·Columns</c> elements of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void ToDense(Span<float> destination)
    {
        long needed = (long)Rows * Columns;
        if (destination.Length < needed) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, (int)Math.Min(needed, int.MaxValue));
        destination.Slice(0, (int)needed).Clear();
        int groups = Columns / M, o = 0;
        for (int r = 0; r < Rows; r++)
            for (int g = 0; g < groups; g++)
                for (int t = 0; t < N; t++, o++)
                    destination[r * Columns + g * M + _indices[o]] = _values[o];
    }

    /// <inheritdoc/>
    public override string ToString() => $"NmSparseMatrix {Rows}×{Columns}, {N}:{M}";
}
