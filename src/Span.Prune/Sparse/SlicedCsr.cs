using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

/// <summary>
/// The batch-1 layout of a CSR layer (internal; <see cref="SparseLayer"/> builds it from its <see cref="CsrMatrix"/>
/// or <see cref="Csr16Matrix"/> when the layer is created, where the machine has a vector kernel for it): the stored entries re-laid out so that one vector
/// lane holds one row, and x is read from registers by a permute instead of one scalar load per entry.
/// </summary>
/// <remarks>
/// <para>Why: at batch 1 the CSR kernel spends its time assembling x vectors from scalar loads (a load and an insert per
/// entry) and reducing each row horizontally. Here, as in SELL-C-σ (Kreutzer et al. 2014) with the rows sorted by
/// length, <see cref="Lanes"/> rows form a slice and are summed side by side, one row per lane, so no horizontal sum is
/// needed; and the columns are cut into windows of <see cref="Window"/> columns that fit two registers, so that
/// a step (one entry of each of the slice's rows, all in the same window) fetches its x values with one permute
/// (<c>vpermt2ps</c> over two registers with AVX-512, two <c>vpermps</c> and a blend with AVX2). The window is one
/// column shorter than the registers (31 of 32, 15 of 16): the last slot is set to +0 and is where padding points.</para>
/// <para>Layout: rows sorted by stored entries (descending, then by index) are dealt to slices of <see cref="Lanes"/>;
/// slices go in pairs (two independent FMA chains, which hides the FMA latency). For each pair and window, the two
/// step counts (the most entries any row of the slice has in the window) and then the steps, interleaved A, B while
/// both have steps, then the longer slice's rest. A step is <see cref="Lanes"/> values and <see cref="Lanes"/> column
/// offsets inside the window (one byte each); a lane whose row has no entry left in the window holds offset
/// <see cref="Padding"/> (the +0 slot) and value −0.</para>
/// <para>Measured (LeNet-300-100 at 0.9 global magnitude, whole batch-1 inference in one process, medians of 41
/// interleaved rounds on the loaded 2-core Zen 5): 3.3× faster than dense against 1.7× for the CSR kernel. Tried and
/// dropped: groups of four slices with one flat step list (no short inner loops, but more padding and a window load
/// per step) measured slower (2.3×); AVX2 gathers and vectors of x assembled from scalar loads without the windows
/// (SELL-C alone) were no faster than the CSR kernel.</para>
/// <para>Sums: each row is summed one entry after the other in column order with a fused multiply-add per entry
/// (<see cref="MultiplyAdd"/>), starting from +0, whatever the width, the thread count or the layout parameters. A
/// padded lane adds (−0)·(+0) = −0, which leaves every sum unchanged, −0 included; it never reads x, so an infinity
/// or NaN in x reaches only the rows that store its column, as in every other kernel.</para>
/// <para>Memory: 5 bytes per step lane (value and offset), about 8 to 12 bytes per entry for pruned layers (a step is
/// as long as its slice's longest row in that window), plus the row map.</para>
/// </remarks>
internal sealed class SlicedCsr
{
    private readonly int[] _laneRows;    // [pairs · 2 · Lanes]: output row of each lane, −1 for none
    private readonly int[] _pairStarts;  // [pairs + 1]: first step of each pair
    private readonly byte[] _steps;      // [pairs · windows · 2]: step counts of slices A and B in each window
    private readonly byte[] _offsets;    // [steps · Lanes]: column offset inside the window, Padding for none
    private readonly float[] _values;    // [steps · Lanes]: value, −0 for padding

    private SlicedCsr(int rows, int columns, int lanes, int window, int[] laneRows, int[] pairStarts, byte[] steps, byte[] offsets, float[] values)
    {
        Rows = rows;
        Columns = columns;
        Lanes = lanes;
        Window = window;
        _laneRows = laneRows;
        _pairStarts = pairStarts;
        _steps = steps;
        _offsets = offsets;
        _values = values;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>Rows summed side by side (16 for AVX-512, 8 for AVX2).</summary>
    public int Lanes { get; }

    /// <summary>Columns per window (31 for AVX-512, 15 for AVX2: one lane of the two registers is kept +0 for padding).</summary>
    public int Window { get; }

    /// <summary>Offset of a padding lane: <see cref="Window"/>, the +0 slot just past the window.</summary>
    public byte Padding => (byte)Window;

    public int Pairs => _pairStarts.Length - 1;

    public int Windows => Columns == 0 ? 0 : (Columns + Window - 1) / Window;

    /// <summary>Whether this machine has a vector kernel, so that the layout is worth building for batch 1.</summary>
    public static bool IsAccelerated => (Avx512F.IsSupported && Vector512.IsHardwareAccelerated) || (Avx2.IsSupported && Vector256.IsHardwareAccelerated);

    /// <summary>Lanes and window of this machine's vector kernel (AVX-512: 16 × 31; otherwise 8 × 15).</summary>
    public static (int Lanes, int Window) MachineShape =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? (16, 31) : (8, 15);

    internal ReadOnlySpan<int> LaneRows => _laneRows;
    internal ReadOnlySpan<int> PairStarts => _pairStarts;
    internal ReadOnlySpan<byte> Steps => _steps;
    internal ReadOnlySpan<byte> Offsets => _offsets;
    internal ReadOnlySpan<float> Values => _values;

    /// <summary>Stored step lanes, padding included (for tests and the memory estimate).</summary>
    public int StepLanes => _values.Length;

    /// <summary>Builds the layout of a validated CSR structure with this machine's shape.</summary>
    public static SlicedCsr From<TIndex>(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<TIndex> columnIndices, ReadOnlySpan<float> values)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        (int lanes, int window) = MachineShape;
        return From(rows, columns, rowPointers, columnIndices, values, lanes, window);
    }

    /// <summary>Builds the layout of a validated CSR structure with a given shape (tests force each shape).</summary>
    public static SlicedCsr From<TIndex>(int rows, int columns, ReadOnlySpan<int> rowPointers, ReadOnlySpan<TIndex> columnIndices, ReadOnlySpan<float> values,
        int lanes, int window)
        where TIndex : unmanaged, IBinaryInteger<TIndex>
    {
        if (lanes <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(lanes), "Lanes must be positive.");
        if (window is <= 0 or >= 255) ThrowHelper.ThrowArgumentOutOfRange(nameof(window), "The window must be in [1, 254].");
        // Rows by stored entries, longest first (ties by index, so the layout is a function of the structure): rows of
        // a slice then have similar lengths and few padded lanes.
        int[] order = new int[rows];
        long[] keys = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            order[r] = r;
            keys[r] = ((long)(int.MaxValue - (rowPointers[r + 1] - rowPointers[r])) << 32) | (uint)r;
        }
        Array.Sort(keys, order);
        int slices = (rows + lanes - 1) / lanes, pairs = (slices + 1) / 2;
        int windows = columns == 0 ? 0 : (columns + window - 1) / window;
        int[] laneRows = new int[pairs * 2 * lanes];
        for (int i = 0; i < laneRows.Length; i++) laneRows[i] = i < rows ? order[i] : -1;

        // Pass 1 counts the steps, pass 2 writes them.
        byte[] steps = new byte[pairs * windows * 2];
        int[] pairStarts = new int[pairs + 1];
        int[] cursor = new int[2 * lanes];
        long total = 0;
        for (int q = 0; q < pairs; q++)
        {
            pairStarts[q] = checked((int)total);
            Reset(cursor, laneRows.AsSpan(q * 2 * lanes, 2 * lanes), rowPointers);
            for (int b = 0; b < windows; b++)
            {
                int limit = (int)Math.Min((long)(b + 1) * window, columns);
                for (int h = 0; h < 2; h++)
                {
                    int n = 0;
                    for (int l = 0; l < lanes; l++)
                    {
                        int lane = h * lanes + l, r = laneRows[q * 2 * lanes + lane];
                        if (r < 0) continue;
                        int start = cursor[lane], end = start;
                        while (end < rowPointers[r + 1] && int.CreateTruncating(columnIndices[end]) < limit) end++;
                        n = Math.Max(n, end - start);
                        cursor[lane] = end;
                    }
                    steps[(q * windows + b) * 2 + h] = (byte)n;
                    total += n;
                }
            }
        }
        pairStarts[pairs] = checked((int)total);
        long lanesTotal = total * lanes;
        if (lanesTotal > Array.MaxLength) ThrowHelper.ThrowArgument(nameof(values), "The sliced layout would exceed the largest array.");
        byte[] offsets = new byte[lanesTotal];
        float[] stored = new float[lanesTotal];
        offsets.AsSpan().Fill((byte)window);
        stored.AsSpan().Fill(-0f);
        for (int q = 0; q < pairs; q++)
        {
            Reset(cursor, laneRows.AsSpan(q * 2 * lanes, 2 * lanes), rowPointers);
            long step = pairStarts[q];
            for (int b = 0; b < windows; b++)
            {
                int limit = (int)Math.Min((long)(b + 1) * window, columns);
                int nA = steps[(q * windows + b) * 2], nB = steps[(q * windows + b) * 2 + 1], both = Math.Min(nA, nB);
                for (int h = 0; h < 2; h++)
                {
                    for (int l = 0; l < lanes; l++)
                    {
                        int lane = h * lanes + l, r = laneRows[q * 2 * lanes + lane];
                        if (r < 0) continue;
                        for (int t = 0, i = cursor[lane]; i < rowPointers[r + 1] && int.CreateTruncating(columnIndices[i]) < limit; t++, i++)
                        {
                            // Steps t < both alternate A, B; the longer slice's rest follows.
                            long at = t < both ? step + 2L * t + h : step + 2L * both + (t - both);
                            offsets[at * lanes + l] = (byte)(int.CreateTruncating(columnIndices[i]) - b * window);
                            stored[at * lanes + l] = values[i];
                            cursor[lane] = i + 1;
                        }
                    }
                }
                step += nA + nB;
            }
        }
        return new SlicedCsr(rows, columns, lanes, window, laneRows, pairStarts, steps, offsets, stored);
    }

    private static void Reset(Span<int> cursor, ReadOnlySpan<int> rows, ReadOnlySpan<int> rowPointers)
    {
        for (int l = 0; l < rows.Length; l++) cursor[l] = rows[l] < 0 ? 0 : rowPointers[rows[l]];
    }

    /// <summary><c>y = W·x</c> (batch 1) on up to <paramref name="threads"/> threads (whole slice pairs per thread); the operands are validated by the caller.</summary>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int threads) => SlicedCsrKernels.Multiply(this, x, y, threads, SlicedCsrKernels.Path.Auto);

    /// <inheritdoc/>
    public override string ToString() => $"SlicedCsr {Rows}×{Columns}, {Lanes} lanes × {Window} columns, {StepLanes} step lanes";
}
