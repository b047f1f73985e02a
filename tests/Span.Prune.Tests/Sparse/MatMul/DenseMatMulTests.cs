using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class DenseMatMulTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var (rows, cols) in MatMulReference.Shapes())
            foreach (int batch in MatMulReference.Batches)
                yield return [rows, cols, batch];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multiply_MatchesReference(int rows, int cols, int batch)
    {
        float[] w = TestData.Uniform(rows * cols, rows * 31 + cols);
        float[] x = TestData.Uniform(cols * batch, batch + 7);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);

        float[] y = MatMulReference.Output(rows, batch);
        MatMul.Multiply(w, rows, cols, x, y, batch);
        MatMulReference.AssertClose(expected, abs, y, cols, "dense");

        float[] yp = MatMulReference.Output(rows, batch);
        MatMul.MultiplyParallel(w, rows, cols, x, yp, batch);
        Assert.Equal(y, yp); // bit for bit (NaN sentinels compare equal in Assert.Equal on floats)
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(128)]
    public void MultiplyParallel_LargeMatrix_IsBitIdentical(int batch)
    {
        const int rows = 203, cols = 700; // enough rows for several row chunks, cols past one k-block
        float[] w = TestData.Normal(rows * cols, 3);
        float[] x = TestData.Normal(cols * batch, 4);
        float[] y1 = new float[rows * batch], y2 = new float[rows * batch];
        MatMul.Multiply(w, rows, cols, x, y1, batch);
        foreach (int threads in new[] { 2, 3, -1 })
        {
            MatMul.MultiplyParallel(w, rows, cols, x, y2, batch, threads);
            for (int i = 0; i < y1.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(y1[i]), BitConverter.SingleToInt32Bits(y2[i]));
        }
    }

    [Fact]
    public void Multiply_ZeroColumns_WritesZeros()
    {
        float[] y = MatMulReference.Output(4, 5);
        MatMul.Multiply([], 4, 0, [], y, 5);
        Assert.All(y.AsSpan(0, 20).ToArray(), v => Assert.Equal(0f, v));
        Assert.True(float.IsNaN(y[20]));
    }

    [Fact]
    public void Multiply_PropagatesNaN()
    {
        float[] w = [1, float.NaN, 2, 3];
        float[] x = [1, 1];
        float[] y = new float[2];
        MatMul.Multiply(w, 2, 2, x, y, 1);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(5f, y[1]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(64)]
    public void Multiply_DoesNotAllocate(int batch)
    {
        const int rows = 37, cols = 129;
        float[] w = TestData.Uniform(rows * cols, 1), x = TestData.Uniform(cols * batch, 2), y = new float[rows * batch];
        AllocationAssert.None(() => MatMul.Multiply(w, rows, cols, x, y, batch), 5);
    }

    [Fact]
    public void Multiply_RejectsBadArguments()
    {
        float[] w = new float[6], x = new float[6], y = new float[4];
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(w, -1, 3, x, y, 2)).ParamName);
        Assert.Equal("cols", Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(w, 2, -3, x, y, 2)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(w, 2, 3, x, y, -2)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 4, x, y, 2)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 3, new float[5], y, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 3, x, new float[3], 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 3, x, x.AsSpan(0, 4), 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 3, x, w.AsSpan(2, 4), 2)).ParamName);
        float[] untouched = TestData.NaNs(4);
        Assert.Throws<ArgumentException>(() => MatMul.Multiply(w, 2, 3, new float[5], untouched, 2));
        Assert.All(untouched, v => Assert.True(float.IsNaN(v)));
    }
}
