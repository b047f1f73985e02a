using Span.Prune.Lab.Training;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>SGD-momentum-wd against a hand computation; the cosine schedule's values.</summary>
public class OptimizerTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(37)] // vector body and scalar tail
    public void Sgd_TwoStepsMatchHandComputation(int length)
    {
        const float mu = 0.9f, wd = 1e-4f, lr1 = 0.1f, lr2 = 0.05f;
        float[] w = TestData.Uniform(length, 1, 2f), g1 = TestData.Uniform(length, 2), g2 = TestData.Uniform(length, 3);
        var sgd = new SgdMomentum(length, mu, wd);
        float[] w0 = (float[])w.Clone();
        sgd.Step(w, g1, lr1);
        float[] w1 = (float[])w.Clone();
        sgd.Step(w, g2, lr2);
        for (int i = 0; i < length; i++)
        {
            // Step 1: v = g + wd·w (no momentum yet); w ← w − lr·v.
            double v1 = g1[i] + (double)wd * w0[i];
            double e1 = w0[i] - lr1 * v1;
            Assert.Equal(e1, w1[i], 1e-6);
            // Step 2: v = μ·v + g + wd·w; w ← w − lr·v.
            double v2 = mu * v1 + g2[i] + wd * e1;
            Assert.Equal(v2, sgd.Velocity[i], 1e-6);
            Assert.Equal(e1 - lr2 * v2, w[i], 1e-6);
        }
        // A concrete case written out: w = 1, g = 0.5, wd = 1e-4, lr = 0.1 → v = 0.5001, w = 0.94999.
        var one = new SgdMomentum(1, mu, wd);
        float[] p = [1f];
        one.Step(p, [0.5f], 0.1f);
        Assert.Equal(0.94999f, p[0], 1e-6f);
        Assert.Equal(0.5001f, one.Velocity[0], 1e-7f);
        one.Reset();
        Assert.Equal(0f, one.Velocity[0]);
    }

    [Fact]
    public void Cosine_ValuesAtStartMiddleAndEnd()
    {
        const long total = 2520; // 126 steps × 20 epochs
        Assert.Equal(0.05f, CosineSchedule.LearningRate(0.05f, 0, total));
        Assert.Equal(0.025f, CosineSchedule.LearningRate(0.05f, total / 2, total), 1e-8f);
        float last = CosineSchedule.LearningRate(0.05f, total - 1, total);
        Assert.Equal(0.05 * (1 + Math.Cos(Math.PI * (total - 1) / total)) / 2, last, 1e-10);
        Assert.InRange(last, 1e-9f, 1e-7f);
        Assert.Equal(0f, CosineSchedule.LearningRate(0.05f, total, total), 1e-12f);
        Assert.Throws<ArgumentOutOfRangeException>(() => CosineSchedule.LearningRate(0.05f, 0, 0));
    }

    [Fact]
    public void Presets_AreTheFixedRecipe()
    {
        Assert.Equal((20, 0.05f, 64, 0.9f, 1e-4f), (TrainingOptions.Mlp.Epochs, TrainingOptions.Mlp.LearningRate, TrainingOptions.Mlp.BatchSize, TrainingOptions.Mlp.Momentum, TrainingOptions.Mlp.WeightDecay));
        Assert.Equal((10, 0.05f), (TrainingOptions.Cnn.Epochs, TrainingOptions.Cnn.LearningRate));
        Assert.Equal((5, 0.01f), (TrainingOptions.MlpFineTune.Epochs, TrainingOptions.MlpFineTune.LearningRate));
        Assert.Equal((3, 0.01f), (TrainingOptions.CnnFineTune.Epochs, TrainingOptions.CnnFineTune.LearningRate));
        Assert.Equal(1e-4f, TrainingOptions.NetworkSlimmingLambda);
    }
}
