using System.Runtime.CompilerServices;
using Span.Prune.Lab.Data;
using Span.Prune.Sparse;
using Span.Prune.Lab.Training;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Lab.Demo.Statistics;

/// <summary>
/// Statistics of a trained network from real passes over calibration images, with the core library's accumulators:
/// gradients (mean, Fisher, Taylor), input norms (Wanda), activation statistics (APoZ, mean) and regression samples,
/// per prunable layer (<see cref="LayerStatistics"/>).
/// </summary>
/// <remarks>
/// <para><b>Data.</b> The first <see cref="Images"/> images of the set in file order, in consecutive batches of
/// <see cref="Batch"/> (the last one partial). No shuffling.</para>
/// <para><b>Mode.</b> Every batch runs a training-mode forward pass (BatchNorm on batch statistics, as in a training
/// step), the mean softmax cross-entropy and a backward pass: the gradients are those of the training loss, the same
/// quantity an optimiser step sees. The activations of that same pass feed the input norms, APoZ and regression samples.
/// The MLP has no BatchNorm, so for it the mode makes no difference.</para>
/// <para><b>The network is not changed.</b> A training-mode pass moves BatchNorm's running statistics and counters and
/// overwrites the gradients; <see cref="Collect"/> saves the buffers, the counters and the gradients first and restores
/// them afterwards (tested bit for bit). Parameters are only read.</para>
/// <para><b>Regression samples.</b> A linear layer contributes one row per image (its whole input). A convolution
/// contributes <see cref="PositionsPerImage"/> rows per image: im2col columns at output positions drawn without
/// replacement per image (the first <see cref="PositionsPerImage"/> entries of a Fisher–Yates shuffle of
/// <c>0…Ho·Wo−1</c>), from one <see cref="SeededRandom"/> stream per layer seeded with <see cref="SampleSeed"/>, so the
/// same seed gives the same rows.</para>
/// </remarks>
public sealed class NetworkStatistics
{
    /// <summary>Regression rows per image for a convolution (positions sampled per image).</summary>
    public const int PositionsPerImage = 8;

    /// <summary>Seed of the position sampling for convolutions.</summary>
    public const ulong SampleSeed = 0x5A3D_17C2_0000_0001;

    private static readonly ConditionalWeakTable<ReferenceNetwork, NetworkStatistics> s_cache = new();

    private readonly LayerStatistics[] _layers;

    private NetworkStatistics(LayerStatistics[] layers, int images, int batch)
    {
        _layers = layers;
        Images = images;
        Batch = batch;
    }

    /// <summary>Per layer, in <see cref="ReferenceNetwork.Layers"/> order.</summary>
    public IReadOnlyList<LayerStatistics> Layers => _layers;

    /// <summary>Images the statistics were collected over.</summary>
    public int Images { get; }

    /// <summary>Images per batch (the gradient statistics are means over batches).</summary>
    public int Batch { get; }

    /// <summary>The statistics of the layer named <paramref name="name"/> (e.g. <c>fc2</c>).</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    public LayerStatistics this[string name] => _layers.FirstOrDefault(l => l.Name == name) ?? throw new KeyNotFoundException($"No layer is named '{name}'.");

    /// <summary>
    /// The demo's statistics of a trained network: <see cref="Collect"/> over the first 1,024 images of the run's training
    /// set (fewer if the set is smaller) in batches of 32, collected on first use and cached per network instance (the
    /// experiments prune copies and read the dense network's statistics).
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="network">A trained network that is not modified afterwards (e.g. <see cref="DemoContext.Dense"/>).</param>
    /// <returns>The statistics.</returns>
    public static NetworkStatistics Cached(DemoContext context, ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(network);
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(network, out NetworkStatistics? statistics))
            {
                statistics = Collect(network, context.Train, Math.Min(1024, context.Train.Count), 32);
                s_cache.Add(network, statistics);
            }
            return statistics;
        }
    }

    /// <summary>Collects the statistics of <paramref name="network"/> over the first <paramref name="images"/> images of <paramref name="data"/>.</summary>
    /// <param name="network">A trained network; left unchanged (see remarks).</param>
    /// <param name="data">Calibration images (the training set).</param>
    /// <param name="images">Images, from the first in file order (at most the set's count).</param>
    /// <param name="batch">Images per batch, at most <see cref="ReferenceNetwork.MaxBatch"/> (and ≥ 2 for a network with BatchNorm).</param>
    /// <returns>The statistics.</returns>
    public static NetworkStatistics Collect(ReferenceNetwork network, ImageSet data, int images = 1024, int batch = 32)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(images);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(images, data.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, network.MaxBatch);

        float[] savedBuffers = network.Buffers.ToArray(), savedGradients = network.Gradients.ToArray();
        long[] savedCounters = network is CnnNetwork c0 ? [c0.BatchNorm(0).BatchesTracked, c0.BatchNorm(1).BatchesTracked] : [];
        try
        {
            return CollectCore(network, data, images, batch);
        }
        finally
        {
            savedBuffers.CopyTo(network.Buffers.Span);
            savedGradients.CopyTo(network.Gradients.Span);
            if (network is CnnNetwork c1)
            {
                c1.BatchNorm(0).BatchesTracked = savedCounters[0];
                c1.BatchNorm(1).BatchesTracked = savedCounters[1];
            }
        }
    }

    private static NetworkStatistics CollectCore(ReferenceNetwork network, ImageSet data, int images, int batch)
    {
        IReadOnlyList<PrunableLayer> layers = network.Layers;
        int n = layers.Count;
        var result = new LayerStatistics[n];
        var collectors = new LayerCollector[n];
        for (int i = 0; i < n; i++)
        {
            PrunableLayer layer = layers[i];
            Conv2d? conv = network is CnnNetwork cnn && layer.IsConvolution ? cnn.Convolution(i) : null;
            int samples = conv is null ? images : images * PositionsPerImage;
            result[i] = new LayerStatistics(i, layer.Name, layer.Shape, layer.Weight.Name, samples);
            collectors[i] = new LayerCollector(layer, conv, result[i], last: i == n - 1);
        }

        ReadOnlySpan<byte> pixels = data.Pixels.Span, labels = data.Labels.Span;
        int size = ReferenceNetwork.InputSize;
        for (int start = 0; start < images; start += batch)
        {
            int b = Math.Min(batch, images - start);
            network.Forward(pixels.Slice(start * size, b * size), b, training: true);
            network.ComputeLoss(labels.Slice(start, b));
            network.Backward();
            for (int i = 0; i < n; i++) collectors[i].Add(network, b);
        }
        for (int i = 0; i < n; i++) collectors[i].Finish(result[i]);
        return new NetworkStatistics(result, images, batch);
    }

    /// <summary>The accumulators of one layer over the batches.</summary>
    private sealed class LayerCollector
    {
        private readonly PrunableLayer _layer;
        private readonly Conv2d? _conv;
        private readonly float[] _ones, _tokens, _columns, _inputs;
        private readonly TaylorAccumulator _gradient, _taylor;
        private readonly FisherAccumulator _fisher;
        private readonly ActivationAccumulator _norms;   // the layer inputs' norms (Wanda)
        private readonly ActivationAccumulator? _activation;
        private readonly SeededRandom _positions = new(SampleSeed);
        private readonly int[] _order;
        private int _sample;

        public LayerCollector(PrunableLayer layer, Conv2d? conv, LayerStatistics target, bool last)
        {
            _layer = layer;
            _conv = conv;
            WeightShape shape = layer.Shape;
            int length = shape.ElementCount;
            _ones = new float[length];
            _ones.AsSpan().Fill(1f);
            _gradient = new TaylorAccumulator(length);   // Σ 1·g: the mean gradient, exactly (1·g is exact)
            _taylor = new TaylorAccumulator(length);
            _fisher = new FisherAccumulator(length);
            _norms = new ActivationAccumulator(shape.RowLength);
            if (!last) _activation = new ActivationAccumulator(shape.Out);
            int plane = conv is null ? 1 : conv.OutputHeight * conv.OutputWidth;
            _order = new int[plane];
            _columns = new float[shape.RowLength * plane];
            _tokens = new float[shape.RowLength * Math.Max(plane, 1) * (conv is null ? 64 : 1)];
            _inputs = target.Inputs;
        }

        public void Add(ReferenceNetwork network, int batch)
        {
            ReadOnlySpan<float> w = _layer.Weight.Values.Span, g = _layer.Weight.Gradient.Span;
            _gradient.Add(_ones, g);
            _taylor.Add(w, g);
            _fisher.Add(g);
            int d = _layer.Shape.RowLength;

            ActivationView input = network.LayerInput(_layer.Index);
            if (_conv is null)
            {
                // [features × batch] → [batch × features]: one token per image, and one regression row per image.
                Span<float> tokens = batch * d <= _tokens.Length ? _tokens.AsSpan(0, batch * d) : new float[batch * d];
                Transpose(input.Values, d, batch, tokens);
                _norms.AddNC(tokens, batch);
                tokens.CopyTo(_inputs.AsSpan(_sample * d));
                _sample += batch;
            }
            else
            {
                int plane = _conv.OutputHeight * _conv.OutputWidth;
                Span<float> columns = _columns.AsSpan(0, d * plane), tokens = _tokens.AsSpan(0, d * plane);
                for (int image = 0; image < batch; image++)
                {
                    _conv.LowerInput(input.Values, batch, image, 1, columns);   // [d × plane]
                    Transpose(columns, d, plane, tokens);                       // [plane × d]
                    _norms.AddNC(tokens, plane);
                    for (int p = 0; p < plane; p++) _order[p] = p;
                    PartialShuffle(_order, PositionsPerImage);
                    for (int k = 0; k < PositionsPerImage; k++)
                        tokens.Slice(_order[plane - 1 - k] * d, d).CopyTo(_inputs.AsSpan(_sample++ * d));
                }
            }

            if (_activation is not null)
            {
                ActivationView output = network.LayerOutput(_layer.Index);
                int units = output.Features, spatial = output.Spatial;
                var nchw = new float[output.Values.Length];
                // [C × B × S] → [B × C × S] (NCHW; S = 1 is [N, C]).
                for (int c = 0; c < units; c++)
                    for (int b = 0; b < batch; b++)
                        output.Values.Slice((c * batch + b) * spatial, spatial).CopyTo(nchw.AsSpan((b * units + c) * spatial, spatial));
                if (spatial == 1) _activation.AddNC(nchw, batch);
                else _activation.AddNCHW(nchw, batch, _conv!.OutputHeight, _conv.OutputWidth);
            }
        }

        /// <summary>Fisher–Yates from the last element down, stopped after <paramref name="count"/> draws: the last
        /// <paramref name="count"/> entries are a uniform sample without replacement.</summary>
        private void PartialShuffle(Span<int> values, int count)
        {
            for (int i = values.Length - 1; i > values.Length - 1 - count && i > 0; i--)
            {
                int j = _positions.NextInt(i + 1);
                (values[i], values[j]) = (values[j], values[i]);
            }
        }

        public void Finish(LayerStatistics target)
        {
            _gradient.CopySignedMeanTo(target.MeanGradient);
            _fisher.CopyMeanTo(target.Fisher);
            _taylor.CopyMeanAbsoluteTo(target.Taylor);
            _norms.CopyNormsTo(target.InputNorms);
            if (_activation is not null)
            {
                target.Apoz = new float[_layer.Units];
                target.MeanActivation = new float[_layer.Units];
                _activation.CopyApozTo(target.Apoz);
                _activation.CopyMeanTo(target.MeanActivation);
            }
            // Y = X·Wᵀ: the core GEMM computes A·B with A = X [N × d] and B = Wᵀ [d × Out].
            WeightShape shape = _layer.Shape;
            int d = shape.RowLength, o = shape.Out;
            var transposed = new float[d * o];
            Transpose(_layer.Weight.Values.Span, o, d, transposed);
            MatMul.Multiply(target.Inputs, target.Samples, d, transposed, target.Targets, o);
        }

        private static void Transpose(ReadOnlySpan<float> source, int rows, int cols, Span<float> destination)
        {
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> row = source.Slice(r * cols, cols);
                for (int c = 0; c < cols; c++) destination[c * rows + r] = row[c];
            }
        }
    }
}
