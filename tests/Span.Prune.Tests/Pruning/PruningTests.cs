namespace Span.Prune.Tests.Pruning;

/// <summary>
/// The one-call API against references computed another way: a stable sort of (score, index), pruning the first
/// round-half-even(s·n), which is what torch.nn.utils.prune does when scores have no ties.
/// </summary>
public class PruningTests
{
    /// <summary>Mask (1 keep) pruning the k lowest scores, ties by lower index: stable sort by score.</summary>
    private static byte[] ReferenceMask(double[] scores, int k)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i).ToArray();
        var mask = Enumerable.Repeat((byte)1, scores.Length).ToArray();
        for (int j = 0; j < k; j++) mask[order[j]] = 0;
        return mask;
    }

    private static int TorchCount(double sparsity, int n) => (int)Math.Round(sparsity * n, MidpointRounding.ToEven);

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void Magnitude_MatchesL1Unstructured(double sparsity)
    {
        float[] w = TestData.Normal(4099, 11);
        byte[] expected = ReferenceMask(w.Select(x => (double)Math.Abs(x)).ToArray(), TorchCount(sparsity, w.Length));
        float[] before = (float[])w.Clone();

        PruneReport r = Span.Prune.Pruning.Magnitude(w, sparsity);

        for (int i = 0; i < w.Length; i++) Assert.Equal(expected[i] == 0 ? 0f : before[i], w[i]);
        Assert.Equal(TorchCount(sparsity, w.Length), r.PrunedUnits);
    }

    [Theory]
    [InlineData("l1", 0.25)]
    [InlineData("l1", 0.5)]
    [InlineData("l2", 0.5)]
    [InlineData("l2", 0.7)]
    public void RowNorms_MatchLnStructuredDim0(string norm, double sparsity)
    {
        var shape = WeightShape.Conv2D(21, 5, 3, 3);
        float[] w = TestData.Normal(shape.ElementCount, 12);
        double[] rowNorms = Enumerable.Range(0, shape.Out).Select(o =>
        {
            var row = w.Skip(o * shape.RowLength).Take(shape.RowLength);
            return norm == "l1" ? row.Sum(x => Math.Abs((double)x)) : Math.Sqrt(row.Sum(x => (double)x * x));
        }).ToArray();
        byte[] expectedRows = ReferenceMask(rowNorms, TorchCount(sparsity, shape.Out));
        float[] before = (float[])w.Clone();
        var mask = new byte[shape.Out];

        PruneReport r = norm == "l1"
            ? Span.Prune.Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, default, shape, Granularity.Row, sparsity, mask)
            : Span.Prune.Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, Granularity.Row, sparsity, mask);

        Assert.Equal(expectedRows, mask);
        for (int e = 0; e < w.Length; e++) Assert.Equal(expectedRows[e / shape.RowLength] == 0 ? 0f : before[e], w[e]);
        Assert.Equal((long)r.PrunedUnits * shape.RowLength, r.PrunedElements);
    }

    [Fact]
    public void Global_MatchesGlobalUnstructured_AndCapHolds()
    {
        float[][] layers = [TestData.Normal(300, 1, 0.1f), TestData.Normal(1000, 2, 1f), TestData.Normal(77, 3, 0.5f)];
        float[][] before = layers.Select(l => (float[])l.Clone()).ToArray();
        double[] all = layers.SelectMany(l => l.Select(x => (double)Math.Abs(x))).ToArray();
        byte[] expected = ReferenceMask(all, TorchCount(0.6, all.Length));
        var memories = layers.Select(l => (Memory<float>)l).ToArray();

        Span.Prune.Pruning.Global(memories, 0.6);

        int e = 0;
        for (int l = 0; l < layers.Length; l++)
            for (int i = 0; i < layers[l].Length; i++, e++)
                Assert.Equal(expected[e] == 0 ? 0f : before[l][i], layers[l][i]);
        // Layer 0 (small weights) is almost wiped out by a single global threshold...
        Assert.True(layers[0].Count(x => x == 0) > 0.9 * layers[0].Length);

        // ... and a cap of 70% keeps at least 30% of it, with the total still exact.
        layers = before.Select(l => (float[])l.Clone()).ToArray();
        memories = layers.Select(l => (Memory<float>)l).ToArray();
        PruneReport capped = Span.Prune.Pruning.Global(memories, 0.6, GlobalScore.Magnitude, maxLayerSparsity: 0.7);
        Assert.Equal(TorchCount(0.6, all.Length), capped.PrunedUnits);
        Assert.Equal(TorchCount(0.6, all.Length), layers.Sum(l => l.Count(x => x == 0)));
        foreach (float[] l in layers) Assert.True(l.Count(x => x == 0) <= Math.Floor(0.7 * l.Length));
    }

    [Fact]
    public void GlobalLamp_KeepsEveryLayerAlive()
    {
        float[][] layers = [TestData.Normal(300, 1, 0.01f), TestData.Normal(1000, 2, 1f)];
        var memories = layers.Select(l => (Memory<float>)l).ToArray();
        Span.Prune.Pruning.Global(memories, 0.9, GlobalScore.Lamp);
        foreach (float[] l in layers) Assert.Contains(l, x => x != 0);
        Assert.Equal(TorchCount(0.9, 1300), layers.Sum(l => l.Count(x => x == 0)));
    }

    [Fact]
    public void Wanda_PrunesWithinEachRow()
    {
        var shape = WeightShape.Linear(9, 40);
        float[] w = TestData.Normal(shape.ElementCount, 5);
        float[] norms = TestData.Uniform(40, 6).Select(x => Math.Abs(x) + 0.1f).ToArray();
        float[] before = (float[])w.Clone();
        var mask = new byte[w.Length];

        Span.Prune.Pruning.Wanda(w, shape, norms, 0.5, mask);

        for (int o = 0; o < shape.Out; o++)
        {
            double[] rowScores = Enumerable.Range(0, 40).Select(j => (double)(Math.Abs(before[o * 40 + j]) * norms[j])).ToArray();
            byte[] expected = ReferenceMask(rowScores, 20);
            for (int j = 0; j < 40; j++) Assert.Equal(expected[j] == 0 ? 0f : before[o * 40 + j], w[o * 40 + j]);
        }
    }

    [Fact]
    public void NM_KeepsTopTwoOfEveryFour()
    {
        var shape = WeightShape.Linear(6, 16);
        float[] w = TestData.Normal(shape.ElementCount, 8);
        float[] before = (float[])w.Clone();
        var mask = new byte[w.Length];

        PruneReport r = Span.Prune.Pruning.NM<MagnitudeCriterion>(w, default, shape, Granularity.NM(2, 4), mask);

        for (int g = 0; g < w.Length / 4; g++)
        {
            byte[] expected = ReferenceMask(before.Skip(g * 4).Take(4).Select(x => (double)Math.Abs(x)).ToArray(), 2);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j] == 0 ? 0f : before[g * 4 + j], w[g * 4 + j]);
        }
        Assert.Equal(0.5, r.Sparsity);
    }

    [Fact]
    public void BadInput_ThrowsBeforeWriting()
    {
        var shape = WeightShape.Linear(4, 8);
        float[] w = TestData.Normal(32, 1);
        float[] copy = (float[])w.Clone();
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => Span.Prune.Pruning.Magnitude(w, 1.5)).ParamName);
        Assert.Equal("unitMask", Assert.Throws<ArgumentException>(() =>
            Span.Prune.Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, Granularity.Row, 0.5, new byte[3])).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() =>
            Span.Prune.Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, Granularity.Block(3, 2), 0.5, new byte[8])).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() =>
            Span.Prune.Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, Granularity.NM(2, 4), 0.5, new byte[8])).ParamName);
        Assert.Equal(copy, w);

        w[17] = float.NaN;
        copy = (float[])w.Clone();
        Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Magnitude(w, 0.5));
        Assert.Throws<ArgumentException>(() =>
            Span.Prune.Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, default, shape, Granularity.Column, 0.5, new byte[8]));
        Assert.Equal(copy.Select(BitConverter.SingleToInt32Bits), w.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void EmptyInput_Throws()
    {
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Magnitude(Span<float>.Empty, 0.5)).ParamName);
        Assert.Equal("layers", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Global(ReadOnlySpan<Memory<float>>.Empty, 0.5)).ParamName);
        Assert.Equal("layers", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Global(new Memory<float>[] { Array.Empty<float>() }, 0.5)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() =>
            Span.Prune.Pruning.Layer<MagnitudeCriterion, L1Reduction>(Span<float>.Empty, default, default, Granularity.Element, 0.5, Span<byte>.Empty)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Wanda(Span<float>.Empty, default, default, 0.5, Span<byte>.Empty)).ParamName);
    }

    [Fact]
    public void SteadyState_AllocatesNothing()
    {
        var shape = WeightShape.Conv2D(32, 16, 3, 3);
        float[] original = TestData.Normal(shape.ElementCount, 3);
        float[] w = new float[original.Length];
        float[] grad = TestData.Normal(shape.ElementCount, 4);
        float[] norms = TestData.Uniform(shape.RowLength, 5).Select(Math.Abs).ToArray();
        byte[] rowMask = new byte[shape.Out], elementMask = new byte[shape.ElementCount];
        float[] second = TestData.Normal(500, 6);
        Memory<float>[] layers = [w, second];

        void Run()
        {
            original.CopyTo(w);
            Span.Prune.Pruning.Magnitude(w, 0.5);
            Span.Prune.Pruning.Layer<TaylorCriterion, SumReduction>(w, grad, shape, Granularity.Row, 0.25, rowMask);
            Span.Prune.Pruning.NM<MagnitudeCriterion>(w, default, WeightShape.Linear(32, 144), Granularity.NM(2, 4), elementMask);
            Span.Prune.Pruning.Wanda(w, shape, norms, 0.5, elementMask);
            Span.Prune.Pruning.Global(layers, 0.5);
        }

        AllocationAssert.None(Run, 5);
    }
}
