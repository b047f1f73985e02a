using Span.Prune.Internal;
using static Span.Prune.Tests.Scoring.ScoringReference;
using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

public class ElementwiseTests
{
    // Element scores are one to three float operations on each element, evaluated in the same order on every
    // path (IElementCriterion contract), so every comparison here is exact.

    public static IEnumerable<object[]> Lengths() => TestData.Lengths();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void EveryCriterion_MatchesScalarFormula(int length)
    {
        float[] w = TestData.Normal(length, seed: length);
        float[] a = TestData.Normal(length, seed: length + 1000);
        foreach (Criterion c in Criteria)
        {
            float[] scores = TestData.NaNs(length);
            Elementwise(c, w, UsesStatistic(c) ? a : [], scores);
            for (int i = 0; i < length; i++)
            {
                Assert.True(ScoreFloat(c, w[i], a[i]) == scores[i], $"{c} length {length} index {i}: {scores[i]} vs {ScoreFloat(c, w[i], a[i])}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void InPlace_OverWeightsAndOverStatistic(int length)
    {
        float[] w = TestData.Normal(length, seed: 3 * length);
        float[] a = TestData.Uniform(length, seed: 3 * length + 1, scale: 4f);
        foreach (Criterion c in Criteria)
        {
            float[] expected = new float[length];
            for (int i = 0; i < length; i++) expected[i] = ScoreFloat(c, w[i], a[i]);

            float[] inPlace = (float[])w.Clone();
            Elementwise(c, inPlace, UsesStatistic(c) ? a : [], inPlace);
            Assert.Equal(expected, inPlace);

            if (UsesStatistic(c))
            {
                float[] overStatistic = (float[])a.Clone();
                Elementwise(c, w, overStatistic, overStatistic);
                Assert.Equal(expected, overStatistic);
            }
        }
    }

    [Fact]
    public void LargeOutputs_StreamingStores_MatchScalarFormula()
    {
        const int extra = 7;
        // Outputs of NonTemporalThreshold floats or more take the non-temporal path: a scalar head up to the
        // vector boundary, aligned streaming stores, the overlapping last vector. Offsets shift the alignment.
        int length = (int)BinaryMapLoop.NonTemporalThreshold + extra;
        float[] w = TestData.Uniform(length + 16, seed: extra);
        float[] a = TestData.Uniform(length + 16, seed: extra + 1);
        float[] scores = new float[length + 16];
        foreach (int offset in new[] { 0, 1, 15 })
        {
            foreach (Criterion c in new[] { Criterion.Magnitude, Criterion.Obd })
            {
                var wSlice = w.AsSpan(offset, length);
                var aSlice = a.AsSpan(16 - offset, length);
                scores.AsSpan().Fill(float.NaN);
                Elementwise(c, wSlice, UsesStatistic(c) ? aSlice : [], scores.AsSpan(offset, length));
                for (int i = 0; i < length; i++)
                {
                    if (ScoreFloat(c, wSlice[i], aSlice[i]) != scores[offset + i])
                        Assert.Fail($"{c} offset {offset} index {i}: {scores[offset + i]} vs {ScoreFloat(c, wSlice[i], aSlice[i])}");
                }
                Assert.True(float.IsNaN(scores[offset + length]));

                float[] inPlace = w.AsSpan(offset, length).ToArray();
                float[] expected = scores.AsSpan(offset, length).ToArray();
                Elementwise(c, inPlace, UsesStatistic(c) ? aSlice : [], inPlace);
                Assert.True(expected.AsSpan().SequenceEqual(inPlace), $"{c} in place, offset {offset}");
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(77)]
    [InlineData(4099)]
    public void Convenience_EqualsGeneric(int length)
    {
        float[] w = TestData.Normal(length, seed: 11);
        float[] a = TestData.Normal(length, seed: 12);
        float[] expected = new float[length];
        float[] actual = TestData.NaNs(length);

        PruneScoring.Elementwise<MagnitudeCriterion>(w, [], expected);
        PruneScoring.Magnitude(w, actual);
        Assert.Equal(expected, actual);

        PruneScoring.Elementwise<TaylorCriterion>(w, a, expected);
        PruneScoring.Taylor(w, a, actual);
        Assert.Equal(expected, actual);

        PruneScoring.Elementwise<ObdCriterion>(w, a, expected);
        PruneScoring.Obd(w, a, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void UnusedStatistic_OfWeightsLength_IsIgnored()
    {
        float[] w = TestData.Normal(40, seed: 1);
        float[] scores = TestData.NaNs(40);
        PruneScoring.Elementwise<MagnitudeCriterion>(w, TestData.NaNs(40), scores);
        for (int i = 0; i < w.Length; i++) Assert.Equal(Math.Abs(w[i]), scores[i]);
    }

    [Fact]
    public void Obd_WorkedExample_RanksDifferentlyFromMagnitude()
    {
        // Spec example: w = 0.5, h = 0.1 → ½·0.1·0.25 = 0.0125; w = 0.3, h = 2.0 → ½·2·0.09 = 0.09.
        float[] w = [0.5f, 0.3f];
        float[] h = [0.1f, 2.0f];
        float[] obd = TestData.NaNs(2), magnitude = TestData.NaNs(2);
        PruneScoring.Obd(w, h, obd);
        PruneScoring.Magnitude(w, magnitude);
        Assert.Equal(0.0125, obd[0], 1e-7);
        Assert.Equal(0.09, obd[1], 1e-7);
        Assert.True(obd[0] < obd[1]);             // OBD prunes the first weight first...
        Assert.True(magnitude[1] < magnitude[0]); // ...magnitude the second.
    }

    [Fact]
    public void LengthMismatch_Throws()
    {
        float[] w = new float[10];
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => PruneScoring.Magnitude(w, new float[9])).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => PruneScoring.Taylor(w, new float[9], new float[10])).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => PruneScoring.Taylor(w, [], new float[10])).ParamName);
        Assert.Equal("hessianDiagonal", Assert.Throws<ArgumentException>(() => PruneScoring.Obd(w, new float[11], new float[10])).ParamName);
        Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Elementwise<TaylorCriterion>(w, new float[3], new float[10])).ParamName);
        // An unused statistic must be empty or of the weights' length.
        Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Elementwise<MagnitudeCriterion>(w, new float[3], new float[10])).ParamName);
    }

    [Fact]
    public void PartialOverlap_Throws_AndWritesNothing()
    {
        float[] buffer = TestData.Normal(40, seed: 2);
        float[] before = (float[])buffer.Clone();
        Assert.Equal("scores", Assert.Throws<ArgumentException>(
            () => PruneScoring.Magnitude(buffer.AsSpan(0, 32), buffer.AsSpan(1, 32))).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(
            () => PruneScoring.Taylor(new float[32], buffer.AsSpan(4, 32), buffer.AsSpan(0, 32))).ParamName);
        Assert.Equal(before, buffer);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFinite_Throws_AndWritesNothing(float bad)
    {
        foreach (int length in new[] { 1, 3, 17, 100, 1000 })
        {
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                float[] w = TestData.Normal(length, seed: 5);
                float[] g = TestData.Normal(length, seed: 6);
                float[] scores = TestData.NaNs(length);

                float[] badW = (float[])w.Clone();
                badW[at] = bad;
                var ex = Assert.Throws<ArgumentException>(() => PruneScoring.Taylor(badW, g, scores));
                Assert.Equal("weights", ex.ParamName);
                Assert.Contains($"Element {at} ", ex.Message);
                Assert.All(scores, s => Assert.True(float.IsNaN(s)));

                float[] badG = (float[])g.Clone();
                badG[at] = bad;
                Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => PruneScoring.Taylor(w, badG, scores)).ParamName);
                Assert.Equal("hessianDiagonal", Assert.Throws<ArgumentException>(() => PruneScoring.Obd(w, badG, scores)).ParamName);
                Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Elementwise<TaylorCriterion>(w, badG, scores)).ParamName);
                Assert.All(scores, s => Assert.True(float.IsNaN(s)));

                // In place: the weights themselves must survive a rejected call.
                float[] inPlace = (float[])badW.Clone();
                Assert.Throws<ArgumentException>(() => PruneScoring.Magnitude(inPlace, inPlace));
                Assert.Equal(badW, inPlace);
            }
        }
    }

    [Fact]
    public void SubnormalAndExtremeFiniteValues_AreAccepted()
    {
        float[] w = [float.Epsilon, -float.Epsilon, float.MaxValue, -float.MaxValue, 0f, -0f, 1e-38f, 3e38f];
        float[] scores = TestData.NaNs(w.Length);
        PruneScoring.Magnitude(w, scores);
        for (int i = 0; i < w.Length; i++) Assert.Equal(Math.Abs(w[i]), scores[i]);
    }
}
