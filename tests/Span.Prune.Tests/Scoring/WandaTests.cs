using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

public class WandaTests
{
    public static IEnumerable<object[]> Shapes() =>
    [
        [WeightShape.Linear(1, 1)],
        [WeightShape.Linear(7, 13)],
        [WeightShape.Linear(3, 257)],
        [WeightShape.Linear(16, 64)],
        [WeightShape.Conv2D(5, 3, 3, 3)],
        [WeightShape.Conv2D(4, 7, 1, 5)],
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Wanda_IsMagnitudeTimesColumnNorm(WeightShape shape)
    {
        float[] w = TestData.Normal(shape.ElementCount, 1);
        float[] norms = TestData.Uniform(shape.RowLength, 2, 3f).Select(Math.Abs).ToArray();
        float[] scores = TestData.NaNs(w.Length);
        PruneScoring.Wanda(w, shape, norms, scores);
        // One float multiply of |w| by the norm of the element's column: exact.
        for (int o = 0; o < shape.Out; o++)
            for (int j = 0; j < shape.RowLength; j++)
            {
                int e = o * shape.RowLength + j;
                Assert.Equal(Math.Abs(w[e]) * norms[j], scores[e]);
            }

        float[] inPlace = (float[])w.Clone();
        PruneScoring.Wanda(inPlace, shape, norms, inPlace);
        Assert.Equal(scores, inPlace);
    }

    [Fact]
    public void Wanda_RanksByActivationWithinARow()
    {
        // |w| = 1 on a feature with norm 0.1 loses to |w| = 0.5 on a feature with norm 10.
        float[] w = [1f, 0.5f];
        float[] scores = new float[2];
        PruneScoring.Wanda(w, WeightShape.Linear(1, 2), [0.1f, 10f], scores);
        Assert.True(scores[0] < scores[1]);
    }

    [Fact]
    public void Wanda_BadInput_Throws_AndWritesNothing()
    {
        var shape = WeightShape.Linear(3, 4);
        float[] w = TestData.Normal(12, 3), norms = [1f, 2f, 3f, 4f], scores = TestData.NaNs(12);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(new float[11], shape, norms, scores)).ParamName);
        Assert.Equal("inputNorms", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(w, shape, new float[3], scores)).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(w, shape, norms, new float[11])).ParamName);
        Assert.Equal("inputNorms", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(w, shape, [1f, -2f, 3f, 4f], scores)).ParamName);
        Assert.Equal("inputNorms", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(w, shape, [1f, float.NaN, 3f, 4f], scores)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda([], default, [], [])).ParamName);
        float[] badW = (float[])w.Clone();
        badW[11] = float.PositiveInfinity;
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruneScoring.Wanda(badW, shape, norms, scores)).ParamName);
        Assert.All(scores, s => Assert.True(float.IsNaN(s)));

        float[] buffer = new float[16];
        Assert.Equal("scores", Assert.Throws<ArgumentException>(
            () => PruneScoring.Wanda(w, shape, buffer.AsSpan(0, 4), buffer.AsSpan(2, 12))).ParamName);
        Assert.Equal("scores", Assert.Throws<ArgumentException>(
            () => PruneScoring.Wanda(buffer.AsSpan(0, 12), shape, norms, buffer.AsSpan(1, 12))).ParamName);
    }

    public static IEnumerable<object[]> NormCases()
    {
        foreach (int features in new[] { 1, 3, 4, 7, 8, 16, 17, 33, 100, 511, 512, 513, 1300, 8192, 8200 })
            foreach (int tokens in new[] { 0, 1, 5, 64 })
                yield return [tokens, features];
    }

    [Theory]
    [MemberData(nameof(NormCases))]
    public void InputNorms_MatchDoubleReference(int tokens, int features)
    {
        float[] x = TestData.Normal(tokens * features, tokens * 7919 + features, std: 3f);
        float[] norms = TestData.NaNs(features);
        PruneScoring.InputNorms(x, features, norms);
        for (int j = 0; j < features; j++)
        {
            double sum = 0;
            for (int t = 0; t < tokens; t++) sum += (double)x[t * features + j] * x[t * features + j];
            // Squares and sums in double, one rounding to float at the end: within 1 float ulp (2⁻²³ relative).
            double expected = Math.Sqrt(sum);
            Assert.True(Math.Abs(norms[j] - expected) <= expected * 1.2e-7, $"feature {j}: {norms[j]} vs {expected}");
        }
    }

    [Fact]
    public void Accumulator_OverBatches_EqualsOneShot()
    {
        const int features = 37;
        float[] x = TestData.Normal(100 * features, 9);
        float[] oneShot = new float[features], streamed = TestData.NaNs(features);
        PruneScoring.InputNorms(x, features, oneShot);

        var acc = new ActivationAccumulator(features);
        acc.AddNC(x.AsSpan(0, 30 * features), 30);
        acc.AddNC(x.AsSpan(30 * features, 7 * features), 7);
        acc.AddNHWC(x.AsSpan(37 * features), 1, 7, 9);
        Assert.Equal(3, acc.Count);
        Assert.Equal(100, acc.ValuesPerChannel);
        acc.CopyNormsTo(streamed);
        // Per feature, both sum the same doubles in the same token order, across the batches too: identical.
        Assert.Equal(oneShot, streamed);

        acc.Reset();
        Assert.Equal(0, acc.Count);
        Assert.Throws<InvalidOperationException>(() => acc.CopyNormsTo(streamed));
    }

    [Theory]
    [InlineData(1, 3, 5)]
    [InlineData(2, 17, 19)]
    [InlineData(3, 40, 33)]
    public void Accumulator_Norms_OfNchwPlanes_MatchANaiveSumOfSquares(int batch, int channels, int plane)
    {
        float[] x = TestData.Normal(batch * channels * plane, channels + plane);
        var acc = new ActivationAccumulator(channels);
        acc.AddNCHW(x, batch, 1, plane);
        acc.AddNCHW(x, batch, plane, 1);
        float[] norms = new float[channels];
        acc.CopyNormsTo(norms);
        for (int c = 0; c < channels; c++)
        {
            double naive = 0;
            for (int n = 0; n < batch; n++)
                for (int i = 0; i < plane; i++) naive += Math.Pow(x[(n * channels + c) * plane + i], 2);
            // Twice the same batch, summed in a different (fixed) order: equal to double rounding, then one float rounding.
            Assert.Equal((float)Math.Sqrt(2 * naive), norms[c], (float)Math.Sqrt(2 * naive) * 1e-6f);
        }
    }

    [Fact]
    public void InputNorms_BadInput_Throws_AndWritesNothing()
    {
        float[] norms = TestData.NaNs(4);
        Assert.Equal("features", Assert.Throws<ArgumentOutOfRangeException>(() => PruneScoring.InputNorms(new float[8], 0, norms)).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => PruneScoring.InputNorms(new float[9], 4, norms)).ParamName);
        Assert.Equal("norms", Assert.Throws<ArgumentException>(() => PruneScoring.InputNorms(new float[8], 4, new float[3])).ParamName);
        float[] bad = new float[8];
        bad[5] = float.NaN;
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => PruneScoring.InputNorms(bad, 4, norms)).ParamName);
        Assert.All(norms, v => Assert.True(float.IsNaN(v)));
        float[] buffer = new float[12];
        Assert.Equal("norms", Assert.Throws<ArgumentException>(() => PruneScoring.InputNorms(buffer.AsSpan(0, 8), 4, buffer.AsSpan(6, 4))).ParamName);

        var acc = new ActivationAccumulator(4);
        acc.AddNC([1f, 2f, 3f, 4f], 1);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNC(bad, 2)).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNC(new float[5], 1)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyNormsTo(new float[3])).ParamName);
        Assert.Equal(1, acc.Count);
        acc.CopyNormsTo(norms);
        Assert.Equal([1f, 2f, 3f, 4f], norms);
    }
}
