using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class GlobalLowestMaskTests
{
    private static (float[] Scores, int[] Lengths) Layers(int seed, params int[] lengths)
    {
        var rng = new Random(seed);
        var scores = new List<float>();
        foreach (int len in lengths)
        {
            // Layers on different scales, so an uncapped global threshold prunes the small-scale ones hardest.
            float scale = (float)Math.Pow(10, rng.Next(-2, 2));
            scores.AddRange(TestData.Uniform(len, rng.Next()).Select(x => MathF.Round(MathF.Abs(x) * 16) / 16 * scale));
        }
        return (scores.ToArray(), lengths);
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (double cap in new[] { 1.0, 0.9, 0.5, 0.3, 0.0 })
            foreach (int seed in new[] { 1, 2, 3 })
                yield return [cap, seed];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesGreedyReference(double cap, int seed)
    {
        var (scores, lengths) = Layers(seed, 7, 0, 64, 1, 300, 33, 129, 2);
        int n = scores.Length;
        long capacity = lengths.Sum(l => (long)Math.Floor((decimal)cap * l));
        var mask = new byte[n];
        var scratch = new float[n];
        foreach (int k in new[] { 0, 1, n / 4, n / 2, (int)(0.8 * n), n - 1, n }.Where(k => k <= capacity).Distinct())
        {
            byte[] expected = SelectionReference.GlobalMask(scores, lengths, k, cap);
            Array.Fill(mask, (byte)0xCD);
            PruneReport r = Sel.GlobalLowestMask(scores, lengths, k, mask, scratch, cap);
            Assert.Equal(expected, mask);
            Assert.Equal(k, r.PrunedUnits);
            float largestPruned = float.NegativeInfinity;
            for (int i = 0; i < n; i++) if (mask[i] == 0) largestPruned = Math.Max(largestPruned, scores[i]);
            Assert.Equal(largestPruned, r.Threshold);

            Array.Fill(mask, (byte)0xCD);
            Sel.GlobalLowestMask(scores, lengths, k, mask, cap);
            Assert.Equal(expected, mask);
        }
    }

    [Fact]
    public void Uncapped_EqualsLowestMaskOnConcatenation()
    {
        var (scores, lengths) = Layers(5, 100, 1000, 10, 4099);
        var a = new byte[scores.Length];
        var b = new byte[scores.Length];
        foreach (int k in new[] { 0, 17, scores.Length / 2, scores.Length })
        {
            Sel.GlobalLowestMask(scores, lengths, k, a);
            Sel.LowestMask(scores, k, b);
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void Cap_ProtectsSmallScaleLayer_AndStillPrunesExactlyK()
    {
        // Layer A scores are tiny, layer B large: uncapped 50% prunes all of A. With cap 0.6, A loses ⌊0.6·10⌋ = 6
        // (its 6 lowest) and B gives the other 4.
        float[] scores = [.. Enumerable.Range(1, 10).Select(i => i * 0.001f), .. Enumerable.Range(1, 10).Select(i => (float)i)];
        int[] lengths = [10, 10];
        var mask = new byte[20];
        Sel.GlobalLowestMask(scores, lengths, 10, mask);
        Assert.Equal(10, mask.AsSpan(0, 10).ToArray().Count(x => x == 0));
        PruneReport r = Sel.GlobalLowestMask(scores, lengths, 10, mask, 0.6);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1 }, mask);
        Assert.Equal(4f, r.Threshold);
        Assert.Equal(10, r.PrunedUnits);
    }

    [Fact]
    public void Caps_Cascade_OverSeveralRounds()
    {
        // Round 1 (uncapped 14 lowest) takes all of A and 4 of B → A capped at 5. Round 2 (9 more among B, C) takes 9 of
        // B → B capped at 5. Round 3 takes the remaining 4 from C.
        float[] scores = [.. Enumerable.Range(1, 10).Select(i => i * 0.001f), .. Enumerable.Range(1, 10).Select(i => i * 0.1f),
            .. Enumerable.Range(1, 10).Select(i => i * 10f)];
        int[] lengths = [10, 10, 10];
        var mask = new byte[30];
        PruneReport r = Sel.GlobalLowestMask(scores, lengths, 14, mask, 0.5);
        Assert.Equal(SelectionReference.GlobalMask(scores, lengths, 14, 0.5), mask);
        Assert.Equal(5, mask.AsSpan(0, 10).ToArray().Count(x => x == 0));
        Assert.Equal(5, mask.AsSpan(10, 10).ToArray().Count(x => x == 0));
        Assert.Equal(4, mask.AsSpan(20, 10).ToArray().Count(x => x == 0));
        Assert.Equal(40f, r.Threshold);
    }

    [Fact]
    public void Cap_UsesDecimalFloor()
    {
        // 0.29·100 is 28.999999999999996 in binary double; the documented floor is taken on the decimal 0.29 → 29.
        float[] scores = [.. Enumerable.Range(0, 100).Select(i => (float)i), .. Enumerable.Range(0, 100).Select(i => 1000f + i)];
        var mask = new byte[200];
        Sel.GlobalLowestMask(scores, [100, 100], 58, mask, 0.29);
        Assert.Equal(29, mask.AsSpan(0, 100).ToArray().Count(x => x == 0));
        Assert.Equal(29, mask.AsSpan(100).ToArray().Count(x => x == 0));
        Assert.Equal("maxSegmentSparsity", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(scores, [100, 100], 59, mask, 0.29)).ParamName);
    }

    [Fact]
    public void GlobalTies_FollowSegmentThenIndexOrder()
    {
        float[] scores = [1f, 0f, 1f, 1f, 1f];
        var mask = new byte[5];
        Sel.GlobalLowestMask(scores, [2, 3], 3, mask);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 1 }, mask);
    }

    [Fact]
    public void Large_WithCaps_MatchesReference()
    {
        var (scores, lengths) = Layers(8, 40_000, 70_000, 3, 25_000);
        var mask = new byte[scores.Length];
        foreach (double cap in new[] { 1.0, 0.7 })
        {
            int k = (int)(0.6 * scores.Length);
            Sel.GlobalLowestMask(scores, lengths, k, mask, cap);
            Assert.Equal(SelectionReference.GlobalMask(scores, lengths, k, cap), mask);
        }
    }

    [Fact]
    public void BadArguments_Throw_NothingWritten()
    {
        float[] s = [1f, 2f, 3f, 4f];
        var mask = new byte[4];
        Assert.Equal("segmentLengths", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [1, 2], 1, mask)).ParamName);
        Assert.Equal("segmentLengths", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [5, -1], 1, mask)).ParamName);
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.GlobalLowestMask(s, [2, 2], 5, mask)).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [2, 2], 1, new byte[3])).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [2, 2], 1, mask, new float[3])).ParamName);
        foreach (double bad in new[] { -0.1, 1.1, double.NaN })
            Assert.Equal("maxSegmentSparsity", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.GlobalLowestMask(s, [2, 2], 1, mask, bad)).ParamName);
        // Caps ⌊0.5·2⌋ + ⌊0.5·2⌋ = 2 < 3.
        Assert.Equal("maxSegmentSparsity", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [2, 2], 3, mask, 0.5)).ParamName);

        s[2] = float.PositiveInfinity;
        Array.Fill(mask, (byte)0xAB);
        foreach (double cap in new[] { 1.0, 0.5 })
        {
            Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Sel.GlobalLowestMask(s, [2, 2], 2, mask, cap)).ParamName);
            Assert.All(mask, b => Assert.Equal(0xAB, b));
        }
    }
}
