using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class LampTests
{
    /// <summary>Reference straight from the definition: sort (w², index), divide by the suffix sum, in double.</summary>
    private static float[] Reference(float[] w)
    {
        int n = w.Length;
        int[] order = Enumerable.Range(0, n).OrderBy(i => (double)w[i] * w[i]).ThenBy(i => i).ToArray();
        var scores = new float[n];
        for (int p = 0; p < n; p++)
        {
            double denominator = 0;
            for (int q = p; q < n; q++) denominator += (double)w[order[q]] * w[order[q]];
            double square = (double)w[order[p]] * w[order[p]];
            scores[order[p]] = square == 0 ? 0f : (float)(square / denominator);
        }
        return scores;
    }

    [Fact]
    public void WorkedExample_ByHand()
    {
        // w = [1, −2, 2, 3]: squares 1, 4, 4, 9; order by (w², index): 0, 1, 2, 3.
        // Suffix sums: 18, 17, 13, 9 → scores 1/18, 4/17, 4/13, 9/9. The tied ±2 differ: index 1 includes index 2.
        float[] w = [1f, -2f, 2f, 3f];
        var scores = new float[4];
        Span.Prune.Scoring.Lamp(w, scores);
        Assert.Equal(new[] { 1f / 18, 4f / 17, 4f / 13, 1f }, scores);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(256)]
    [InlineData(1000)]
    public void MatchesDefinition(int n)
    {
        float[] w = TestData.Normal(n, n).Select(x => MathF.Round(x * 8) / 8).ToArray(); // ties and zeros
        var scores = TestData.NaNs(n);
        Span.Prune.Scoring.Lamp(w, scores, new ulong[Span.Prune.Scoring.LampScratchLength(n)]);
        float[] expected = Reference(w);
        for (int i = 0; i < n; i++) Assert.Equal(expected[i], scores[i], 6);
        // In place gives the same.
        float[] inPlace = (float[])w.Clone();
        Span.Prune.Scoring.Lamp(inPlace, inPlace);
        Assert.Equal(scores, inPlace);
    }

    [Fact]
    public void Large_MatchesSortedSuffixReference()
    {
        // O(n log n) reference (comparison sort of (w², index), suffix sums) for sizes the quadratic one cannot reach;
        // the inputs exercise every radix digit, shared digits (one octave; all equal) and ±0.
        const int n = 100_000;
        var rng = new Random(12);
        float[][] inputs =
        [
            TestData.Normal(n, 1, 0.02f),
            [.. Enumerable.Range(0, n).Select(_ => 1f + (rng.Next(64) / 64f))],
            [.. Enumerable.Repeat(-0.5f, n)],
            [.. Enumerable.Range(0, n).Select(i => i % 3 == 0 ? (i % 2 == 0 ? 0f : -0f) : BitConverter.Int32BitsToSingle(rng.Next(1, int.MaxValue >> 1)))],
        ];
        foreach (float[] w in inputs)
        {
            int[] order = Enumerable.Range(0, n).ToArray();
            Array.Sort(order, (a, b) => ((double)w[a] * w[a]).CompareTo((double)w[b] * w[b]) is int c && c != 0 ? c : a.CompareTo(b));
            var expected = new float[n];
            double suffix = 0;
            for (int p = n - 1; p >= 0; p--)
            {
                double square = (double)w[order[p]] * w[order[p]];
                suffix += square;
                expected[order[p]] = square == 0 ? 0f : (float)(square / suffix);
            }
            var scores = TestData.NaNs(n);
            Span.Prune.Scoring.Lamp(w, scores);
            Assert.Equal(expected, scores);
        }
    }

    [Fact]
    public void GlobalLamp_KeepsLargestWeightOfEveryLayer()
    {
        // Layers of very different scales: global magnitude pruning would empty the small one; LAMP keeps each
        // layer's largest weight (score 1 > every other score ≤ ½) even at the maximum pruning total − layers.
        int[] lengths = [50, 400, 7, 1000];
        float[] scales = [1e-3f, 1f, 30f, 0.05f];
        var weights = new List<float>();
        for (int l = 0; l < lengths.Length; l++) weights.AddRange(TestData.Normal(lengths[l], l + 1, scales[l]));
        float[] w = weights.ToArray();
        var scores = new float[w.Length];
        for (int l = 0, at = 0; l < lengths.Length; at += lengths[l], l++)
            Span.Prune.Scoring.Lamp(w.AsSpan(at, lengths[l]), scores.AsSpan(at, lengths[l]));

        var mask = new byte[w.Length];
        foreach (int k in new[] { w.Length / 2, (int)(0.99 * w.Length), w.Length - lengths.Length })
        {
            Sel.GlobalLowestMask(scores, lengths, k, mask);
            for (int l = 0, at = 0; l < lengths.Length; at += lengths[l], l++)
            {
                int largest = at;
                for (int i = at; i < at + lengths[l]; i++) if (MathF.Abs(w[i]) > MathF.Abs(w[largest])) largest = i;
                Assert.Equal(1, mask[largest]);
            }
        }

        // Magnitude-based global pruning at 99% would wipe the 1e-3 layer out entirely; LAMP does not.
        var magnitudes = w.Select(MathF.Abs).ToArray();
        Sel.GlobalLowestMask(magnitudes, lengths, (int)(0.99 * w.Length), mask);
        Assert.All(mask.AsSpan(0, 50).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void BadArguments_Throw_NothingWritten()
    {
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Span.Prune.Scoring.Lamp(new float[3], new float[2])).ParamName);
        var shared = new float[5];
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Span.Prune.Scoring.Lamp(shared.AsSpan(0, 3), shared.AsSpan(1, 3))).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Span.Prune.Scoring.Lamp(new float[3], new float[3], new ulong[5])).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => Span.Prune.Scoring.LampScratchLength(-1)).ParamName);

        float[] w = [1f, 2f, float.NaN, 3f];
        float[] scores = TestData.NaNs(4);
        var ex = Assert.Throws<ArgumentException>(() => Span.Prune.Scoring.Lamp(w, scores));
        Assert.Equal("weights", ex.ParamName);
        Assert.Contains("Element 2 ", ex.Message, StringComparison.Ordinal);
        Assert.All(scores, s => Assert.True(float.IsNaN(s)));
    }
}
