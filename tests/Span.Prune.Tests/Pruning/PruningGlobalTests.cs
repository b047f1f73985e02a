using Span.Prune.SelectionKernels;

namespace Span.Prune.Tests.Pruning;

/// <summary>
/// <see cref="Span.Prune.Pruning.Global"/>: the same weights as <see cref="GlobalMagnitudePruning"/> run chunk by chunk
/// (one engine), the same weights as the select-from-scores building block
/// (<see cref="Span.Prune.Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>
/// on magnitudes or LAMP scores), typed errors naming the layer, and no allocation in steady state.
/// </summary>
public class PruningGlobalTests
{
    private static float[] Grid(int n, int seed) => TestData.Uniform(n, seed).Select(x => MathF.Round(x * 12f) / 8f).ToArray();

    /// <summary>Layers of several scales and sizes, with ties and zeros; two above the direct-counting limit.</summary>
    private static float[][] Layers() =>
    [
        TestData.Normal(333, 1, 0.2f), Grid(1000, 2), TestData.Normal(MagnitudeHistograms.DirectCountLimit + 77, 3, 0.01f),
        new float[0], TestData.Normal(1, 4), TestData.Normal(2 * MagnitudeHistograms.DirectCountLimit, 5), new float[64],
    ];

    private static uint[][] Bits(float[][] layers) => layers.Select(l => l.Select(BitConverter.SingleToUInt32Bits).ToArray()).ToArray();

    [Theory]
    [MemberData(nameof(GlobalMagnitudePruningTests.Targets), MemberType = typeof(GlobalMagnitudePruningTests))]
    public void EqualsTheStreamedSession_RunChunked(double s, double cap)
    {
        float[][] layers = Layers();
        float[][] inMemory = layers.Select(l => (float[])l.Clone()).ToArray();
        PruneReport r = Span.Prune.Pruning.Global(inMemory.Select(l => (Memory<float>)l).ToArray(), s, GlobalScore.Magnitude, cap);

        foreach (int chunk in new[] { 100, 5000, 1 << 20 })
        {
            var session = new GlobalMagnitudePruning(layers.Select(_ => ElementType.Float32).ToArray(), layers.Select(l => (long)l.Length).ToArray(), s, cap);
            do
            {
                for (int t = 0; t < layers.Length; t++)
                    for (int start = 0; start < layers[t].Length; start += chunk)
                        session.Scan(t, layers[t].AsSpan(start, Math.Min(chunk, layers[t].Length - start)));
            }
            while (!session.Resolve());
            float[][] streamed = layers.Select(l => TestData.NaNs(l.Length)).ToArray();
            for (int t = 0; t < layers.Length; t++)
                for (int start = 0; start < layers[t].Length; start += chunk)
                {
                    int n = Math.Min(chunk, layers[t].Length - start);
                    session.Apply(t, layers[t].AsSpan(start, n), streamed[t].AsSpan(start, n));
                }
            Assert.Equal(Bits(streamed), Bits(inMemory));
            Assert.Equal(session.Threshold, r.Threshold);
            Assert.Equal(session.PruneCount, r.PrunedUnits);
            Assert.Equal(Enumerable.Range(0, layers.Length).Sum(t => session.PrunedCount(t)), r.PrunedElements);
        }
    }

    [Theory]
    [MemberData(nameof(GlobalMagnitudePruningTests.Targets), MemberType = typeof(GlobalMagnitudePruningTests))]
    public void Magnitude_EqualsGlobalLowestMaskOnMagnitudes(double s, double cap) => CheckAgainstScores(GlobalScore.Magnitude, s, cap);

    [Theory]
    [MemberData(nameof(GlobalMagnitudePruningTests.Targets), MemberType = typeof(GlobalMagnitudePruningTests))]
    public void Lamp_EqualsGlobalLowestMaskOnLampScores(double s, double cap) => CheckAgainstScores(GlobalScore.Lamp, s, cap);

    /// <summary>The selection on concatenated scores (Pruning.Global's rule, written with the other engine).</summary>
    private static void CheckAgainstScores(GlobalScore score, double s, double cap)
    {
        float[][] layers = Layers();
        float[] scores = layers.SelectMany(l =>
        {
            var x = new float[l.Length];
            if (score == GlobalScore.Lamp) Span.Prune.Scoring.Lamp(l, x);
            else Span.Prune.Scoring.Magnitude(l, x);
            return x;
        }).ToArray();
        int[] lengths = layers.Select(l => l.Length).ToArray();
        var mask = new byte[scores.Length];
        PruneReport expected = Span.Prune.Selection.GlobalLowestMask(scores, lengths, Span.Prune.Selection.PruneCount(scores.Length, s), mask, cap);

        float[][] pruned = layers.Select(l => (float[])l.Clone()).ToArray();
        PruneReport r = Span.Prune.Pruning.Global(pruned.Select(l => (Memory<float>)l).ToArray(), s, score, cap);
        int offset = 0;
        for (int t = 0; t < layers.Length; t++)
        {
            for (int i = 0; i < layers[t].Length; i++, offset++)
            {
                uint want = mask[offset] == 0 ? 0 : BitConverter.SingleToUInt32Bits(layers[t][i]);
                if (BitConverter.SingleToUInt32Bits(pruned[t][i]) != want) Assert.Fail($"{score} s={s} cap={cap}: layer {t} element {i}");
            }
        }
        Assert.Equal(expected.Threshold, r.Threshold);
        Assert.Equal(expected.PrunedUnits, r.PrunedUnits);
    }

    [Theory]
    [InlineData(GlobalScore.Magnitude, 0, float.NaN)]
    [InlineData(GlobalScore.Magnitude, 2, float.PositiveInfinity)]
    [InlineData(GlobalScore.Magnitude, 5, float.NegativeInfinity)]
    [InlineData(GlobalScore.Lamp, 1, float.NaN)]
    [InlineData(GlobalScore.Lamp, 4, float.PositiveInfinity)]
    public void NonFiniteWeight_ThrowsTensorArgumentException_NamingTheLayer_WritingNothing(GlobalScore score, int bad, float value)
    {
        float[][] layers = Layers();
        layers[bad][layers[bad].Length / 2] = value;
        float[][] before = layers.Select(l => (float[])l.Clone()).ToArray();
        var e = Assert.Throws<TensorArgumentException>(() => Span.Prune.Pruning.Global(layers.Select(l => (Memory<float>)l).ToArray(), 0.5, score, 0.9));
        Assert.Equal(bad, e.TensorIndex);
        Assert.Equal("layers", e.ParamName);
        Assert.DoesNotContain($"{bad}", e.Message.Replace("(Parameter 'layers')", ""));
        Assert.Equal(Bits(before), Bits(layers));
    }

    [Fact]
    public void BadArguments_Throw_NamingTheParameter()
    {
        Memory<float>[] layers = [new float[10], new float[10]];
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => Span.Prune.Pruning.Global(layers, 1.5)).ParamName);
        Assert.Equal("maxLayerSparsity", Assert.Throws<ArgumentOutOfRangeException>(() => Span.Prune.Pruning.Global(layers, 0.5, GlobalScore.Magnitude, double.NaN)).ParamName);
        Assert.Equal("maxLayerSparsity", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.Global(layers, 0.5, GlobalScore.Magnitude, 0.4)).ParamName);
    }

    [Fact]
    public void LargeLayers_CappedAndUncapped_AllocateNothing_InSteadyState()
    {
        float[][] source = Layers();
        float[][] work = source.Select(l => (float[])l.Clone()).ToArray();
        Memory<float>[] layers = work.Select(l => (Memory<float>)l).ToArray();
        AllocationAssert.None(() =>
        {
            for (int t = 0; t < work.Length; t++) source[t].CopyTo(work[t], 0);
            Span.Prune.Pruning.Global(layers, 0.7);
            Span.Prune.Pruning.Global(layers, 0.5, GlobalScore.Magnitude, 0.6);
            Span.Prune.Pruning.Global(layers, 0.5, GlobalScore.Lamp);
        }, repeats: 3);
    }
}
