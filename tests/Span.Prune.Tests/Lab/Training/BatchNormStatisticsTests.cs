using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>BatchNorm's values against PyTorch's definitions: biased variance to normalise, unbiased in the running variance, momentum 0.1.</summary>
public class BatchNormStatisticsTests
{
    [Fact]
    public void TrainingForward_NormalisesWithBiasedVariance_AndUpdatesRunningStatistics()
    {
        const int channels = 2, batch = 3, spatial = 5, n = batch * spatial;
        var bn = new BatchNorm2d(channels, spatial, batch);
        float[] gamma = [1.5f, -0.5f], beta = [0.25f, 1f];
        gamma.CopyTo(bn.Gamma);
        beta.CopyTo(bn.Beta);
        float[] x = TestData.Normal(channels * n, 3, 2f).Select(v => v + 1f).ToArray();
        float[] y = TestData.NaNs(x.Length);
        bn.Forward(x, y, batch, training: true);
        for (int c = 0; c < channels; c++)
        {
            double mean = 0, sq = 0;
            for (int i = 0; i < n; i++) mean += x[c * n + i];
            mean /= n;
            for (int i = 0; i < n; i++) sq += (x[c * n + i] - mean) * (x[c * n + i] - mean);
            double biased = sq / n, unbiased = sq / (n - 1);
            for (int i = 0; i < n; i++)
                Assert.Equal(gamma[c] * (x[c * n + i] - mean) / Math.Sqrt(biased + 1e-5) + beta[c], y[c * n + i], 1e-5);
            Assert.Equal(0.1 * mean, bn.RunningMean.Span[c], 1e-6);
            Assert.Equal(0.9 + 0.1 * unbiased, bn.RunningVariance.Span[c], 1e-5);
        }
        Assert.Equal(1, bn.BatchesTracked);

        // A second step moves the running statistics by momentum again; evaluation then uses them.
        float[] rm = bn.RunningMean.ToArray(), rv = bn.RunningVariance.ToArray();
        bn.Forward(x, y, batch, training: true);
        for (int c = 0; c < channels; c++) Assert.Equal(0.9 * rm[c] + 0.1 * (rm[c] / 0.1), bn.RunningMean.Span[c], 1e-6);
        rm = bn.RunningMean.ToArray();
        rv = bn.RunningVariance.ToArray();
        bn.Forward(x, y, batch, training: false);
        Assert.Equal(2, bn.BatchesTracked);
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < n; i++)
                Assert.Equal(gamma[c] * (x[c * n + i] - rm[c]) / Math.Sqrt(rv[c] + 1e-5) + beta[c], y[c * n + i], 1e-5);
        Assert.Equal(rm, bn.RunningMean.ToArray()); // evaluation leaves them alone
    }
}
