namespace Span.Prune.Tests.Layout;

public class GranularityTests
{
    [Theory]
    [InlineData("element", GranularityKind.Element, 1, 1)]
    [InlineData("row", GranularityKind.Row, 1, 1)]
    [InlineData("Column", GranularityKind.Column, 1, 1)]
    [InlineData("kernel", GranularityKind.Kernel, 1, 1)]
    [InlineData("block:4x8", GranularityKind.Block, 4, 8)]
    [InlineData("nm:2:4", GranularityKind.NM, 2, 4)]
    public void Parse_RoundTrips(string text, GranularityKind kind, int p, int q)
    {
        var g = Granularity.Parse(text);
        Assert.Equal(kind, g.Kind);
        Assert.Equal(p, g.P);
        Assert.Equal(q, g.Q);
        Assert.Equal(g, Granularity.Parse(g.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("block:0x4")]
    [InlineData("block:4")]
    [InlineData("nm:5:4")]
    [InlineData("nm:-1:4")]
    [InlineData("blocks")]
    public void Parse_Rejects(string text) =>
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => Granularity.Parse(text)).ParamName);

    [Fact]
    public void UnitCount_MatchesDefinition()
    {
        var conv = WeightShape.Conv2D(8, 6, 3, 3);
        Assert.Equal(8 * 6 * 9, Granularity.Element.UnitCount(conv));
        Assert.Equal(8, Granularity.Row.UnitCount(conv));
        Assert.Equal(6, Granularity.Column.UnitCount(conv));
        Assert.Equal(48, Granularity.Kernel.UnitCount(conv));
        Assert.Equal(8 / 4 * (54 / 6), Granularity.Block(4, 6).UnitCount(conv));
        Assert.Equal(8 * 54 / 6, Granularity.NM(2, 6).UnitCount(conv));
        Assert.Equal(8 * 9, Granularity.Column.UnitSize(conv));
    }

    [Fact]
    public void NonDividingBlocks_Throw()
    {
        var shape = WeightShape.Linear(6, 10);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Granularity.Block(4, 2).UnitCount(shape)).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Granularity.Block(2, 4).UnitCount(shape)).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Granularity.NM(2, 4).UnitCount(shape)).ParamName);
        Assert.Equal(15, Granularity.Block(2, 2).UnitCount(shape));
    }

    [Fact]
    public void Shape_RejectsNonPositiveAndOverflow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightShape.Linear(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightShape.Conv2D(3, 3, 3, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WeightShape.Linear(1 << 16, 1 << 16));
    }
}
