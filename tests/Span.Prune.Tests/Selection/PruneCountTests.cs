using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class PruneCountTests
{
    // Expected values are Python 3's round(amount * n), run by hand:
    //   round(0.5*5)=2  round(0.5*7)=4  round(0.125*4)=0  round(0.375*4)=2  round(0.5*1)=0  round(0.5*3)=2
    //   round(0.9*10)=9  round(0.3*10)=3  round(0.25*10)=2  round(0.75*10)=8  round(0.1*5)=0  round(0.7*5)=4
    //   round(1.0*7)=7  round(0.0*7)=0  round(0.5*0)=0  round(0.9*16777216)=15099494
    [Theory]
    [InlineData(5, 0.5, 2)]
    [InlineData(7, 0.5, 4)]
    [InlineData(4, 0.125, 0)]
    [InlineData(4, 0.375, 2)]
    [InlineData(1, 0.5, 0)]
    [InlineData(3, 0.5, 2)]
    [InlineData(10, 0.9, 9)]
    [InlineData(10, 0.3, 3)]
    [InlineData(10, 0.25, 2)]
    [InlineData(10, 0.75, 8)]
    [InlineData(5, 0.1, 0)]
    [InlineData(5, 0.7, 4)]
    [InlineData(7, 1.0, 7)]
    [InlineData(7, 0.0, 0)]
    [InlineData(0, 0.5, 0)]
    [InlineData(16777216, 0.9, 15099494)]
    public void MatchesPythonRound(int n, double sparsity, int python)
    {
        Assert.Equal(python, Sel.PruneCount(n, sparsity));
        Assert.Equal((int)Math.Round(sparsity * n, MidpointRounding.ToEven), Sel.PruneCount(n, sparsity));
    }

    [Fact]
    public void MatchesBankersRoundingEverywhere()
    {
        var rng = new Random(5);
        for (int i = 0; i < 10_000; i++)
        {
            int n = rng.Next(0, 5000);
            double s = rng.Next(3) == 0 ? rng.Next(0, 65) / 64.0 : rng.NextDouble();
            int expected = (int)Math.Round(s * n, MidpointRounding.ToEven);
            Assert.Equal(expected, Sel.PruneCount(n, s));
        }
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void RejectsBadSparsity(double sparsity) =>
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.PruneCount(10, sparsity)).ParamName);

    [Fact]
    public void RejectsNegativeCount() =>
        Assert.Equal("unitCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.PruneCount(-1, 0.5)).ParamName);

    [Fact]
    public void ValidateCount_Bounds()
    {
        Sel.ValidateCount(0, 0);
        Sel.ValidateCount(5, 5);
        Sel.ValidateCount(5, 0);
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.ValidateCount(5, 6)).ParamName);
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.ValidateCount(5, -1)).ParamName);
        Assert.Equal("unitCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.ValidateCount(-1, 0)).ParamName);
    }
}
