using Span.Prune.Internal;
using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

public class RandomTests
{
    /// <summary>SplitMix64 written out in the test from the published algorithm (Vigna, splitmix64.c).</summary>
    private static ulong ReferenceNext(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    [Fact]
    public void Generator_MatchesPublishedSplitMix64Outputs()
    {
        // Known-answer test: the first outputs of SplitMix64 from seed 1234567 as listed by the Rosetta Code
        // task "Pseudo-random numbers/Splitmix64", independent of this library.
        ulong[] published = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        ulong state = 1234567;
        foreach (ulong expected in published) Assert.Equal(expected, ReferenceNext(ref state));

        float[] scores = new float[published.Length];
        PruneScoring.Random(scores, 1234567);
        for (int i = 0; i < published.Length; i++)
            Assert.Equal((published[i] >> 40) / 16777216.0, scores[i]);
        Assert.Equal(published[0], SplitMix64.Mix(1234567 + SplitMix64.Gamma));
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void EveryLength_MatchesReferenceExactly(int length)
    {
        foreach (ulong seed in new ulong[] { 0, 42, ulong.MaxValue })
        {
            float[] scores = TestData.NaNs(length);
            PruneScoring.Random(scores, seed);
            ulong state = seed;
            for (int i = 0; i < length; i++)
            {
                float expected = (float)((ReferenceNext(ref state) >> 40) * (1.0 / (1 << 24)));
                Assert.True(expected == scores[i], $"seed {seed} index {i}: {scores[i]} vs {expected}");
            }
        }
    }

    [Fact]
    public void SameSeed_SameScores_DifferentSeeds_Differ_PrefixStable()
    {
        float[] a = new float[1000], b = new float[1000], c = new float[1000], prefix = new float[333];
        PruneScoring.Random(a, 7);
        PruneScoring.Random(b, 7);
        PruneScoring.Random(c, 8);
        PruneScoring.Random(prefix, 7);
        Assert.Equal(a, b);
        Assert.Equal(a.AsSpan(0, 333).ToArray(), prefix);
        // Two independent streams of 1000 values on a 2²⁴ grid agree at a given index with probability 2⁻²⁴.
        Assert.True(a.Zip(c).Count(p => p.First == p.Second) <= 1);
    }

    [Fact]
    public void Values_AreInUnitInterval_WithMeanOneHalf()
    {
        const int n = 1_000_000;
        float[] scores = new float[n];
        PruneScoring.Random(scores, 2024);
        double sum = 0;
        foreach (float s in scores)
        {
            Assert.True(s >= 0f && s < 1f);
            sum += s;
        }
        // Uniform[0,1) has variance 1/12, so the mean of 1e6 draws has σ = √(1/12/1e6) ≈ 2.9e-4;
        // ±2e-3 is about 7σ: a failure means a broken generator, not bad luck.
        Assert.InRange(sum / n, 0.498, 0.502);
    }
}
