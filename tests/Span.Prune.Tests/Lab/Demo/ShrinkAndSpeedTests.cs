using Span.Prune.Lab.Demo;
using Span.Prune.Lab.Demo.Experiments;
using Span.Prune.Lab.Training;
using Span.Prune.Tests.Lab.Training;

namespace Span.Prune.Tests.Lab.Demo;

/// <summary>
/// The shrunk networks predict exactly what the masked ones predict (cnn channels, mlp neurons), on small networks
/// trained for one epoch on synthetic digits; the speed experiment's formats all predict what the dense-masked network does.
/// </summary>
public class ShrinkAndSpeedTests
{
    private static readonly Synthetic.Set Train = Synthetic.Images(512, seed: 11), Test = Synthetic.Images(200, seed: 12);

    private static T Trained<T>(T network) where T : ReferenceNetwork
    {
        network.Initialize(5);
        Trainer.Train(network, Train.Pixels, Train.Labels, Train.Count, new TrainingOptions { Epochs = 1, LearningRate = 0.05f, BatchSize = 32 });
        return network;
    }

    private static byte[] Keep(int units, params int[] pruned)
    {
        byte[] keep = Enumerable.Repeat((byte)1, units).ToArray();
        foreach (int u in pruned) keep[u] = 0;
        return keep;
    }

    private static float[] Logits(ReferenceNetwork network)
    {
        network.Forward(Test.Pixels, 32, training: false);
        return network.Logits.ToArray();
    }

    [Theory]
    [InlineData(new[] { 0, 3 }, new[] { 1, 2, 7 })]
    [InlineData(new int[0], new[] { 0 })]
    [InlineData(new[] { 5 }, new int[0])]
    public void Cnn_ShrunkPredictsWhatMaskedPredicts(int[] pruned1, int[] pruned2)
    {
        CnnNetwork network = Trained(new CnnNetwork(32, 6, 8));
        byte[] keep1 = Keep(6, pruned1), keep2 = Keep(8, pruned2);
        var masks = new MaskSet(network);
        masks.RestrictUnits(network.Layers[0], keep1);
        masks.RestrictUnits(network.Layers[1], keep2);
        // Fine-tune with the masks so that running statistics and weights move while the pruned units stay zero.
        Trainer.Train(network, Train.Pixels, Train.Labels, Train.Count, new TrainingOptions { Epochs = 1, LearningRate = 0.01f, BatchSize = 32 }, masks);

        CnnNetwork shrunk = NetworkShrink.ShrinkCnn(network, keep1, keep2, 32);

        Assert.Equal(6 - pruned1.Length, shrunk.Channels1);
        Assert.Equal(8 - pruned2.Length, shrunk.Channels2);
        NetworkShrink.CheckSamePredictions(network, shrunk, Test.Pixels, Test.Count);
        float[] a = Logits(network), b = Logits(shrunk);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-4f);
        Assert.Equal(8L * 49 - 49L * pruned2.Length, shrunk.Layers[2].Shape.RowLength);
        long macs = NetworkShrink.Macs(shrunk);
        int k1 = shrunk.Channels1, k2 = shrunk.Channels2;
        Assert.Equal(k1 * 9L * 784 + k2 * k1 * 9L * 196 + 10L * k2 * 49, macs);
    }

    [Fact]
    public void Mlp_ShrunkPredictsWhatMaskedPredicts()
    {
        MlpNetwork network = Trained(new MlpNetwork(32, 24, 12));
        byte[] keep1 = Keep(24, 0, 5, 6, 23), keep2 = Keep(12, 2, 11);
        var masks = new MaskSet(network);
        masks.RestrictUnits(network.Layers[0], keep1);
        masks.RestrictUnits(network.Layers[1], keep2);
        masks.Apply();

        MlpNetwork shrunk = NetworkShrink.ShrinkMlp(network, keep1, keep2, 32);

        Assert.Equal(20, shrunk.Hidden1);
        Assert.Equal(10, shrunk.Hidden2);
        NetworkShrink.CheckSamePredictions(network, shrunk, Test.Pixels, Test.Count);
        float[] a = Logits(network), b = Logits(shrunk);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-4f);
    }

    [Fact]
    public void CheckSamePredictions_ThrowsOnADifference()
    {
        MlpNetwork network = Trained(new MlpNetwork(32, 24, 12));
        byte[] keep1 = Keep(24, 0, 1, 2), keep2 = Keep(12);
        // Not masked: the removed neurons still fire in the full network, so the shrunk one differs.
        MlpNetwork shrunk = NetworkShrink.ShrinkMlp(network, keep1, keep2, 32);
        network.Layers[2].Bias.Values.Span[0] += 100f;
        Assert.Throws<InvalidOperationException>(() => NetworkShrink.CheckSamePredictions(network, shrunk, Test.Pixels, Test.Count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void Speed_EveryFormatPredictsWhatTheDenseMaskedNetworkPredicts(int batch)
    {
        // Global magnitude at 0.9 and 2:4 on a small mlp; every applicable format, one pass each.
        MlpNetwork global = Trained(new MlpNetwork(32, 24, 12));
        Span.Prune.Pruning.Global([.. global.Layers.Select(l => l.Weight.Values)], 0.9);
        var g = new PrunedNetwork(DemoModel.Mlp, "magnitude", "element", 0.9, global, null, ["csr", "bsr:4x1", "shrunk", "prepared"]);
        MlpNetwork nm = Trained(new MlpNetwork(32, 24, 12));
        foreach (PrunableLayer layer in nm.Layers)
            Span.Prune.Pruning.NM<MagnitudeCriterion>(layer.Weight.Values.Span, [], layer.Shape, Granularity.NM(2, 4), new byte[layer.Weight.Length]);
        var n = new PrunedNetwork(DemoModel.Mlp, "magnitude", "nm:2:4", 0.5, nm, null, ["csr", "nm:2:4", "prepared"]);
        CnnNetwork cnn = Trained(new CnnNetwork(32, 6, 8));
        byte[] keep1 = Keep(6, 1, 4), keep2 = Keep(8, 0, 3, 5);
        var masks = new MaskSet(cnn);
        masks.RestrictUnits(cnn.Layers[0], keep1);
        masks.RestrictUnits(cnn.Layers[1], keep2);
        masks.Apply();
        var c = new PrunedNetwork(DemoModel.Cnn, "l1", "channel", 0.5, cnn, NetworkShrink.ShrinkCnn(cnn, keep1, keep2, 32), ["csr", "shrunk", "prepared"]);

        foreach (PrunedNetwork pruned in new[] { g, n, c })
        {
            IReadOnlyList<FormatTiming> timings = SpeedExperiment.Measure(pruned, Test.Pixels, 64, batch, passes: 1);
            Assert.Equal(["dense", .. pruned.Formats], timings.Select(t => t.Format));
            Assert.All(timings, t => Assert.True(t.Milliseconds > 0));
        }
    }
}
