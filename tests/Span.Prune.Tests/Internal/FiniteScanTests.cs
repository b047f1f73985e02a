using Span.Prune.Internal;

namespace Span.Prune.Tests.Internal;

public class FiniteScanTests
{
    public static IEnumerable<object[]> Lengths() => TestData.Lengths();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FindsFirstNonFinite(int length)
    {
        float[] x = TestData.Normal(length, length, 1e30f); // large finite magnitudes: x − x must still be +0
        if (length > 0) x[0] = float.MaxValue;
        Assert.Equal(-1, FiniteScan.IndexOfNonFinite(x));

        // Every position for short spans (all vector tails), a spread of positions for long ones.
        IEnumerable<int> positions = length <= 80 ? Enumerable.Range(0, length) : [0, 1, 15, 16, length / 2, length - 17, length - 16, length - 1];
        foreach (int i in positions)
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(-1) })
            {
                float keep = x[i];
                x[i] = bad;
                Assert.Equal(i, FiniteScan.IndexOfNonFinite(x));
                if (i + 1 < length)
                {
                    float next = x[length - 1];
                    x[length - 1] = float.NaN; // a later one does not change the answer
                    Assert.Equal(i, FiniteScan.IndexOfNonFinite(x));
                    x[length - 1] = next;
                }
                x[i] = keep;
            }
        }
        Assert.Equal(-1, FiniteScan.IndexOfNonFinite(x));
    }
}
