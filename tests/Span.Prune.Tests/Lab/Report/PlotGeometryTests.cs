using Span.Prune.Lab.Demo;

namespace Span.Prune.Tests.Lab.Report;

/// <summary>The internal geometry behind the plots: the Pareto sweep against its definition, and the axis ticks.</summary>
public class PlotGeometryTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(50, 2)]
    [InlineData(500, 3)]
    public void ParetoFront_MatchesTheDefinition(int n, int seed)
    {
        var rng = new Random(seed);
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = rng.Next(0, 12);
            y[i] = rng.Next(0, 12);
        }

        bool[] front = ParetoFront.NonDominated(x, y);

        for (int p = 0; p < n; p++)
        {
            bool dominated = false;
            for (int q = 0; q < n; q++)
                dominated |= x[q] >= x[p] && y[q] >= y[p] && (x[q] > x[p] || y[q] > y[p]);
            Assert.Equal(!dominated, front[p]);
        }
    }

    [Fact]
    public void ParetoFront_RejectsMismatchedLengths() =>
        Assert.Throws<ArgumentException>(() => ParetoFront.NonDominated(new double[3], new double[2]));

    [Theory]
    [InlineData(0.5, 0.98, 0.1)]
    [InlineData(0.9712, 0.9815, 0.01)]
    [InlineData(0.3, 0.3, 0.01)]
    [InlineData(0, 1, 0.1)]
    public void LinearAxis_CoversTheData_WithNiceTicks_InsideTheClamp(double low, double high, double minimumSpan)
    {
        PlotAxis axis = PlotAxis.Linear(low, high, 0, 1, minimumSpan);

        Assert.InRange(axis.Min, 0, low);
        Assert.InRange(axis.Max, high, 1);
        Assert.Equal(axis.Min, axis.Ticks[0], 9);
        Assert.Equal(axis.Max, axis.Ticks[^1], 9);
        Assert.InRange(axis.Ticks.Length, 3, 12);
        double mantissa = axis.Step / Math.Pow(10, Math.Floor(Math.Log10(axis.Step)));
        Assert.Contains(Math.Round(mantissa, 9), new[] { 1.0, 2.0, 5.0 });
        for (int i = 1; i < axis.Ticks.Length; i++) Assert.Equal(axis.Step, axis.Ticks[i] - axis.Ticks[i - 1], 9);
        Assert.InRange(axis.Fraction(low), 0, 1);
        Assert.InRange(axis.Fraction(high), 0, 1);
    }

    [Theory]
    [InlineData(1, 1, 0.5, 2)]
    [InlineData(0.6, 5, 0.5, 8)]
    [InlineData(1, 16, 1, 16)]
    public void Log2Axis_SpansPowersOfTwo(double low, double high, double min, double max)
    {
        PlotAxis axis = PlotAxis.Log2(low, high);

        Assert.Equal(min, axis.Min);
        Assert.Equal(max, axis.Max);
        Assert.All(axis.Ticks, t => Assert.Equal(Math.Round(Math.Log2(t)), Math.Log2(t)));
        Assert.Equal(0.5, axis.Fraction(Math.Sqrt(min * max)), 9);
    }
}
