using System.Globalization;
using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>Which elements of a weight form one prunable unit.</summary>
public enum GranularityKind
{
    /// <summary>Each element on its own (unstructured).</summary>
    Element,
    /// <summary>One output unit: a row of a linear weight, a filter <c>[i, kh, kw]</c> of a convolution.</summary>
    Row,
    /// <summary>One input feature: column <c>j</c> of a linear weight, input channel <c>i</c> across all filters and kernel positions of a convolution.</summary>
    Column,
    /// <summary>One <c>kh×kw</c> kernel per (o, i) pair. For a linear weight this equals <see cref="Element"/>.</summary>
    Kernel,
    /// <summary>An R×C tile of the 2-D view <c>[Out, RowLength]</c>.</summary>
    Block,
    /// <summary>Runs of M consecutive elements along a row of the 2-D view, each keeping exactly N.</summary>
    NM,
}

/// <summary>
/// A pruning granularity: which elements form a unit, and how units are laid out in a <see cref="WeightShape"/>.
/// </summary>
/// <remarks>
/// <para>All granularities are defined on the 2-D view <c>[Out, RowLength]</c>, <c>RowLength = In·kh·kw</c>
/// (OIHW is row-major, so a row is one filter).</para>
/// <para><b>Ragged edges are an error.</b> A block R×C requires <c>Out % R == 0</c> and <c>RowLength % C == 0</c>;
/// N:M requires <c>RowLength % M == 0</c>. A non-dividing shape throws <see cref="ArgumentException"/> naming
/// <c>granularity</c>, instead of silently treating a partial block differently from full ones.</para>
/// <para>Unit numbering (used by group scores and group masks): Row → <c>o</c>; Column → <c>i</c>;
/// Kernel → <c>o·In + i</c>; Block → <c>(o/R)·(RowLength/C) + c/C</c> (row-major over blocks);
/// N:M → <c>e/M</c> for element index <c>e</c>; Element → <c>e</c>.</para>
/// </remarks>
public readonly record struct Granularity
{
    /// <summary>The kind of unit.</summary>
    public GranularityKind Kind { get; }

    /// <summary>Block rows R (Block), or N (kept per group, N:M); 1 otherwise.</summary>
    public int P { get; }

    /// <summary>Block columns C (Block), or M (group length, N:M); 1 otherwise.</summary>
    public int Q { get; }

    private Granularity(GranularityKind kind, int p, int q)
    {
        Kind = kind;
        P = p;
        Q = q;
    }

    /// <summary>Unstructured: every element is a unit.</summary>
    public static Granularity Element => new(GranularityKind.Element, 1, 1);

    /// <summary>Rows (output neurons, conv filters).</summary>
    public static Granularity Row => new(GranularityKind.Row, 1, 1);

    /// <summary>Columns (input features, input channels).</summary>
    public static Granularity Column => new(GranularityKind.Column, 1, 1);

    /// <summary>Whole kh×kw kernels.</summary>
    public static Granularity Kernel => new(GranularityKind.Kernel, 1, 1);

    /// <summary>R×C blocks of the 2-D view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">R or C is not positive.</exception>
    public static Granularity Block(int rows, int cols)
    {
        if (rows <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Block rows must be positive.");
        if (cols <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(cols), "Block columns must be positive.");
        return new(GranularityKind.Block, rows, cols);
    }

    /// <summary>N:M semi-structured sparsity: every run of M consecutive elements of a row keeps exactly N.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not <c>0 ≤ N ≤ M</c>, or M is not positive.</exception>
    public static Granularity NM(int n, int m)
    {
        if (m <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(m), "M must be positive.");
        if (n < 0 || n > m) ThrowHelper.ThrowArgumentOutOfRange(nameof(n), "N must be in [0, M].");
        return new(GranularityKind.NM, n, m);
    }

    /// <summary>Block rows (Block only).</summary>
    public int BlockRows => Kind == GranularityKind.Block ? P : 1;

    /// <summary>Block columns (Block only).</summary>
    public int BlockCols => Kind == GranularityKind.Block ? Q : 1;

    /// <summary>Elements kept per group (N:M only).</summary>
    public int N => Kind == GranularityKind.NM ? P : 1;

    /// <summary>Group length (N:M only).</summary>
    public int M => Kind == GranularityKind.NM ? Q : 1;

    /// <summary>
    /// Number of prunable units of this granularity in <paramref name="shape"/>; for N:M, the number of M-groups.
    /// </summary>
    /// <exception cref="ArgumentException">The block or M does not divide the shape.</exception>
    public int UnitCount(WeightShape shape)
    {
        Validate(shape);
        return Kind switch
        {
            GranularityKind.Element => shape.ElementCount,
            GranularityKind.Row => shape.Out,
            GranularityKind.Column => shape.In,
            GranularityKind.Kernel => shape.Out * shape.In,
            GranularityKind.Block => shape.Out / P * (shape.RowLength / Q),
            GranularityKind.NM => shape.ElementCount / Q,
            _ => 0,
        };
    }

    /// <summary>Elements in one unit (for N:M, the group length M).</summary>
    public int UnitSize(WeightShape shape) => Kind switch
    {
        GranularityKind.Element => 1,
        GranularityKind.Row => shape.RowLength,
        GranularityKind.Column => shape.Out * shape.KernelSize,
        GranularityKind.Kernel => shape.KernelSize,
        GranularityKind.Block => P * Q,
        GranularityKind.NM => Q,
        _ => 0,
    };

    /// <summary>Throws when this granularity does not tile <paramref name="shape"/> exactly.</summary>
    /// <exception cref="ArgumentException">The block or M does not divide the shape.</exception>
    public void Validate(WeightShape shape)
    {
        if (Kind == GranularityKind.Block && (shape.Out % P != 0 || shape.RowLength % Q != 0))
            ThrowHelper.ThrowArgument("granularity", $"Block {P}x{Q} does not divide the 2-D view [{shape.Out}, {shape.RowLength}] of weight {shape}; ragged blocks are not supported.");
        if (Kind == GranularityKind.NM && shape.RowLength % Q != 0)
            ThrowHelper.ThrowArgument("granularity", $"M = {Q} does not divide the row length {shape.RowLength} of weight {shape}; ragged N:M groups are not supported.");
    }

    /// <summary>
    /// Parses <c>element</c>, <c>row</c>, <c>column</c>, <c>kernel</c>, <c>block:RxC</c> or <c>nm:N:M</c> (case-insensitive).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not one of the forms above.</exception>
    public static Granularity Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        switch (t)
        {
            case "element": return Element;
            case "row": case "filter": return Row;
            case "column": case "channel": return Column;
            case "kernel": return Kernel;
        }
        if (t.StartsWith("block:", StringComparison.Ordinal))
        {
            string[] parts = t[6..].Split('x');
            if (parts.Length == 2 && TryPositive(parts[0], out int r) && TryPositive(parts[1], out int c))
                return Block(r, c);
        }
        else if (t.StartsWith("nm:", StringComparison.Ordinal))
        {
            string[] parts = t[3..].Split(':');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                && TryPositive(parts[1], out int m) && n <= m)
                return NM(n, m);
        }
        ThrowHelper.ThrowArgument(nameof(text), $"Unknown granularity '{text}'; expected element, row, column, kernel, block:RxC or nm:N:M.");
        return default;
    }

    private static bool TryPositive(string s, out int value) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value > 0;

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        GranularityKind.Block => $"block:{P}x{Q}",
        GranularityKind.NM => $"nm:{P}:{Q}",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
