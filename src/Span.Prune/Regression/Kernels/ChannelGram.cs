using System.Runtime.InteropServices;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// The channel-level normal equations of He et al. (2017): the Gram matrix <c>G_ab = ⟨Z_a, Z_b⟩_F</c> and the
/// response <c>r_c = ⟨Z_c, Y⟩_F</c> of the channel contributions <c>Z_c = X_c·W_cᵀ</c>, computed without ever forming a
/// <c>Z_c</c>.
/// </summary>
/// <remarks>
/// <para><b>Route.</b> With <c>M = XᵀX</c> and <c>P = WᵀW</c> (both <c>D×D</c>, <c>D = C·K</c>),
/// <c>⟨Z_a, Z_b⟩ = trace(W_a X_aᵀ X_b W_bᵀ) = Σ_{i∈a, j∈b} M_ij·P_ij</c>, and
/// <c>r_c = Σ_{k∈c} Σ_o (XᵀY)_ko·W_ok</c>. This costs <c>N·D²/2 + O·D²/2 + N·D·O</c> multiply-adds and
/// <c>D·N + O·N + D·O</c> floats of scratch (transposed copies of X, Y, W). Materialising every <c>Z_c</c> would cost
/// <c>N·O·C</c> floats of memory and <c>N·O·C²/2</c> multiply-adds for G — for N = 4096, C = O = 256, K = 1 that is
/// 1 GiB and 34 G multiply-adds, against 8.25 MiB and 0.41 G here — so Z is never formed. M and P are not stored
/// either: each tile of M is multiplied into G as soon as its chunks are summed.</para>
/// </remarks>
internal static class ChannelGram
{
    /// <summary>Doubles of scratch <see cref="Compute"/> needs.</summary>
    public static long ScratchLength(int samples, int columns, int outputs) =>
        FloatsAsDoubles((long)columns * samples) + FloatsAsDoubles((long)outputs * samples)
        + FloatsAsDoubles((long)columns * outputs) + CrossProducts.TileScratchLength;

    /// <summary>Doubles that hold <paramref name="floats"/> floats.</summary>
    public static long FloatsAsDoubles(long floats) => (floats + 1) / 2;

    /// <summary>
    /// Writes G (<c>C×C</c>, full symmetric, row-major) and r (<c>C</c>), and returns <c>‖Y‖_F²</c>.
    /// Inputs are already validated.
    /// </summary>
    public static double Compute(
        ReadOnlySpan<float> inputs, ReadOnlySpan<float> weights, ReadOnlySpan<float> targets,
        int samples, int channels, int channelSize, int outputs,
        Span<double> gram, Span<double> response, Span<double> scratch)
    {
        int columns = channels * channelSize;
        int xtLength = columns * samples, ytLength = outputs * samples, wtLength = columns * outputs;
        int offset = 0;
        Span<float> xt = TakeFloats(scratch, ref offset, xtLength);
        Span<float> yt = TakeFloats(scratch, ref offset, ytLength);
        Span<float> wt = TakeFloats(scratch, ref offset, wtLength);
        Span<double> tile = scratch.Slice(offset, CrossProducts.TileScratchLength);

        CrossProducts.TransposeKeptChannels(inputs, samples, columns, 1, default, xt);
        CrossProducts.TransposeKeptChannels(targets, samples, outputs, 1, default, yt);
        CrossProducts.TransposeKeptChannels(weights, outputs, columns, 1, default, wt);

        gram.Slice(0, channels * channels).Clear();
        var gramSink = new GramSink(gram, wt, channels, channelSize, outputs);
        CrossProducts.Accumulate(xt, columns, xt, columns, samples, upperTriangle: true, tile, ref gramSink);
        for (int a = 0; a < channels; a++)
        {
            for (int b = a + 1; b < channels; b++) gram[b * channels + a] = gram[a * channels + b];
        }

        response.Slice(0, channels).Clear();
        var responseSink = new ResponseSink(response, wt, channelSize, outputs);
        CrossProducts.Accumulate(xt, columns, yt, outputs, samples, upperTriangle: false, tile, ref responseSink);

        return CrossProducts.SumOfSquares(targets);
    }

    /// <summary>A float view of the next <paramref name="floats"/> floats of a double scratch buffer.</summary>
    public static Span<float> TakeFloats(Span<double> scratch, ref int offset, int floats)
    {
        int doubles = (int)FloatsAsDoubles(floats);
        Span<float> view = MemoryMarshal.Cast<double, float>(scratch.Slice(offset, doubles)).Slice(0, floats);
        offset += doubles;
        return view;
    }

    /// <summary>G[c(i), c(j)] += M_ij·P_ij for the upper triangle of M (j ≥ i).</summary>
    private ref struct GramSink : ICrossProductSink
    {
        private readonly Span<double> _gram;
        private readonly ReadOnlySpan<float> _wt;
        private readonly int _channels, _channelSize, _outputs;

        public GramSink(Span<double> gram, ReadOnlySpan<float> wt, int channels, int channelSize, int outputs)
        {
            _gram = gram;
            _wt = wt;
            _channels = channels;
            _channelSize = channelSize;
            _outputs = outputs;
        }

        public readonly void Add(int i, int j, double m)
        {
            double p = CrossProducts.Dot(_wt.Slice(i * _outputs, _outputs), _wt.Slice(j * _outputs, _outputs));
            int ci = i / _channelSize, cj = j / _channelSize;
            // Only j ≥ i is visited, so ci ≤ cj. Inside one channel block the pair (j, i) is the mirror of (i, j)
            // and is not visited, so it is counted here; across blocks the mirror belongs to G[cj, ci].
            double factor = i != j && ci == cj ? 2.0 : 1.0;
            _gram[ci * _channels + cj] += factor * m * p;
        }
    }

    /// <summary>r[c(k)] += (XᵀY)_ko·W_ok.</summary>
    private ref struct ResponseSink : ICrossProductSink
    {
        private readonly Span<double> _response;
        private readonly ReadOnlySpan<float> _wt;
        private readonly int _channelSize, _outputs;

        public ResponseSink(Span<double> response, ReadOnlySpan<float> wt, int channelSize, int outputs)
        {
            _response = response;
            _wt = wt;
            _channelSize = channelSize;
            _outputs = outputs;
        }

        public readonly void Add(int k, int o, double q) => _response[k / _channelSize] += q * _wt[k * _outputs + o];
    }
}
