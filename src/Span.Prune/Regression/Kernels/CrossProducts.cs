using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Span.Prune.RegressionKernels;

/// <summary>Receives one finished cross product <c>s(i, j) = Σ_n a[i, n]·b[j, n]</c>.</summary>
internal interface ICrossProductSink
{
    /// <summary>Called exactly once per computed pair, after all sample chunks are summed.</summary>
    void Add(int i, int j, double value);
}

/// <summary>
/// The O(N·D²) products that dominate channel regression (<c>XᵀX</c>, <c>XᵀY</c>, <c>WᵀW</c>), computed from
/// transposed ("column as row") copies so that every product is a contiguous dot product.
/// </summary>
/// <remarks>
/// <para><b>Precision.</b> Each dot is split into chunks of <see cref="Chunk"/> samples; a chunk is summed in float
/// over vector lanes (each lane adds at most Chunk/width products) by the 4×2 register-blocked
/// <see cref="DotKernel4x2"/> (or <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> for edge
/// rows) and the chunk sums are added in double. The rounding error is then that of a
/// Chunk-term float sum, at most a few 1e-6 relative (typically 1e-7), independent of N — enough for the Cholesky refit to agree with a double
/// reference to ~1e-5 on well-conditioned data, at float SIMD throughput.</para>
/// <para><b>Cache.</b> Pairs are processed in <see cref="Tile"/>×<see cref="Tile"/> tiles with the chunk loop inside,
/// so a tile touches 2·Tile·Chunk floats (128 KiB, L2) per chunk and the tile's double accumulators (8 KiB) stay in L1/L2.</para>
/// </remarks>
internal static class CrossProducts
{
    /// <summary>Samples per float partial dot before the double accumulation (amortises the 8 lane reductions of a 4×2 block).</summary>
    public const int Chunk = 512;

    /// <summary>Rows per side of a tile of pairs.</summary>
    public const int Tile = 32;

    /// <summary>Doubles of scratch <see cref="Accumulate"/> needs.</summary>
    public const int TileScratchLength = Tile * Tile;

    private const int RowBlock = 64;

    /// <summary>
    /// Writes the kept columns of the row-major <c>[rows, channels·channelSize]</c> <paramref name="source"/> as the rows of
    /// <paramref name="destination"/> (<c>[keptColumns, rows]</c>), channel-major. An empty mask keeps every channel.
    /// </summary>
    public static void TransposeKeptChannels(
        ReadOnlySpan<float> source, int rows, int channels, int channelSize, ReadOnlySpan<byte> keepMask, Span<float> destination)
    {
        int cols = channels * channelSize;
        int kept = 0;
        for (int c = 0; c < channels; c++) kept += keepMask.IsEmpty || keepMask[c] != 0 ? 1 : 0;
        // Bounds are checked once; the gather loop below is unchecked.
        source = source.Slice(0, rows * cols);
        destination = destination.Slice(0, kept * channelSize * rows);
        ref float src = ref MemoryMarshal.GetReference(source);
        ref float dst = ref MemoryMarshal.GetReference(destination);
        // Blocks of rows keep the source lines being gathered (RowBlock lines, reused for every column) in L1, and
        // each column writes RowBlock consecutive destination floats.
        for (int r0 = 0; r0 < rows; r0 += RowBlock)
        {
            int r1 = Math.Min(rows, r0 + RowBlock);
            nint destRow = 0;
            for (int c = 0; c < channels; c++)
            {
                if (!keepMask.IsEmpty && keepMask[c] == 0) continue;
                for (int k = 0; k < channelSize; k++, destRow++)
                {
                    ref float s = ref Unsafe.Add(ref src, (nint)r0 * cols + c * channelSize + k);
                    ref float d = ref Unsafe.Add(ref dst, destRow * rows + r0);
                    for (int r = 0; r < r1 - r0; r++) Unsafe.Add(ref d, r) = Unsafe.Add(ref s, (nint)r * cols);
                }
            }
        }
    }

    /// <summary>
    /// For every <c>i &lt; aRows</c>, <c>j &lt; bRows</c> (only <c>j ≥ i</c> when <paramref name="upperTriangle"/>, which requires
    /// <paramref name="a"/> and <paramref name="b"/> to be the same matrix) hands <c>Σ_n a[i, n]·b[j, n]</c> to the sink.
    /// <paramref name="a"/> is <c>[aRows, length]</c> and <paramref name="b"/> is <c>[bRows, length]</c>, both row-major.
    /// </summary>
    public static void Accumulate<TSink>(
        scoped ReadOnlySpan<float> a, int aRows, scoped ReadOnlySpan<float> b, int bRows, int length, bool upperTriangle,
        scoped Span<double> tile, ref TSink sink)
        where TSink : ICrossProductSink, allows ref struct
    {
        for (int i0 = 0; i0 < aRows; i0 += Tile)
        {
            int i1 = Math.Min(aRows, i0 + Tile);
            for (int j0 = upperTriangle ? i0 : 0; j0 < bRows; j0 += Tile)
            {
                int j1 = Math.Min(bRows, j0 + Tile);
                tile.Slice(0, TileScratchLength).Clear();
                for (int n0 = 0; n0 < length; n0 += Chunk)
                {
                    int len = Math.Min(Chunk, length - n0);
                    int i = i0;
                    // 4×2 register blocks; in the upper-triangle case a block starting at column i also covers a few
                    // pairs below the diagonal, which are computed and ignored (the sink reads only j ≥ i).
                    for (; i + 4 <= i1; i += 4)
                    {
                        ReadOnlySpan<float> ai = a.Slice(i * length + n0);
                        int j = upperTriangle ? Math.Max(i, j0) : j0;
                        for (; j + 2 <= j1; j += 2)
                            DotKernel4x2.Accumulate(ai, length, b.Slice(j * length + n0), length, len, tile.Slice((i - i0) * Tile + (j - j0)), Tile);
                        for (; j < j1; j++)
                        {
                            ReadOnlySpan<float> bj = b.Slice(j * length + n0, len);
                            for (int r = 0; r < 4; r++)
                                tile[(i + r - i0) * Tile + (j - j0)] += TensorPrimitives.Dot(a.Slice((i + r) * length + n0, len), bj);
                        }
                    }
                    for (; i < i1; i++)
                    {
                        ReadOnlySpan<float> ai = a.Slice(i * length + n0, len);
                        Span<double> acc = tile.Slice((i - i0) * Tile, Tile);
                        for (int j = upperTriangle ? Math.Max(i, j0) : j0; j < j1; j++)
                            acc[j - j0] += TensorPrimitives.Dot(ai, b.Slice(j * length + n0, len));
                    }
                }
                for (int i = i0; i < i1; i++)
                {
                    for (int j = upperTriangle ? Math.Max(i, j0) : j0; j < j1; j++)
                        sink.Add(i, j, tile[(i - i0) * Tile + (j - j0)]);
                }
            }
        }
    }

    /// <summary><c>Σ a[n]·b[n]</c> with float chunks of <see cref="Chunk"/> added in double.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int n0 = 0; n0 < a.Length; n0 += Chunk)
        {
            int len = Math.Min(Chunk, a.Length - n0);
            sum += TensorPrimitives.Dot(a.Slice(n0, len), b.Slice(n0, len));
        }
        return sum;
    }

    /// <summary><c>Σ x[n]²</c> with float chunks added in double.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x) => Dot(x, x);
}

/// <summary>Stores cross products into a dense row-major matrix, mirroring when the product is symmetric.</summary>
internal ref struct MatrixSink : ICrossProductSink
{
    private readonly Span<double> _matrix;
    private readonly int _columns;
    private readonly bool _mirror;

    public MatrixSink(Span<double> matrix, int columns, bool mirror)
    {
        _matrix = matrix;
        _columns = columns;
        _mirror = mirror;
    }

    public readonly void Add(int i, int j, double value)
    {
        _matrix[i * _columns + j] = value;
        if (_mirror) _matrix[j * _columns + i] = value;
    }
}

/// <summary>
/// Sums <c>(Y[n, o] − s(n, o))²</c> in double, where <c>s(n, o) = x_n·w_o</c> is a prediction: the squared Frobenius
/// residual of a layer without forming the <c>N×O</c> prediction matrix.
/// </summary>
internal ref struct ResidualSink : ICrossProductSink
{
    private readonly ReadOnlySpan<float> _targets;
    private readonly int _outputs;

    public ResidualSink(ReadOnlySpan<float> targets, int outputs)
    {
        _targets = targets;
        _outputs = outputs;
        Sum = 0;
    }

    /// <summary>The accumulated <c>Σ (y − s)²</c>.</summary>
    public double Sum { get; private set; }

    public void Add(int n, int o, double prediction)
    {
        double e = _targets[n * _outputs + o] - prediction;
        Sum += e * e;
    }
}
