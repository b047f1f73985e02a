using Span.Prune.Lab.Data;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Tests.Lab.Demo;

/// <summary>
/// <see cref="NetworkStatistics.Collect"/> against a naive computation on tiny networks: per batch a forward and backward
/// pass on an independent copy, then every statistic formed in double by scalar loops (im2col written out for the
/// convolutions), and the network left bit-identical.
/// </summary>
public sealed class NetworkStatisticsTests
{
    private const int Images = 70, Batch = 32;   // batches of 32, 32, 6

    internal static ImageSet Synthetic(int count, int seed)
    {
        var random = new Random(seed);
        byte[] pixels = new byte[count * 784], labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)random.Next(10);
            // A blob whose position depends on the label, plus noise, so that some pixels are always zero.
            for (int p = 0; p < 784; p++)
            {
                int y = p / 28, x = p % 28;
                bool blob = Math.Abs(y - 6 - labels[i]) < 5 && Math.Abs(x - 8 - labels[i]) < 6;
                pixels[i * 784 + p] = (byte)(blob ? 128 + random.Next(128) : (y > 3 && y < 24 && random.Next(4) == 0 ? random.Next(60) : 0));
            }
        }
        return new ImageSet(28, 28, pixels, labels);
    }

    private static ReferenceNetwork Copy(ReferenceNetwork source)
    {
        ReferenceNetwork copy = source is MlpNetwork m ? new MlpNetwork(source.MaxBatch, m.Hidden1, m.Hidden2) : new CnnNetwork(source.MaxBatch, ((CnnNetwork)source).Channels1, ((CnnNetwork)source).Channels2);
        copy.CopyStateFrom(source);
        return copy;
    }

    [Fact]
    public void TinyMlp_MatchesNaive()
    {
        var net = new MlpNetwork(maxBatch: 32, hidden1: 12, hidden2: 8);
        net.Initialize(3);
        Check(net);
    }

    [Fact]
    public void TinyCnn_MatchesNaive_AndLeavesRunningStatisticsAlone()
    {
        var net = new CnnNetwork(maxBatch: 32, channels1: 2, channels2: 3);
        net.Initialize(4);
        net.Tensor("bn1.running_mean").Values.Span.Fill(0.25f);
        net.BatchNorm(1).BatchesTracked = 17;
        Check(net);
        Assert.Equal(17, net.BatchNorm(1).BatchesTracked);
    }

    private static void Check(ReferenceNetwork net)
    {
        ImageSet data = Synthetic(Images + 10, 5);
        float[] parameters = net.Parameters.ToArray(), buffers = net.Buffers.ToArray();
        NetworkStatistics stats = NetworkStatistics.Collect(net, data, Images, Batch);
        Assert.Equal(parameters, net.Parameters.ToArray());
        Assert.Equal(buffers, net.Buffers.ToArray());
        Assert.Equal(Images, stats.Images);
        Assert.Equal(net.Layers.Count, stats.Layers.Count);

        int layers = net.Layers.Count;
        var grad = new double[layers][]; var fisher = new double[layers][]; var taylor = new double[layers][];
        var norms = new double[layers][]; var zeros = new long[layers][]; var sums = new double[layers][]; var values = new long[layers];
        var rows = new List<float[]>[layers];
        for (int i = 0; i < layers; i++)
        {
            WeightShape s = net.Layers[i].Shape;
            grad[i] = new double[s.ElementCount]; fisher[i] = new double[s.ElementCount]; taylor[i] = new double[s.ElementCount];
            norms[i] = new double[s.RowLength]; zeros[i] = new long[s.Out]; sums[i] = new double[s.Out]; rows[i] = [];
        }
        ReferenceNetwork copy = Copy(net);
        int batches = 0;
        for (int start = 0; start < Images; start += Batch, batches++)
        {
            copy.CopyStateFrom(net);   // running statistics as the collection saw them are irrelevant in training mode
            int b = Math.Min(Batch, Images - start);
            copy.Forward(data.Pixels.Span.Slice(start * 784, b * 784), b, training: true);
            copy.ComputeLoss(data.Labels.Span.Slice(start, b));
            copy.Backward();
            for (int i = 0; i < layers; i++)
            {
                PrunableLayer layer = copy.Layers[i];
                float[] g = layer.Weight.Gradient.ToArray(), w = layer.Weight.Values.ToArray();
                for (int e = 0; e < g.Length; e++)
                {
                    grad[i][e] += g[e];
                    fisher[i][e] += (double)g[e] * g[e];
                    taylor[i][e] += Math.Abs((double)g[e] * w[e]);
                }
                ActivationView input = copy.LayerInput(i);
                foreach (float[] token in Tokens(layer, input, b))
                {
                    for (int j = 0; j < token.Length; j++) norms[i][j] += (double)token[j] * token[j];
                    if (!layer.IsConvolution) rows[i].Add(token);
                }
                if (i < layers - 1)
                {
                    ActivationView output = copy.LayerOutput(i);
                    for (int u = 0; u < layer.Units; u++)
                        foreach (float a in output.Feature(u))
                        {
                            if (a <= 0) zeros[i][u]++;
                            sums[i][u] += a;
                        }
                    values[i] += (long)b * output.Spatial;
                }
            }
        }

        for (int i = 0; i < layers; i++)
        {
            LayerStatistics s = stats.Layers[i];
            PrunableLayer layer = net.Layers[i];
            Assert.Equal(layer.Name, s.Name);
            Assert.Equal(layer.Weight.Name, s.WeightName);
            Close(grad[i].Select(v => v / batches), s.MeanGradient);
            Close(fisher[i].Select(v => v / batches), s.Fisher);
            Close(taylor[i].Select(v => v / batches), s.Taylor);
            Close(norms[i].Select(Math.Sqrt), s.InputNorms);
            if (i < layers - 1)
            {
                Close(zeros[i].Select(z => (double)z / values[i]), s.Apoz!);
                Close(sums[i].Select(v => v / values[i]), s.MeanActivation!);
            }
            else
            {
                Assert.Null(s.Apoz);
                Assert.Null(s.MeanActivation);
            }
            int d = layer.Shape.RowLength, o = layer.Shape.Out;
            if (!layer.IsConvolution)
            {
                Assert.Equal(Images, s.Samples);
                Assert.Equal(rows[i].SelectMany(r => r).ToArray(), s.Inputs);
            }
            else
            {
                Assert.Equal(Images * NetworkStatistics.PositionsPerImage, s.Samples);
            }
            float[] w = layer.Weight.Values.ToArray();
            var y = new double[s.Samples * o];
            for (int n = 0; n < s.Samples; n++)
                for (int u = 0; u < o; u++)
                {
                    double acc = 0;
                    for (int j = 0; j < d; j++) acc += (double)s.Inputs[n * d + j] * w[u * d + j];
                    y[n * o + u] = acc;
                }
            Close(y, s.Targets, 1e-4);
        }

        // A convolution's regression rows are im2col tokens of their own image (8 distinct positions per image).
        foreach (LayerStatistics s in stats.Layers.Where(l => !l.Shape.IsLinear))
        {
            int d = s.Shape.RowLength;
            copy.CopyStateFrom(net);
            copy.Forward(data.Pixels.Span[..(Batch * 784)], Batch, training: true);
            float[][] tokens = Tokens(copy.Layers[s.Index], copy.LayerInput(s.Index), Batch).ToArray();
            int plane = tokens.Length / Batch;
            for (int image = 0; image < 2; image++)
            {
                var found = new HashSet<int>();
                for (int k = 0; k < NetworkStatistics.PositionsPerImage; k++)
                {
                    float[] row = s.Inputs.AsSpan((image * NetworkStatistics.PositionsPerImage + k) * d, d).ToArray();
                    int p = Enumerable.Range(0, plane).First(p => tokens[image * plane + p].SequenceEqual(row) && !found.Contains(p));
                    found.Add(p);
                }
            }
        }
    }

    /// <summary>The layer's input tokens: one per image for a linear layer, one per image and output position (naive im2col, zero padding) for a convolution.</summary>
    private static List<float[]> Tokens(PrunableLayer layer, ActivationView input, int batch) =>
        Tokens(layer, input.Values.ToArray(), input.Features, input.Spatial, batch);

    private static List<float[]> Tokens(PrunableLayer layer, float[] x, int features, int spatial, int batch)
    {
        var result = new List<float[]>();
        if (!layer.IsConvolution)
        {
            for (int b = 0; b < batch; b++)
                result.Add(Enumerable.Range(0, features).Select(f => x[f * batch + b]).ToArray());
            return result;
        }
        int side = (int)Math.Sqrt(spatial), k = layer.Shape.KernelHeight, cin = layer.Shape.In;
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < side; oy++)
                for (int ox = 0; ox < side; ox++)
                {
                    var token = new float[cin * k * k];
                    for (int c = 0; c < cin; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                token[(c * k + ky) * k + kx] = iy < 0 || ix < 0 || iy >= side || ix >= side ? 0f : x[((c * batch + b) * side + iy) * side + ix];
                            }
                    result.Add(token);
                }
        return result;
    }

    private static void Close(IEnumerable<double> expected, float[] actual, double relative = 1e-5)
    {
        double[] e = expected.ToArray();
        Assert.Equal(e.Length, actual.Length);
        double scale = e.Select(Math.Abs).DefaultIfEmpty(0).Max();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - actual[i]) <= relative * scale + 1e-30, $"[{i}] expected {e[i]}, got {actual[i]}");
    }
}
