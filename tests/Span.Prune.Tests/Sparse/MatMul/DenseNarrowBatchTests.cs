using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

/// <summary>
/// Batches 2 … 8 run the grouped-k kernel on AVX-512 (k-steps packed into the lanes a narrow batch leaves free);
/// on other machines the same tests cover the GEMM path. Every column count 1 … 17 exercises each partial last
/// group (G = 2, 4, 8), every row count up to 17 the 8-row blocks and the single leftover rows.
/// </summary>
public class DenseNarrowBatchTests
{
    public static IEnumerable<object[]> Cases()
    {
        for (int batch = 2; batch <= 9; batch++)
            foreach (int cols in new[] { 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 63, 130 })
                foreach (int rows in new[] { 1, 7, 8, 9, 17, 50 })
                    yield return [rows, cols, batch];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multiply_MatchesReference_AndParallelIsBitIdentical(int rows, int cols, int batch)
    {
        float[] w = TestData.Normal(rows * cols, rows * 131 + cols * 7 + batch);
        float[] x = TestData.Uniform(cols * batch, batch * 3 + cols);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);

        float[] y = MatMulReference.Output(rows, batch);
        MatMul.Multiply(w, rows, cols, x, y, batch);
        MatMulReference.AssertClose(expected, abs, y, cols, $"dense {rows}x{cols} b{batch}");

        float[] yp = MatMulReference.Output(rows, batch);
        MatMul.MultiplyParallel(w, rows, cols, x, yp, batch, 2);
        for (int i = 0; i < y.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(yp[i]));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(8)]
    public void LargeMatrix_ParallelIsBitIdentical_AndRepeatable(int batch)
    {
        const int rows = 203, cols = 701;
        float[] w = TestData.Normal(rows * cols, 11);
        float[] x = TestData.Normal(cols * batch, 12);
        float[] y1 = new float[rows * batch], y2 = new float[rows * batch];
        MatMul.Multiply(w, rows, cols, x, y1, batch);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
        MatMulReference.AssertClose(expected, abs, y1, cols, "dense");
        MatMul.MultiplyParallel(w, rows, cols, x, y2, batch, -1);
        Assert.Equal(y1, y2);
        MatMul.Multiply(w, rows, cols, x, y2, batch);
        Assert.Equal(y1, y2);
    }

    /// <summary>A NaN or infinity in W or X reaches exactly the outputs it should (the zero padding lanes must not turn ∞ into NaN elsewhere).</summary>
    [Theory]
    [InlineData(3, 5)]
    [InlineData(8, 9)]
    [InlineData(2, 7)]
    public void NonFinite_PropagatesOnlyWhereItShould(int batch, int cols)
    {
        const int rows = 10;
        float[] w = TestData.Uniform(rows * cols, 1);
        float[] x = TestData.Uniform(cols * batch, 2);
        w[3 * cols + cols - 1] = float.NaN;            // row 3, last (tail-group) column
        x[(cols - 1) * batch + batch - 1] = float.PositiveInfinity; // X[last k, last column]
        float[] y = MatMulReference.Output(rows, batch);
        MatMul.Multiply(w, rows, cols, x, y, batch);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < batch; j++)
            {
                float v = y[r * batch + j];
                if (r == 3) Assert.True(float.IsNaN(v), $"row 3 col {j}");
                else if (j == batch - 1) Assert.True(float.IsInfinity(v), $"row {r} col {j}: {v}");
                else Assert.True(float.IsFinite(v), $"row {r} col {j}: {v}");
            }
        Assert.All(y.AsSpan(rows * batch).ToArray(), v => Assert.True(float.IsNaN(v)));
    }
}
