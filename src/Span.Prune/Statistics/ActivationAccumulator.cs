using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Streams per-channel activation statistics over batches: the Average Percentage of Zeros (APoZ, Hu et al.
/// 2016, "Network Trimming"), the mean activation, and the norm <c>‖X_c‖₂</c> that Wanda (Sun et al. 2023) weighs
/// the next layer's weights by. A channel whose output is almost always zero contributes little, so
/// <c>1 − APoZ</c> is its importance score; fed a layer's inputs <c>[tokens, features]</c>, <see cref="CopyNormsTo"/>
/// gives the input norms of <see cref="Scoring.Wanda"/>.
/// </summary>
/// <remarks>
/// <para><b>What counts as zero.</b> One rule: an activation <c>a</c> is counted as zero when
/// <c>a ≤ zeroThreshold</c> (default 0). With the default, post-ReLU activations count exactly their zeros, and
/// pre-ReLU values (a hook placed before the ReLU) give the same counts, because every <c>a ≤ 0</c> is a zero
/// after the ReLU; negative outputs of leaky or smooth activations (LeakyReLU, GELU, SiLU) count as "not
/// activated" too, which is the intent of APoZ. A positive threshold also treats small activations as zero.
/// −0.0 counts as zero (it compares equal to 0).</para>
/// <para><b>Outputs.</b> Per channel <c>c</c>, with <c>T</c> = <see cref="ValuesPerChannel"/> (every value of
/// channel c over all batches and spatial positions) and <c>Z_c</c> the exact zero count (a <see cref="long"/>):
/// APoZ <c>= Z_c / T</c>, importance <c>= (T − Z_c) / T</c>, mean <c>= (Σ a) / T</c>, norm <c>= √Σ a²</c>; each is
/// formed in double and rounded once to float. The squares are <c>(double)a·(double)a</c>, exact, and each channel's
/// running sum is extended value by value across batches, so the norms over <see cref="AddNC"/> (or
/// <see cref="AddNHWC"/>) batches equal <see cref="Scoring.InputNorms"/> of the concatenated rows bit for bit.</para>
/// <para><b>Layouts.</b> <see cref="AddNCHW"/> reduces each channel's contiguous <c>H·W</c> plane; <see cref="AddNHWC"/>
/// and <see cref="AddNC"/> vectorise across channels. Zero counts are exact integers in every layout. Sums are
/// double: each float is exact in double, and the per-batch sum of <c>n</c> values is within <c>n·2⁻⁵³·Σ|a|</c>
/// of exact. The NCHW plane sum uses a fixed order (16 interleaved lanes, then a fixed pairwise tree) that every
/// vector width reproduces, and NHWC sums each channel in position order, so results are bit-identical across
/// 512/256/128-bit and scalar paths; the same tensor fed as NCHW or as NHWC may differ in the last bit of the mean.</para>
/// <para><b>NaN policy.</b> A NaN or ±Inf activation throws <see cref="ArgumentException"/> naming
/// <c>activations</c>, and the accumulator is unchanged: each batch is reduced into scratch owned by the
/// accumulator and committed only when it is clean. The check is fused into the reduction (a non-finite input
/// is the only way a double sum of floats can become non-finite), so valid batches pay no extra pass.</para>
/// <para>Memory: 44 bytes per channel (state and per-batch scratch), allocated once in the constructor. Not thread-safe.</para>
/// </remarks>
public sealed partial class ActivationAccumulator
{
    private readonly long[] _zeros;
    private readonly double[] _sums;
    private readonly double[] _squares;

    // Per-batch scratch: a batch is reduced here and added to the state above only if it is finite (the squares'
    // scratch holds the running sums themselves, copied back on commit).
    private readonly int[] _batchZeros;
    private readonly double[] _batchSums;
    private readonly double[] _batchSquares;

    private readonly float _zeroThreshold;
    private long _valuesPerChannel;
    private int _count;

    /// <summary>Creates an accumulator for <paramref name="channels"/> channels.</summary>
    /// <param name="channels">Number of channels (C).</param>
    /// <param name="zeroThreshold">An activation <c>a</c> counts as zero when <c>a ≤ zeroThreshold</c>; default 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is not positive, or
    /// <paramref name="zeroThreshold"/> is NaN or infinite.</exception>
    public ActivationAccumulator(int channels, float zeroThreshold = 0f)
    {
        if (channels <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(channels), "Channels must be positive.");
        if (!float.IsFinite(zeroThreshold)) ThrowHelper.ThrowArgumentOutOfRange(nameof(zeroThreshold), "The zero threshold must be finite.");
        _zeros = new long[channels];
        _sums = new double[channels];
        _squares = new double[channels];
        _batchZeros = new int[channels];
        _batchSums = new double[channels];
        _batchSquares = new double[channels];
        _zeroThreshold = zeroThreshold;
    }

    /// <summary>Number of channels.</summary>
    public int Channels => _zeros.Length;

    /// <summary>An activation <c>a</c> counts as zero when <c>a ≤ ZeroThreshold</c>.</summary>
    public float ZeroThreshold => _zeroThreshold;

    /// <summary>Number of batches added since construction or the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Values seen per channel: the sum over added batches of <c>N·H·W</c> (<c>N</c> for <see cref="AddNC"/>).</summary>
    public long ValuesPerChannel => _valuesPerChannel;

    /// <summary>Adds a batch of fully-connected activations laid out <c>[N, C]</c> (row-major).</summary>
    /// <param name="activations"><c>batch·Channels</c> values.</param>
    /// <param name="batch">N, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The length is not <c>batch·Channels</c>, or a value is NaN or infinite
    /// (nothing is added).</exception>
    /// <exception cref="InvalidOperationException"><see cref="int.MaxValue"/> batches were already added.</exception>
    public void AddNC(ReadOnlySpan<float> activations, int batch)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must be positive.");
        long expected = (long)batch * Channels;
        if (activations.Length != expected) ThrowHelper.ThrowActivationShapeMismatch(nameof(activations), activations.Length, expected, $"NC [{batch}, {Channels}]");
        if (_count == int.MaxValue) ThrowHelper.ThrowTooManyBatches();

        ClearScratch();
        AccumulateRows(activations, Channels, _zeroThreshold, _batchZeros, _batchSums, _batchSquares);
        Commit(activations, batch);
    }

    /// <summary>Adds a batch of convolution activations laid out <c>[N, C, H, W]</c> (row-major, PyTorch's default).</summary>
    /// <param name="activations"><c>batch·Channels·height·width</c> values.</param>
    /// <param name="batch">N, positive.</param>
    /// <param name="height">H, positive.</param>
    /// <param name="width">W, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">The length is not <c>batch·Channels·height·width</c>, or a value is NaN or
    /// infinite (nothing is added).</exception>
    /// <exception cref="InvalidOperationException"><see cref="int.MaxValue"/> batches were already added.</exception>
    public void AddNCHW(ReadOnlySpan<float> activations, int batch, int height, int width)
    {
        ValidateSpatial(activations.Length, batch, height, width, channelsLast: false);
        ClearScratch();
        AccumulatePlanes(activations, batch, Channels, height * width, _zeroThreshold, _batchZeros, _batchSums, _batchSquares);
        Commit(activations, (long)batch * height * width);
    }

    /// <summary>Adds a batch of convolution activations laid out <c>[N, H, W, C]</c> (channels last).</summary>
    /// <param name="activations"><c>batch·height·width·Channels</c> values.</param>
    /// <param name="batch">N, positive.</param>
    /// <param name="height">H, positive.</param>
    /// <param name="width">W, positive.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive.</exception>
    /// <exception cref="ArgumentException">The length is not <c>batch·height·width·Channels</c>, or a value is NaN
    /// or infinite (nothing is added).</exception>
    /// <exception cref="InvalidOperationException"><see cref="int.MaxValue"/> batches were already added.</exception>
    public void AddNHWC(ReadOnlySpan<float> activations, int batch, int height, int width)
    {
        ValidateSpatial(activations.Length, batch, height, width, channelsLast: true);
        ClearScratch();
        AccumulateRows(activations, Channels, _zeroThreshold, _batchZeros, _batchSums, _batchSquares);
        Commit(activations, (long)batch * height * width);
    }

    /// <summary>Writes APoZ per channel: <c>Z_c / ValuesPerChannel</c>, the fraction of values counted as zero.</summary>
    /// <param name="destination">At least <see cref="Channels"/> elements; only the first <see cref="Channels"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Channels"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    public void CopyApozTo(Span<float> destination)
    {
        ValidateCopy(destination.Length, nameof(destination));
        double total = _valuesPerChannel;
        for (int c = 0; c < _zeros.Length; c++) destination[c] = (float)(_zeros[c] / total);
    }

    /// <summary>Writes the APoZ importance score per channel: <c>1 − APoZ = (T − Z_c) / T</c>. Higher = more often
    /// active = more important; prune the lowest.</summary>
    /// <param name="destination">At least <see cref="Channels"/> elements; only the first <see cref="Channels"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Channels"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    /// <remarks>Formed from the exact non-zero count, not as <c>1 − (float)APoZ</c>, so it is correctly rounded.</remarks>
    public void CopyImportanceTo(Span<float> destination)
    {
        ValidateCopy(destination.Length, nameof(destination));
        double total = _valuesPerChannel;
        for (int c = 0; c < _zeros.Length; c++) destination[c] = (float)((_valuesPerChannel - _zeros[c]) / total);
    }

    /// <summary>Writes the mean activation per channel, <c>(Σ a) / ValuesPerChannel</c> (all values, including those
    /// counted as zero).</summary>
    /// <param name="destination">At least <see cref="Channels"/> elements; only the first <see cref="Channels"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Channels"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    public void CopyMeanTo(Span<float> destination)
    {
        ValidateCopy(destination.Length, nameof(destination));
        double total = _valuesPerChannel;
        for (int c = 0; c < _sums.Length; c++) destination[c] = (float)(_sums[c] / total);
    }

    /// <summary>Writes the norm per channel, <c>‖X_c‖₂ = √Σ a²</c> over every value added (Wanda's input norm when the
    /// activations are a layer's inputs).</summary>
    /// <param name="destination">At least <see cref="Channels"/> elements; only the first <see cref="Channels"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Channels"/>.</exception>
    /// <exception cref="InvalidOperationException">No batch has been added.</exception>
    public void CopyNormsTo(Span<float> destination)
    {
        ValidateCopy(destination.Length, nameof(destination));
        for (int c = 0; c < _squares.Length; c++) destination[c] = (float)Math.Sqrt(_squares[c]);
    }

    /// <summary>Writes the exact number of values counted as zero per channel.</summary>
    /// <param name="destination">At least <see cref="Channels"/> elements; only the first <see cref="Channels"/> are written.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Channels"/>.</exception>
    /// <remarks>All zeros (not an error) when no batch has been added.</remarks>
    public void CopyZeroCountsTo(Span<long> destination)
    {
        if (destination.Length < _zeros.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, _zeros.Length);
        _zeros.CopyTo(destination);
    }

    /// <summary>Forgets all batches. Does not allocate.</summary>
    public void Reset()
    {
        Array.Clear(_zeros);
        Array.Clear(_sums);
        Array.Clear(_squares);
        _valuesPerChannel = 0;
        _count = 0;
    }

    private void ValidateSpatial(int length, int batch, int height, int width, bool channelsLast)
    {
        if (batch <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must be positive.");
        if (height <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(height), "Height must be positive.");
        if (width <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(width), "Width must be positive.");
        // In Int128: four positive ints multiply to less than 2¹²⁴, so the product is exact and cannot wrap
        // around to a matching span length.
        Int128 expected = (Int128)batch * Channels * height * width;
        if (length != expected)
        {
            ThrowHelper.ThrowActivationShapeMismatch("activations", length, expected, channelsLast
                ? $"NHWC [{batch}, {height}, {width}, {Channels}]"
                : $"NCHW [{batch}, {Channels}, {height}, {width}]");
        }
        if (_count == int.MaxValue) ThrowHelper.ThrowTooManyBatches();
    }

    private void ValidateCopy(int destinationLength, string paramName)
    {
        if (destinationLength < _zeros.Length) ThrowHelper.ThrowDestinationTooShort(paramName, destinationLength, _zeros.Length);
        if (_count == 0) ThrowHelper.ThrowNoBatches();
    }

    private void ClearScratch()
    {
        Array.Clear(_batchZeros);
        Array.Clear(_batchSums);
        // The squares' scratch starts from the state, so that the kernels extend each channel's running sum in value
        // order (the norms then match Scoring.InputNorms over all rows bit for bit) and the commit is a copy.
        _squares.CopyTo(_batchSquares);
    }

    /// <summary>Adds the scratch to the state, or throws (state untouched) if the batch held a NaN or ±Inf.</summary>
    private void Commit(ReadOnlySpan<float> activations, long valuesPerChannel)
    {
        // A double sum of at most 2³¹ finite floats is bounded by 2³¹·3.4e38 < 1.8e308, so a non-finite channel
        // sum proves a non-finite input; then the (rare) scan finds its index for the message.
        double[] batchSums = _batchSums;
        for (int c = 0; c < batchSums.Length; c++)
        {
            if (!double.IsFinite(batchSums[c]))
                ThrowHelper.ThrowNotFinite(nameof(activations), FiniteScan.IndexOfNonFinite(activations));
        }

        // The running squares stay finite: at most 2³¹ batches of 2³¹ values, each square at most 1.2e77 (< 1e96 in all).
        long[] zeros = _zeros;
        double[] sums = _sums;
        int[] batchZeros = _batchZeros;
        for (int c = 0; c < zeros.Length; c++)
        {
            zeros[c] += batchZeros[c];
            sums[c] += batchSums[c];
        }
        _batchSquares.CopyTo(_squares);
        _valuesPerChannel += valuesPerChannel;
        _count++;
    }
}
