using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class NmMaskTests
{
    public static IEnumerable<object[]> Patterns()
    {
        foreach (var (n, m) in new[] { (2, 4), (1, 4), (3, 4), (0, 4), (4, 4), (1, 2), (2, 8), (4, 8), (3, 5), (7, 16), (1, 1), (0, 1), (10, 40), (33, 64) })
            yield return [n, m];
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void MatchesPerGroupSort(int n, int m)
    {
        foreach (int rows in new[] { 1, 3, 17 })
        {
            foreach (int groupsPerRow in new[] { 1, 2, 5, 16, 33 })
            {
                int rowLength = groupsPerRow * m;
                // Quantised scores make ties common inside groups.
                float[] scores = TestData.Normal(rows * rowLength, rows * 100 + groupsPerRow).Select(x => MathF.Round(x * 2) / 2).ToArray();
                var mask = new byte[scores.Length];
                Array.Fill(mask, (byte)0xCD);
                Sel.NmMask(scores, rowLength, n, m, mask);
                Assert.Equal(SelectionReference.NmMask(scores, n, m), mask);
                for (int g = 0; g < scores.Length; g += m) Assert.Equal(n, mask.AsSpan(g, m).ToArray().Count(b => b == 1));
            }
        }
    }

    [Fact]
    public void TwoFour_WorkedExample_TiesPruneLowerIndex()
    {
        // Group 1: 0.5, −3, 2, 1 → keep 2 and 1 (indices 2, 3). Group 2: all equal → prune indices 4 and 5.
        float[] scores = [0.5f, -3f, 2f, 1f, 7f, 7f, 7f, 7f];
        var mask = new byte[8];
        Sel.NmMask(scores, 8, 2, 4, mask);
        Assert.Equal(new byte[] { 0, 0, 1, 1, 0, 0, 1, 1 }, mask);

        // ±0 tie: 0, −0, 1, −1 keeps 1 and the later zero (index 1).
        Sel.NmMask([0f, -0f, 1f, -1f], 4, 2, 4, mask);
        Assert.Equal(new byte[] { 0, 1, 1, 0 }, mask.AsSpan(0, 4).ToArray());
    }

    [Fact]
    public void ShapeOverload_MatchesRowOverload()
    {
        var shape = WeightShape.Conv2D(6, 4, 3, 3); // RowLength 36
        float[] scores = TestData.Uniform(shape.ElementCount, 1);
        var a = new byte[scores.Length];
        var b = new byte[scores.Length];
        Sel.NmMask(scores, shape, Granularity.NM(2, 4), a);
        Sel.NmMask(scores, shape.RowLength, 2, 4, b);
        Assert.Equal(b, a);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Sel.NmMask(scores, shape, Granularity.Row, a)).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Sel.NmMask(scores, shape, Granularity.NM(2, 5), a)).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Sel.NmMask(scores.AsSpan(1), shape, Granularity.NM(2, 4), a)).ParamName);
    }

    [Fact]
    public void BadArguments_Throw()
    {
        float[] s = new float[12];
        var mask = new byte[12];
        Assert.Equal("m", Assert.Throws<ArgumentException>(() => Sel.NmMask(s, 6, 2, 4, mask)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.NmMask(s, 6, 0, 0, mask)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.NmMask(s, 12, 5, 4, mask)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.NmMask(s, 12, -1, 4, mask)).ParamName);
        Assert.Equal("rowLength", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.NmMask(s, 0, 2, 4, mask)).ParamName);
        Assert.Equal("rowLength", Assert.Throws<ArgumentException>(() => Sel.NmMask(s, 8, 2, 4, mask)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Sel.NmMask(s, 12, 2, 4, new byte[11])).ParamName);

        s[7] = float.NaN;
        Array.Fill(mask, (byte)0xAB);
        var ex = Assert.Throws<ArgumentException>(() => Sel.NmMask(s, 12, 2, 4, mask));
        Assert.Equal("scores", ex.ParamName);
        Assert.Contains("Element 7 ", ex.Message, StringComparison.Ordinal);
        Assert.All(mask, b => Assert.Equal(0xAB, b));
    }
}
