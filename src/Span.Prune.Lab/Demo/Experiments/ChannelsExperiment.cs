using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 5: whole channels of both conv layers of the cnn, one-shot and fine-tuned (3 epochs), then removed
/// physically, with a check that the shrunk network predicts exactly what the masked one predicts on every test image.
/// </summary>
/// <remarks>
/// <para>Criteria: <c>bn_scale</c>, |γ| ranked globally over both layers with at most 80% of a layer
/// (<see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>), on the
/// slimming-trained cnn and on the plain one; per layer on the plain cnn: <c>l1</c> filter norm, <c>apoz</c>,
/// <c>taylor</c> (<c>|Σ_filter mean(g)·w|</c>), <c>regression</c> (He et al. 2017) and <c>random</c>. Sparsities 0.3,
/// 0.5, 0.7 of each layer's channels (<c>round-half-even(s·C)</c>, conv1 16, conv2 32).</para>
/// <para>Pruning a channel zeroes its filter, bias, γ and β (<see cref="MaskSet.RestrictUnits"/>); the masks stay
/// applied through fine-tuning. Regression: conv1's channels are conv2's input channels, chosen by LASSO on sampled
/// im2col rows of conv2's input and conv2 refitted by least squares; then conv2's channels are the classifier's input
/// channels (49 columns each), chosen and refitted on the flattened features of the conv1-pruned network against the
/// dense network's classifier outputs.</para>
/// <para>Statistics: <see cref="NetworkStatistics.Collect"/> of the plain dense cnn (the first 1,024 training images in
/// file order, batches of 32, training-mode passes), the same the export writes. The classifier's regression inputs
/// come from the same passes of the conv1-pruned network.</para>
/// <para>Rows: <c>sparsity</c> is the fraction of the 48 channels removed; <c>params</c> (weights and biases) and
/// <c>macs</c> (weights × output positions) are those of the shrunk network after removal; the dense cnn row carries
/// them before.</para>
/// </remarks>
public sealed class ChannelsExperiment : IDemoExperiment
{
    /// <summary>Fractions of each layer's channels pruned.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.3, 0.5, 0.7];

    /// <summary>The per-layer criteria, in table order.</summary>
    public static IReadOnlyList<string> LayerCriteria { get; } = ["l1", "apoz", "taylor", "regression", "random"];

    /// <summary>bn_scale's cap: no layer loses more than this fraction of its channels.</summary>
    public const double MaxLayerSparsity = 0.8;

    /// <summary>Relative ridge of the classifier's refit (conv2's channels by regression), as a multiple of the mean
    /// diagonal of the Gram matrix: large enough to factor an underdetermined fit, small against the signal.</summary>
    public const double ClassifierRidge = 1e-3;

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Channels;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Covers(DemoModel.Cnn);
    }

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int points = (2 + LayerCriteria.Count) * Sparsities.Count, done = 0;
        foreach (bool slimming in new[] { true, false })
        {
            ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Cnn, slimming);
            foreach (double s in Sparsities)
            {
                DemoRow row = Point(context, dense, "bn_scale", s, slimming, null);
                Report(context, row, ++done, points);
                yield return row;
            }
        }
        ReferenceNetwork plain = context.Dense(ReferenceArchitecture.Cnn);
        NetworkStatistics stats = NetworkStatistics.Collect(plain, context.Train, Math.Min(1024, context.Train.Count), 32);
        foreach (string criterion in LayerCriteria)
        {
            foreach (double s in Sparsities)
            {
                DemoRow row = Point(context, plain, criterion, s, false, stats);
                Report(context, row, ++done, points);
                yield return row;
            }
        }
    }

    private static void Report(DemoContext context, DemoRow row, int done, int points) =>
        context.Progress?.WriteLine(FormattableString.Invariant(
            $"channels point {done}/{points}: {row.Criterion}{(row.Slimming == true ? " (slimming)" : "")} at {row.Sparsity:0.000}, fine-tuned {row.FineTuned * 100:0.00}%"));

    private static DemoRow Point(DemoContext context, ReferenceNetwork dense, string criterion, double sparsity, bool slimming, NetworkStatistics? stats)
    {
        CnnNetwork network = null!;
        byte[] keep1 = [], keep2 = [];
        double oneShot = 0, fineTuned = 0;
        CnnNetwork shrunk = null!;
        double seconds = DemoContext.Time(() =>
        {
            network = (CnnNetwork)DemoContext.Copy(dense);
            (keep1, keep2) = Prune(context, network, criterion, sparsity, stats);
            var masks = new MaskSet(network);
            masks.RestrictUnits(network.Layers[0], keep1);
            masks.RestrictUnits(network.Layers[1], keep2);
            masks.Apply();
            oneShot = context.Accuracy(network);
            Check(context, network, keep1, keep2);
            context.FineTune(network, masks);
            fineTuned = context.Accuracy(network);
            shrunk = Check(context, network, keep1, keep2);
        });
        int removed = keep1.Count(k => k == 0) + keep2.Count(k => k == 0);
        return new DemoRow
        {
            Model = DemoModel.Cnn,
            Experiment = DemoExperiment.Channels,
            Criterion = criterion,
            Granularity = "channel",
            Sparsity = (double)removed / (keep1.Length + keep2.Length),
            OneShot = oneShot,
            FineTuned = fineTuned,
            Slimming = slimming,
            Params = NetworkShrink.Parameters(shrunk),
            Macs = NetworkShrink.Macs(shrunk),
            Seconds = seconds,
        };
    }

    /// <summary>Shrinks the masked network and throws unless it predicts exactly what the masked one does on every test image.</summary>
    private static CnnNetwork Check(DemoContext context, CnnNetwork network, byte[] keep1, byte[] keep2)
    {
        CnnNetwork shrunk = NetworkShrink.ShrinkCnn(network, keep1, keep2, DemoContext.MaxBatch);
        NetworkShrink.CheckSamePredictions(network, shrunk, context.Test.Pixels.Span, context.Test.Count);
        return shrunk;
    }

    /// <summary>Chooses the channels to keep with <paramref name="criterion"/> (regression also refits the consumers in place).</summary>
    /// <param name="context">The run (seed, training images).</param>
    /// <param name="network">A copy of the dense cnn, modified in place.</param>
    /// <param name="criterion">bn_scale, l1, apoz, taylor, regression or random.</param>
    /// <param name="sparsity">Fraction of channels pruned (bn_scale: of all 48, globally; others: of each layer).</param>
    /// <param name="stats">Statistics of the plain dense cnn (null for bn_scale).</param>
    /// <returns>One keep byte per channel of conv1 and of conv2.</returns>
    internal static (byte[] Keep1, byte[] Keep2) Prune(DemoContext context, CnnNetwork network, string criterion, double sparsity, NetworkStatistics? stats)
    {
        IReadOnlyList<PrunableLayer> layers = network.Layers;
        byte[] keep1 = new byte[layers[0].Units], keep2 = new byte[layers[1].Units];
        switch (criterion)
        {
            case "bn_scale":
            {
                float[] scores = new float[keep1.Length + keep2.Length];
                for (int i = 0; i < keep1.Length; i++) scores[i] = MathF.Abs(layers[0].BatchNormScale!.Values.Span[i]);
                for (int i = 0; i < keep2.Length; i++) scores[keep1.Length + i] = MathF.Abs(layers[1].BatchNormScale!.Values.Span[i]);
                byte[] mask = new byte[scores.Length];
                Selection.GlobalLowestMask(scores, [keep1.Length, keep2.Length], Selection.PruneCount(scores.Length, sparsity), mask, MaxLayerSparsity);
                mask.AsSpan(0, keep1.Length).CopyTo(keep1);
                mask.AsSpan(keep1.Length).CopyTo(keep2);
                break;
            }
            case "regression":
                Regress(context, network, sparsity, stats!, keep1, keep2);
                break;
            default:
                for (int l = 0; l < 2; l++) PerLayer(context, layers[l], criterion, sparsity, stats!, l, l == 0 ? keep1 : keep2);
                break;
        }
        return (keep1, keep2);
    }

    private static void PerLayer(DemoContext context, PrunableLayer layer, string criterion, double sparsity, NetworkStatistics stats, int index, byte[] keep)
    {
        Span<float> w = layer.Weight.Values.Span;
        switch (criterion)
        {
            case "l1":
                Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, [], layer.Shape, Granularity.Row, sparsity, keep);
                break;
            case "apoz":
                Pruning.Apoz(w, layer.Shape, stats.Layers[index].Apoz!, sparsity, keep);
                break;
            case "taylor":
            {
                float[] scores = new float[layer.Units];
                Scoring.GroupTaylor(w, stats.Layers[index].MeanGradient, layer.Shape, Granularity.Row, scores, absoluteOfSum: true);
                Selection.LowestMask(scores, Selection.PruneCount(layer.Units, sparsity), keep);
                break;
            }
            case "random":
                Pruning.Random(w, layer.Shape, Granularity.Row, sparsity, context.Options.Seed + (ulong)index, keep);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "Unknown channel criterion.");
        }
    }

    private static void Regress(DemoContext context, CnnNetwork network, double sparsity, NetworkStatistics stats, byte[] keep1, byte[] keep2)
    {
        IReadOnlyList<PrunableLayer> layers = network.Layers;
        // conv1's channels are conv2's input channels: LASSO on conv2's im2col samples, conv2 refitted.
        LayerStatistics conv2 = stats.Layers[1], classifier = stats.Layers[2];
        Pruning.Regression(layers[1].Weight.Values.Span, layers[1].Shape, conv2.Inputs, conv2.Targets, conv2.Samples, sparsity, keep1, out _, out _);
        var masks = new MaskSet(network);
        masks.RestrictUnits(layers[0], keep1);
        masks.Apply();
        // conv2's channels are the classifier's input channels (49 columns each): its weight viewed as [10, C2, 7, 7],
        // samples from the conv1-pruned network, targets the dense network's classifier outputs (before the bias).
        int c2 = layers[1].Units, images = classifier.Samples;
        WeightShape fcShape = WeightShape.Conv2D(ReferenceNetwork.Classes, c2, 7, 7);
        float[] inputs = ClassifierInputs(network, context.Train, images, stats.Batch);
        // Pruning.Regression's composition with a larger ridge: with 1,024 samples, a 0.3 prune keeps 22·49 = 1,078
        // columns, more than the samples, so X_keptᵀX_kept is singular and the default ridge (1e-6) cannot factor it.
        Span<float> fc = layers[2].Weight.Values.Span;
        ChannelRegression.SelectLasso(inputs, fc, classifier.Targets, fcShape, images, c2 - Selection.PruneCount(c2, sparsity), keep2, new double[c2]);
        ChannelRegression.Refit(inputs, fc, classifier.Targets, fcShape, images, keep2, fc, default, ClassifierRidge);
    }

    /// <summary>
    /// The classifier's inputs (the flattened 7×7 maps), <c>[images, C2·49]</c>, of <paramref name="network"/> in the
    /// passes <see cref="NetworkStatistics.Collect"/> makes (training mode, consecutive batches from image 0), on a
    /// scratch copy so that the network's running statistics do not move.
    /// </summary>
    private static float[] ClassifierInputs(CnnNetwork network, Data.ImageSet train, int images, int batch)
    {
        var scratch = new CnnNetwork(batch, network.Channels1, network.Channels2);
        scratch.CopyStateFrom(network);
        int features = network.Layers[2].Shape.RowLength;
        float[] inputs = new float[images * features];
        ReadOnlySpan<byte> pixels = train.Pixels.Span;
        for (int start = 0; start < images; start += batch)
        {
            int b = Math.Min(batch, images - start);
            scratch.Forward(pixels.Slice(start * ReferenceNetwork.InputSize, b * ReferenceNetwork.InputSize), b, training: true);
            ActivationView f = scratch.LayerInput(2);
            for (int j = 0; j < features; j++)
            {
                ReadOnlySpan<float> column = f.Feature(j);
                for (int i = 0; i < b; i++) inputs[(start + i) * features + j] = column[i];
            }
        }
        return inputs;
    }
}
