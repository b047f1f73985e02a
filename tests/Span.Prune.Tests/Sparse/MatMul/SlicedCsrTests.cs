using Span.Prune.Sparse;
using Path = Span.Prune.Sparse.SlicedCsrKernels.Path;

namespace Span.Prune.Tests.Sparse;

/// <summary>
/// The batch-1 sliced layout of CSR layers (<see cref="SlicedCsr"/>): every kernel (AVX-512 16 × 31, AVX2 8 × 15, scalar
/// with any shape) must give, bit for bit, each row's products summed one after the other in column order with one
/// fused multiply-add each (the naive loop below), on one thread or two; and the double-precision product within the
/// float error bound. Row r has r entries in most cases, so rows of every length, empty rows, slices of mixed lengths,
/// odd slice counts (an empty second slice) and a last partial window all occur.
/// </summary>
public class SlicedCsrTests
{
    /// <summary>Row r stores (r·step) mod (cols + 1) entries at random distinct sorted columns; values uniform in [−1, 1).</summary>
    internal static (int[] RowPointers, int[] Columns, float[] Values) Structure(int rows, int cols, int step, int seed) =>
        Structure(rows, cols, r => Math.Min(r * step % (cols + 1), cols), seed);

    /// <summary>Row r stores <paramref name="count"/>(r) entries at random distinct sorted columns; values uniform in [−1, 1).</summary>
    internal static (int[] RowPointers, int[] Columns, float[] Values) Structure(int rows, int cols, Func<int, int> count, int seed)
    {
        var rng = new Random(seed);
        var rp = new int[rows + 1];
        var ci = new List<int>();
        var v = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            int n = count(r);
            var picked = new SortedSet<int>();
            while (picked.Count < n) picked.Add(rng.Next(cols));
            foreach (int c in picked)
            {
                ci.Add(c);
                v.Add((float)(rng.NextDouble() * 2 - 1));
            }
            rp[r + 1] = ci.Count;
        }
        return (rp, ci.ToArray(), v.ToArray());
    }

    /// <summary>The naive sequential sum, with the library's multiply-add rule (fused where the CPU fuses).</summary>
    internal static float[] Sequential(int[] rp, int[] ci, float[] v, float[] x)
    {
        var y = new float[rp.Length - 1];
        for (int r = 0; r < y.Length; r++)
        {
            float s = 0f;
            for (int i = rp[r]; i < rp[r + 1]; i++) s = ReferenceMultiplyAdd.Of(v[i], x[ci[i]], s);
            y[r] = s;
        }
        return y;
    }

    internal static void AssertBits(float[] expected, ReadOnlySpan<float> actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: row {i} is {actual[i]}, the sequential sum {expected[i]}.");
        for (int i = expected.Length; i < actual.Length; i++)
            Assert.True(float.IsNaN(actual[i]), $"{what}: element {i} past the output was written.");
    }

    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        // rows, cols, entry step per row, lanes, window
        { 1, 1, 1, 16, 31 },
        { 17, 32, 1, 16, 31 },
        { 40, 100, 3, 16, 31 },
        { 33, 784, 7, 16, 31 },
        { 64, 65, 2, 16, 31 },
        { 9, 16, 1, 8, 15 },
        { 40, 100, 3, 8, 15 },
        { 25, 300, 11, 8, 15 },
        { 30, 37, 1, 3, 5 },
        { 7, 250, 9, 4, 254 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryPath_IsTheSequentialSum(int rows, int cols, int step, int lanes, int window)
    {
        var (rp, ci, v) = Structure(rows, cols, step, rows * 31 + cols);
        float[] x = TestData.Uniform(cols, 7);
        float[] expected = Sequential(rp, ci, v, x);
        double[] reference = Reference(rp, ci, v, x, out double[] abs);
        var m = SlicedCsr.From<int>(rows, cols, rp, ci, v, lanes, window);
        var m16 = SlicedCsr.From<ushort>(rows, cols, rp, ci.Select(c => (ushort)c).ToArray(), v, lanes, window);
        foreach (Path path in new[] { Path.Scalar, Path.V256, Path.V512, Path.Auto })
        {
            foreach (int threads in new[] { 1, 2 })
            {
                float[] y = MatMulReference.Output(rows, 1);
                SlicedCsrKernels.Multiply(m, x, y.AsSpan(0, rows), threads, path);
                AssertBits(expected, y, $"{path} on {threads} threads, {lanes}×{window}");
                MatMulReference.AssertClose(reference, abs, y, cols, $"{path} {lanes}×{window}");
                float[] y16 = MatMulReference.Output(rows, 1);
                SlicedCsrKernels.Multiply(m16, x, y16.AsSpan(0, rows), threads, path);
                AssertBits(expected, y16, $"{path} (16-bit source) on {threads} threads");
            }
        }
    }

    private static double[] Reference(int[] rp, int[] ci, float[] v, float[] x, out double[] abs)
    {
        var y = new double[rp.Length - 1];
        abs = new double[y.Length];
        for (int r = 0; r < y.Length; r++)
            for (int i = rp[r]; i < rp[r + 1]; i++)
            {
                double p = (double)v[i] * x[ci[i]];
                y[r] += p;
                abs[r] += Math.Abs(p);
            }
        return y;
    }

    [Fact]
    public void Layout_HoldsEveryEntryOnce_AndPadsWithZero()
    {
        var (rp, ci, v) = Structure(21, 70, 5, 3);
        var m = SlicedCsr.From<int>(21, 70, rp, ci, v, 4, 8);
        // 21 rows in slices of 4: 6 slices, 3 pairs; 9 windows of 8 columns.
        Assert.Equal(3, m.Pairs);
        Assert.Equal(9, m.Windows);
        Assert.Equal(24, m.LaneRows.Length);
        Assert.Equal(Enumerable.Range(0, 21).ToHashSet(), m.LaneRows.ToArray().Where(r => r >= 0).ToHashSet());
        int stored = 0;
        for (int i = 0; i < m.StepLanes; i++)
        {
            if (m.Offsets[i] == m.Padding) Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(m.Values[i]));
            else
            {
                Assert.InRange(m.Offsets[i], 0, 7);
                stored++;
            }
        }
        Assert.Equal(v.Length, stored);
        // Longest rows first: lane 0 of the first slice holds the longest row.
        int longest = Enumerable.Range(0, 21).OrderByDescending(r => rp[r + 1] - rp[r]).ThenBy(r => r).First();
        Assert.Equal(longest, m.LaneRows[0]);
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    public void NonFiniteX_OnlyReachesRowsThatStoreItsColumn(float bad)
    {
        // Rows 0 and 2 store column 5; row 1 does not. The padding of row 1 must not turn into 0·∞ = NaN.
        int[] rp = [0, 3, 4, 8];
        int[] ci = [1, 5, 9, 2, 0, 5, 6, 7];
        float[] v = [1, 2, 3, 4, 5, 6, 7, 8];
        float[] x = Enumerable.Range(0, 40).Select(i => 1f + i).ToArray();
        x[5] = bad;
        float[] expected = Sequential(rp, ci, v, x);
        Assert.True(float.IsFinite(expected[1]));
        foreach (var (lanes, window) in new[] { (16, 31), (8, 15) })
        {
            var m = SlicedCsr.From<int>(3, 40, rp, ci, v, lanes, window);
            float[] y = MatMulReference.Output(3, 1);
            SlicedCsrKernels.Multiply(m, x, y.AsSpan(0, 3), 1, Path.Auto);
            AssertBits(expected, y, $"{lanes}×{window} with {bad} in x");
        }
    }

    [Theory]
    [InlineData("csr")]
    [InlineData("csr16")]
    public void CsrLayer_AtBatch1_IsTheSequentialSum_AndMatchesTheMatrixWithinTheBound(string layout)
    {
        const int rows = 70, cols = 300;
        float[] w = MatMulReference.Pruned(rows, cols, 0.9, 11);
        float[] x = TestData.Uniform(cols, 12);
        var csr = CsrMatrix.FromDense(w, rows, cols);
        float[] expected = Sequential(csr.RowPointers.ToArray(), csr.ColumnIndices.ToArray(), csr.Values.ToArray(), x);
        var (reference, abs) = MatMulReference.Compute(w, rows, cols, x, 1);
        var layer = SparseLayer.Create(w, rows, cols, SparseLayout.Parse(layout));
        float[] y = MatMulReference.Output(rows, 1), yp = MatMulReference.Output(rows, 1);
        layer.Multiply(x, y, 1);
        layer.MultiplyParallel(x, yp, 1, 2);
        MatMulReference.AssertClose(reference, abs, y, cols, layout);
        if (SlicedCsr.IsAccelerated) AssertBits(expected, y, layout);
        AssertBits(y.AsSpan(0, rows).ToArray(), yp, $"{layout} parallel");
    }

    [Fact]
    public void From_RejectsBadShapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SlicedCsr.From<int>(0, 0, [0], [], [], 0, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => SlicedCsr.From<int>(0, 0, [0], [], [], 8, 255));
    }

    [Fact]
    public void EmptyShapes_WriteNothingOrZeros()
    {
        var none = SlicedCsr.From<int>(0, 5, [0], [], [], 16, 31);
        SlicedCsrKernels.Multiply(none, new float[5], Span<float>.Empty, 1, Path.Auto);
        var noColumns = SlicedCsr.From<int>(3, 0, [0, 0, 0, 0], [], [], 16, 31);
        float[] y = MatMulReference.Output(3, 1);
        SlicedCsrKernels.Multiply(noColumns, [], y.AsSpan(0, 3), 1, Path.Auto);
        AssertBits([0f, 0f, 0f], y, "no columns");
    }
}
