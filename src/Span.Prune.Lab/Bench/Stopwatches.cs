using System.Diagnostics;

namespace Span.Prune.Lab.Bench;

/// <summary>
/// Side-by-side timing for the quick report: the candidate and its baseline run alternately in one process, so a
/// noisy neighbour slows both and the ratio of medians stays meaningful.
/// </summary>
internal static class Stopwatches
{
    /// <summary>Median milliseconds of <paramref name="candidate"/> and <paramref name="baseline"/>, run alternately.</summary>
    /// <param name="candidate">Ours.</param>
    /// <param name="baseline">What ours is compared with.</param>
    /// <param name="runs">Timed calls of each, after three untimed warm-up calls of each.</param>
    /// <param name="reset">Run before every timed call (untimed), e.g. to restore weights that a prune overwrote.</param>
    public static (double CandidateMs, double BaselineMs) Compare(Action candidate, Action baseline, int runs, Action? reset = null)
    {
        (double[] c, double[] b) = Sample(candidate, baseline, runs, reset);
        return (Median(c), Median(b));
    }

    /// <summary>
    /// The same alternating samples, summarised for a noisy machine: the fastest time of each side (the least disturbed
    /// runs) and the median of the per-sample ratios baseline / candidate (a neighbour that slows one sample slows both
    /// of its halves alike, so the paired ratio is the robust figure).
    /// </summary>
    public static PairedTiming Paired(Action candidate, Action baseline, int runs)
    {
        (double[] c, double[] b) = Sample(candidate, baseline, runs, reset: null);
        var ratios = new double[runs];
        for (int i = 0; i < runs; i++) ratios[i] = b[i] / c[i];
        return new PairedTiming(c.Min(), b.Min(), Median(ratios));
    }

    private static (double[] Candidate, double[] Baseline) Sample(Action candidate, Action baseline, int runs, Action? reset)
    {
        // Warm-up: tier-1 JIT (both tiers and OSR) and pool fills happen here, not in the timed runs.
        for (int i = 0; i < 3; i++)
        {
            reset?.Invoke(); candidate();
            reset?.Invoke(); baseline();
        }
        var c = new double[runs];
        var b = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            reset?.Invoke(); c[i] = Time(candidate);
            reset?.Invoke(); b[i] = Time(baseline);
        }
        return (c, b);
    }

    /// <summary>Median milliseconds of <paramref name="action"/> over <paramref name="runs"/> runs after warm-up.</summary>
    public static double Measure(Action action, int runs, Action? reset = null)
    {
        for (int i = 0; i < 3; i++) { reset?.Invoke(); action(); }
        var t = new double[runs];
        for (int i = 0; i < runs; i++) { reset?.Invoke(); t[i] = Time(action); }
        return Median(t);
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    public static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
}

/// <summary>Alternating samples of a candidate and its baseline (<see cref="Stopwatches.Paired"/>).</summary>
/// <param name="CandidateMinMs">Fastest candidate run.</param>
/// <param name="BaselineMinMs">Fastest baseline run.</param>
/// <param name="MedianRatio">Median over samples of baseline ms / candidate ms: the candidate's speedup.</param>
public readonly record struct PairedTiming(double CandidateMinMs, double BaselineMinMs, double MedianRatio);
