using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class ShrunkDenseTests
{
    [Fact]
    public void FromDense_RemovesZeroRowsAndColumns_RoundTrips()
    {
        const int rows = 6, cols = 7;
        float[] w = TestData.Normal(rows * cols, 1);
        foreach (int r in new[] { 1, 4 }) Array.Clear(w, r * cols, cols);
        for (int r = 0; r < rows; r++) { w[r * cols + 2] = 0; w[r * cols + 6] = -0f; }
        var s = ShrunkDense.FromDense(w, rows, cols);
        Assert.Equal([0, 2, 3, 5], s.RowMap.ToArray());
        Assert.Equal([0, 1, 3, 4, 5], s.ColumnMap.ToArray());
        Assert.Equal(4, s.Rows);
        Assert.Equal(5, s.Columns);
        for (int i = 0; i < s.Rows; i++)
            for (int j = 0; j < s.Columns; j++)
                Assert.Equal(w[s.RowMap[i] * cols + s.ColumnMap[j]], s.Weights[i * s.Columns + j]);
        float[] back = TestData.NaNs(rows * cols);
        s.ToDense(back);
        for (int i = 0; i < w.Length; i++) Assert.True(w[i] == back[i]);
    }

    [Fact]
    public void Masks_FillAndComposition()
    {
        const int rows = 5, cols = 4;
        float[] w = TestData.Normal(rows * cols, 2);
        byte[] rowMask = [1, 0, 1, 1, 0], colMask = [0, 1, 1, 1];
        var s = ShrunkDense.FromDense(w, rows, cols, rowMask, colMask);
        Assert.Equal([0, 2, 3], s.RowMap.ToArray());
        Assert.Equal([1, 2, 3], s.ColumnMap.ToArray());

        float[] fw = new float[9];
        int[] rm = new int[3], cm = new int[3];
        ShrunkDense.Fill(w, rows, cols, rowMask, colMask, fw, rm, cm);
        Assert.Equal(s.Weights.ToArray(), fw);
        Assert.Equal(s.RowMap.ToArray(), rm);
        Assert.Equal("rowMap", Assert.Throws<ArgumentException>(() => ShrunkDense.Fill(w, rows, cols, rowMask, colMask, fw, new int[2], cm)).ParamName);

        var t = s.RemoveRows([1, 0, 1]).RemoveColumns([1, 1, 0]);
        Assert.Equal([0, 3], t.RowMap.ToArray());
        Assert.Equal([1, 2], t.ColumnMap.ToArray());
        Assert.Equal(w[3 * cols + 2], t.Weights[3]);
        var direct = ShrunkDense.FromDense(w, rows, cols, [1, 0, 0, 1, 0], [0, 1, 1, 0]);
        Assert.Equal(direct.Weights.ToArray(), t.Weights.ToArray());

        var copy = new ShrunkDense(rows, cols, t.RowMap, t.ColumnMap, t.Weights);
        Assert.Equal(t.Weights.ToArray(), copy.Weights.ToArray());
        Assert.Equal("rowMap", Assert.Throws<ArgumentException>(() => new ShrunkDense(rows, cols, [3, 0], t.ColumnMap, t.Weights)).ParamName);
        Assert.Equal("columnMap", Assert.Throws<ArgumentException>(() => new ShrunkDense(rows, cols, t.RowMap, [1, 4], t.Weights)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => new ShrunkDense(rows, cols, t.RowMap, t.ColumnMap, new float[3])).ParamName);
        Assert.Equal("rowMask", Assert.Throws<ArgumentException>(() => ShrunkDense.FromDense(w, rows, cols, new byte[4], [])).ParamName);
    }

    [Fact]
    public void GatherScatter_AreInverseOnKeptEntries()
    {
        const int rows = 4, cols = 5, batch = 3;
        var s = ShrunkDense.FromDense(TestData.Normal(rows * cols, 3), rows, cols, [1, 0, 1, 0], [1, 1, 0, 1, 0]);
        float[] x = TestData.Uniform(cols * batch, 4), xs = new float[s.Columns * batch];
        s.GatherInput(x, xs, batch);
        for (int j = 0; j < s.Columns; j++)
            for (int b = 0; b < batch; b++) Assert.Equal(x[s.ColumnMap[j] * batch + b], xs[j * batch + b]);
        float[] ys = TestData.Uniform(s.Rows * batch, 5), y = TestData.NaNs(rows * batch);
        s.ScatterOutput(ys, y, batch);
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < batch; b++)
            {
                int k = s.RowMap.IndexOf(r);
                Assert.Equal(k >= 0 ? ys[k * batch + b] : 0f, y[r * batch + b]);
            }
    }

    /// <summary>
    /// Removing unit j of A removes row j of A, channel j of the BatchNorm and column j of B: the shrunk chain must
    /// compute exactly what the full chain computes when unit j's contribution to B is dropped.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void UnitRemoval_ShrunkChainMatchesMaskedFullChain(int kernelSize)
    {
        const int inA = 6, units = 5, outB = 4, batch = 2;
        int colsB = units * kernelSize;
        float[] a = TestData.Normal(units * inA, 1), b = TestData.Normal(outB * colsB, 2);
        float[] gamma = TestData.Uniform(units, 3), beta = TestData.Uniform(units, 4), mean = TestData.Uniform(units, 5);
        float[] variance = TestData.Uniform(units, 6).Select(v => v * v + 0.5f).ToArray();
        var bn = new BatchNormParameters(gamma, beta, mean, variance);
        byte[] keep = [1, 0, 1, 1, 0];
        var result = UnitRemoval.RemoveUnits(
            ShrunkDense.FromDense(a, units, inA, [], []), ShrunkDense.FromDense(b, outB, colsB, [], []), keep, bn, kernelSize);
        Assert.Equal(3, result.Producer.Rows);
        Assert.Equal(3 * kernelSize, result.Consumer.Columns);
        Assert.Equal(3, result.Norm!.Count);
        Assert.Equal(new[] { gamma[0], gamma[2], gamma[3] }, result.Norm.Gamma.ToArray());
        Assert.Equal(new[] { variance[0], variance[2], variance[3] }, result.Norm.RunningVariance.ToArray());

        // Full chain in double with dropped units, treating each unit's output as repeated over its K columns of B.
        float[] x = TestData.Uniform(inA * batch, 7);
        double[] Chain(float[] wa, int na, float[] wb, int nb, BatchNormParameters norm, Func<int, bool> kept, int ncolsB)
        {
            var h = new double[na * kernelSize * batch];
            for (int u = 0; u < na; u++)
                for (int t = 0; t < batch; t++)
                {
                    double s = 0;
                    for (int k = 0; k < inA; k++) s += (double)wa[u * inA + k] * x[k * batch + t];
                    double v = kept(u) ? norm.Gamma[u] * (s - norm.RunningMean[u]) / Math.Sqrt(norm.RunningVariance[u] + norm.Epsilon) + norm.Beta[u] : 0;
                    for (int q = 0; q < kernelSize; q++) h[(u * kernelSize + q) * batch + t] = v;
                }
            var y = new double[nb * batch];
            for (int o = 0; o < nb; o++)
                for (int c = 0; c < ncolsB; c++)
                    for (int t = 0; t < batch; t++) y[o * batch + t] += wb[o * ncolsB + c] * h[c * batch + t];
            return y;
        }
        double[] full = Chain(a, units, b, outB, bn, u => keep[u] != 0, colsB);
        double[] shrunk = Chain(result.Producer.Weights.ToArray(), 3, result.Consumer.Weights.ToArray(), outB, result.Norm, _ => true, 3 * kernelSize);
        for (int i = 0; i < full.Length; i++) Assert.Equal(full[i], shrunk[i], 9);

        Assert.Equal("keep", Assert.Throws<ArgumentException>(() => UnitRemoval.RemoveUnits(result.Producer, result.Consumer, new byte[2], null, kernelSize)).ParamName);
        Assert.Equal("consumer", Assert.Throws<ArgumentException>(() => UnitRemoval.RemoveUnits(result.Producer, result.Producer, [1, 1, 1], null, kernelSize == 1 ? 4 : 1)).ParamName);
        Assert.Equal("norm", Assert.Throws<ArgumentException>(() => UnitRemoval.RemoveUnits(result.Producer, result.Consumer, [1, 1, 1], bn, kernelSize)).ParamName);
    }

    [Fact]
    public void RemoveEntries_CopiesKept()
    {
        float[] bias = [1, 2, 3, 4];
        float[] dst = TestData.NaNs(3);
        Assert.Equal(2, UnitRemoval.RemoveEntries(bias, [0, 1, 0, 1], dst));
        Assert.Equal(2f, dst[0]);
        Assert.Equal(4f, dst[1]);
        Assert.True(float.IsNaN(dst[2]));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => UnitRemoval.RemoveEntries(bias, [1, 1, 0, 1], new float[2])).ParamName);
        Assert.Equal("runningMean", Assert.Throws<ArgumentException>(() => new BatchNormParameters(bias, bias, new float[3], bias)).ParamName);
    }
}
