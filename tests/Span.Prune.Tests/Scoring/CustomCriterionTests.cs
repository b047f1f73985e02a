using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

/// <summary>
/// A user's criterion or reduction is a few lines (the interfaces' <c>static virtual</c> defaults fill in the rest) and
/// runs on the kernels' scalar path. Checked against a double-precision reference on every shape and granularity
/// that reaches a distinct kernel strategy (<see cref="GroupTests.ShapeCases"/>), and against the built-in vectorised
/// L2 where they compute the same thing.
/// </summary>
public class CustomCriterionTests
{
    /// <summary>|w|³: one member besides UsesStatistic.</summary>
    private readonly struct CubedMagnitude : IElementCriterion
    {
        public static bool UsesStatistic => false;

        public static float Score(float weight, float statistic) => MathF.Abs(weight) * weight * weight;
    }

    /// <summary>Σ s² then √ — the L2 norm written as a user would, scalar only.</summary>
    private readonly struct ScalarL2 : IGroupReduction
    {
        public static float Accumulate(float accumulator, float score) => accumulator + score * score;

        public static float Finish(float accumulator, int count) => MathF.Sqrt(accumulator);
    }

    /// <summary>The smallest element score (Identity and Combine differ from the defaults).</summary>
    private readonly struct MinReduction : IGroupReduction
    {
        public static float Identity => float.PositiveInfinity;

        public static float Accumulate(float accumulator, float score) => MathF.Min(accumulator, score);

        public static float Combine(float left, float right) => MathF.Min(left, right);
    }

    private static double[] Reference(float[] w, WeightShape shape, Granularity g, Func<IEnumerable<double>, double> reduce)
    {
        var members = new List<double>[g.UnitCount(shape)];
        for (int u = 0; u < members.Length; u++) members[u] = [];
        for (int o = 0; o < shape.Out; o++)
        {
            for (int c = 0; c < shape.RowLength; c++)
            {
                double x = Math.Abs((double)w[o * shape.RowLength + c]);
                members[ScoringReference.UnitOf(shape, g, o, c)].Add(x * x * x);
            }
        }
        return members.Select(m => reduce(m)).ToArray();
    }

    [Fact]
    public void CustomCriterionAndReductions_MatchReference_OnEveryStrategy()
    {
        int seed = 0;
        foreach ((WeightShape shape, Granularity g) in GroupTests.ShapeCases())
        {
            float[] w = TestData.Normal(shape.ElementCount, ++seed);
            float[] l2 = TestData.NaNs(g.UnitCount(shape)), min = TestData.NaNs(g.UnitCount(shape));
            PruneScoring.Group<CubedMagnitude, ScalarL2>(w, default, shape, g, l2);
            PruneScoring.Group<CubedMagnitude, MinReduction>(w, default, shape, g, min);

            double[] expectedL2 = Reference(w, shape, g, m => Math.Sqrt(m.Sum(x => x * x)));
            double[] expectedMin = Reference(w, shape, g, m => m.Min());
            for (int u = 0; u < l2.Length; u++)
            {
                // One float chain of UnitSize terms plus two roundings per score.
                double tolerance = (g.UnitSize(shape) + 4) / 16777216.0 * expectedL2[u] + 1e-30;
                Assert.True(Math.Abs(l2[u] - expectedL2[u]) <= tolerance, $"{shape} {g} unit {u}: {l2[u]} vs {expectedL2[u]}");
                Assert.Equal((float)expectedMin[u], min[u], (float)(3e-7 * expectedMin[u]));
            }
        }
    }

    [Fact]
    public void CustomCriterion_Elementwise_IsItsScalarScore()
    {
        foreach (int n in new[] { 0, 1, 15, 16, 17, 64, 257, 4099 })
        {
            float[] w = TestData.Normal(n, n), scores = TestData.NaNs(n);
            PruneScoring.Elementwise<CubedMagnitude>(w, default, scores);
            for (int i = 0; i < n; i++) Assert.Equal(MathF.Abs(w[i]) * w[i] * w[i], scores[i]);
        }
    }

    [Fact]
    public void ScalarL2_AgreesWithTheVectorisedBuiltIn()
    {
        var shape = WeightShape.Conv2D(16, 20, 5, 5);
        float[] w = TestData.Normal(shape.ElementCount, 3);
        foreach (Granularity g in new[] { Granularity.Row, Granularity.Column, Granularity.Kernel, Granularity.Block(4, 25) })
        {
            float[] custom = new float[g.UnitCount(shape)], builtIn = new float[g.UnitCount(shape)];
            PruneScoring.Group<MagnitudeCriterion, ScalarL2>(w, default, shape, g, custom);
            PruneScoring.Group<MagnitudeCriterion, L2Reduction>(w, default, shape, g, builtIn);
            for (int u = 0; u < custom.Length; u++) Assert.Equal(builtIn[u], custom[u], 1e-5f * builtIn[u]);
        }
    }

    [Fact]
    public void Pruning_AcceptsACustomCriterion()
    {
        var shape = WeightShape.Linear(8, 6);
        float[] w = TestData.Normal(48, 9), expected = (float[])w.Clone();
        byte[] rows = new byte[8], expectedRows = new byte[8];
        Span.Prune.Pruning.Layer<CubedMagnitude, ScalarL2>(w, default, shape, Granularity.Row, 0.5, rows);
        float[] scores = new float[8];
        PruneScoring.Group<CubedMagnitude, ScalarL2>(expected, default, shape, Granularity.Row, scores);
        Span.Prune.Selection.LowestMask(scores, 4, expectedRows);
        Span.Prune.Masking.ApplyUnitMask(expected, expectedRows, shape, Granularity.Row);
        Assert.Equal(expectedRows, rows);
        Assert.Equal(expected, w);
    }
}
