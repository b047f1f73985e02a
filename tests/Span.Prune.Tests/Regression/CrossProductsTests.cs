using Span.Prune.RegressionKernels;

namespace Span.Prune.Tests.Regression;

public class CrossProductsTests
{
    public static IEnumerable<object[]> Lengths() => TestData.Lengths().Where(x => (int)x[0] <= 4099);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Kernel4x2_MatchesNaive(int length)
    {
        // Rows with a stride larger than the length (and an odd one) so that a row overrun would read another row's data.
        int aStride = length + 3, bStride = length + 5;
        float[] a = TestData.Uniform(3 * aStride + length, length + 1);
        float[] b = TestData.Uniform(bStride + length, length + 2);
        double[] tile = new double[3 * 7 + 2 + 1];
        Array.Fill(tile, 0.25);
        DotKernel4x2.Accumulate(a, aStride, b, bStride, length, tile, 7);
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 2; c++)
            {
                double expected = 0.25, magnitude = 0;
                for (int n = 0; n < length; n++)
                {
                    expected += (double)a[r * aStride + n] * b[c * bStride + n];
                    magnitude += Math.Abs((double)a[r * aStride + n] * b[c * bStride + n]);
                }
                // Float lanes: error ≤ (terms per lane + lanes)·2⁻²⁴·Σ|products|; length/4 + 16 terms bounds it for every width.
                double tol = (length / 4.0 + 16) * 6e-8 * magnitude + 1e-12;
                Assert.True(Math.Abs(tile[r * 7 + c] - expected) <= tol, $"({r},{c}) {tile[r * 7 + c]} vs {expected}");
            }
        }
        Assert.Equal(0.25, tile[^1]); // the slot after the block is not touched
    }

    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(5, 3, 17, false)]
    [InlineData(37, 70, 600, false)]
    [InlineData(70, 70, 1100, true)]
    [InlineData(33, 33, 3, true)]
    [InlineData(4, 4, 512, true)]
    public void Accumulate_MatchesNaive(int aRows, int bRows, int length, bool upper)
    {
        float[] a = TestData.Normal(aRows * length, aRows + length);
        float[] b = upper ? a : TestData.Normal(bRows * length, bRows + length + 1);
        var seen = new double[aRows * bRows];
        Array.Fill(seen, double.NaN);
        var sink = new RecordingSink(seen, bRows);
        var tile = new double[CrossProducts.TileScratchLength];
        CrossProducts.Accumulate(a, aRows, b, bRows, length, upper, tile, ref sink);
        Assert.Equal(upper ? aRows * (aRows + 1) / 2 : aRows * bRows, sink.Calls);
        for (int i = 0; i < aRows; i++)
        {
            for (int j = 0; j < bRows; j++)
            {
                if (upper && j < i)
                {
                    Assert.True(double.IsNaN(seen[i * bRows + j]));
                    continue;
                }
                double expected = 0, magnitude = 0;
                for (int n = 0; n < length; n++)
                {
                    expected += (double)a[i * length + n] * b[j * length + n];
                    magnitude += Math.Abs((double)a[i * length + n] * b[j * length + n]);
                }
                // Chunks of 512 summed in float lanes, then in double: ≤ (512/4 + 16)·2⁻²⁴ relative to Σ|products|.
                Assert.True(Math.Abs(seen[i * bRows + j] - expected) <= 1e-5 * magnitude + 1e-12, $"({i},{j})");
            }
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 3, 7)]
    [InlineData(4, 17, 8)]
    [InlineData(7, 9, 16)]
    [InlineData(9, 33, 31)]
    [InlineData(3, 2, 32)]
    [InlineData(13, 40, 57)]
    [InlineData(6, 130, 64)]
    [InlineData(2, 5, 100)]
    public void ResidualKernel_MatchesNaive(int rows, int depth, int outputs)
    {
        // Outputs 1…100 walk every column ladder step (2·16, 2·8, 2·4 blocks and the scalar tail); rows not a multiple
        // of 4 exercise the reused last row.
        float[] x = TestData.Normal(rows * depth, rows + depth);
        float[] v = TestData.Normal(depth * outputs, depth + outputs);
        float[] y = TestData.Normal(rows * outputs, rows + outputs + 1, 3);
        double expected = 0, magnitude = 0;
        for (int n = 0; n < rows; n++)
            for (int o = 0; o < outputs; o++)
            {
                double pred = 0, abs = 0;
                for (int i = 0; i < depth; i++)
                {
                    pred += (double)x[n * depth + i] * v[i * outputs + o];
                    abs += Math.Abs((double)x[n * depth + i] * v[i * outputs + o]);
                }
                double e = y[n * outputs + o] - pred;
                expected += e * e;
                magnitude += (Math.Abs(y[n * outputs + o]) + abs) * (Math.Abs(e) + 1e-30);
            }
        double actual = ResidualKernel.SumOfSquares(x, v, y, rows, depth, outputs);
        // Float predictions: |Δe| ≤ depth·2⁻²⁴·Σ|terms|, so |Δ(e²)| ≤ 2|e|·|Δe|; float square sums add ~1e-6 relative.
        Assert.True(Math.Abs(actual - expected) <= 2 * (depth + 8) * 6e-8 * magnitude + 1e-6 * expected, $"{actual} vs {expected}");
    }

    [Fact]
    public void ResidualKernel_ExactPrediction_IsZero()
    {
        // Integer-valued data: every product and sum is exact in float, so the residual must be exactly 0.
        const int rows = 7, depth = 5, outputs = 45;
        float[] x = Enumerable.Range(0, rows * depth).Select(i => (float)(i % 5 - 2)).ToArray();
        float[] v = Enumerable.Range(0, depth * outputs).Select(i => (float)(i % 3 - 1)).ToArray();
        var y = new float[rows * outputs];
        for (int n = 0; n < rows; n++)
            for (int o = 0; o < outputs; o++)
                for (int i = 0; i < depth; i++) y[n * outputs + o] += x[n * depth + i] * v[i * outputs + o];
        Assert.Equal(0.0, ResidualKernel.SumOfSquares(x, v, y, rows, depth, outputs));
        y[^1] += 2;
        Assert.Equal(4.0, ResidualKernel.SumOfSquares(x, v, y, rows, depth, outputs));
    }

    private ref struct RecordingSink : ICrossProductSink
    {
        private readonly Span<double> _seen;
        private readonly int _columns;
        public int Calls;

        public RecordingSink(Span<double> seen, int columns)
        {
            _seen = seen;
            _columns = columns;
            Calls = 0;
        }

        public void Add(int i, int j, double value)
        {
            Assert.True(double.IsNaN(_seen[i * _columns + j]), "pair reported twice");
            _seen[i * _columns + j] = value;
            Calls++;
        }
    }
}
