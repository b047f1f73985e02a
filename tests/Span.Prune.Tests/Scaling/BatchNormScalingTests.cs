using Span.Prune.Tests.Statistics;

namespace Span.Prune.Tests.Scaling;

public class BatchNormScalingTests
{
    /// <summary>Normal values with about one in eight set to +0.0 or −0.0 (sign(0) cases).</summary>
    private static float[] GammaWithZeros(int length, int seed)
    {
        float[] g = TestData.Normal(length, seed);
        var rng = new Random(seed + 1);
        for (int i = 0; i < length; i++)
        {
            int u = rng.Next(16);
            if (u == 0) g[i] = 0f;
            else if (u == 1) g[i] = -0f;
        }
        return g;
    }

    // ---- Network Slimming pruning (the channel score |γ| is Scoring.Magnitude) --------------------------------

    [Theory]
    [MemberData(nameof(TestData.NonEmptyLengths), MemberType = typeof(TestData))]
    public void BatchNormChannels_PrunesSmallestAbsGamma_ZeroesRowGammaBeta(int channels)
    {
        var shape = WeightShape.Conv2D(channels, 2, 3, 3);
        float[] gamma = GammaWithZeros(channels, channels), beta = TestData.Normal(channels, channels + 1);
        float[] w = TestData.Normal(shape.ElementCount, channels + 2);
        float[] g0 = (float[])gamma.Clone(), b0 = (float[])beta.Clone(), w0 = (float[])w.Clone();
        byte[] mask = new byte[channels];
        PruneReport r = Span.Prune.Pruning.BatchNormChannels(w, shape, gamma, beta, 0.4, mask);

        // Independent reference: a stable sort of (|γ|, index) prunes the first round-half-even(0.4·C).
        int k = (int)Math.Round(0.4 * channels, MidpointRounding.ToEven);
        int[] order = Enumerable.Range(0, channels).OrderBy(c => Math.Abs(g0[c])).ThenBy(c => c).ToArray();
        var pruned = order[..k].ToHashSet();
        Assert.Equal(k, r.PrunedUnits);
        for (int c = 0; c < channels; c++)
        {
            bool p = pruned.Contains(c);
            Assert.Equal(p ? 0 : 1, mask[c]);
            Assert.Equal(p ? 0f : g0[c], gamma[c]);
            Assert.Equal(p ? 0f : b0[c], beta[c]);
            for (int j = 0; j < shape.RowLength; j++) Assert.Equal(p ? 0f : w0[c * shape.RowLength + j], w[c * shape.RowLength + j]);
        }
    }

    [Fact]
    public void BatchNormChannels_WorkedExample_HalfPruningKeepsChannelsZeroAndThree()
    {
        float[] gamma = [1.17f, 0.10f, 0.29f, 0.82f], beta = [1f, 2f, 3f, 4f], w = [1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f];
        byte[] mask = new byte[4];
        Span.Prune.Pruning.BatchNormChannels(w, WeightShape.Linear(4, 2), gamma, beta, 0.5, mask);
        Assert.Equal([1, 0, 0, 1], mask);
        Assert.Equal([1.17f, 0f, 0f, 0.82f], gamma);
        Assert.Equal([1f, 0f, 0f, 4f], beta);
        Assert.Equal([1f, 1f, 0f, 0f, 0f, 0f, 1f, 1f], w);
    }

    [Fact]
    public void BatchNormChannels_RejectsBadInput_NothingWritten()
    {
        var shape = WeightShape.Linear(40, 3);
        float[] w = TestData.Normal(120, 1), beta = TestData.Normal(40, 2);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.BatchNormChannels(w, shape, new float[39], beta, 0.5, new byte[40])).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.BatchNormChannels(w, shape, new float[40], new float[39], 0.5, new byte[40])).ParamName);
        Assert.Equal("channelMask", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.BatchNormChannels(w, shape, new float[40], beta, 0.5, new byte[39])).ParamName);
        float[] shared = TestData.Normal(80, 3);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.BatchNormChannels(w, shape, shared.AsSpan(0, 40), shared.AsSpan(30, 40), 0.5, new byte[40])).ParamName);

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] g = TestData.Normal(40, 3);
            g[33] = bad;
            float[] g0 = (float[])g.Clone(), w0 = (float[])w.Clone();
            var ex = Assert.Throws<ArgumentException>(() => Span.Prune.Pruning.BatchNormChannels(w, shape, g, beta, 0.5, new byte[40]));
            Assert.Equal("gamma", ex.ParamName);
            Assert.Contains("Element 33", ex.Message, StringComparison.Ordinal);
            Assert.Equal(w0, w);
            Assert.Equal(g0.Select(BitConverter.SingleToInt32Bits), g.Select(BitConverter.SingleToInt32Bits));
        }
    }

    // ---- L1 subgradient ----------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void AddL1Subgradient_AddsLambdaTimesSign(int length)
    {
        foreach (float lambda in new[] { 1e-4f, 0.5f })
        {
            float[] gamma = GammaWithZeros(length, length);
            float[] gradient = TestData.Normal(length, length + 7, 1e-2f);
            var expected = new float[length];
            for (int i = 0; i < length; i++)
            {
                float sign = gamma[i] > 0 ? 1f : gamma[i] < 0 ? -1f : 0f; // sign(±0) = 0
                expected[i] = gradient[i] + lambda * sign;                 // one float addition, as documented
            }
            BatchNormScaling.AddL1Subgradient(gamma, gradient, lambda);
            StatisticsAssert.BitEqual(expected, gradient);
        }
    }

    [Fact]
    public void AddL1Subgradient_ZeroLambdaLeavesGradientUnchanged()
    {
        float[] gamma = TestData.Normal(50, 1), gradient = TestData.Normal(50, 2);
        gradient[3] = -0f;
        float[] before = (float[])gradient.Clone();
        BatchNormScaling.AddL1Subgradient(gamma, gradient, 0f);
        StatisticsAssert.BitEqual(before, gradient);
    }

    [Fact]
    public void AddL1Subgradient_RejectsBadInput_NothingWritten()
    {
        float[] gamma = TestData.Normal(37, 1);
        float[] gradient = TestData.Normal(37, 2);
        float[] before = (float[])gradient.Clone();

        Assert.Equal("gammaGradient", Assert.Throws<ArgumentException>(() => BatchNormScaling.AddL1Subgradient(gamma, new float[36], 1f)).ParamName);
        foreach (float lambda in new[] { -1e-5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormScaling.AddL1Subgradient(gamma, gradient, lambda)).ParamName);

        float[] shared = TestData.Normal(40, 3);
        Assert.Equal("gammaGradient", Assert.Throws<ArgumentException>(() => BatchNormScaling.AddL1Subgradient(shared.AsSpan(0, 37), shared.AsSpan(3, 37), 1f)).ParamName);
        Assert.Equal("gammaGradient", Assert.Throws<ArgumentException>(() => BatchNormScaling.AddL1Subgradient(shared.AsSpan(0, 37), shared.AsSpan(0, 37), 1f)).ParamName);

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] g = (float[])gamma.Clone();
            g[36] = bad;
            Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormScaling.AddL1Subgradient(g, gradient, 1f)).ParamName);
            float[] badGradient = (float[])before.Clone();
            badGradient[20] = bad;
            float[] badBefore = (float[])badGradient.Clone();
            Assert.Equal("gammaGradient", Assert.Throws<ArgumentException>(() => BatchNormScaling.AddL1Subgradient(gamma, badGradient, 1f)).ParamName);
            StatisticsAssert.BitEqual(badBefore, badGradient);
        }
        StatisticsAssert.BitEqual(before, gradient);
    }

    // ---- Soft threshold ----------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void SoftThreshold_IsTheProximalL1Step(int length)
    {
        foreach (float tau in new[] { 1e-3f, 0.3f, 5f })
        {
            float[] gamma = GammaWithZeros(length, length);
            if (length > 2) { gamma[0] = tau; gamma[1] = -tau; } // |γ| = τ exactly: zeroed
            float[] original = (float[])gamma.Clone();
            BatchNormScaling.SoftThreshold(gamma, tau);
            for (int i = 0; i < length; i++)
            {
                float g = original[i];
                float expected = MathF.Sign(g) * MathF.Max(MathF.Abs(g) - tau, 0f); // the textbook formula
                if (MathF.Abs(g) <= tau)
                    Assert.Equal(0, BitConverter.SingleToInt32Bits(gamma[i])); // exactly +0.0, as documented
                else
                    Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(gamma[i]));
            }
        }
    }

    [Fact]
    public void SoftThreshold_ZeroThresholdLeavesGammaUnchanged()
    {
        float[] gamma = GammaWithZeros(77, 1);
        float[] before = (float[])gamma.Clone();
        BatchNormScaling.SoftThreshold(gamma, 0f);
        StatisticsAssert.BitEqual(before, gamma);
    }

    [Fact]
    public void SoftThreshold_RejectsBadInput_NothingWritten()
    {
        float[] gamma = TestData.Normal(37, 1);
        float[] before = (float[])gamma.Clone();
        foreach (float tau in new[] { -1e-5f, float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            Assert.Equal("threshold", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormScaling.SoftThreshold(gamma, tau)).ParamName);
        StatisticsAssert.BitEqual(before, gamma);

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] g = (float[])before.Clone();
            g[35] = bad;
            float[] badBefore = (float[])g.Clone();
            Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormScaling.SoftThreshold(g, 0.1f)).ParamName);
            StatisticsAssert.BitEqual(badBefore, g);
        }
    }

    // ---- Fold --------------------------------------------------------------------------------------------------

    private sealed record BatchNorm(float[] Gamma, float[] Beta, float[] Mean, float[] Var);

    private static BatchNorm RandomBatchNorm(int channels, int seed)
    {
        float[] var = TestData.Uniform(channels, seed + 3, 2f);
        for (int o = 0; o < channels; o++) var[o] = Math.Abs(var[o]);
        if (channels > 1) var[1] = 0f;     // a dead channel: σ = √ε
        if (channels > 2) var[2] = 1e-7f;  // below ε
        return new BatchNorm(TestData.Normal(channels, seed), TestData.Normal(channels, seed + 1), TestData.Normal(channels, seed + 2), var);
    }

    public static IEnumerable<object[]> FoldShapes()
    {
        yield return [1, 1, 1, 1];
        yield return [5, 3, 1, 1];
        yield return [16, 33, 1, 1];
        yield return [37, 64, 1, 1];
        yield return [64, 257, 1, 1];
        yield return [6, 3, 3, 3];
        yield return [8, 5, 1, 7];
    }

    [Theory]
    [MemberData(nameof(FoldShapes))]
    public void Fold_LayerAloneEqualsLayerThenBatchNorm(int @out, int @in, int kh, int kw)
    {
        var shape = WeightShape.Conv2D(@out, @in, kh, kw);
        int row = shape.RowLength;
        float[] weights = TestData.Normal(shape.ElementCount, 1, 0.2f);
        float[] bias = TestData.Normal(@out, 2);
        BatchNorm bn = RandomBatchNorm(@out, 3);
        const float Epsilon = 1e-5f;
        float[] w0 = (float[])weights.Clone(), b0 = (float[])bias.Clone();

        BatchNormScaling.Fold(weights, bias, shape, bn.Gamma, bn.Beta, bn.Mean, bn.Var, Epsilon);

        // A convolution output at one position is the dot product of a filter row with an input patch of RowLength
        // values, so random patches test convolutions and linear layers alike.
        for (int sample = 0; sample < 8; sample++)
        {
            float[] x = TestData.Normal(row, 100 + sample);
            for (int o = 0; o < @out; o++)
            {
                // Reference in double: linear, then inference-mode BatchNorm.
                double y = b0[o];
                for (int i = 0; i < row; i++) y += (double)w0[o * row + i] * x[i];
                double s = bn.Gamma[o] / Math.Sqrt((double)bn.Var[o] + Epsilon);
                double expected = s * (y - bn.Mean[o]) + bn.Beta[o];

                // Folded layer, evaluated in double so only the fold's own roundings show.
                double folded = bias[o], magnitude = Math.Abs(s * ((double)b0[o] - bn.Mean[o])) + Math.Abs(bn.Beta[o]);
                for (int i = 0; i < row; i++)
                {
                    folded += (double)weights[o * row + i] * x[i];
                    magnitude += Math.Abs(s * w0[o * row + i] * x[i]);
                }

                // Each folded weight is s·w rounded twice (s to float, then the product): ≤ 2·2⁻²⁴ relative; the
                // bias is rounded once (2⁻²⁴). The test's own double arithmetic adds ~row·2⁻⁵³. So the outputs
                // differ by at most 2·2⁻²⁴·Σ|s·w·x| + 2⁻²⁴·(|s(b−μ)| + |β|) plus that; 3·2⁻²⁴·magnitude bounds it.
                double tolerance = 3 * Math.ScaleB(magnitude, -24);
                Assert.True(Math.Abs(folded - expected) <= tolerance,
                    $"o={o}: folded {folded:R} vs linear→BN {expected:R} (tolerance {tolerance:R}).");
            }
        }
    }

    [Fact]
    public void Fold_RoundsAsDocumented()
    {
        // W' = fl(fl(s)·w) with s = γ/√(σ²+ε) in double; b' = fl(s·(b − μ) + β) in double.
        var shape = WeightShape.Conv2D(9, 4, 3, 3);
        float[] weights = TestData.Normal(shape.ElementCount, 5);
        float[] bias = TestData.Normal(9, 6);
        BatchNorm bn = RandomBatchNorm(9, 7);
        float[] w0 = (float[])weights.Clone(), b0 = (float[])bias.Clone();
        BatchNormScaling.Fold(weights, bias, shape, bn.Gamma, bn.Beta, bn.Mean, bn.Var, 1e-3f);
        for (int o = 0; o < 9; o++)
        {
            double s = bn.Gamma[o] / Math.Sqrt((double)bn.Var[o] + 1e-3f);
            for (int i = 0; i < shape.RowLength; i++)
                Assert.Equal((float)s * w0[o * shape.RowLength + i], weights[o * shape.RowLength + i]);
            Assert.Equal((float)(s * ((double)b0[o] - bn.Mean[o]) + bn.Beta[o]), bias[o]);
        }
    }

    [Fact]
    public void Fold_ZeroBiasGivesBetaMinusMeanGammaOverSigma()
    {
        // γ = 2, σ² = 3 (ε = 1), μ = 5, β = 1: s = 2/√4 = 1, so b' = β − μγ/σ = 1 − 5 = −4 and W' = W.
        var shape = WeightShape.Linear(1, 3);
        float[] weights = [1f, -2f, 0.5f], bias = [0f];
        BatchNormScaling.Fold(weights, bias, shape, [2f], [1f], [5f], [3f], epsilon: 1f);
        Assert.Equal([1f, -2f, 0.5f], weights);
        Assert.Equal(-4f, bias[0]);
    }

    [Fact]
    public void Fold_RejectsBadInput_NothingWritten()
    {
        var shape = WeightShape.Linear(4, 6);
        float[] w = TestData.Normal(24, 1), b = TestData.Normal(4, 2);
        float[] w0 = (float[])w.Clone(), b0 = (float[])b.Clone();
        float[] g = [1f, 2f, 3f, 4f], be = [0f, 0f, 0f, 0f], mu = [0.1f, 0.2f, 0.3f, 0.4f], v = [1f, 1f, 1f, 1f];
        float[] three = new float[3];

        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(new float[23], b, shape, g, be, mu, v)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, new float[5], shape, g, be, mu, v)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, three, be, mu, v)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, three, mu, v)).ParamName);
        Assert.Equal("runningMean", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, three, v)).ParamName);
        Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, three)).ParamName);
        foreach (float eps in new[] { -1e-5f, float.NaN, float.PositiveInfinity })
            Assert.Equal("epsilon", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, v, eps)).ParamName);

        // Overlaps: the bias inside the weights, a BatchNorm span inside a written span.
        float[] block = TestData.Normal(28, 3);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(block.AsSpan(0, 24), block.AsSpan(20, 4), shape, g, be, mu, v)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, w.AsSpan(0, 4), be, mu, v)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, b, mu, v)).ParamName);
        Assert.Equal("runningMean", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, w.AsSpan(10, 4), v)).ParamName);
        Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, b)).ParamName);

        // Variances: negative, or zero with ε = 0.
        Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, [1f, -1e-9f, 1f, 1f])).ParamName);
        Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, [1f, 1f, 0f, 1f], 0f)).ParamName);

        // Non-finite values in each input.
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] With(float[] a, int i) { float[] c = (float[])a.Clone(); c[i] = bad; return c; }
            float[] wBad = With(w, 17), bBad = With(b, 3);
            Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(wBad, b, shape, g, be, mu, v)).ParamName);
            Assert.Equal("bias", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, bBad, shape, g, be, mu, v)).ParamName);
            Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, With(g, 0), be, mu, v)).ParamName);
            Assert.Equal("beta", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, With(be, 1), mu, v)).ParamName);
            Assert.Equal("runningMean", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, With(mu, 2), v)).ParamName);
            Assert.Equal("runningVar", Assert.Throws<ArgumentException>(() => BatchNormScaling.Fold(w, b, shape, g, be, mu, With(v, 3))).ParamName);
            Assert.Equal(w0, w);
            Assert.Equal(b0, b);
            Assert.True(float.IsNaN(wBad[17]) || float.IsInfinity(wBad[17]));
            Assert.Equal(w0[16], wBad[16]);
        }
        StatisticsAssert.BitEqual(w0, w);
        StatisticsAssert.BitEqual(b0, b);
    }

    [Fact]
    public void SteadyState_DoesNotAllocate()
    {
        var shape = WeightShape.Conv2D(16, 8, 3, 3);
        float[] w = TestData.Normal(shape.ElementCount, 1), b = TestData.Normal(16, 2);
        BatchNorm bn = RandomBatchNorm(16, 3);
        float[] gamma = TestData.Normal(300, 4), gradient = TestData.Normal(300, 5), scores = new float[300];
        byte[] channelMask = new byte[16];
        StatisticsAssert.NoAllocations(() => Span.Prune.Pruning.BatchNormChannels(w, shape, gamma.AsSpan(0, 16), b, 0.5, channelMask));
        StatisticsAssert.NoAllocations(() => BatchNormScaling.AddL1Subgradient(gamma, gradient, 1e-4f));
        StatisticsAssert.NoAllocations(() => BatchNormScaling.SoftThreshold(gamma, 1e-6f));
        // Folding repeatedly compounds the scale; with |s| up to ~300 that would overflow, so refold from a copy.
        float[] w0 = (float[])w.Clone(), b0 = (float[])b.Clone();
        StatisticsAssert.NoAllocations(() =>
        {
            w0.CopyTo(w, 0);
            b0.CopyTo(b, 0);
            BatchNormScaling.Fold(w, b, shape, bn.Gamma, bn.Beta, bn.Mean, bn.Var);
        });
    }
}
