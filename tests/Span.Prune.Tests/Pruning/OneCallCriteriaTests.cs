using PruningApi = Span.Prune.Pruning;
using ScoringApi = Span.Prune.Scoring;

namespace Span.Prune.Tests.Pruning;

/// <summary>
/// The one-call entries the CLI used to compose by hand (APoZ, random, Wanda at N:M, regression) against references
/// computed another way: stable sorts of (score, index), per-group ranks written out in full, and the regression
/// pieces called one by one.
/// </summary>
public class OneCallCriteriaTests
{
    private static int TorchCount(double sparsity, int n) => (int)Math.Round(sparsity * n, MidpointRounding.ToEven);

    /// <summary>Units pruned first by a stable sort of (key, index).</summary>
    private static HashSet<int> Lowest(IReadOnlyList<double> keys, int k) =>
        Enumerable.Range(0, keys.Count).OrderBy(i => keys[i]).ThenBy(i => i).Take(k).ToHashSet();

    private static void AssertRowsPruned(float[] before, float[] after, WeightShape shape, HashSet<int> pruned, byte[] mask)
    {
        for (int o = 0; o < shape.Out; o++)
        {
            Assert.Equal(pruned.Contains(o) ? 0 : 1, mask[o]);
            for (int j = 0; j < shape.RowLength; j++)
            {
                int i = o * shape.RowLength + j;
                Assert.Equal(pruned.Contains(o) ? 0f : before[i], after[i]);
            }
        }
    }

    [Theory]
    [InlineData(7, 0.3)]
    [InlineData(16, 0.5)]
    [InlineData(33, 0.9)]
    public void Apoz_PrunesTheMostOftenZeroUnits(int units, double sparsity)
    {
        var shape = WeightShape.Linear(units, 5);
        float[] w = TestData.Normal(shape.ElementCount, units), before = (float[])w.Clone();
        // Quantised APoZ values so that ties occur; the higher APoZ goes first, ties lowest index first.
        float[] apoz = TestData.Uniform(units, units + 1).Select(x => MathF.Round(MathF.Abs(x) * 4) / 4).ToArray();
        byte[] mask = new byte[units];

        PruneReport r = PruningApi.Apoz(w, shape, apoz, sparsity, mask);

        int k = TorchCount(sparsity, units);
        HashSet<int> expected = Lowest(apoz.Select(a => -(double)a).ToArray(), k);
        AssertRowsPruned(before, w, shape, expected, mask);
        Assert.Equal(k, r.PrunedUnits);
        if (k > 0) Assert.Equal(expected.Min(i => apoz[i]), r.Threshold);
    }

    [Fact]
    public void Apoz_BadInput_Throws_NothingWritten()
    {
        var shape = WeightShape.Linear(4, 3);
        float[] w = TestData.Normal(12, 1), before = (float[])w.Clone();
        Assert.Equal("apoz", Assert.Throws<ArgumentException>(() => PruningApi.Apoz(w, shape, new float[3], 0.5, new byte[4])).ParamName);
        Assert.Equal("apoz", Assert.Throws<ArgumentException>(() => PruningApi.Apoz(w, shape, [0.1f, float.NaN, 0.2f, 0.3f], 0.5, new byte[4])).ParamName);
        Assert.Equal("rowMask", Assert.Throws<ArgumentException>(() => PruningApi.Apoz(w, shape, new float[4], 0.5, new byte[3])).ParamName);
        Assert.Equal(before, w);
    }

    [Theory]
    [InlineData("row", 0.5)]
    [InlineData("column", 0.25)]
    [InlineData("element", 0.9)]
    [InlineData("block:2x2", 0.5)]
    public void Random_IsSeededScoresSelectedExactly(string granularity, double sparsity)
    {
        var shape = WeightShape.Linear(8, 12);
        Granularity g = Granularity.Parse(granularity);
        float[] w = TestData.Normal(shape.ElementCount, 3), w2 = (float[])w.Clone();
        int units = g.UnitCount(shape);
        byte[] mask = new byte[units], mask2 = new byte[units];

        PruneReport r = PruningApi.Random(w, shape, g, sparsity, 42, mask);
        PruningApi.Random(w2, shape, g, sparsity, 42, mask2);

        float[] scores = new float[units];
        ScoringApi.Random(scores, 42);
        HashSet<int> expected = Lowest(scores.Select(x => (double)x).ToArray(), TorchCount(sparsity, units));
        for (int u = 0; u < units; u++) Assert.Equal(expected.Contains(u) ? 0 : 1, mask[u]);
        Assert.Equal(mask, mask2);
        Assert.Equal(w, w2);
        Assert.Equal(expected.Count, r.PrunedUnits);
        Assert.Equal((long)expected.Count * g.UnitSize(shape), r.PrunedElements);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruningApi.Random(w, shape, Granularity.NM(2, 4), 0.5, 1, mask)).ParamName);
    }

    /// <summary>Per M-group: the N of highest score kept; among equal scores the lower index is pruned first.</summary>
    private static byte[] ReferenceNm(float[] scores, int n, int m)
    {
        var mask = new byte[scores.Length];
        for (int start = 0; start < scores.Length; start += m)
        {
            var keep = Enumerable.Range(start, m).OrderByDescending(i => scores[i]).ThenByDescending(i => i).Take(n);
            foreach (int i in keep) mask[i] = 1;
        }
        return mask;
    }

    [Theory]
    [InlineData(2, 4)]
    [InlineData(1, 4)]
    [InlineData(3, 8)]
    public void WandaNM_KeepsNOfEveryM_ByWeightTimesNorm(int n, int m)
    {
        var shape = WeightShape.Linear(6, 16);
        float[] w = TestData.Normal(shape.ElementCount, 5).Select(x => MathF.Round(x * 4) / 4).ToArray(), before = (float[])w.Clone();
        float[] norms = TestData.Uniform(16, 6).Select(x => MathF.Round(MathF.Abs(x) * 4) / 4 + 0.25f).ToArray();
        byte[] mask = new byte[w.Length];

        PruneReport r = PruningApi.WandaNM(w, shape, norms, Granularity.NM(n, m), mask);

        float[] scores = new float[w.Length];
        for (int i = 0; i < w.Length; i++) scores[i] = MathF.Abs(before[i]) * norms[i % 16];
        byte[] expected = ReferenceNm(scores, n, m);
        Assert.Equal(expected, mask);
        for (int i = 0; i < w.Length; i++) Assert.Equal(expected[i] == 0 ? 0f : before[i], w[i]);
        Assert.Equal(w.Length / m * (m - n), r.PrunedUnits);
        Assert.Equal("inputNorms", Assert.Throws<ArgumentException>(() =>
            PruningApi.WandaNM(w, shape, Enumerable.Repeat(-1f, 16).ToArray(), Granularity.NM(2, 4), mask)).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruningApi.WandaNM(w, shape, norms, Granularity.Row, mask)).ParamName);
    }

    [Fact]
    public void RandomNM_KeepsExactlyNPerGroup_Deterministically()
    {
        var shape = WeightShape.Linear(5, 24);
        float[] w = TestData.Normal(shape.ElementCount, 7);
        byte[] mask = new byte[w.Length];
        PruningApi.RandomNM(w, shape, Granularity.NM(2, 8), 9, mask);
        float[] scores = new float[w.Length];
        ScoringApi.Random(scores, 9);
        Assert.Equal(ReferenceNm(scores, 2, 8), mask);
    }

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(0.25, false)]
    public void Regression_IsLassoThenRefit(double sparsity, bool ownOutputs)
    {
        var shape = WeightShape.Conv2D(3, 8, 1, 2);
        const int samples = 64;
        float[] x = TestData.Normal(samples * shape.RowLength, 10), w = TestData.Normal(shape.ElementCount, 11);
        float[] y = new float[samples * shape.Out];
        for (int s = 0; s < samples; s++)
        {
            for (int o = 0; o < shape.Out; o++)
            {
                double sum = 0;
                for (int d = 0; d < shape.RowLength; d++) sum += (double)x[s * shape.RowLength + d] * w[o * shape.RowLength + d];
                y[s * shape.Out + o] = (float)sum + (ownOutputs ? 0f : 0.01f * (s % 3));
            }
        }

        // The pieces, called by hand.
        int keep = shape.In - TorchCount(sparsity, shape.In);
        byte[] expectedMask = new byte[shape.In];
        float[] expected = (float[])w.Clone();
        ChannelRegression.SelectLasso(x, w, y, shape, samples, keep, expectedMask, new double[shape.In]);
        ChannelRegression.Refit(x, w, y, shape, samples, expectedMask, expected);

        byte[] mask = new byte[shape.In];
        PruneReport r = PruningApi.Regression(w, shape, x, ownOutputs ? default : y, samples, sparsity, mask, out LassoSelection selection, out RefitResult refit);

        Assert.Equal(expectedMask, mask);
        Assert.Equal(shape.In - keep, r.PrunedUnits);
        Assert.Equal(keep, selection.KeptCount);
        Assert.True(refit.RelativeErrorAfter <= refit.RelativeErrorBefore);
        // Y = X·Wᵀ is recomputed with the float GEMM when the targets are the layer's own outputs: a few ulps apart.
        for (int i = 0; i < w.Length; i++) Assert.Equal(expected[i], w[i], ownOutputs ? 1e-4f : 0f);
    }

    [Fact]
    public void Regression_NothingToPrune_LeavesWeights_AndAllChannelsPrunedThrows()
    {
        var shape = WeightShape.Linear(2, 3);
        float[] x = TestData.Normal(30, 1), w = TestData.Normal(6, 2), before = (float[])w.Clone();
        byte[] mask = new byte[3];
        PruneReport r = PruningApi.Regression(w, shape, x, default, 10, 0.1, mask, out _, out _);
        Assert.Equal(0, r.PrunedUnits);
        Assert.Equal(before, w);
        Assert.Equal([1, 1, 1], mask);
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => PruningApi.Regression(w, shape, x, default, 10, 1.0, mask, out _, out _)).ParamName);
    }
}
