using Span.Prune.Sparse;
using MaskingApi = Span.Prune.Masking;
using PruningApi = Span.Prune.Pruning;
using ScoringApi = Span.Prune.Scoring;
using SelectionApi = Span.Prune.Selection;

namespace Span.Prune.Tests;

/// <summary>
/// The library's one destination rule (README, "API conventions"): a destination must be at least as long as the
/// result, and only that prefix is written. Each case calls an operation twice, once with an exact destination and
/// once with a longer one pre-filled with sentinels, and checks that the prefix matches bit for bit and the tail is
/// untouched. One too-short destination per case must throw naming the parameter.
/// </summary>
public class DestinationRuleTests
{
    private const int Extra = 5;
    private const byte Sentinel = 0xAB;

    private static void FloatCase(int length, Action<float[]> run)
    {
        float[] exact = TestData.NaNs(length);
        run(exact);
        float[] longer = TestData.NaNs(length + Extra);
        run(longer);
        Assert.Equal(exact.Select(BitConverter.SingleToInt32Bits), longer[..length].Select(BitConverter.SingleToInt32Bits));
        Assert.All(longer[length..], v => Assert.True(float.IsNaN(v)));
    }

    private static void ByteCase(int length, Action<byte[]> run)
    {
        byte[] exact = new byte[length];
        run(exact);
        byte[] longer = Enumerable.Repeat(Sentinel, length + Extra).ToArray();
        run(longer);
        Assert.Equal(exact, longer[..length]);
        Assert.All(longer[length..], b => Assert.Equal(Sentinel, b));
    }

    [Fact]
    public void Scoring_WritesOnlyThePrefix()
    {
        var shape = WeightShape.Linear(6, 8);
        float[] w = TestData.Normal(48, 1), g = TestData.Normal(48, 2), norms = TestData.Uniform(8, 3).Select(MathF.Abs).ToArray();
        FloatCase(48, d => ScoringApi.Magnitude(w, d));
        FloatCase(48, d => ScoringApi.Taylor(w, g, d));
        FloatCase(48, d => ScoringApi.Wanda(w, shape, norms, d));
        FloatCase(48, d => ScoringApi.Lamp(w, d));
        FloatCase(6, d => ScoringApi.L2Norm(w, shape, Granularity.Row, d));
        FloatCase(8, d => ScoringApi.InputNorms(TestData.Normal(32, 4), 8, d));
        Assert.Equal("scores", Assert.Throws<ArgumentException>(() => ScoringApi.Magnitude(w, new float[47])).ParamName);
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(() => ScoringApi.L2Norm(w, shape, Granularity.Row, new float[5])).ParamName);
    }

    [Fact]
    public void Selection_And_Masking_WriteOnlyThePrefix()
    {
        var shape = WeightShape.Linear(4, 8);
        float[] scores = TestData.Uniform(32, 5);
        ByteCase(32, m => SelectionApi.LowestMask(scores, 10, m));
        ByteCase(32, m => SelectionApi.NmMask(scores, shape, Granularity.NM(2, 4), m));
        byte[] rows = [1, 0, 1, 1];
        ByteCase(32, m => MaskingApi.ExpandUnitMask(rows, shape, Granularity.Row, m));
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => SelectionApi.LowestMask(scores, 10, new byte[31])).ParamName);
    }

    [Fact]
    public void Pruning_MasksWriteOnlyThePrefix()
    {
        var shape = WeightShape.Linear(4, 8);
        float[] original = TestData.Normal(32, 6), norms = TestData.Uniform(8, 7).Select(MathF.Abs).ToArray();
        ByteCase(4, m => PruningApi.Layer<MagnitudeCriterion, L2Reduction>((float[])original.Clone(), default, shape, Granularity.Row, 0.5, m));
        ByteCase(32, m => PruningApi.NM<MagnitudeCriterion>((float[])original.Clone(), default, shape, Granularity.NM(2, 4), m));
        ByteCase(32, m => PruningApi.Wanda((float[])original.Clone(), shape, norms, 0.5, m));
        Assert.Equal("unitMask", Assert.Throws<ArgumentException>(() =>
            PruningApi.Layer<MagnitudeCriterion, L2Reduction>((float[])original.Clone(), default, shape, Granularity.Row, 0.5, new byte[3])).ParamName);
    }

    [Fact]
    public void Accumulators_CopyOnlyThePrefix()
    {
        var fisher = new FisherAccumulator(6);
        fisher.Add(TestData.Normal(6, 8));
        FloatCase(6, d => fisher.CopyMeanTo(d));
        var taylor = new TaylorAccumulator(6);
        taylor.Add(TestData.Normal(6, 9), TestData.Normal(6, 10));
        FloatCase(6, d => taylor.CopyMeanAbsoluteTo(d));
        var activations = new ActivationAccumulator(3);
        activations.AddNC(TestData.Normal(12, 11), 4);
        FloatCase(3, d => activations.CopyApozTo(d));
        var inputs = new ActivationAccumulator(4);
        inputs.AddNC(TestData.Normal(16, 12), 4);
        FloatCase(4, d => inputs.CopyNormsTo(d));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => inputs.CopyNormsTo(new float[3])).ParamName);
    }

    [Fact]
    public void MatMul_WritesOnlyThePrefix()
    {
        float[] w = TestData.Normal(6 * 5, 13), x = TestData.Normal(5 * 3, 14);
        FloatCase(18, y => MatMul.Multiply(w, 6, 5, x, y, 3));
        var csr = CsrMatrix.FromDense(w, 6, 5);
        FloatCase(18, y => MatMul.Multiply(csr, x, y, 3));
    }

    [Fact]
    public void Regression_OutputsWriteOnlyThePrefix()
    {
        var shape = WeightShape.Linear(3, 4);
        const int samples = 16;
        float[] x = TestData.Normal(samples * 4, 15), w = TestData.Normal(12, 16), y = new float[samples * 3];
        for (int n = 0; n < samples; n++)
        {
            for (int o = 0; o < 3; o++)
            {
                float sum = 0;
                for (int d = 0; d < 4; d++) sum += x[n * 4 + d] * w[o * 4 + d];
                y[n * 3 + o] = sum;
            }
        }
        ByteCase(4, m => ChannelRegression.SelectGreedy(x, w, y, shape, samples, 2, m, new double[4]));
        byte[] keep = [1, 0, 1, 1];
        FloatCase(12, r => ChannelRegression.Refit(x, w, y, shape, samples, keep, r));
    }
}
