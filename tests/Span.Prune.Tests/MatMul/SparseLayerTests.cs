using Span.Prune.Sparse;
namespace Span.Prune.Tests.MatMul;

public class SparseLayerTests
{
    [Theory]
    [InlineData("dense", SparseFormat.Dense)]
    [InlineData("csr", SparseFormat.Csr)]
    [InlineData("CSR16", SparseFormat.Csr16)]
    [InlineData("bsr:4x4", SparseFormat.Bsr)]
    [InlineData("bsr:8x1", SparseFormat.Bsr)]
    [InlineData("nm:2:4", SparseFormat.NM)]
    [InlineData("shrunk", SparseFormat.Shrunk)]
    public void Create_EveryFormat_MatchesReference(string format, SparseFormat kind)
    {
        const int rows = 32, cols = 64;
        // 2:4-compatible, with whole zero rows and columns so that every format applies.
        float[] w = TestData.Normal(rows * cols, 1);
        for (int i = 0; i < w.Length; i += 4) { w[i + 1] = 0; w[i + 2] = 0; }
        Array.Clear(w, 5 * cols, cols);
        for (int r = 0; r < rows; r++) w[r * cols + 7] = 0;
        var layer = SparseLayer.Create(w, rows, cols, format);
        Assert.Equal(kind, layer.Format);
        Assert.Equal(format.ToLowerInvariant(), layer.Description);
        foreach (int batch in new[] { 1, 5, 32 })
        {
            float[] x = TestData.Uniform(cols * batch, batch);
            var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
            float[] y = MatMulReference.Output(rows, batch);
            layer.Multiply(x, y, batch);
            MatMulReference.AssertClose(expected, abs, y, cols, format);
            float[] yp = MatMulReference.Output(rows, batch);
            layer.MultiplyParallel(x, yp, batch, 2);
            Assert.Equal(y, yp);
        }
    }

    [Fact]
    public void Prepare_TimesCandidates_AndPicksOne()
    {
        const int rows = 64, cols = 128, batch = 8;
        float[] w = MatMulReference.Pruned(rows, cols, 0.95, 2);
        var layer = SparseLayer.Prepare(w, rows, cols, batch, rounds: 1);
        Assert.Contains(layer.Candidates, c => c.Format == "dense");
        Assert.Contains(layer.Candidates, c => c.Format == "csr16");
        Assert.Contains(layer.Candidates, c => c.Format == layer.Description);
        Assert.All(layer.Candidates, c => Assert.True(c.Milliseconds > 0));
        // Dense wins unless the winner is more than 10% faster.
        double dense = layer.Candidates.First(c => c.Format == "dense").Milliseconds;
        double chosen = layer.Candidates.First(c => c.Format == layer.Description).Milliseconds;
        Assert.True(layer.Format == SparseFormat.Dense || chosen * 1.1 < dense);
        Assert.True(layer.Format == SparseFormat.Dense || layer.Candidates.Min(c => c.Milliseconds) == chosen);

        float[] x = TestData.Uniform(cols * batch, 3);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
        float[] y = MatMulReference.Output(rows, batch);
        layer.Multiply(x, y, batch);
        MatMulReference.AssertClose(expected, abs, y, cols, layer.Description);

        // An infinite margin always keeps dense.
        Assert.Equal(SparseFormat.Dense, SparseLayer.Prepare(w, rows, cols, batch, double.PositiveInfinity, 1).Format);
    }

    [Fact]
    public void Create_RejectsUnusableFormats()
    {
        float[] w = TestData.Normal(8 * 8, 1);
        Assert.Equal("format", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, "coo")).ParamName);
        Assert.Equal("format", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, "bsr:4")).ParamName);
        var e = Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, "nm:2:4")); // dense rows exceed 2 per group
        Assert.Equal("format", e.ParamName);
        Assert.Contains("Row 0, group 0", e.Message);
        Assert.Equal("format", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, "bsr:3x1")).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 7, "csr")).ParamName);
        Assert.Equal("batchHint", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayer.Prepare(w, 8, 8, 0)).ParamName);
    }

    [Fact]
    public void Shrunk_Multiply_DoesNotAllocate()
    {
        const int rows = 16, cols = 32, batch = 4;
        float[] w = TestData.Normal(rows * cols, 1);
        Array.Clear(w, 0, cols);
        for (int r = 0; r < rows; r++) w[r * cols + 3] = 0;
        var layer = SparseLayer.Create(w, rows, cols, "shrunk");
        float[] x = TestData.Uniform(cols * batch, 2), y = new float[rows * batch];
        AllocationAssert.None(() => layer.Multiply(x, y, batch), 3);
    }

    [Fact]
    public void Prepare_HonoursTheForcingEnvironmentVariable()
    {
        float[] w = MatMulReference.Pruned(16, 32, 0.5, 4);
        try
        {
            Environment.SetEnvironmentVariable(SparseLayer.FormatEnvironmentVariable, "csr");
            var layer = SparseLayer.Prepare(w, 16, 32, 4);
            Assert.Equal(SparseFormat.Csr, layer.Format);
            Assert.Empty(layer.Candidates);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SparseLayer.FormatEnvironmentVariable, null);
        }
    }
}
