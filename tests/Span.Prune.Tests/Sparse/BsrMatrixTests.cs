using Span.Prune.Sparse;
namespace Span.Prune.Tests.Sparse;

public class BsrMatrixTests
{
    public static IEnumerable<object[]> Blocks() =>
        new[] { (1, 4), (4, 1), (4, 4), (8, 1), (2, 8), (1, 1), (3, 5) }.Select(b => new object[] { b.Item1, b.Item2 });

    private static float[] BlockPruned(int rows, int cols, int br, int bc, int seed)
    {
        var rng = new Random(seed);
        float[] w = TestData.Normal(rows * cols, seed);
        for (int i = 0; i < rows / br; i++)
            for (int j = 0; j < cols / bc; j++)
            {
                bool drop = rng.Next(3) != 0;
                for (int a = 0; a < br; a++)
                    for (int b = 0; b < bc; b++)
                        if (drop || rng.Next(4) == 0) w[(i * br + a) * cols + j * bc + b] = rng.Next(2) == 0 ? 0f : -0f;
            }
        return w;
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void FromDense_RoundTripsExactly(int br, int bc)
    {
        int rows = br * 7, cols = bc * 13;
        float[] w = BlockPruned(rows, cols, br, bc, br * 10 + bc);
        var bsr = BsrMatrix.FromDense(w, rows, cols, br, bc);

        // Stored blocks by definition: any element non-zero.
        int expectedBlocks = 0;
        for (int i = 0; i < rows / br; i++)
            for (int j = 0; j < cols / bc; j++)
            {
                bool any = false;
                for (int a = 0; a < br; a++) for (int b = 0; b < bc; b++) any |= w[(i * br + a) * cols + j * bc + b] != 0f;
                if (any) expectedBlocks++;
            }
        Assert.Equal(expectedBlocks, bsr.BlockCount);
        Assert.Equal(expectedBlocks, BsrMatrix.CountBlocks(w, rows, cols, br, bc));
        Assert.Equal(expectedBlocks * br * bc, bsr.StoredCount);

        float[] back = TestData.NaNs(w.Length + 1);
        bsr.ToDense(back);
        for (int i = 0; i < w.Length; i++) Assert.True(w[i] == back[i], $"element {i}");
        Assert.True(float.IsNaN(back[^1]));

        var copy = new BsrMatrix(rows, cols, br, bc, bsr.BlockRowPointers, bsr.BlockColumnIndices, bsr.Values);
        Assert.Equal(bsr.Values.ToArray(), copy.Values.ToArray());
    }

    [Fact]
    public void Fill_AndMaskOverloads()
    {
        const int rows = 8, cols = 16;
        float[] w = TestData.Normal(rows * cols, 2);
        var rng = new Random(3);
        byte[] mask = Enumerable.Range(0, w.Length).Select(_ => rng.Next(6) == 0 ? (byte)1 : (byte)0).ToArray();
        int blocks = BsrMatrix.CountBlocks(mask, rows, cols, 4, 4);
        int[] rp = new int[3], ci = new int[blocks];
        float[] v = new float[blocks * 16];
        Assert.Equal(blocks, BsrMatrix.Fill(w, mask, rows, cols, 4, 4, rp, ci, v));
        var bsr = new BsrMatrix(rows, cols, 4, 4, rp, ci, v);
        float[] back = new float[w.Length];
        bsr.ToDense(back);
        for (int i = 0; i < w.Length; i++) Assert.Equal(mask[i] != 0 ? w[i] : 0f, back[i]);
        Assert.Equal(BsrMatrix.FromDense(w, mask, rows, cols, 4, 4).Values.ToArray(), v);

        int[] rp2 = [5, 5, 5];
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => BsrMatrix.Fill(w, mask, rows, cols, 4, 4, rp2, ci, new float[v.Length - 1])).ParamName);
        Assert.Equal([5, 5, 5], rp2);
    }

    [Fact]
    public void RaggedShapes_Throw()
    {
        var e = Assert.Throws<ArgumentException>(() => BsrMatrix.FromDense(new float[6 * 8], 6, 8, 4, 4));
        Assert.Equal("blockRows", e.ParamName);
        Assert.Contains("ragged", e.Message);
        Assert.Equal("blockColumns", Assert.Throws<ArgumentException>(() => BsrMatrix.FromDense(new float[8 * 6], 8, 6, 4, 4)).ParamName);
        Assert.Equal("blockRows", Assert.Throws<ArgumentOutOfRangeException>(() => BsrMatrix.FromDense(new float[16], 4, 4, 0, 4)).ParamName);
        Assert.Equal("dense", Assert.Throws<ArgumentException>(() => BsrMatrix.FromDense(new float[15], 4, 4, 2, 2)).ParamName);
    }

    [Fact]
    public void Constructor_RejectsBrokenStructures()
    {
        float[] v2 = new float[2 * 4];
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 8, 2, 2, [0, 1, 2], [0, 1], new float[7])).ParamName);
        Assert.Equal("blockRowPointers", Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 8, 2, 2, [0, 2, 1], [0, 1], v2)).ParamName);
        Assert.Equal("blockRowPointers", Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 8, 2, 2, [0, 1], [0, 1], v2)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 8, 2, 2, [0, 2, 2], [1, 4], v2));
        Assert.Equal("blockColumnIndices", e.ParamName);
        Assert.Contains("outside [0, 4)", e.Message);
        Assert.Equal("blockColumnIndices", Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 8, 2, 2, [0, 2, 2], [1, 1], v2)).ParamName);
        Assert.Equal("blockColumns", Assert.Throws<ArgumentException>(() => new BsrMatrix(4, 7, 2, 2, [0, 0, 0], [], [])).ParamName);
    }
}
