using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class CsrMatrixTests
{
    public static IEnumerable<object[]> Shapes() =>
        new[] { (0, 0), (0, 5), (4, 0), (1, 1), (3, 17), (37, 129), (64, 256), (5, 1000) }.Select(s => new object[] { s.Item1, s.Item2 });

    private static void AssertSameValues(float[] expected, float[] actual)
    {
        // Exact, with the documented exception that −0 comes back as +0 (== treats them as equal).
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i] || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])), $"element {i}: {actual[i]} != {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FromDense_RoundTripsExactly(int rows, int cols)
    {
        float[] w = Span.Prune.Tests.Sparse.MatMulReference.Pruned(rows, cols, 0.8, rows + cols);
        if (w.Length > 3) w[3] = float.NaN; // NaN is not zero: stored and returned
        var csr = CsrMatrix.FromDense(w, rows, cols);
        var csr16 = Csr16Matrix.FromDense(w, rows, cols);
        int expectedNnz = w.Count(v => v != 0f);
        Assert.Equal(expectedNnz, csr.NonZeroCount);
        Assert.Equal(expectedNnz, CsrMatrix.CountNonZeros(w));
        Assert.Equal(expectedNnz, csr16.NonZeroCount);

        float[] back = TestData.NaNs(w.Length + 2);
        csr.ToDense(back);
        AssertSameValues(w, back[..w.Length]);
        Assert.True(float.IsNaN(back[^1]));
        back = TestData.NaNs(w.Length);
        csr16.ToDense(back);
        AssertSameValues(w, back);

        // Structure by definition: row r holds its non-zeros in column order.
        for (int r = 0; r < rows; r++)
        {
            int[] cols0 = Enumerable.Range(0, cols).Where(c => w[r * cols + c] != 0f).ToArray();
            Assert.Equal(cols0, csr.ColumnIndices[csr.RowPointers[r]..csr.RowPointers[r + 1]].ToArray());
            Assert.Equal(cols0.Select(c => (ushort)c), csr16.ColumnIndices[csr16.RowPointers[r]..csr16.RowPointers[r + 1]].ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FromDense_WithMask_KeepsMaskedEntries(int rows, int cols)
    {
        float[] w = TestData.Normal(rows * cols, 5);
        var rng = new Random(6);
        byte[] mask = Enumerable.Range(0, w.Length).Select(_ => rng.Next(3) == 0 ? (byte)rng.Next(1, 255) : (byte)0).ToArray();
        if (w.Length > 0) { w[0] = 0f; mask[0] = 1; } // a kept zero is stored explicitly
        var csr = CsrMatrix.FromDense(w, mask, rows, cols);
        Assert.Equal(mask.Count(b => b != 0), csr.NonZeroCount);
        Assert.Equal(csr.NonZeroCount, CsrMatrix.CountNonZeros(mask));
        float[] back = new float[w.Length];
        csr.ToDense(back);
        for (int i = 0; i < w.Length; i++) Assert.Equal(mask[i] != 0 ? w[i] : 0f, back[i]);
    }

    [Fact]
    public void Fill_WritesCallerBuffers_TwoPhase()
    {
        const int rows = 9, cols = 40;
        float[] w = Span.Prune.Tests.Sparse.MatMulReference.Pruned(rows, cols, 0.6, 3);
        int nnz = CsrMatrix.CountNonZeros(w);
        int[] rp = new int[rows + 1], ci = new int[nnz + 2];
        float[] v = new float[nnz + 2];
        Assert.Equal(nnz, CsrMatrix.Fill(w, rows, cols, rp, ci, v));
        var fromArrays = new CsrMatrix(rows, cols, rp, ci.AsSpan(0, nnz), v.AsSpan(0, nnz));
        var reference = CsrMatrix.FromDense(w, rows, cols);
        Assert.Equal(reference.RowPointers.ToArray(), fromArrays.RowPointers.ToArray());
        Assert.Equal(reference.ColumnIndices.ToArray(), fromArrays.ColumnIndices.ToArray());
        Assert.Equal(reference.Values.ToArray(), fromArrays.Values.ToArray());

        // Too-short destinations throw before anything is written.
        int[] rp2 = Enumerable.Repeat(-7, rows + 1).ToArray();
        Assert.Equal("columnIndices", Assert.Throws<ArgumentException>(() => CsrMatrix.Fill(w, rows, cols, rp2, new int[nnz - 1], v)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => CsrMatrix.Fill(w, rows, cols, rp2, ci, new float[nnz - 1])).ParamName);
        Assert.Equal("rowPointers", Assert.Throws<ArgumentException>(() => CsrMatrix.Fill(w, rows, cols, new int[rows], ci, v)).ParamName);
        Assert.All(rp2, p => Assert.Equal(-7, p));
        ushort[] ci16 = new ushort[nnz];
        Assert.Equal(nnz, Csr16Matrix.Fill(w, rows, cols, rp, ci16, v));
        Assert.Equal(reference.ColumnIndices.ToArray(), ci16.Select(c => (int)c).ToArray());
    }

    [Fact]
    public void Constructor_RejectsBrokenStructures()
    {
        float[] v3 = [1, 2, 3];
        ArgumentException Ctor(int[] rp, int[] ci, float[] v, int rows = 2, int cols = 4) =>
            Assert.ThrowsAny<ArgumentException>(() => new CsrMatrix(rows, cols, rp, ci, v));

        var e = Ctor([1, 2, 3], [0, 1, 2], v3);
        Assert.Equal("rowPointers", e.ParamName);
        Assert.Contains("first row pointer must be 0", e.Message);
        e = Ctor([0, 2, 1], [0, 1, 2], v3);
        Assert.Equal("rowPointers", e.ParamName);
        Assert.Contains("non-decreasing", e.Message);
        e = Ctor([0, 1, 2], [0, 1, 2], v3);
        Assert.Equal("rowPointers", e.ParamName);
        Assert.Contains("must equal the entry count", e.Message);
        e = Ctor([0, 2, 3], [0, 4, 2], v3);
        Assert.Equal("columnIndices", e.ParamName);
        Assert.Contains("outside [0, 4)", e.Message);
        e = Ctor([0, 2, 3], [0, -1, 2], v3);
        Assert.Equal("columnIndices", e.ParamName);
        e = Ctor([0, 2, 3], [2, 1, 2], v3);
        Assert.Equal("columnIndices", e.ParamName);
        Assert.Contains("strictly increasing", e.Message);
        e = Ctor([0, 2, 3], [1, 1, 2], v3);
        Assert.Equal("columnIndices", e.ParamName);
        e = Ctor([0, 2, 3], [0, 1, 2], [1, 2]);
        Assert.Equal("values", e.ParamName);
        e = Ctor([0, 2], [0, 1], [1, 2]);
        Assert.Equal("rowPointers", e.ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => new CsrMatrix(-1, 4, [0], [], [])).ParamName);

        // Sorted across rows is fine: each row restarts.
        var ok = new CsrMatrix(2, 4, [0, 2, 3], [1, 3, 0], v3);
        Assert.Equal(3, ok.NonZeroCount);
        Assert.Equal("columnIndices", Assert.Throws<ArgumentException>(() => new Csr16Matrix(2, 4, [0, 2, 3], [1, 9, 0], v3)).ParamName);
    }

    [Fact]
    public void Csr16_RejectsTooManyColumns()
    {
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => Csr16Matrix.FromDense(new float[65537], 1, 65537)).ParamName);
        float[] wide = new float[65536];
        wide[65535] = 2f;
        var ok = Csr16Matrix.FromDense(wide, 1, 65536);
        Assert.Equal(65535, ok.ColumnIndices[0]);
    }

    [Fact]
    public void FromDense_RejectsShapeMismatch()
    {
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new float[5], 2, 3)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new float[6], new byte[5], 2, 3)).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => CsrMatrix.FromDense(new float[6], 2, -3)).ParamName);
        float[] back = new float[5];
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => CsrMatrix.FromDense(new float[6], 2, 3).ToDense(back)).ParamName);
    }
}
