using Span.Prune.Lab.Training;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>Short deterministic training runs, masks kept through steps, Network Slimming's penalty.</summary>
public class TrainingTests
{
    private static readonly Synthetic.Set Train = Synthetic.Images(320, seed: 10);
    private static readonly Synthetic.Set Test = Synthetic.Images(200, seed: 11);

    [Fact]
    public void Mlp_LearnsSyntheticDigits_AndIsBitIdenticalForTheSameSeed()
    {
        var options = TrainingOptions.Mlp with { Epochs = 8, ShuffleSeed = 5 };
        var a = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 64, seed: 1);
        var result = Trainer.Train(a, Train.Pixels, Train.Labels, Train.Count, options);
        Assert.Equal(8 * 5, result.Steps);
        double accuracy = a.Evaluate(Test.Pixels, Test.Labels, Test.Count);
        Assert.True(accuracy >= 0.98, $"accuracy {accuracy}");

        var b = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 64, seed: 1);
        b.MaxDegreeOfParallelism = 2; // the parallel GEMM is bit-identical
        Trainer.Train(b, Train.Pixels, Train.Labels, Train.Count, options);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());

        var c = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 64, seed: 1);
        Trainer.Train(c, Train.Pixels, Train.Labels, Train.Count, options with { ShuffleSeed = 6 });
        Assert.NotEqual(a.Parameters.ToArray(), c.Parameters.ToArray());
    }

    [Fact]
    public void Cnn_LearnsSyntheticDigits_AndIsBitIdenticalForTheSameSeed()
    {
        // A partial last batch (330 = 5·64 + 10) exercises drop_last = false.
        var train = Synthetic.Images(330, seed: 12);
        var options = TrainingOptions.Cnn with { Epochs = 2, LearningRate = 0.05f };
        var a = new CnnNetwork(64, channels1: 4, channels2: 8);
        a.Initialize(2);
        var result = Trainer.Train(a, train.Pixels, train.Labels, train.Count, options);
        Assert.Equal(2 * 6, result.Steps);
        Assert.True(a.Evaluate(Test.Pixels, Test.Labels, Test.Count) >= 0.95);
        Assert.Equal(12, a.BatchNorm(0).BatchesTracked);

        var b = new CnnNetwork(64, channels1: 4, channels2: 8);
        b.Initialize(2);
        b.MaxDegreeOfParallelism = 2;
        Trainer.Train(b, train.Pixels, train.Labels, train.Count, options);
        Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
        Assert.Equal(a.Buffers.ToArray(), b.Buffers.ToArray());
    }

    [Fact]
    public void Masks_StayZeroThroughTraining_ElementAndUnit()
    {
        var net = new CnnNetwork(32, channels1: 4, channels2: 6);
        net.Initialize(3);
        var masks = new MaskSet(net);
        // Element mask: every third fc weight pruned.
        var fc = net.Layers[2];
        byte[] keep = Enumerable.Range(0, fc.Weight.Length).Select(i => (byte)(i % 3 == 0 ? 0 : 1)).ToArray();
        masks.Restrict(fc.Weight, keep);
        // Unit mask: conv1 channels 1 and 3 pruned, with their bias, γ and β.
        masks.RestrictUnits(net.Layers[0], [1, 0, 1, 0]);
        Assert.Equal(2940 / 3 + 2 * 9 + 2 + 2 + 2, masks.CountPruned()); // fc third, conv1 rows, bias, γ, β

        var data = Synthetic.Images(100, seed: 4);
        float[] before = net.Parameters.ToArray();
        var options = TrainingOptions.CnnFineTune with { Epochs = 1, BatchSize = 32 };
        int epochs = 0;
        for (int round = 0; round < 2; round++)
        {
            Trainer.Train(net, data.Pixels, data.Labels, data.Count, options, masks, _ => epochs++);
            ReadOnlySpan<float> w = fc.Weight.Values.Span;
            for (int i = 0; i < w.Length; i++)
            {
                if (i % 3 == 0) Assert.Equal(0f, w[i]);
            }
            foreach (int u in new[] { 1, 3 })
            {
                Assert.All(net.Layers[0].Weight.Values.Span.Slice(u * 9, 9).ToArray(), v => Assert.Equal(0f, v));
                Assert.Equal(0f, net.Layers[0].Bias.Values.Span[u]);
                Assert.Equal(0f, net.Layers[0].BatchNormScale!.Values.Span[u]);
                Assert.Equal(0f, net.Layers[0].BatchNormShift!.Values.Span[u]);
            }
            // Kept units still train.
            Assert.NotEqual(0f, net.Layers[0].BatchNormShift!.Values.Span[0]);
        }
        Assert.Equal(2, epochs);
        Assert.NotEqual(before, net.Parameters.ToArray());
        Assert.Throws<ArgumentException>(() => masks.Restrict(net.Tensor("bn1.running_var"), new byte[4]));
        Assert.Throws<ArgumentException>(() => masks.RestrictUnits(net.Layers[1], new byte[5]));
    }

    [Fact]
    public void NetworkSlimming_AddsLambdaSignGammaToTheScaleGradient()
    {
        // One step over one batch with lr = 1, momentum's first step v = g + wd·γ: the L1 term moves γ by exactly
        // λ·sign(γ) more (up to rounding) than the same step without it.
        var data = Synthetic.Images(16, seed: 5);
        float[] Gamma(float lambda)
        {
            var net = new CnnNetwork(16, channels1: 3, channels2: 4);
            net.Initialize(9);
            net.Tensor("bn1.weight").Values.Span[1] = -0.5f;
            Trainer.Train(net, data.Pixels, data.Labels, 16, new TrainingOptions { Epochs = 1, LearningRate = 1f, BatchSize = 16, SlimmingLambda = lambda });
            return [.. net.Tensor("bn1.weight").Values.ToArray(), .. net.Tensor("bn2.weight").Values.ToArray()];
        }
        float[] plain = Gamma(0f), slim = Gamma(0.01f);
        for (int i = 0; i < plain.Length; i++)
        {
            float sign = i == 1 ? -1f : 1f;
            Assert.Equal(plain[i] - 0.01f * sign, slim[i], 1e-5f);
        }
    }
}

public class ThroughputTests
{
    [Fact]
    public void Measure_ReportsOrderedStatistics()
    {
        var data = Synthetic.Images(128, seed: 1);
        var r = TrainingThroughput.Measure(ReferenceArchitecture.Mlp, data.Pixels, data.Labels, data.Count, epochs: 1, runs: 3);
        Assert.Equal(3, r.Runs);
        Assert.Equal(128, r.ImagesPerRun);
        Assert.True(r.MinImagesPerSecond > 0);
        Assert.InRange(r.MedianImagesPerSecond, r.MinImagesPerSecond, r.MaxImagesPerSecond);
    }
}
