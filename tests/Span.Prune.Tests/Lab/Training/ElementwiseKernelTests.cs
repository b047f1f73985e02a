using Span.Prune.Lab.Training;
using Span.Prune.Lab.Training.Kernels;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>Every tail of the element-wise kernels (lengths 0…257 and a few large ones) against scalar references, and bad inputs.</summary>
public class ElementwiseKernelTests
{
    public static IEnumerable<object[]> Lengths() => TestData.Lengths().Where(x => (int)x[0] <= 4099);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BatchNormKernels_MatchScalarReferences(int n)
    {
        float[] x = TestData.Normal(n, n + 1), dy = TestData.Uniform(n, n + 2), y = TestData.Normal(n, n + 3);
        const float mean = 0.2f, a = 1.3f, b = -0.7f, c = 0.05f;

        float[] out1 = TestData.NaNs(n);
        BatchNormKernels.AffineRelu(x, a, b, out1);
        for (int i = 0; i < n; i++) Assert.Equal(Math.Max(ReferenceMultiplyAdd.Of(x[i], a, b), 0f), out1[i]);

        foreach (bool masked in new[] { false, true })
        {
            ReadOnlySpan<float> mask = masked ? y : ReadOnlySpan<float>.Empty;
            BatchNormKernels.Reduce(x, mean, dy, mask, out double sum, out double dot);
            double es = 0, ed = 0;
            for (int i = 0; i < n; i++)
            {
                float g = !masked || y[i] > 0f ? dy[i] : 0f;
                es += g;
                ed += (x[i] - mean) * g;
            }
            Assert.Equal(es, sum, 1e-9 * (n + 1));
            Assert.Equal(ed, dot, 1e-6 * (n + 1));

            float[] dx = TestData.NaNs(n);
            BatchNormKernels.InputGradient(x, dy, mask, a, b, c, dx);
            for (int i = 0; i < n; i++)
            {
                float g = !masked || y[i] > 0f ? dy[i] : 0f;
                Assert.Equal(ReferenceMultiplyAdd.Of(x[i], b, ReferenceMultiplyAdd.Of(g, a, c)), dx[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Relu_MatchesScalarReference(int n)
    {
        float[] x = TestData.Normal(n, n + 5), dy = TestData.Uniform(n, n + 6);
        float[] y = TestData.NaNs(n), dx = TestData.NaNs(n);
        Relu.Forward(x, y);
        Relu.Backward(y, dy, dx);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(Math.Max(x[i], 0f), y[i]);
            Assert.Equal(x[i] > 0f ? dy[i] : 0f, dx[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SgdStep_VectorAndScalarPathsAgree(int n)
    {
        float[] w = TestData.Uniform(n, n + 7), g = TestData.Uniform(n, n + 8);
        var sgd = new SgdMomentum(n, 0.9f, 1e-4f);
        sgd.Step(w, g, 0.1f);
        sgd.Step(w, g, 0.05f);
        float[] v = new float[n], e = TestData.Uniform(n, n + 7);
        for (int step = 0; step < 2; step++)
        {
            float lr = step == 0 ? 0.1f : 0.05f;
            for (int i = 0; i < n; i++)
            {
                float d = ReferenceMultiplyAdd.Of(e[i], 1e-4f, g[i]);
                v[i] = v[i] * 0.9f + d;
                e[i] = ReferenceMultiplyAdd.Of(v[i], -lr, e[i]);
            }
        }
        Assert.Equal(e, w);
    }

    [Fact]
    public void BadInputs_Throw()
    {
        var linear = new Linear(4, 3, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => linear.Forward(new float[12], new float[9], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => linear.Forward(new float[0], new float[0], 0));
        Assert.Throws<ArgumentException>(() => new Linear(4, 3, 2, new float[11], new float[3], new float[12], new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(1, 1, 2, 2, 5, 0, 1));
        Assert.Throws<ArgumentException>(() => new BatchNorm2d(2, 4, 1).Forward(new float[7], new float[8], 1, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm2d(2, 1, 1).Forward(new float[2], new float[2], 1, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2x2(3, 4, 1));
        Assert.Throws<ArgumentException>(() => SoftmaxCrossEntropy.Compute(new float[20], [1, 10], 10, 2, Span<float>.Empty));
        Assert.Throws<ArgumentException>(() => new SgdMomentum(3).Step(new float[3], new float[2], 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeededRandom(1).NextInt(0));

        var net = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 4, 1);
        Assert.Throws<InvalidOperationException>(() => net.Backward());
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward(new byte[5 * 784], 5, true));
        Assert.Throws<ArgumentException>(() => net.Forward(new byte[783], 1, true));
        Assert.Throws<KeyNotFoundException>(() => net.Tensor("fc4.weight"));
        var data = Synthetic.Images(8, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Train(net, data.Pixels, data.Labels, 8, TrainingOptions.Mlp));
        var other = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 64, 1);
        Assert.Throws<ArgumentException>(() => Trainer.Train(other, data.Pixels, data.Labels, 8, TrainingOptions.Mlp, new MaskSet(net)));
        Assert.Throws<ArgumentException>(() => Trainer.Train(other, data.Pixels, data.Labels, 9, TrainingOptions.Mlp));
        Assert.Throws<ArgumentException>(() => new MaskSet(net).Restrict(other.Tensors[0], new byte[other.Tensors[0].Length]));
        Assert.Throws<ArgumentException>(() => other.CopyStateFrom(ReferenceNetwork.Create(ReferenceArchitecture.Cnn, 4, 1)));
    }
}
