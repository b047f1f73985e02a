using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class NmSparseMatrixTests
{
    [Theory]
    [InlineData(2, 4, 5, 32)]
    [InlineData(1, 4, 3, 12)]
    [InlineData(3, 8, 4, 40)]
    [InlineData(1, 1, 2, 3)]
    [InlineData(4, 4, 2, 8)]
    [InlineData(2, 256, 2, 512)]
    public void FromDense_RoundTripsExactly_AndPadsShortGroups(int n, int m, int rows, int cols)
    {
        var rng = new Random(n * 100 + m);
        float[] w = TestData.Normal(rows * cols, m);
        for (int r = 0; r < rows; r++)
            for (int s = 0; s < cols; s += m)
            {
                int keep = rng.Next(n + 1); // 0..N non-zeros: short groups are padded
                int[] order = Enumerable.Range(0, m).OrderBy(_ => rng.Next()).ToArray();
                for (int t = keep; t < m; t++) w[r * cols + s + order[t]] = rng.Next(2) == 0 ? 0f : -0f;
            }
        var nm = NmSparseMatrix.FromDense(w, rows, cols, n, m);
        Assert.Equal(cols / m * n, nm.KeptPerRow);
        Assert.Equal(NmSparseMatrix.CompressedLength(rows, cols, n, m), nm.Values.Length);

        // Each group: N strictly increasing positions below M, holding every non-zero of the group.
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < cols / m; g++)
            {
                int o = r * nm.KeptPerRow + g * n;
                byte[] pos = nm.Indices.Slice(o, n).ToArray();
                Assert.Equal(pos.OrderBy(p => p).Distinct(), pos);
                Assert.All(pos, p => Assert.True(p < m));
                for (int j = 0; j < m; j++)
                    if (w[r * cols + g * m + j] != 0f) Assert.Contains((byte)j, pos);
            }

        float[] back = TestData.NaNs(w.Length + 1);
        nm.ToDense(back);
        for (int i = 0; i < w.Length; i++) Assert.True(w[i] == back[i], $"element {i}");
        Assert.True(float.IsNaN(back[^1]));

        var copy = new NmSparseMatrix(rows, cols, n, m, nm.Values, nm.Indices);
        Assert.Equal(nm.Indices.ToArray(), copy.Indices.ToArray());
    }

    [Fact]
    public void TooManyNonZerosInGroup_ThrowsNamingRowAndGroup_BeforeWriting()
    {
        float[] w = new float[2 * 8];
        w[8 + 4] = 1; w[8 + 5] = 2; w[8 + 7] = 3; // row 1, group 1 has three non-zeros
        float[] values = TestData.NaNs(8);
        byte[] indices = new byte[8];
        var e = Assert.Throws<ArgumentException>(() => NmSparseMatrix.Fill(w, 2, 8, 2, 4, values, indices));
        Assert.Equal("dense", e.ParamName);
        Assert.Contains("Row 1, group 1", e.Message);
        Assert.Contains("has 3 non-zeros", e.Message);
        Assert.All(values, v => Assert.True(float.IsNaN(v)));

        byte[] mask = new byte[16];
        mask[0] = mask[1] = mask[2] = 1;
        e = Assert.Throws<ArgumentException>(() => NmSparseMatrix.FromDense(new float[16], mask, 2, 8, 2, 4));
        Assert.Equal("mask", e.ParamName);
        Assert.Contains("Row 0, group 0", e.Message);
    }

    [Fact]
    public void MaskOverload_StoresKeptEntries()
    {
        float[] w = TestData.Normal(16, 1);
        byte[] mask = [1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0];
        var nm = NmSparseMatrix.FromDense(w, mask, 2, 8, 2, 4);
        float[] back = new float[16];
        nm.ToDense(back);
        for (int i = 0; i < 16; i++) Assert.Equal(mask[i] != 0 ? w[i] : 0f, back[i]);
        float[] v = new float[8];
        byte[] ix = new byte[8];
        NmSparseMatrix.Fill(w, mask, 2, 8, 2, 4, v, ix);
        Assert.Equal(nm.Values.ToArray(), v);
        Assert.Equal(nm.Indices.ToArray(), ix);
    }

    [Fact]
    public void InvalidShapesAndStructures_Throw()
    {
        Assert.Equal("m", Assert.Throws<ArgumentException>(() => NmSparseMatrix.FromDense(new float[10], 2, 5, 2, 4)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => NmSparseMatrix.FromDense(new float[514], 1, 514, 1, 257)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => NmSparseMatrix.FromDense(new float[8], 2, 4, 5, 4)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => NmSparseMatrix.FromDense(new float[8], 2, 4, 0, 4)).ParamName);
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => NmSparseMatrix.FromDense(new float[7], 2, 4, 2, 4)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => NmSparseMatrix.Fill(new float[8], 2, 4, 2, 4, new float[3], new byte[4])).ParamName);

        float[] v = new float[4];
        var e = Assert.Throws<ArgumentException>(() => new NmSparseMatrix(2, 4, 2, 4, v, [0, 4, 1, 2]));
        Assert.Equal("indices", e.ParamName);
        Assert.Contains("outside [0, 4)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new NmSparseMatrix(2, 4, 2, 4, v, [0, 1, 2, 2]));
        Assert.Equal("indices", e.ParamName);
        Assert.Contains("strictly increasing", e.Message);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => new NmSparseMatrix(2, 4, 2, 4, v, [1, 0, 1, 2])).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => new NmSparseMatrix(2, 4, 2, 4, new float[3], [0, 1, 1, 2])).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => new NmSparseMatrix(2, 4, 2, 4, v, [0, 1, 1])).ParamName);
    }
}
