using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

/// <summary>
/// The batch-1 CSR kernel: x assembled 8 at a time from scalar loads, indices read 8 bytes at a time. Row r has
/// exactly r stored entries here, so every split into 16-steps, one 8-step and a scalar tail occurs, including empty
/// rows; the 16-bit variant is also checked at the top of its index range (the index words are read unsigned).
/// </summary>
public class CsrSpmvTests
{
    /// <summary>Row r stores min(r, cols) entries (see <see cref="SlicedCsrTests.Structure(int, int, Func{int, int}, int)"/>).</summary>
    private static (int[] RowPointers, int[] Columns, float[] Values) Structure(int rows, int cols, int seed) =>
        SlicedCsrTests.Structure(rows, cols, r => Math.Min(r, cols), seed);

    private static double[] Reference(int[] rp, int[] ci, float[] v, float[] x, out double[] abs)
    {
        int rows = rp.Length - 1;
        var y = new double[rows];
        abs = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int i = rp[r]; i < rp[r + 1]; i++)
            {
                double p = (double)v[i] * x[ci[i]];
                y[r] += p;
                abs[r] += Math.Abs(p);
            }
        return y;
    }

    [Theory]
    [InlineData(41, 64)]
    [InlineData(70, 300)]
    [InlineData(41, Csr16Matrix.MaxColumns)]
    public void EveryRowLength_MatchesReference_BothIndexWidths(int rows, int cols)
    {
        var (rp, ci, v) = Structure(rows, cols, rows + cols);
        float[] x = TestData.Uniform(cols, 5);
        double[] expected = Reference(rp, ci, v, x, out double[] abs);

        var csr = new CsrMatrix(rows, cols, rp, ci, v);
        float[] y = MatMulReference.Output(rows, 1);
        MatMul.Multiply(csr, x, y, 1);
        MatMulReference.AssertClose(expected, abs, y, cols, "csr");

        var csr16 = new Csr16Matrix(rows, cols, rp, ci.Select(c => (ushort)c).ToArray(), v);
        float[] y16 = MatMulReference.Output(rows, 1);
        MatMul.Multiply(csr16, x, y16, 1);
        Assert.Equal(y, y16); // same order of operations whatever the index width

        float[] yp = MatMulReference.Output(rows, 1);
        MatMul.MultiplyParallel(csr16, x, yp, 1, 2);
        Assert.Equal(y, yp);
    }

    [Fact]
    public void HighColumnIndices_ReadUnsigned()
    {
        // One row touching the last columns of a 65,536-wide matrix (16-bit indices 0xFFF0 … 0xFFFF).
        const int cols = Csr16Matrix.MaxColumns, nnz = 16;
        int[] rp = [0, nnz];
        int[] ci = Enumerable.Range(cols - nnz, nnz).ToArray();
        float[] v = Enumerable.Range(1, nnz).Select(i => (float)i).ToArray();
        float[] x = new float[cols];
        for (int i = 0; i < nnz; i++) x[cols - nnz + i] = 1f / (1 << i);
        double expected = 0;
        for (int i = 0; i < nnz; i++) expected += (double)v[i] * x[ci[i]];
        float[] y = new float[1], y16 = new float[1];
        MatMul.Multiply(new CsrMatrix(1, cols, rp, ci, v), x, y, 1);
        MatMul.Multiply(new Csr16Matrix(1, cols, rp, ci.Select(c => (ushort)c).ToArray(), v), x, y16, 1);
        Assert.Equal(expected, y[0], 1e-5);
        Assert.Equal(y[0], y16[0]);
    }
}
