using System.Diagnostics;
using Span.Prune.Lab.Training;
using Span.Prune.Sparse;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// Experiment 7: inference time over the whole test set at batch 1 and batch 32, single-threaded, of pruned and
/// fine-tuned networks in every applicable storage format, each checked to predict exactly what the dense-masked
/// network predicts.
/// </summary>
/// <remarks>
/// <para>Networks: mlp global magnitude at 0.9 and 0.95, mlp 2:4 (magnitude), mlp neurons (l1 rows of both hidden
/// layers) at 0.5, cnn channels (l1 filter norm of both conv layers) at 0.5; each pruned with the public API from the
/// dense network and fine-tuned with the recipe.</para>
/// <para>Formats: <c>dense</c> (the masked network on the dense GEMM, the baseline of every speedup), <c>csr</c>,
/// <c>bsr:4x1</c>, <c>nm:2:4</c> (the 2:4 network), <c>shrunk</c> (fine-grained networks: the core's shrunk format per
/// layer; structured networks: the physically smaller network of <see cref="NetworkShrink"/>) and <c>prepared</c>
/// (<see cref="SparseLayer.Prepare"/>'s pick per layer at the timed batch). A layer a format does not tile (fc3's 10
/// rows in 4×1 blocks) stays dense. Formats run through <see cref="ReferenceNetwork.SetForwardMultiply"/>.</para>
/// <para><c>ms</c> is the median over several passes of one pass over the test set, divided by the batches in a pass
/// (milliseconds per batch); <c>speedup</c> is the dense time at the same batch over the format's.</para>
/// </remarks>
public sealed class SpeedExperiment : IDemoExperiment
{
    /// <summary>Batch sizes timed.</summary>
    public static IReadOnlyList<int> Batches { get; } = [1, 32];

    /// <inheritdoc/>
    public DemoExperiment Kind => DemoExperiment.Speed;

    /// <inheritdoc/>
    public bool AppliesTo(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Covers(DemoModel.Mlp) || context.Covers(DemoModel.Cnn);
    }

    /// <inheritdoc/>
    public IEnumerable<DemoRow> Run(DemoContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        int passes = context.Options.Quick ? 3 : 7;
        var networks = new List<Func<PrunedNetwork>>();
        if (context.Covers(DemoModel.Mlp))
        {
            networks.Add(() => GlobalMagnitude(context, 0.9));
            networks.Add(() => GlobalMagnitude(context, 0.95));
            networks.Add(() => TwoFour(context));
            networks.Add(() => Neurons(context, 0.5));
        }
        if (context.Covers(DemoModel.Cnn)) networks.Add(() => Channels(context, 0.5));
        int points = networks.Count * Batches.Count, done = 0;
        foreach (Func<PrunedNetwork> make in networks)
        {
            PrunedNetwork pruned = make();
            double accuracy = context.Accuracy(pruned.Masked);
            foreach (int batch in Batches)
            {
                IReadOnlyList<FormatTiming> timings = Measure(pruned, context.Test.Pixels.Span, context.Test.Count, batch, passes);
                context.Progress?.WriteLine(FormattableString.Invariant(
                    $"speed point {++done}/{points}: {DemoNames.Of(pruned.Model)} {pruned.Criterion} {pruned.Granularity} at {pruned.Sparsity:0.000}, batch {batch}"));
                double denseMs = timings[0].Milliseconds;
                foreach (FormatTiming t in timings)
                {
                    yield return new DemoRow
                    {
                        Model = pruned.Model,
                        Experiment = DemoExperiment.Speed,
                        Criterion = pruned.Criterion,
                        Granularity = pruned.Granularity,
                        Sparsity = pruned.Sparsity,
                        FineTuned = accuracy,
                        Format = t.Format,
                        Batch = batch,
                        Ms = t.Milliseconds,
                        Speedup = denseMs / t.Milliseconds,
                    };
                }
            }
        }
    }

    /// <summary>
    /// Times every format of <paramref name="pruned"/> at <paramref name="batch"/> (dense first) and checks each one's
    /// predictions against the dense-masked network's.
    /// </summary>
    /// <param name="pruned">The pruned network and the formats that apply to it.</param>
    /// <param name="images">Pixels, <c>count·784</c>.</param>
    /// <param name="count">Images per pass.</param>
    /// <param name="batch">Images per forward call.</param>
    /// <param name="passes">Timed passes; the median is reported.</param>
    /// <returns>Milliseconds per batch of each format, dense first.</returns>
    /// <exception cref="InvalidOperationException">A format predicts differently from the dense-masked network.</exception>
    public static IReadOnlyList<FormatTiming> Measure(PrunedNetwork pruned, ReadOnlySpan<byte> images, int count, int batch, int passes)
    {
        ArgumentNullException.ThrowIfNull(pruned);
        ReferenceNetwork masked = pruned.Masked;
        byte[] expected = new byte[count], actual = new byte[count];
        int batches = (count + batch - 1) / batch;
        var results = new List<FormatTiming>();
        ClearMultiplies(masked);
        double denseMs = Time(masked, images, count, batch, passes, expected);
        results.Add(new FormatTiming("dense", denseMs / batches));
        foreach (string format in pruned.Formats)
        {
            ReferenceNetwork network = masked;
            if (format == "shrunk" && pruned.Shrunk is { } smaller) network = smaller;
            else SetMultiplies(masked, format, batch);
            double ms = Time(network, images, count, batch, passes, actual);
            ClearMultiplies(masked);
            int first = expected.AsSpan().CommonPrefixLength(actual);
            if (first < count)
                throw new InvalidOperationException($"{pruned.Criterion}/{pruned.Granularity} as {format} at batch {batch} predicts {actual[first]} on image {first}, the dense-masked network {expected[first]}.");
            results.Add(new FormatTiming(format, ms / batches));
        }
        return results;
    }

    private static double Time(ReferenceNetwork network, ReadOnlySpan<byte> images, int count, int batch, int passes, byte[] predictions)
    {
        network.Predict(images, count, predictions, batch); // warm-up, and the predictions compared
        double[] t = new double[Math.Max(1, passes)];
        for (int p = 0; p < t.Length; p++)
        {
            long start = Stopwatch.GetTimestamp();
            network.Predict(images, count, predictions, batch);
            t[p] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(t);
        return t[t.Length / 2];
    }

    private static void ClearMultiplies(ReferenceNetwork network)
    {
        for (int l = 0; l < network.Layers.Count; l++) network.SetForwardMultiply(l, null);
    }

    private static void SetMultiplies(ReferenceNetwork network, string format, int batch)
    {
        foreach (PrunableLayer layer in network.Layers)
        {
            int rows = layer.Units, columns = layer.Shape.RowLength;
            ReadOnlySpan<float> w = layer.Weight.Values.Span;
            SparseLayer sparse;
            if (format == "prepared")
            {
                sparse = SparseLayer.Prepare(w, rows, columns, GemmColumns(network, layer, batch));
            }
            else
            {
                SparseLayout layout = SparseLayout.Parse(format);
                bool fits = layout.Format switch
                {
                    SparseFormat.Bsr => rows % layout.BlockRows == 0 && columns % layout.BlockColumns == 0,
                    SparseFormat.NM => columns % layout.M == 0,
                    _ => true,
                };
                sparse = SparseLayer.Create(w, rows, columns, fits ? layout : SparseLayout.Dense);
            }
            network.SetForwardMultiply(layer.Index, new SparseLayerMultiply(sparse));
        }
    }

    /// <summary>Columns of the layer's forward GEMM at <paramref name="batch"/> images: the batch for a linear layer, images per chunk × output positions for a convolution.</summary>
    private static int GemmColumns(ReferenceNetwork network, PrunableLayer layer, int batch)
    {
        if (!layer.IsConvolution) return batch;
        var cnn = (CnnNetwork)network;
        int side = layer.Index == 0 ? 28 : 14;
        return Math.Min(batch, cnn.Convolution(layer.Index).ImagesPerChunk) * side * side;
    }

    private static PrunedNetwork GlobalMagnitude(DemoContext context, double sparsity)
    {
        ReferenceNetwork network = DemoContext.Copy(context.Dense(ReferenceArchitecture.Mlp));
        Memory<float>[] weights = [.. network.Layers.Select(l => l.Weight.Values)];
        Pruning.Global(weights, sparsity);
        MaskSet masks = NonZeroMasks(network);
        context.FineTune(network, masks);
        return new PrunedNetwork(DemoModel.Mlp, "magnitude", "element", ZeroFraction(network), network, null, ["csr", "bsr:4x1", "shrunk", "prepared"]);
    }

    private static PrunedNetwork TwoFour(DemoContext context)
    {
        ReferenceNetwork network = DemoContext.Copy(context.Dense(ReferenceArchitecture.Mlp));
        foreach (PrunableLayer layer in network.Layers)
            Pruning.NM<MagnitudeCriterion>(layer.Weight.Values.Span, [], layer.Shape, Granularity.NM(2, 4), new byte[layer.Weight.Length]);
        MaskSet masks = NonZeroMasks(network);
        context.FineTune(network, masks);
        return new PrunedNetwork(DemoModel.Mlp, "magnitude", "nm:2:4", ZeroFraction(network), network, null, ["csr", "bsr:4x1", "nm:2:4", "prepared"]);
    }

    private static PrunedNetwork Neurons(DemoContext context, double sparsity)
    {
        var network = (MlpNetwork)DemoContext.Copy(context.Dense(ReferenceArchitecture.Mlp));
        var masks = new MaskSet(network);
        byte[][] keep = [new byte[network.Layers[0].Units], new byte[network.Layers[1].Units]];
        for (int l = 0; l < 2; l++)
        {
            PrunableLayer layer = network.Layers[l];
            Pruning.Layer<MagnitudeCriterion, L1Reduction>(layer.Weight.Values.Span, [], layer.Shape, Granularity.Row, sparsity, keep[l]);
            masks.RestrictUnits(layer, keep[l]);
        }
        context.FineTune(network, masks);
        MlpNetwork shrunk = NetworkShrink.ShrinkMlp(network, keep[0], keep[1], DemoContext.MaxBatch);
        NetworkShrink.CheckSamePredictions(network, shrunk, context.Test.Pixels.Span, context.Test.Count);
        return new PrunedNetwork(DemoModel.Mlp, "l1", "row", RemovedFraction(network, shrunk), network, shrunk, ["csr", "shrunk", "prepared"]);
    }

    private static PrunedNetwork Channels(DemoContext context, double sparsity)
    {
        var network = (CnnNetwork)DemoContext.Copy(context.Dense(ReferenceArchitecture.Cnn));
        (byte[] keep1, byte[] keep2) = ChannelsExperiment.Prune(context, network, "l1", sparsity, null);
        var masks = new MaskSet(network);
        masks.RestrictUnits(network.Layers[0], keep1);
        masks.RestrictUnits(network.Layers[1], keep2);
        context.FineTune(network, masks);
        CnnNetwork shrunk = NetworkShrink.ShrinkCnn(network, keep1, keep2, DemoContext.MaxBatch);
        NetworkShrink.CheckSamePredictions(network, shrunk, context.Test.Pixels.Span, context.Test.Count);
        return new PrunedNetwork(DemoModel.Cnn, "l1", "channel", RemovedFraction(network, shrunk), network, shrunk, ["csr", "shrunk", "prepared"]);
    }

    /// <summary>Masks that keep exactly the non-zero weights of every layer (after a fine-grained prune).</summary>
    private static MaskSet NonZeroMasks(ReferenceNetwork network)
    {
        var masks = new MaskSet(network);
        foreach (PrunableLayer layer in network.Layers)
        {
            ReadOnlySpan<float> w = layer.Weight.Values.Span;
            byte[] keep = new byte[w.Length];
            for (int i = 0; i < w.Length; i++) keep[i] = w[i] != 0f ? (byte)1 : (byte)0;
            masks.Restrict(layer.Weight, keep);
        }
        return masks;
    }

    private static double ZeroFraction(ReferenceNetwork network)
    {
        long zeros = 0, total = 0;
        foreach (PrunableLayer layer in network.Layers)
        {
            foreach (float v in layer.Weight.Values.Span) if (v == 0f) zeros++;
            total += layer.Weight.Length;
        }
        return (double)zeros / total;
    }

    private static double RemovedFraction(ReferenceNetwork full, ReferenceNetwork shrunk) =>
        1.0 - (double)shrunk.Layers.Sum(l => (long)l.Weight.Length) / full.Layers.Sum(l => (long)l.Weight.Length);
}

/// <summary>A pruned, fine-tuned network for the speed experiment, with the formats that apply to it.</summary>
/// <param name="Model">mlp or cnn.</param>
/// <param name="Criterion">How it was pruned (<c>criterion</c> of its rows).</param>
/// <param name="Granularity">What was pruned as a unit (<c>granularity</c>).</param>
/// <param name="Sparsity">Fraction of weights removed.</param>
/// <param name="Masked">The full-size network with the pruned weights zeroed.</param>
/// <param name="Shrunk">The network with the pruned units removed (structured pruning), or null.</param>
/// <param name="Formats">The formats to time besides dense: <see cref="SparseLayout.Parse"/> names, <c>shrunk</c> and <c>prepared</c>.</param>
public sealed record PrunedNetwork(DemoModel Model, string Criterion, string Granularity, double Sparsity,
    ReferenceNetwork Masked, ReferenceNetwork? Shrunk, IReadOnlyList<string> Formats);

/// <summary>One format's time.</summary>
/// <param name="Format">The format's name.</param>
/// <param name="Milliseconds">Median milliseconds per batch.</param>
public readonly record struct FormatTiming(string Format, double Milliseconds);
