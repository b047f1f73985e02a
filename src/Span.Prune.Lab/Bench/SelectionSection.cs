namespace Span.Prune.Lab.Bench;

/// <summary>
/// Threshold selection (k-th smallest score) and the end-to-end magnitude prune of a 4096×4096 layer at 90%,
/// each against the scalar quickselect baseline.
/// </summary>
internal sealed class SelectionSection : IReportSection
{
    public string Name => "selection and end-to-end magnitude prune";

    public IEnumerable<ReportRow> Measure(BenchSize size)
    {
        int runs = size switch { BenchSize.Full => 21, BenchSize.Quick => 7, _ => 3 };
        foreach (int n in size == BenchSize.Smoke ? new[] { 1 << 12, 1 << 16 } : [1 << 20, 1 << 24])
        {
            float[] scores = Normal(n, 1);
            for (int i = 0; i < n; i++) scores[i] = MathF.Abs(scores[i]);
            float[] scratch = new float[Math.Max(Selection.ScratchLength(n), n)];
            int k = Selection.PruneCount(n, 0.9);
            float sink = 0;
            var (ours, baseline) = Stopwatches.Compare(
                () => sink += Selection.KthSmallest(scores, k, scratch),
                () => sink += ScalarQuickselect.KthSmallest(scores, k, scratch),
                runs);
            GC.KeepAlive(sink);
            yield return new ReportRow("select", "dense", n, 0, 0, 0, 0.9, ours, baseline, "scalar quickselect");
        }

        int side = size == BenchSize.Smoke ? 256 : 4096;
        float[] original = Normal(side * side, 2);
        float[] weights = new float[original.Length];
        float[] work = new float[original.Length], work2 = new float[original.Length];
        int prune = Selection.PruneCount(weights.Length, 0.9);
        var (e2e, e2eBaseline) = Stopwatches.Compare(
            () => Pruning.Magnitude(weights, 0.9),
            () => ScalarQuickselect.PruneSmallestMagnitude(weights, prune, work, work2),
            size switch { BenchSize.Full => 15, BenchSize.Quick => 5, _ => 3 },
            reset: () => original.CopyTo(weights));
        yield return new ReportRow("prune_layer", "dense", weights.Length, side, side, 0, 0.9, e2e, e2eBaseline, "scalar |w| + quickselect + mask");
    }

    internal static float[] Normal(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }
}
