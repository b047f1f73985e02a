namespace Span.Prune.Lab.Training;

/// <summary>A throughput measurement: median, minimum and maximum over timed runs.</summary>
/// <param name="MedianImagesPerSecond">Median of the runs.</param>
/// <param name="MinImagesPerSecond">Slowest run.</param>
/// <param name="MaxImagesPerSecond">Fastest run.</param>
/// <param name="Runs">Timed runs (after one untimed warm-up run).</param>
/// <param name="ImagesPerRun">Images trained per run.</param>
public readonly record struct ThroughputResult(double MedianImagesPerSecond, double MinImagesPerSecond, double MaxImagesPerSecond, int Runs, long ImagesPerRun);

/// <summary>Measures training throughput (forward, backward and SGD step at batch 64, data gathering included) as the recipe runs it.</summary>
/// <remarks>
/// Each run builds a freshly initialised network and trains it for <c>epochs</c> with the architecture's recipe (cosine
/// schedule over those epochs); one warm-up run (JIT tiering) is discarded. On a shared machine the spread is large,
/// so the median is the figure to quote, with the minimum and maximum beside it.
/// </remarks>
public static class TrainingThroughput
{
    /// <summary>Times <paramref name="runs"/> training runs of <paramref name="epochs"/> epochs each.</summary>
    public static ThroughputResult Measure(ReferenceArchitecture architecture, ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int count,
        int epochs, int runs, int maxDegreeOfParallelism = 1, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        var options = TrainingOptions.For(architecture, fineTune: false) with { Epochs = epochs, ShuffleSeed = seed };
        double[] rates = new double[runs];
        for (int r = -1; r < runs; r++)
        {
            var network = ReferenceNetwork.Create(architecture, options.BatchSize, seed);
            network.MaxDegreeOfParallelism = maxDegreeOfParallelism;
            var result = Trainer.Train(network, pixels, labels, count, options);
            if (r >= 0) rates[r] = result.ImagesPerSecond;
        }
        Array.Sort(rates);
        double median = runs % 2 == 1 ? rates[runs / 2] : (rates[runs / 2 - 1] + rates[runs / 2]) / 2;
        return new ThroughputResult(median, rates[0], rates[^1], runs, (long)count * epochs);
    }
}
