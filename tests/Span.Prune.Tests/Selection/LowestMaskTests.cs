using PruningApi = Span.Prune.Pruning;
using Span.Prune.SelectionKernels;
using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class LowestMaskTests
{
    public static IEnumerable<object[]> Lengths() => TestData.Lengths();

    private static int[] Counts(int n, Random rng) =>
        n <= 20 ? Enumerable.Range(0, n + 1).ToArray() : [0, 1, n / 2, (int)(0.9 * n), n - 1, n, rng.Next(n + 1)];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void MatchesStableSortReference(int n)
    {
        var rng = new Random(n);
        // Quantised scores make ties common, so the index tie rule is exercised at every length.
        float[] scores = TestData.Uniform(n, n).Select(x => MathF.Round(x * 8) / 8).ToArray();
        var mask = new byte[n];
        var scratch = new float[n];
        foreach (int k in Counts(n, rng))
        {
            byte[] expected = SelectionReference.Mask(scores, k);
            foreach (var path in new[] { SelectionPath.Auto, SelectionPath.Introselect, SelectionPath.Radix, SelectionPath.SampleWindow })
            {
                Array.Fill(mask, (byte)0xCD);
                PruneReport r = SelectionReference.With(path, PartitionVariant.Auto, () => Sel.LowestMask(scores, k, mask, scratch));
                Assert.Equal(expected, mask);
                Assert.Equal(k, r.PrunedUnits);
                Assert.Equal(ExpectedThreshold(scores, k), r.Threshold);
            }
            Array.Fill(mask, (byte)0xCD);
            Assert.Equal(k, Sel.LowestMask(scores, k, mask).PrunedUnits);
            Assert.Equal(expected, mask);
        }
    }

    private static int[] Bits(float[] a) => a.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>The weights with the reference mask applied (pruned → +0).</summary>
    private static float[] Applied(float[] weights, byte[] mask) =>
        weights.Select((w, i) => mask[i] == 0 ? 0f : w).ToArray();

    /// <summary>Bitwise equality (so −0 and +0, and NaN payloads, are told apart) with one assertion per array.</summary>
    private static void AssertBits(float[] expected, float[] actual, string what) =>
        Assert.True(expected.AsSpan().SequenceEqual(actual) && expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits)), what);

    private static float ExpectedThreshold(float[] scores, int k)
    {
        if (k == 0) return float.NegativeInfinity;
        float t = SelectionReference.Kth(scores, k - 1);
        return t == 0 ? 0f : t;
    }

    [Fact]
    public void Adversarial_MatchReference()
    {
        foreach (int n in new[] { 63, 64, 65, 1000, 1 << 16 })
        {
            var mask = new byte[n];
            foreach (var (name, scores) in SelectionReference.Adversarial(n, n))
            {
                foreach (int k in new[] { 0, 1, n / 3, n / 2, n - 1, n })
                {
                    byte[] expected = SelectionReference.Mask(scores, k);
                    Sel.LowestMask(scores, k, mask);
                    Assert.True(expected.AsSpan().SequenceEqual(mask), $"{name} n={n} k={k}");
                }
            }
        }
    }

    [Fact]
    public void Ties_PruneLowestIndexFirst_SignedZerosTie()
    {
        // Scores 2, 1, 1, 1, 0: prune 3 → the 0, then the 1s at indices 1 and 2.
        var mask = new byte[5];
        Sel.LowestMask([2f, 1f, 1f, 1f, 0f], 3, mask);
        Assert.Equal(new byte[] { 1, 0, 0, 1, 0 }, mask);

        // −0 and +0 tie, so the lower index goes first even though it is +0.
        var zeros = new byte[3];
        PruneReport r = Sel.LowestMask([0f, -0f, 0f], 1, zeros);
        Assert.Equal(new byte[] { 0, 1, 1 }, zeros);
        Assert.Equal(0f, r.Threshold);
    }

    [Fact]
    public void LargeRandom_MatchesReference()
    {
        const int n = (1 << 20) + 5;
        float[] scores = TestData.Normal(n, 7);
        var mask = new byte[n];
        foreach (int k in new[] { n / 2, (int)(0.9 * n) })
        {
            Sel.LowestMask(scores, k, mask, new float[n]);
            Assert.Equal(SelectionReference.Mask(scores, k), mask);
        }
    }

    [Fact]
    public void Magnitude_WorkedExample()
    {
        // |w| = 3, 2, 1, 5; prune 50% = 2 → the 1 and the −2.
        float[] w = [3f, -2f, 1f, -5f];
        PruneReport r = PruningApi.Magnitude(w, 0.5);
        Assert.Equal(new[] { 3f, 0f, 0f, -5f }, w);
        Assert.Equal(2f, r.Threshold);
        Assert.Equal(2, r.PrunedUnits);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Magnitude_MatchesReferenceOnAbs(int n)
    {
        var rng = new Random(n);
        float[] weights = TestData.Normal(n, n).Select(x => MathF.Round(x * 16) / 16).ToArray(); // ties, ±0
        float[] abs = weights.Select(MathF.Abs).ToArray();
        foreach (int k in Counts(n, rng))
        {
            byte[] expected = SelectionReference.Mask(abs, k);
            foreach (var path in new[] { SelectionPath.Auto, SelectionPath.Introselect, SelectionPath.Radix, SelectionPath.SampleWindow })
            {
                float[] w = (float[])weights.Clone();
                PruneReport r = SelectionReference.With(path, PartitionVariant.Auto, () => PruningApi.MagnitudeCore(w, k, default));
                AssertBits(Applied(weights, expected), w, $"{path} k={k}");
                Assert.Equal(ExpectedThreshold(abs, k), r.Threshold);
                float[] w2 = (float[])weights.Clone();
                SelectionReference.With(path, PartitionVariant.Auto, () => PruningApi.MagnitudeCore(w2, k, TestData.NaNs(n)));
                Assert.Equal(w, w2);
            }
        }
    }

    [Fact]
    public void Magnitude_Large_AlreadySparse_MatchesReference()
    {
        // Half the weights are already zero (iterative pruning): the zeros tie at the threshold or below it.
        const int n = 1 << 20;
        float[] weights = TestData.Normal(n, 11, 0.02f);
        for (int i = 0; i < n; i += 2) weights[i] = (i & 2) == 0 ? 0f : -0f;
        float[] abs = weights.Select(MathF.Abs).ToArray();
        foreach (int k in new[] { n / 4, n / 2, n / 2 + 1, (int)(0.9 * n) })
        {
            byte[] expected = SelectionReference.Mask(abs, k);
            float[] w = (float[])weights.Clone();
            PruningApi.MagnitudeCore(w, k, default);
            AssertBits(Applied(weights, expected), w, $"k={k}");
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        float[] s = [1f, 2f, 3f];
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.LowestMask(s, 4, new byte[3])).ParamName);
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.LowestMask(s, -1, new byte[3])).ParamName);
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Sel.LowestMask(s, 1, new byte[2])).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sel.LowestMask(s, 1, new byte[3], new float[2])).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sel.LowestMask(s, 1, new byte[3], s)).ParamName);
        Assert.Equal("pruneCount", Assert.Throws<ArgumentOutOfRangeException>(() => PruningApi.MagnitudeCore(new float[3], 4, default)).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => PruningApi.Magnitude(new float[3], 0.5, new float[2])).ParamName);
        float[] overlapping = new float[6];
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => PruningApi.Magnitude(overlapping.AsSpan(0, 3), 0.5, overlapping.AsSpan(2, 4))).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruningApi.Magnitude([], 0.5)).ParamName);
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(1000, 999)]
    [InlineData(100_000, 99_999)]
    [InlineData(100_000, 5)]
    public void NonFinite_Throws_NothingWritten(int n, int at)
    {
        foreach (uint bits in new[] { 0x7FC00000u, 0x7F800000u, 0xFF800000u })
        {
            float bad = BitConverter.UInt32BitsToSingle(bits);
            float[] scores = TestData.Uniform(n, 1);
            scores[at] = bad;
            foreach (int k in new[] { 0, 1, n / 2, n })
            {
                var mask = new byte[n];
                Array.Fill(mask, (byte)0xAB);
                Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Sel.LowestMask(scores, k, mask)).ParamName);
                Assert.Equal(-1, mask.AsSpan().IndexOfAnyExcept((byte)0xAB));
                Assert.Equal("scores", Assert.Throws<ArgumentException>(() => Sel.LowestMask(scores, k, mask, new float[n])).ParamName);
                Assert.Equal(-1, mask.AsSpan().IndexOfAnyExcept((byte)0xAB));

                float[] badWeights = TestData.Normal(n, 3);
                badWeights[at] = bad;
                float[] badBefore = (float[])badWeights.Clone();
                var ex = Assert.Throws<ArgumentException>(() => PruningApi.MagnitudeCore(badWeights, k, default));
                Assert.Equal("weights", ex.ParamName);
                Assert.Contains($"Element {at} ", ex.Message, StringComparison.Ordinal);
                Assert.True(Bits(badBefore).SequenceEqual(Bits(badWeights)), "weights written");
            }
        }
    }
}
