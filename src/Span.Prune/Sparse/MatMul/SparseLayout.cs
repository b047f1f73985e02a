using System.Globalization;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>Storage formats of a pruned weight matrix.</summary>
public enum SparseFormat
{
    /// <summary>Dense row-major (<see cref="MatMul"/>).</summary>
    Dense,
    /// <summary><see cref="CsrMatrix"/> (32-bit column indices).</summary>
    Csr,
    /// <summary><see cref="Csr16Matrix"/> (16-bit column indices).</summary>
    Csr16,
    /// <summary><see cref="BsrMatrix"/> with R×C blocks.</summary>
    Bsr,
    /// <summary><see cref="NmSparseMatrix"/>: N kept of every M.</summary>
    NM,
    /// <summary><see cref="ShrunkDense"/> (all-zero rows and columns removed).</summary>
    Shrunk,
}

/// <summary>
/// A storage format with its parameters (the block of BSR, the N and M of N:M): what <see cref="SparseLayer.Create"/>
/// builds and what <see cref="SparseLayer.Prepare"/> chose. Built with the static members, never from a string
/// except through <see cref="Parse"/> (for command lines).
/// </summary>
/// <remarks>Text form, as <see cref="ToString"/> writes it and <see cref="Parse"/> reads it: <c>dense</c>, <c>csr</c>,
/// <c>csr16</c>, <c>bsr:RxC</c>, <c>nm:N:M</c>, <c>shrunk</c> — the names of the sparse export.</remarks>
public readonly record struct SparseLayout
{
    private SparseLayout(SparseFormat format, int p, int q)
    {
        Format = format;
        P = p;
        Q = q;
    }

    /// <summary>The format.</summary>
    public SparseFormat Format { get; }

    // Block rows × columns for BSR, N and M for N:M, 1 otherwise.
    private int P { get; }
    private int Q { get; }

    /// <summary>Dense row-major.</summary>
    public static SparseLayout Dense => new(SparseFormat.Dense, 1, 1);

    /// <summary>CSR with 32-bit column indices.</summary>
    public static SparseLayout Csr => new(SparseFormat.Csr, 1, 1);

    /// <summary>CSR with 16-bit column indices (at most <see cref="Csr16Matrix.MaxColumns"/> columns).</summary>
    public static SparseLayout Csr16 => new(SparseFormat.Csr16, 1, 1);

    /// <summary>All-zero rows and columns removed.</summary>
    public static SparseLayout Shrunk => new(SparseFormat.Shrunk, 1, 1);

    /// <summary>Block CSR with <paramref name="blockRows"/> × <paramref name="blockColumns"/> dense blocks.</summary>
    /// <param name="blockRows">Rows of a block, positive.</param>
    /// <param name="blockColumns">Columns of a block, positive.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A block dimension is not positive.</exception>
    public static SparseLayout Bsr(int blockRows, int blockColumns)
    {
        if (blockRows <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(blockRows), "Block rows must be positive.");
        if (blockColumns <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(blockColumns), "Block columns must be positive.");
        return new(SparseFormat.Bsr, blockRows, blockColumns);
    }

    /// <summary>N:M: <paramref name="n"/> values kept of every <paramref name="m"/> consecutive columns.</summary>
    /// <param name="n">Kept per group, in <c>[1, m]</c>.</param>
    /// <param name="m">Group length, in <c>[1, 255]</c>.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> or <paramref name="m"/> is out of range.</exception>
    public static SparseLayout NM(int n, int m)
    {
        if (m is <= 0 or > 255) ThrowHelper.ThrowArgumentOutOfRange(nameof(m), "M must be in [1, 255].");
        if (n <= 0 || n > m) ThrowHelper.ThrowArgumentOutOfRange(nameof(n), "N must be in [1, M].");
        return new(SparseFormat.NM, n, m);
    }

    /// <summary>Rows of a BSR block (1 for other formats).</summary>
    public int BlockRows => Format == SparseFormat.Bsr ? P : 1;

    /// <summary>Columns of a BSR block (1 for other formats).</summary>
    public int BlockColumns => Format == SparseFormat.Bsr ? Q : 1;

    /// <summary>Values kept per group for N:M (1 for other formats).</summary>
    public int N => Format == SparseFormat.NM ? P : 1;

    /// <summary>Group length for N:M (1 for other formats).</summary>
    public int M => Format == SparseFormat.NM ? Q : 1;

    /// <summary>Reads the text form (case-insensitive): <c>dense</c>, <c>csr</c>, <c>csr16</c>, <c>bsr:RxC</c>, <c>nm:N:M</c>, <c>shrunk</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The layout.</returns>
    /// <exception cref="FormatException">The text is not one of the forms.</exception>
    public static SparseLayout Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string f = text.Trim().ToLowerInvariant();
        switch (f)
        {
            case "dense": return Dense;
            case "csr": return Csr;
            case "csr16": return Csr16;
            case "shrunk": return Shrunk;
        }
        if (f.StartsWith("bsr:", StringComparison.Ordinal) && Pair(f.AsSpan(4), 'x', out int r, out int c)) return Bsr(r, c);
        if (f.StartsWith("nm:", StringComparison.Ordinal) && Pair(f.AsSpan(3), ':', out int n, out int m) && m <= 255 && n <= m) return NM(n, m);
        throw new FormatException($"Unknown sparse layout '{text}'; expected dense, csr, csr16, bsr:RxC, nm:N:M (N ≤ M ≤ 255) or shrunk.");
    }

    // "A<sep>B" with both positive decimal integers.
    private static bool Pair(ReadOnlySpan<char> text, char separator, out int a, out int b)
    {
        int at = text.IndexOf(separator);
        b = 0;
        return int.TryParse(at < 0 ? text : text[..at], NumberStyles.None, CultureInfo.InvariantCulture, out a) && a > 0 && at >= 0
            && int.TryParse(text[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out b) && b > 0;
    }

    /// <summary>The text form, e.g. <c>bsr:4x4</c> or <c>nm:2:4</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Format switch
    {
        SparseFormat.Dense => "dense",
        SparseFormat.Csr => "csr",
        SparseFormat.Csr16 => "csr16",
        SparseFormat.Bsr => string.Create(CultureInfo.InvariantCulture, $"bsr:{P}x{Q}"),
        SparseFormat.NM => string.Create(CultureInfo.InvariantCulture, $"nm:{P}:{Q}"),
        _ => "shrunk",
    };
}
