using Span.Prune.Regression;

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
