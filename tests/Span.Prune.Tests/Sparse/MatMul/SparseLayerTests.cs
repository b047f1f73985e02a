using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

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
        var layer = SparseLayer.Create(w, rows, cols, SparseLayout.Parse(format));
        Assert.Equal(kind, layer.Layout.Format);
        Assert.Equal(format.ToLowerInvariant(), layer.Layout.ToString());
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
        Assert.Contains(layer.Candidates, c => c.Layout == SparseLayout.Dense);
        Assert.Contains(layer.Candidates, c => c.Layout == SparseLayout.Csr16);
        Assert.Contains(layer.Candidates, c => c.Layout == layer.Layout);
        Assert.All(layer.Candidates, c => Assert.True(c.Milliseconds > 0));
        // Dense wins unless the winner is more than 10% faster.
        double dense = layer.Candidates.First(c => c.Layout == SparseLayout.Dense).Milliseconds;
        double chosen = layer.Candidates.First(c => c.Layout == layer.Layout).Milliseconds;
        Assert.True(layer.Layout.Format == SparseFormat.Dense || chosen * 1.1 < dense);
        Assert.True(layer.Layout.Format == SparseFormat.Dense || layer.Candidates.Min(c => c.Milliseconds) == chosen);

        float[] x = TestData.Uniform(cols * batch, 3);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
        float[] y = MatMulReference.Output(rows, batch);
        layer.Multiply(x, y, batch);
        MatMulReference.AssertClose(expected, abs, y, cols, layer.Layout.ToString());

        // An infinite margin always keeps dense.
        Assert.Equal(SparseFormat.Dense, SparseLayer.Prepare(w, rows, cols, batch, double.PositiveInfinity, 1).Layout.Format);
    }

    [Fact]
    public void Create_RejectsUnusableFormats()
    {
        float[] w = TestData.Normal(8 * 8, 1);
        var e = Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, SparseLayout.NM(2, 4))); // dense rows exceed 2 per group
        Assert.Equal("layout", e.ParamName);
        Assert.Contains("more than 2 non-zeros", e.Message);
        Assert.Equal("layout", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, SparseLayout.Bsr(3, 1))).ParamName);
        Assert.Equal("layout", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 8, SparseLayout.NM(1, 3))).ParamName);
        float[] wide = new float[Csr16Matrix.MaxColumns + 1];
        Assert.Equal("layout", Assert.Throws<ArgumentException>(() => SparseLayer.Create(wide, 1, wide.Length, SparseLayout.Csr16)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => SparseLayer.Create(w, 8, 7, SparseLayout.Csr)).ParamName);
        Assert.Equal("batchHint", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayer.Prepare(w, 8, 8, 0)).ParamName);
    }

    [Fact]
    public void Shrunk_Multiply_DoesNotAllocate()
    {
        const int rows = 16, cols = 32, batch = 4;
        float[] w = TestData.Normal(rows * cols, 1);
        Array.Clear(w, 0, cols);
        for (int r = 0; r < rows; r++) w[r * cols + 3] = 0;
        var layer = SparseLayer.Create(w, rows, cols, SparseLayout.Shrunk);
        float[] x = TestData.Uniform(cols * batch, 2), y = new float[rows * batch];
        AllocationAssert.None(() => layer.Multiply(x, y, batch), 3);
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("csr")]
    [InlineData("csr16")]
    [InlineData("shrunk")]
    [InlineData("bsr:4x4")]
    [InlineData("bsr:1x8")]
    [InlineData("nm:2:4")]
    [InlineData("nm:1:16")]
    public void Layout_TextRoundTrips(string text) => Assert.Equal(text, SparseLayout.Parse(text).ToString());

    [Theory]
    [InlineData("coo")]
    [InlineData("bsr:4")]
    [InlineData("bsr:4:4")]
    [InlineData("nm:2x4")]
    [InlineData("nm:5:4")]
    [InlineData("nm:0:4")]
    [InlineData("nm:1:256")]
    [InlineData("bsr:0x4")]
    [InlineData("")]
    public void Layout_Parse_RejectsBadText(string text) => Assert.Throws<FormatException>(() => SparseLayout.Parse(text));

    [Fact]
    public void Layout_Factories_RejectBadParameters()
    {
        Assert.Equal("blockRows", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayout.Bsr(0, 4)).ParamName);
        Assert.Equal("blockColumns", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayout.Bsr(4, -1)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayout.NM(5, 4)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => SparseLayout.NM(1, 256)).ParamName);
        Assert.Equal((1, 1, 2, 4), (SparseLayout.NM(2, 4).BlockRows, SparseLayout.NM(2, 4).BlockColumns, SparseLayout.NM(2, 4).N, SparseLayout.NM(2, 4).M));
        Assert.Equal((8, 1, 1, 1), (SparseLayout.Bsr(8, 1).BlockRows, SparseLayout.Bsr(8, 1).BlockColumns, SparseLayout.Bsr(8, 1).N, SparseLayout.Bsr(8, 1).M));
    }

    [Fact]
    public void Create_ForcesTheGivenLayout_WithoutTiming()
    {
        float[] w = MatMulReference.Pruned(16, 32, 0.5, 4);
        var layer = SparseLayer.Create(w, 16, 32, SparseLayout.Csr);
        Assert.Equal(SparseFormat.Csr, layer.Layout.Format);
        Assert.Empty(layer.Candidates);
    }
}
