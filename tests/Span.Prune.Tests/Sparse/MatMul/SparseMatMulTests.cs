using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class SparseMatMulTests
{
    /// <summary>Formats under test; each prunes the same random matrix in its own structure.</summary>
    public static readonly string[] Formats = ["csr", "csr16", "bsr:1x4", "bsr:4x1", "bsr:4x4", "bsr:8x1", "bsr:2x8", "nm:2:4", "nm:1:4", "nm:3:8", "nm:1:8", "nm:2:8", "shrunk"];

    public static IEnumerable<object[]> Cases()
    {
        int[] batches = [1, 3, 8, 12, 17, 32, 33, 64];
        foreach (string format in Formats)
            foreach (var (rows, cols) in new[] { (8, 8), (24, 128), (40, 136), (16, 600) })
                foreach (int batch in batches)
                    yield return [format, rows, cols, batch];
        // Degenerate shapes for the formats without divisibility constraints.
        foreach (string format in new[] { "csr", "csr16", "shrunk" })
            foreach (var (rows, cols) in new[] { (1, 1), (3, 17), (37, 129) })
                foreach (int batch in new[] { 1, 2, 17, 33 })
                    yield return [format, rows, cols, batch];
    }

    /// <summary>A weight pruned in the structure of <paramref name="format"/> and the matching sparse multiply.</summary>
    internal static (float[] Dense, Action<float[], float[], int, int> Multiply) Build(string format, int rows, int cols, double sparsity, int seed)
    {
        float[] w = MatMulReference.Pruned(rows, cols, format.StartsWith("nm", StringComparison.Ordinal) || format.StartsWith("bsr", StringComparison.Ordinal) ? 0 : sparsity, seed);
        var rng = new Random(seed + 99);
        switch (format)
        {
            case "csr":
            {
                var m = CsrMatrix.FromDense(w, rows, cols);
                return (w, (x, y, batch, threads) => { if (threads == 1) MatMul.Multiply(m, x, y, batch); else MatMul.MultiplyParallel(m, x, y, batch, threads); });
            }
            case "csr16":
            {
                var m = Csr16Matrix.FromDense(w, rows, cols);
                return (w, (x, y, batch, threads) => { if (threads == 1) MatMul.Multiply(m, x, y, batch); else MatMul.MultiplyParallel(m, x, y, batch, threads); });
            }
            case "shrunk":
            {
                // Remove ~sparsity of the rows and, independently, a few columns; operands are gathered/scattered around the call.
                byte[] rowKeep = Enumerable.Range(0, rows).Select(_ => rng.NextDouble() < sparsity ? (byte)0 : (byte)1).ToArray();
                byte[] colKeep = Enumerable.Range(0, cols).Select(_ => rng.Next(5) == 0 ? (byte)0 : (byte)1).ToArray();
                for (int r = 0; r < rows; r++) if (rowKeep[r] == 0) Array.Clear(w, r * cols, cols);
                for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) if (colKeep[c] == 0) w[r * cols + c] = 0;
                var m = ShrunkDense.FromDense(w, rows, cols, rowKeep, colKeep);
                return (w, (x, y, batch, threads) =>
                {
                    float[] xs = new float[m.Columns * batch], ys = TestData.NaNs(m.Rows * batch);
                    m.GatherInput(x, xs, batch);
                    if (threads == 1) MatMul.Multiply(m, xs, ys, batch); else MatMul.MultiplyParallel(m, xs, ys, batch, threads);
                    m.ScatterOutput(ys, y, batch);
                });
            }
        }
        if (format.StartsWith("bsr:", StringComparison.Ordinal))
        {
            var g = Granularity.Parse("block:" + format[4..]);
            int br = g.BlockRows, bc = g.BlockCols;
            // Block-prune: zero whole blocks, and a few single elements inside kept blocks (explicit zeros).
            for (int i = 0; i < rows / br; i++)
                for (int j = 0; j < cols / bc; j++)
                {
                    bool drop = rng.NextDouble() < sparsity || i == 1;
                    for (int a = 0; a < br; a++)
                        for (int b = 0; b < bc; b++)
                            if (drop || rng.Next(7) == 0) w[(i * br + a) * cols + j * bc + b] = 0;
                }
            var m = BsrMatrix.FromDense(w, rows, cols, br, bc);
            return (w, (x, y, batch, threads) => { if (threads == 1) MatMul.Multiply(m, x, y, batch); else MatMul.MultiplyParallel(m, x, y, batch, threads); });
        }
        if (format.StartsWith("nm:", StringComparison.Ordinal))
        {
            var g = Granularity.Parse(format);
            int n = g.N, mm = g.M;
            // Keep at most N random entries per group (sometimes fewer, so padding is exercised).
            for (int r = 0; r < rows; r++)
                for (int s = 0; s < cols; s += mm)
                {
                    int keep = rng.Next(4) == 0 ? rng.Next(n + 1) : n;
                    int[] order = Enumerable.Range(0, mm).OrderBy(_ => rng.Next()).ToArray();
                    for (int t = keep; t < mm; t++) w[r * cols + s + order[t]] = 0;
                }
            var m = NmSparseMatrix.FromDense(w, rows, cols, n, mm);
            return (w, (x, y, batch, threads) => { if (threads == 1) MatMul.Multiply(m, x, y, batch); else MatMul.MultiplyParallel(m, x, y, batch, threads); });
        }
        throw new ArgumentException(format);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Multiply_MatchesReference(string format, int rows, int cols, int batch)
    {
        var (w, multiply) = Build(format, rows, cols, 0.7, rows * 7 + cols + batch);
        float[] x = TestData.Uniform(cols * batch, batch + 11);
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);

        float[] y = MatMulReference.Output(rows, batch);
        multiply(x, y, batch, 1);
        MatMulReference.AssertClose(expected, abs, y, cols, format);

        float[] yp = MatMulReference.Output(rows, batch);
        multiply(x, yp, batch, 3);
        for (int i = 0; i < y.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(yp[i]));
    }

    [Theory]
    [InlineData("csr")]
    [InlineData("csr16")]
    [InlineData("bsr:4x4")]
    [InlineData("bsr:8x1")]
    [InlineData("nm:2:4")]
    [InlineData("shrunk")]
    public void AllZeroAndFullyDense_MatchReference(string format)
    {
        const int rows = 16, cols = 64, batch = 5;
        float[] x = TestData.Uniform(cols * batch, 5);
        foreach (double sparsity in new[] { 0.0, 1.0 })
        {
            var (w, multiply) = format.StartsWith("nm", StringComparison.Ordinal) && sparsity == 0
                ? Build(format, rows, cols, 0, 1) // N:M cannot be fully dense; the densest allowed pattern
                : Build(format, rows, cols, sparsity, 1);
            if (sparsity == 1.0) Array.Clear(w);
            var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
            float[] y = MatMulReference.Output(rows, batch);
            if (sparsity == 1.0)
            {
                // Rebuild from the all-zero matrix.
                var (_, zeroMultiply) = BuildFromDense(format, w, rows, cols);
                zeroMultiply(x, y, batch, 1);
            }
            else multiply(x, y, batch, 1);
            MatMulReference.AssertClose(expected, abs, y, cols, format + " sparsity " + sparsity);
        }
    }

    private static (float[], Action<float[], float[], int, int>) BuildFromDense(string format, float[] w, int rows, int cols) => format switch
    {
        "csr" => (w, (x, y, b, _) => MatMul.Multiply(CsrMatrix.FromDense(w, rows, cols), x, y, b)),
        "csr16" => (w, (x, y, b, _) => MatMul.Multiply(Csr16Matrix.FromDense(w, rows, cols), x, y, b)),
        "bsr:4x4" => (w, (x, y, b, _) => MatMul.Multiply(BsrMatrix.FromDense(w, rows, cols, 4, 4), x, y, b)),
        "bsr:8x1" => (w, (x, y, b, _) => MatMul.Multiply(BsrMatrix.FromDense(w, rows, cols, 8, 1), x, y, b)),
        "nm:2:4" => (w, (x, y, b, _) => MatMul.Multiply(NmSparseMatrix.FromDense(w, rows, cols, 2, 4), x, y, b)),
        _ => (w, (x, y, b, _) =>
        {
            var m = ShrunkDense.FromDense(w, rows, cols);
            float[] xs = new float[m.Columns * b], ys = new float[m.Rows * b];
            m.GatherInput(x, xs, b);
            MatMul.Multiply(m, xs, ys, b);
            m.ScatterOutput(ys, y, b);
        }),
    };

    /// <summary>W in every sparse format (BSR 4×4 keeps all blocks; N:M is 2:4 with the first two of each group dropped).</summary>
    internal static (CsrMatrix Csr, Csr16Matrix Csr16, BsrMatrix Bsr, NmSparseMatrix Nm, ShrunkDense Shrunk) EveryFormat(float[] w, int rows, int cols)
    {
        float[] nmDense = (float[])w.Clone();
        for (int i = 0; i < nmDense.Length; i += 4) { nmDense[i] = 0; nmDense[i + 1] = 0; }
        return (CsrMatrix.FromDense(w, rows, cols), Csr16Matrix.FromDense(w, rows, cols), BsrMatrix.FromDense(w, rows, cols, 4, 4),
            NmSparseMatrix.FromDense(nmDense, rows, cols, 2, 4), ShrunkDense.FromDense(w, rows, cols, [], []));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    [InlineData(40)]
    public void Multiply_DoesNotAllocate(int batch)
    {
        const int rows = 64, cols = 256;
        float[] w = MatMulReference.Pruned(rows, cols, 0.8, 3);
        float[] x = TestData.Uniform(cols * batch, 2), y = new float[rows * batch];
        var (csr, csr16, bsr, nm, shrunk) = EveryFormat(w, rows, cols);
        void All()
        {
            MatMul.Multiply(csr, x, y, batch);
            MatMul.Multiply(csr16, x, y, batch);
            MatMul.Multiply(bsr, x, y, batch);
            MatMul.Multiply(nm, x, y, batch);
            MatMul.Multiply(shrunk, x, y, batch);
        }
        AllocationAssert.None(All, 3);
    }

    [Fact]
    public void Multiply_RejectsBadOperands()
    {
        var m = CsrMatrix.FromDense(new float[] { 1, 0, 0, 2, 0, 3 }, 2, 3);
        float[] x = new float[6], y = new float[4];
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => MatMul.Multiply(m, new float[5], y, 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MatMul.Multiply(m, x, new float[3], 2)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => MatMul.Multiply(m, x, x.AsSpan(2, 4), 2)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => MatMul.Multiply(m, x, y, -1)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentNullException>(() => MatMul.Multiply((CsrMatrix)null!, x, y, 2)).ParamName);
        float[] untouched = TestData.NaNs(4);
        Assert.Throws<ArgumentException>(() => MatMul.Multiply(m, new float[5], untouched, 2));
        Assert.All(untouched, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void NonFinite_StoredNaNPropagates_PrunedEntryIgnoresInfinity()
    {
        // Row 0 stores a NaN; row 1 has a pruned entry in the column where X is +∞.
        float[] w = [float.NaN, 1, 0, 0, 2, 0];
        float[] x = [1, 1, float.PositiveInfinity];
        float[] y = new float[2];
        MatMul.Multiply(CsrMatrix.FromDense(w, 2, 3), x, y, 1);
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(2f, y[1]);
        MatMul.Multiply(w, 2, 3, x, y, 1);
        Assert.True(float.IsNaN(y[1])); // the dense product meets 0·∞
    }
}
