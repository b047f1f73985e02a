using Span.Prune.Lab.Data;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// What the channel criteria read from real passes of the dense cnn over the first 1,024 training images (file order,
/// batches of 32): APoZ per channel, the mean gradient per conv weight, and the regression samples.
/// </summary>
/// <remarks>
/// The channels experiment's own, small collector (the shared statistics of the demo were not there yet when it was
/// written); it never modifies the network it reads, working on copies.
/// </remarks>
internal sealed class CnnStatistics
{
    public const int StatisticsImages = 1024, StatisticsBatch = 32, PositionsPerImage = 8;
    private const int Side2 = 14, Plane2 = Side2 * Side2;

    private CnnStatistics(float[][] apoz, float[][] meanGradient, float[] conv2Inputs, int conv2Samples, float[] classifierTargets, int images)
    {
        Apoz = apoz;
        MeanGradient = meanGradient;
        Conv2Inputs = conv2Inputs;
        Conv2Samples = conv2Samples;
        ClassifierTargets = classifierTargets;
        Images = images;
    }

    /// <summary>APoZ of conv1's and conv2's post-ReLU channels.</summary>
    public float[][] Apoz { get; }

    /// <summary>Mean over batches of the gradient of conv1's and conv2's weights.</summary>
    public float[][] MeanGradient { get; }

    /// <summary>Sampled im2col rows of conv2's input, <c>[Conv2Samples, C1·9]</c>.</summary>
    public float[] Conv2Inputs { get; }

    /// <summary>Rows of <see cref="Conv2Inputs"/>.</summary>
    public int Conv2Samples { get; }

    /// <summary>The dense classifier's outputs before its bias, <c>[Images, 10]</c>.</summary>
    public float[] ClassifierTargets { get; }

    /// <summary>Images the statistics cover.</summary>
    public int Images { get; }

    /// <summary>Collects the statistics of <paramref name="dense"/> (not modified).</summary>
    public static CnnStatistics Collect(CnnNetwork dense, ImageSet train)
    {
        int images = Math.Min(StatisticsImages, train.Count);
        int c1 = dense.Channels1, c2 = dense.Channels2;
        ReadOnlySpan<byte> pixels = train.Pixels.Span, labels = train.Labels.Span;

        // Evaluation mode: APoZ, im2col samples of conv2's input, the classifier's outputs.
        var eval = new CnnNetwork(StatisticsBatch, c1, c2);
        eval.CopyStateFrom(dense);
        long[][] zeros = [new long[c1], new long[c2]];
        long[] perChannel = new long[2];
        int k = c1 * 9;
        float[] conv2Inputs = new float[images * PositionsPerImage * k];
        float[] targets = new float[images * ReferenceNetwork.Classes];
        ReadOnlySpan<float> fcBias = dense.Layers[2].Bias.Values.Span;
        var random = new SeededRandom(0x5EED);
        int sample = 0;
        for (int start = 0; start < images; start += StatisticsBatch)
        {
            int b = Math.Min(StatisticsBatch, images - start);
            eval.Forward(pixels.Slice(start * ReferenceNetwork.InputSize, b * ReferenceNetwork.InputSize), b, training: false);
            for (int layer = 0; layer < 2; layer++)
            {
                ActivationView z = eval.LayerOutput(layer);
                for (int c = 0; c < z.Features; c++)
                {
                    foreach (float v in z.Feature(c)) if (v == 0f) zeros[layer][c]++;
                }
                perChannel[layer] += (long)z.Batch * z.Spatial;
            }
            ActivationView p1 = eval.LayerInput(1);
            for (int i = 0; i < b; i++)
            {
                for (int p = 0; p < PositionsPerImage; p++, sample++)
                {
                    int position = random.NextInt(Plane2), py = position / Side2, px = position % Side2;
                    Span<float> row = conv2Inputs.AsSpan(sample * k, k);
                    for (int c = 0; c < c1; c++)
                    {
                        ReadOnlySpan<float> map = p1.Values.Slice((c * b + i) * Plane2, Plane2);
                        for (int ky = 0; ky < 3; ky++)
                        {
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int y = py + ky - 1, x = px + kx - 1;
                                row[c * 9 + ky * 3 + kx] = (uint)y < Side2 && (uint)x < Side2 ? map[y * Side2 + x] : 0f;
                            }
                        }
                    }
                }
            }
            ReadOnlySpan<float> logits = eval.Logits;
            for (int i = 0; i < b; i++)
                for (int j = 0; j < ReferenceNetwork.Classes; j++) targets[(start + i) * ReferenceNetwork.Classes + j] = logits[j * b + i] - fcBias[j];
        }
        float[][] apoz = [new float[c1], new float[c2]];
        for (int layer = 0; layer < 2; layer++)
            for (int c = 0; c < apoz[layer].Length; c++) apoz[layer][c] = (float)((double)zeros[layer][c] / perChannel[layer]);

        // Training mode (as the gradients are taken in training): the mean over batches of each conv weight's gradient.
        var train2 = new CnnNetwork(StatisticsBatch, c1, c2);
        train2.CopyStateFrom(dense);
        IReadOnlyList<PrunableLayer> layers = train2.Layers;
        double[][] sums = [new double[layers[0].Weight.Length], new double[layers[1].Weight.Length]];
        int batches = 0;
        for (int start = 0; start < images; start += StatisticsBatch, batches++)
        {
            int b = Math.Min(StatisticsBatch, images - start);
            train2.Forward(pixels.Slice(start * ReferenceNetwork.InputSize, b * ReferenceNetwork.InputSize), b, training: true);
            train2.ComputeLoss(labels.Slice(start, b));
            train2.Backward();
            for (int layer = 0; layer < 2; layer++)
            {
                ReadOnlySpan<float> g = layers[layer].Weight.Gradient.Span;
                for (int i = 0; i < g.Length; i++) sums[layer][i] += g[i];
            }
        }
        float[][] meanGradient = [.. sums.Select(s => s.Select(v => (float)(v / batches)).ToArray())];
        return new CnnStatistics(apoz, meanGradient, conv2Inputs, sample, targets, images);
    }

    /// <summary>The classifier's inputs (the flattened 7×7 maps) of <paramref name="network"/> on the first <paramref name="images"/> training images, <c>[images, C2·49]</c>.</summary>
    public static float[] ClassifierInputs(CnnNetwork network, ImageSet train, int images)
    {
        int features = network.Layers[2].Shape.RowLength;
        float[] inputs = new float[images * features];
        ReadOnlySpan<byte> pixels = train.Pixels.Span;
        for (int start = 0; start < images; start += StatisticsBatch)
        {
            int b = Math.Min(StatisticsBatch, images - start);
            network.Forward(pixels.Slice(start * ReferenceNetwork.InputSize, b * ReferenceNetwork.InputSize), b, training: false);
            ActivationView f = network.LayerInput(2);
            for (int j = 0; j < features; j++)
            {
                ReadOnlySpan<float> column = f.Feature(j);
                for (int i = 0; i < b; i++) inputs[(start + i) * features + j] = column[i];
            }
        }
        return inputs;
    }
}
