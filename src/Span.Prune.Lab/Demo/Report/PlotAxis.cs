namespace Span.Prune.Lab.Demo;

/// <summary>
/// One plot axis: its domain, its tick values, and the map from a value to a fraction of the axis length.
/// Linear axes take "nice" steps (1, 2 or 5 × 10^k); log axes put a tick on every power of two.
/// </summary>
internal sealed class PlotAxis
{
    private PlotAxis(double min, double max, double step, double[] ticks, bool log)
    {
        Min = min;
        Max = max;
        Step = step;
        Ticks = ticks;
        IsLog2 = log;
    }

    public double Min { get; }

    public double Max { get; }

    /// <summary>The tick step: additive for a linear axis, the factor 2 for a log axis.</summary>
    public double Step { get; }

    public double[] Ticks { get; }

    public bool IsLog2 { get; }

    /// <summary>Where <paramref name="value"/> lies, 0 at <see cref="Min"/> and 1 at <see cref="Max"/>.</summary>
    public double Fraction(double value) => IsLog2
        ? (Math.Log2(value) - Math.Log2(Min)) / (Math.Log2(Max) - Math.Log2(Min))
        : (value - Min) / (Max - Min);

    /// <summary>
    /// A linear axis that covers [<paramref name="low"/>, <paramref name="high"/>] within [<paramref name="floor"/>,
    /// <paramref name="ceiling"/>] with about <paramref name="targetTicks"/> intervals. A range narrower than
    /// <paramref name="minimumSpan"/> is widened around its middle so that one point still gets a readable axis.
    /// </summary>
    public static PlotAxis Linear(double low, double high, double floor, double ceiling, double minimumSpan, int targetTicks = 5)
    {
        if (high - low < minimumSpan)
        {
            double middle = (low + high) / 2;
            low = middle - minimumSpan / 2;
            high = middle + minimumSpan / 2;
        }

        // 4% padding keeps markers off the frame; the clamp keeps fractions within [0, 1].
        double pad = (high - low) * 0.04;
        low = Math.Max(floor, low - pad);
        high = Math.Min(ceiling, high + pad);

        double step = NiceStep((high - low) / targetTicks);
        double min = Math.Max(floor, Math.Floor(low / step + 1e-9) * step);
        double max = Math.Min(ceiling, Math.Ceiling(high / step - 1e-9) * step);
        var ticks = new List<double>();
        for (int k = 0; ; k++)
        {
            // Rounded so that 0.1 + 0.2 prints as 0.3, not 0.30000000000000004.
            double tick = Math.Round(min + k * step, 10);
            if (tick > max + step * 1e-6)
            {
                break;
            }

            ticks.Add(tick);
        }

        return new PlotAxis(min, max, step, [.. ticks], log: false);
    }

    /// <summary>A log₂ axis from the power of two at or below <paramref name="low"/> to the one at or above <paramref name="high"/> (both &gt; 0).</summary>
    public static PlotAxis Log2(double low, double high)
    {
        int first = (int)Math.Floor(Math.Log2(low) + 1e-9);
        int last = (int)Math.Ceiling(Math.Log2(high) - 1e-9);
        if (last - first < 2)
        {
            // At least two octaves, centred on the data, so a single point sits mid-axis.
            first--;
            last++;
        }

        var ticks = new double[last - first + 1];
        for (int k = 0; k < ticks.Length; k++)
        {
            ticks[k] = Math.Pow(2, first + k);
        }

        return new PlotAxis(ticks[0], ticks[^1], 2, ticks, log: true);
    }

    /// <summary>The smallest of 1, 2, 5 × 10^k that is ≥ <paramref name="rough"/>.</summary>
    public static double NiceStep(double rough)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double mantissa = rough / magnitude;
        double nice = mantissa <= 1 + 1e-9 ? 1 : mantissa <= 2 + 1e-9 ? 2 : mantissa <= 5 + 1e-9 ? 5 : 10;
        return nice * magnitude;
    }
}
