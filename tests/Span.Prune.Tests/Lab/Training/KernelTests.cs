using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>The engine's own kernels against naive references.</summary>
public class KernelTests
{
    public static TheoryData<int, int> TransposeShapes => new() { { 0, 5 }, { 1, 1 }, { 1, 17 }, { 17, 1 }, { 15, 16 }, { 16, 16 }, { 33, 47 }, { 64, 784 }, { 300, 100 } };

    [Theory]
    [MemberData(nameof(TransposeShapes))]
    public void Transpose_MatchesNaive(int rows, int cols)
    {
        float[] a = TestData.Uniform(rows * cols, rows + 7 * cols);
        float[] t = TestData.NaNs(rows * cols + 3);
        Transpose.Run(a, rows, cols, t);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Assert.Equal(a[r * cols + c], t[c * rows + r]);
        Assert.True(float.IsNaN(t[^1]));
    }

    public static TheoryData<int, int, int> GemmShapes => new()
    {
        { 1, 1, 1 }, { 4, 4, 16 }, { 5, 7, 3 }, { 3, 9, 17 }, { 8, 9, 31 }, { 16, 9, 784 }, { 32, 144, 196 },
        { 13, 6, 64 }, { 4, 5, 0 }, { 0, 3, 8 }, { 7, 8, 100 },
    };

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void GemmNT_MatchesNaive(int m, int n, int k)
    {
        float[] a = TestData.Uniform(m * k, m * 3 + k), b = TestData.Uniform(n * k, n * 5 + k + 1);
        float[] c = TestData.NaNs(m * n + 1);
        GemmNT.Multiply(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)a[i * k + p] * b[j * k + p];
                    mag += Math.Abs((double)a[i * k + p] * b[j * k + p]);
                }
                Assert.True(Math.Abs(c[i * n + j] - s) <= 1e-6 * mag + 1e-7, $"C[{i},{j}] = {c[i * n + j]}, expected {s}");
            }
        }
        Assert.True(float.IsNaN(c[^1]));
    }

    [Fact]
    public void GemmNT_EdgeRowsMatchBlockedRowsBitForBit()
    {
        // Every output is the same FMA sequence whichever path computes it: a 5×5 product's last row and column
        // (edge path) equal the corresponding outputs of an 8×8 product over the same rows (blocked path).
        const int k = 70;
        float[] a = TestData.Uniform(8 * k, 1), b = TestData.Uniform(8 * k, 2);
        float[] big = new float[64], small = new float[25];
        GemmNT.Multiply(a, b, big, 8, 8, k);
        GemmNT.Multiply(a, b, small, 5, 5, k);
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) Assert.Equal(big[i * 8 + j], small[i * 5 + j]);
    }

    public static TheoryData<int, int, int, int, int, int> ConvShapes => new()
    {
        { 1, 1, 5, 5, 3, 1 }, { 2, 3, 4, 6, 3, 1 }, { 3, 2, 7, 5, 3, 0 }, { 1, 2, 3, 3, 1, 0 }, { 2, 1, 6, 6, 5, 2 }, { 1, 1, 2, 2, 3, 1 },
    };

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Im2Col_Lower_MatchesNaive(int channels, int batch, int height, int width, int kernel, int pad)
    {
        float[] x = TestData.Uniform(channels * batch * height * width, 3);
        int ho = Im2Col.OutputSize(height, kernel, pad), wo = Im2Col.OutputSize(width, kernel, pad);
        int n = batch * ho * wo;
        float[] col = TestData.NaNs(channels * kernel * kernel * n);
        Im2Col.Lower(x, channels, batch, height, width, kernel, pad, col);
        for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
                for (int kx = 0; kx < kernel; kx++)
                    for (int b = 0; b < batch; b++)
                        for (int y = 0; y < ho; y++)
                            for (int xx = 0; xx < wo; xx++)
                            {
                                int sy = y + ky - pad, sx = xx + kx - pad;
                                float expected = sy >= 0 && sy < height && sx >= 0 && sx < width ? x[((c * batch + b) * height + sy) * width + sx] : 0f;
                                Assert.Equal(expected, col[((c * kernel + ky) * kernel + kx) * n + (b * ho + y) * wo + xx]);
                            }
    }

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Im2Col_Raise_IsTheAdjointOfLower(int channels, int batch, int height, int width, int kernel, int pad)
    {
        // <Lower(x), c> = <x, Raise(c)> for all x, c: checked on one-hot x, i.e. Raise(c)[i] = Σ of c over the slots that read x[i].
        int ho = Im2Col.OutputSize(height, kernel, pad), wo = Im2Col.OutputSize(width, kernel, pad);
        int rows = channels * kernel * kernel, n = batch * ho * wo, size = channels * batch * height * width;
        float[] c = TestData.Uniform(rows * n, 4);
        float[] raised = TestData.NaNs(size);
        Im2Col.Raise(c, channels, batch, height, width, kernel, pad, raised);
        float[] onehot = new float[size], col = new float[rows * n];
        for (int i = 0; i < size; i++)
        {
            onehot[i] = 1f;
            Im2Col.Lower(onehot, channels, batch, height, width, kernel, pad, col);
            onehot[i] = 0f;
            double expected = GradientCheck.Dot(col, c);
            Assert.Equal(expected, raised[i], 1e-5);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(257)]
    public void Affine_MatchesScalarFma(int length)
    {
        float[] x = TestData.Uniform(length, length);
        float[] y = TestData.NaNs(length);
        Affine.Run(x, 1.7f, -0.3f, y);
        for (int i = 0; i < length; i++) Assert.Equal(ReferenceMultiplyAdd.Of(x[i], 1.7f, -0.3f), y[i]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(50_177)]
    public void WideSums_MatchDoubleReference(int length)
    {
        float[] x = TestData.Normal(length, length + 1, 3f), y = TestData.Uniform(length, length + 2);
        const float mean = 0.37f;
        double s = 0, sq = 0, dot = 0;
        for (int i = 0; i < length; i++)
        {
            s += x[i];
            sq += (double)(x[i] - mean) * (x[i] - mean);
            dot += (double)(x[i] - mean) * y[i];
        }
        double tol = 1e-6 * (length + 1);
        Assert.Equal(s, WideSums.Sum(x), tol);
        Assert.Equal(sq, WideSums.CenteredSquares(x, mean), tol * 10);
        Assert.Equal(dot, WideSums.CenteredDot(x, mean, y), tol);
    }
}

/// <summary>Max-pooling against a naive reference on the network's shapes (vector path with spills, scalar tails).</summary>
public class MaxPoolReferenceTests
{
    [Theory]
    [InlineData(28, 28, 5)]
    [InlineData(14, 14, 7)]
    [InlineData(2, 2, 3)]
    [InlineData(6, 40, 2)]
    [InlineData(4, 34, 3)]
    public void MaxPool2x2_MatchesNaive(int h, int w, int planes)
    {
        var pool = new Span.Prune.Lab.Training.Layers.MaxPool2x2(h, w, planes);
        // Coarse values, so that ties occur.
        float[] x = TestData.Uniform(planes * h * w, h * w + planes).Select(v => MathF.Round(v * 4)).ToArray();
        int outputs = planes * h * w / 4;
        float[] y = TestData.NaNs(outputs), dy = TestData.Uniform(outputs, 5), dx = TestData.NaNs(x.Length);
        pool.Forward(x, y, planes);
        pool.Backward(dy, dx, planes);
        float[] expectedDx = new float[x.Length];
        int o = 0;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < h / 2; i++)
                for (int j = 0; j < w / 2; j++, o++)
                {
                    int[] at = [(p * h + 2 * i) * w + 2 * j, (p * h + 2 * i) * w + 2 * j + 1, (p * h + 2 * i + 1) * w + 2 * j, (p * h + 2 * i + 1) * w + 2 * j + 1];
                    int best = at[0];
                    foreach (int k in at) if (x[k] > x[best]) best = k;
                    Assert.Equal(x[best], y[o]);
                    expectedDx[best] = dy[o];
                }
        Assert.Equal(expectedDx, dx);
    }
}

/// <summary>The same-padding im2col fast paths against the generic loops.</summary>
public class Im2ColSameTests
{
    [Theory]
    [InlineData(1, 3, 28, 28, 3)]
    [InlineData(3, 2, 14, 14, 3)]
    [InlineData(2, 2, 5, 7, 5)]
    [InlineData(2, 3, 1, 1, 3)]
    [InlineData(1, 2, 4, 4, 1)]
    public void RaiseSameInPlace_MatchesGenericRaise(int channels, int batch, int height, int width, int kernel)
    {
        int pad = (kernel - 1) / 2, rows = channels * kernel * kernel, n = batch * height * width;
        float[] col = TestData.Uniform(rows * n, 7);
        float[] expected = TestData.NaNs(channels * n), actual = TestData.NaNs(channels * n);
        Span.Prune.Lab.Training.Kernels.Im2Col.Raise(col, channels, batch, height, width, kernel, pad, expected);
        Span.Prune.Lab.Training.Kernels.Im2Col.RaiseSameInPlace(col, channels, batch, height, width, kernel, pad, actual);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }
}

/// <summary>The chunked convolution against a direct (naive) convolution, forward and weight gradient.</summary>
public class Conv2dReferenceTests
{
    [Theory]
    [InlineData(16, 5, 14, 14, 9)] // 4 images per chunk: 3 chunks
    [InlineData(1, 3, 28, 28, 20)] // 18 images per chunk: 2 chunks
    [InlineData(2, 3, 6, 5, 3)]
    public void Conv2d_MatchesDirectConvolution(int cin, int cout, int h, int w, int batch)
    {
        var layer = new Span.Prune.Lab.Training.Layers.Conv2d(cin, cout, h, w, 3, 1, batch);
        float[] weight = TestData.Uniform(cout * cin * 9, 1), bias = TestData.Uniform(cout, 2);
        weight.CopyTo(layer.Weight);
        bias.CopyTo(layer.Bias);
        float[] x = TestData.Uniform(cin * batch * h * w, 3), dy = TestData.Uniform(cout * batch * h * w, 4);
        float[] y = TestData.NaNs(dy.Length);
        layer.Forward(x, y, batch);
        layer.Backward(x, dy, Span<float>.Empty, batch);
        double[] dw = new double[weight.Length];
        for (int o = 0; o < cout; o++)
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                    {
                        double s = bias[o];
                        for (int c = 0; c < cin; c++)
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++)
                                {
                                    int si = i + ky - 1, sj = j + kx - 1;
                                    if (si < 0 || si >= h || sj < 0 || sj >= w) continue;
                                    float xv = x[((c * batch + b) * h + si) * w + sj];
                                    s += (double)weight[((o * cin + c) * 3 + ky) * 3 + kx] * xv;
                                    dw[((o * cin + c) * 3 + ky) * 3 + kx] += (double)dy[((o * batch + b) * h + i) * w + j] * xv;
                                }
                        Assert.Equal(s, y[((o * batch + b) * h + i) * w + j], 1e-4);
                    }
        for (int i = 0; i < dw.Length; i++) Assert.Equal(dw[i], layer.WeightGradient.Span[i], 1e-3);
    }
}

public class Conv2dLowerInputTests
{
    [Fact]
    public void LowerInput_IsTheChunkOfTheWholeBatchColumns()
    {
        var layer = new Span.Prune.Lab.Training.Layers.Conv2d(3, 2, 5, 5, 3, 1, 6);
        float[] x = TestData.Uniform(3 * 6 * 25, 1);
        float[] all = new float[27 * 6 * 25], part = TestData.NaNs(27 * 2 * 25);
        Span.Prune.Lab.Training.Kernels.Im2Col.Lower(x, 3, 6, 5, 5, 3, 1, all);
        layer.LowerInput(x, 6, first: 3, images: 2, part);
        for (int r = 0; r < 27; r++)
            for (int i = 0; i < 50; i++) Assert.Equal(all[r * 150 + 3 * 25 + i], part[r * 50 + i]);
        Assert.Throws<ArgumentException>(() => layer.LowerInput(x, 6, 5, 2, part));
    }
}
