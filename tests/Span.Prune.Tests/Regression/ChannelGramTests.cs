using Span.Prune.RegressionKernels;
using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

public class ChannelGramTests
{
    // N spans 1, below/at/above one 512-sample chunk; C·K spans below/above one 32-row tile.
    [Theory]
    [InlineData(1, 3, 1, 2)]
    [InlineData(37, 5, 1, 7)]
    [InlineData(512, 33, 1, 4)]
    [InlineData(300, 40, 1, 9)]
    [InlineData(1030, 4, 9, 5)]
    [InlineData(70, 6, 9, 3)]
    public void GramAndResponse_MatchMaterialisedContributions(int n, int channels, int kernelSize, int outputs)
    {
        var beta = new double[channels];
        for (int c = 0; c < channels; c++) beta[c] = c % 2 == 0 ? 1 : 0.5;
        Problem p = Planted(n, channels, kernelSize, outputs, beta, 0.3, seed: 11 + n + channels);
        double[][] z = AllZ(p);

        var gram = new double[channels * channels];
        var response = new double[channels];
        var scratch = new double[ChannelGram.ScratchLength(n, p.D, outputs)];
        Array.Fill(gram, double.NaN);
        Array.Fill(response, double.NaN);
        double yy = ChannelGram.Compute(p.X, p.W, p.Y, n, channels, kernelSize, outputs, gram, response, scratch);

        // Float products summed over 512-sample chunks, chunks in double: ~1e-6 relative to the scale of the terms,
        // which is bounded by ‖Z_a‖·‖Z_b‖ (Cauchy–Schwarz). 1e-5 leaves a 10× margin.
        for (int a = 0; a < channels; a++)
        {
            for (int b = 0; b < channels; b++)
            {
                double expected = Inner(z[a], z[b]);
                double scale = Math.Sqrt(Inner(z[a], z[a]) * Inner(z[b], z[b])) + 1e-30;
                Assert.True(Math.Abs(gram[a * channels + b] - expected) <= 1e-5 * scale, $"G[{a},{b}] = {gram[a * channels + b]}, expected {expected}");
            }
            double r = Inner(z[a], p.Y);
            double rScale = Math.Sqrt(Inner(z[a], z[a]) * p.Y.Sum(v => (double)v * v)) + 1e-30;
            Assert.True(Math.Abs(response[a] - r) <= 1e-5 * rScale, $"r[{a}] = {response[a]}, expected {r}");
        }
        double yyExpected = p.Y.Sum(v => (double)v * v);
        Assert.Equal(yyExpected, yy, yyExpected * 1e-6);
    }

    [Fact]
    public void Gram_IsExactlySymmetric()
    {
        Problem p = Planted(40, 7, 9, 3, [1, 1, 1, 1, 1, 1, 1], 0.1, seed: 5);
        var gram = new double[49];
        var response = new double[7];
        var scratch = new double[ChannelGram.ScratchLength(40, p.D, 3)];
        ChannelGram.Compute(p.X, p.W, p.Y, 40, 7, 9, 3, gram, response, scratch);
        for (int a = 0; a < 7; a++)
            for (int b = 0; b < 7; b++) Assert.Equal(gram[a * 7 + b], gram[b * 7 + a]);
    }
}
