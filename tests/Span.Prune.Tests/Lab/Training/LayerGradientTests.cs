using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>Every layer's backward pass against central finite differences: input gradients and parameter gradients.</summary>
public class LayerGradientTests
{
    [Theory]
    [InlineData(7, 5, 3)]
    [InlineData(33, 17, 1)]
    [InlineData(20, 9, 19)]
    public void Linear_MatchesFiniteDifferences(int inFeatures, int outFeatures, int batch)
    {
        var layer = new Linear(inFeatures, outFeatures, maxBatch: batch + 2);
        float[] w = layer.Weight.ToArray(), b = layer.Bias.ToArray();
        TestData.Uniform(w.Length, 1).CopyTo(layer.Weight);
        TestData.Uniform(b.Length, 2).CopyTo(layer.Bias);
        float[] x = TestData.Uniform(inFeatures * batch, 3);
        float[] r = TestData.Uniform(outFeatures * batch, 4);
        float[] y = new float[outFeatures * batch];
        double Objective()
        {
            layer.Forward(x, y, batch);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(inFeatures * batch);
        layer.Backward(x, r, dx, batch);
        float[] dw = layer.WeightGradient.ToArray(), db = layer.BiasGradient.ToArray();

        // Linear in each of x, W and b: a large step is exact up to rounding.
        GradientCheck.Assert("dx", x, dx, Objective, 0.25f, 1e-5, 1e-5);
        float[] wArr = GetArray(layer.Weight), bArr = GetArray(layer.Bias);
        GradientCheck.Assert("dW", wArr, dw, Objective, 0.25f, 1e-5, 1e-5);
        GradientCheck.Assert("db", bArr, db, Objective, 0.25f, 1e-5, 1e-5);

        // The transposed-input entry gives the same bits.
        float[] xt = new float[batch * inFeatures];
        for (int i = 0; i < inFeatures; i++)
            for (int j = 0; j < batch; j++) xt[j * inFeatures + i] = x[i * batch + j];
        float[] dx2 = TestData.NaNs(inFeatures * batch);
        layer.BackwardTransposedInput(xt, r, dx2, batch);
        Assert.Equal(dx, dx2);
        Assert.Equal(dw, layer.WeightGradient.ToArray());

        // The dot-product weight gradient (GemmNT on X in place) agrees; dx is the same computation.
        layer.WeightGradientByDotProducts = true;
        float[] dx3 = TestData.NaNs(inFeatures * batch);
        layer.Backward(x, r, dx3, batch);
        Assert.Equal(dx, dx3);
        for (int i = 0; i < dw.Length; i++) Assert.Equal(dw[i], layer.WeightGradient.Span[i], 1e-5f);
        Assert.Equal(db, layer.BiasGradient.ToArray());
    }

    [Theory]
    [InlineData(1, 3, 6, 6, 2)]
    [InlineData(3, 4, 5, 7, 3)]
    [InlineData(2, 2, 4, 4, 1)]
    [InlineData(16, 2, 14, 14, 6)] // 4 images per chunk: two chunks, the second partial
    public void Conv2d_MatchesFiniteDifferences(int inChannels, int outChannels, int height, int width, int batch)
    {
        var layer = new Conv2d(inChannels, outChannels, height, width, kernel: 3, padding: 1, maxBatch: batch);
        TestData.Uniform(layer.Weight.Length, 11).CopyTo(layer.Weight);
        TestData.Uniform(layer.Bias.Length, 12).CopyTo(layer.Bias);
        float[] x = TestData.Uniform(inChannels * batch * height * width, 13);
        int outLength = outChannels * batch * layer.OutputHeight * layer.OutputWidth;
        float[] r = TestData.Uniform(outLength, 14);
        float[] y = new float[outLength];
        double Objective()
        {
            layer.Forward(x, y, batch);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(x.Length);
        layer.Backward(x, r, dx, batch);
        float[] dw = layer.WeightGradient.ToArray(), db = layer.BiasGradient.ToArray();
        double tol = 1e-5 * Math.Sqrt(outLength);
        GradientCheck.Assert("dx", x, dx, Objective, 0.25f, tol, 1e-5, GradientCheck.Spread(x.Length, 150));
        GradientCheck.Assert("dW", GetArray(layer.Weight), dw, Objective, 0.25f, tol, 1e-5, GradientCheck.Spread(dw.Length, 150));
        GradientCheck.Assert("db", GetArray(layer.Bias), db, Objective, 0.25f, tol, 1e-5);
    }

    [Theory]
    [InlineData(3, 2, 16)]
    [InlineData(2, 5, 4)]
    [InlineData(4, 1, 9)]
    public void BatchNorm2d_TrainingMode_MatchesFiniteDifferences(int channels, int batch, int spatial)
    {
        var layer = new BatchNorm2d(channels, spatial, batch);
        TestData.Uniform(channels, 21, 1.5f).CopyTo(layer.Gamma);
        TestData.Uniform(channels, 22).CopyTo(layer.Beta);
        float[] x = TestData.Normal(channels * batch * spatial, 23, 2f);
        float[] r = TestData.Uniform(x.Length, 24);
        float[] y = new float[x.Length];
        double Objective()
        {
            layer.Forward(x, y, batch, training: true);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(x.Length);
        layer.Backward(x, r, dx, batch);
        float[] dg = layer.GammaGradient.ToArray(), db = layer.BetaGradient.ToArray();
        // x enters through the batch mean and variance too (the batch-coupled gradient): non-linear, so a small step.
        GradientCheck.Assert("dx", x, dx, Objective, 1e-2f, 2e-4, 2e-3);
        GradientCheck.Assert("dgamma", GetArray(layer.Gamma), dg, Objective, 0.25f, 1e-5, 1e-5);
        GradientCheck.Assert("dbeta", GetArray(layer.Beta), db, Objective, 0.25f, 1e-5, 1e-5);

        // dx may alias dy.
        float[] inPlace = (float[])r.Clone();
        Objective();
        layer.Backward(x, inPlace, inPlace, batch);
        Assert.Equal(dx, inPlace);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNorm2dRelu_Fused_MatchesFiniteDifferencesAndTheComposition(bool training)
    {
        const int channels = 3, batch = 4, spatial = 9;
        var layer = new BatchNorm2d(channels, spatial, batch);
        TestData.Uniform(channels, 71, 1.5f).CopyTo(layer.Gamma);
        TestData.Uniform(channels, 72).CopyTo(layer.Beta);
        new float[] { 0.1f, -0.4f, 0.3f }.CopyTo(layer.RunningMean);
        new float[] { 0.5f, 2f, 1.25f }.CopyTo(layer.RunningVariance);
        float[] x = TestData.Normal(channels * batch * spatial, 73, 2f);
        float[] r = TestData.Uniform(x.Length, 74);
        float[] y = new float[x.Length];
        double Objective()
        {
            layer.ForwardRelu(x, y, batch, training);
            return GradientCheck.Dot(r, y);
        }
        // The composition: BN, then ReLU, gives the same outputs and gradients (up to rounding).
        float[] plain = new float[x.Length], dPlain = new float[x.Length];
        layer.Forward(x, plain, batch, training);
        Relu.Forward(plain, plain);
        Relu.Backward(plain, r, dPlain);
        layer.Backward(x, dPlain, dPlain, batch);
        float[] dgPlain = layer.GammaGradient.ToArray();
        Objective();
        Assert.Equal(plain, y);
        float[] dx = TestData.NaNs(x.Length);
        layer.BackwardRelu(x, y, r, dx, batch);
        for (int i = 0; i < x.Length; i++) Assert.Equal(dPlain[i], dx[i], 1e-5f);
        for (int c = 0; c < channels; c++) Assert.Equal(dgPlain[c], layer.GammaGradient.Span[c], 1e-5f);

        float[] dg = layer.GammaGradient.ToArray(), db = layer.BetaGradient.ToArray();
        // ReLU kinks: several steps, each within its own noise bound (see GradientCheck.AssertAnyStep).
        GradientCheck.AssertAnyStep("dx", x, dx, Objective, [1e-2f, 1e-3f], 1e-6, 2e-3, Enumerable.Range(0, x.Length));
        GradientCheck.AssertAnyStep("dgamma", GetArray(layer.Gamma), dg, Objective, [1e-2f, 1e-3f], 1e-6, 2e-3, Enumerable.Range(0, channels));
        GradientCheck.AssertAnyStep("dbeta", GetArray(layer.Beta), db, Objective, [1e-2f, 1e-3f], 1e-6, 2e-3, Enumerable.Range(0, channels));
    }

    [Fact]
    public void BatchNorm2d_EvaluationMode_MatchesFiniteDifferences()
    {
        const int channels = 3, batch = 2, spatial = 5;
        var layer = new BatchNorm2d(channels, spatial, batch);
        TestData.Uniform(channels, 31, 1.5f).CopyTo(layer.Gamma);
        TestData.Uniform(channels, 32).CopyTo(layer.Beta);
        TestData.Uniform(channels, 33).CopyTo(layer.RunningMean);
        new float[] { 0.5f, 2f, 1.25f }.CopyTo(layer.RunningVariance);
        float[] x = TestData.Normal(channels * batch * spatial, 34);
        float[] r = TestData.Uniform(x.Length, 35);
        float[] y = new float[x.Length];
        double Objective()
        {
            layer.Forward(x, y, batch, training: false);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(x.Length);
        layer.Backward(x, r, dx, batch);
        GradientCheck.Assert("dx", x, dx, Objective, 0.25f, 1e-5, 1e-5);
        GradientCheck.Assert("dgamma", GetArray(layer.Gamma), layer.GammaGradient.Span, Objective, 0.25f, 1e-5, 1e-5);
        GradientCheck.Assert("dbeta", GetArray(layer.Beta), layer.BetaGradient.Span, Objective, 0.25f, 1e-5, 1e-5);
    }

    [Fact]
    public void Relu_MatchesFiniteDifferences()
    {
        float[] x = TestData.Uniform(101, 41);
        for (int i = 0; i < x.Length; i++) x[i] += x[i] >= 0 ? 0.1f : -0.1f; // away from the kink
        float[] r = TestData.Uniform(x.Length, 42);
        float[] y = new float[x.Length];
        double Objective()
        {
            Relu.Forward(x, y);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(x.Length);
        Relu.Backward(y, r, dx);
        GradientCheck.Assert("dx", x, dx, Objective, 0.05f, 1e-6, 1e-6);
        for (int i = 0; i < x.Length; i++) Assert.Equal(Math.Max(x[i], 0f), y[i]);
    }

    [Fact]
    public void MaxPool2x2_MatchesFiniteDifferences()
    {
        const int planes = 3, h = 6, w = 4;
        var pool = new MaxPool2x2(h, w, planes);
        // Distinct values 0.1 apart, shuffled, so that a step of 0.02 never changes a window's maximum.
        var rng = new Random(51);
        float[] x = Enumerable.Range(0, planes * h * w).Select(i => i * 0.1f).OrderBy(_ => rng.Next()).ToArray();
        float[] r = TestData.Uniform(planes * h * w / 4, 52);
        float[] y = new float[r.Length];
        double Objective()
        {
            pool.Forward(x, y, planes);
            return GradientCheck.Dot(r, y);
        }
        Objective();
        float[] dx = TestData.NaNs(x.Length);
        pool.Backward(r, dx, planes);
        GradientCheck.Assert("dx", x, dx, Objective, 0.02f, 1e-6, 1e-6);
    }

    [Fact]
    public void MaxPool2x2_TiesGoToTheFirstPosition()
    {
        var pool = new MaxPool2x2(2, 2, 1);
        float[] y = new float[1], dx = TestData.NaNs(4);
        pool.Forward([1f, 3f, 3f, 3f], y, 1);
        pool.Backward([5f], dx, 1);
        Assert.Equal([0f, 5f, 0f, 0f], dx);
    }

    [Fact]
    public void SoftmaxCrossEntropy_MatchesFiniteDifferences()
    {
        const int classes = 10, batch = 5;
        float[] z = TestData.Normal(classes * batch, 61, 2f);
        byte[] labels = [3, 0, 9, 3, 7];
        double Objective() => SoftmaxCrossEntropy.Compute(z, labels, classes, batch, Span<float>.Empty);
        float[] dz = TestData.NaNs(z.Length);
        double loss = SoftmaxCrossEntropy.Compute(z, labels, classes, batch, dz);
        Assert.Equal(Objective(), loss);
        GradientCheck.Assert("dz", z, dz, Objective, 1e-2f, 1e-5, 1e-3);

        // Reference loss in double, column by column.
        double expected = 0;
        for (int b = 0; b < batch; b++)
        {
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.Exp(z[j * batch + b]);
            expected += -(z[labels[b] * batch + b] - Math.Log(sum));
        }
        Assert.Equal(expected / batch, loss, 1e-6);
    }

    private static float[] GetArray(Memory<float> memory)
    {
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<float>(memory, out var segment));
        Assert.Equal(0, segment.Offset);
        return segment.Array!;
    }
}
