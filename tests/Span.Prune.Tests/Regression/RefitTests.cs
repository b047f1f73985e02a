using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

public class RefitTests
{
    private static byte[] RandomMask(int channels, int seed, int minimum = 1)
    {
        var rng = new Random(seed);
        var m = new byte[channels];
        for (int c = 0; c < channels; c++) m[c] = (byte)(rng.NextDouble() < 0.5 ? 1 : 0);
        for (int c = 0; c < channels && m.Count(v => v == 1) < minimum; c++) m[c] = 1;
        return m;
    }

    /// <summary>A generic (not planted) problem: Y is X·Wᵀ of different weights plus noise, so no mask reproduces it.</summary>
    private static Problem Generic(int n, int channels, int kernelSize, int outputs, int seed)
    {
        Problem p = Planted(n, channels, kernelSize, outputs, Enumerable.Repeat(1.0, channels).ToArray(), 0.3, seed);
        float[] w = TestData.Normal(p.W.Length, seed + 10);
        return p with { W = w };
    }

    [Theory]
    [InlineData(300, 10, 1, 6, 1e-6)]
    [InlineData(300, 10, 1, 6, 0.0)]
    [InlineData(257, 6, 9, 5, 1e-6)]
    [InlineData(40, 33, 1, 3, 1e-6)]
    [InlineData(500, 7, 9, 17, 1e-3)]
    public void Refit_MatchesNaiveNormalEquations(int n, int channels, int kernelSize, int outputs, double relativeRidge)
    {
        Problem p = Generic(n, channels, kernelSize, outputs, seed: n + channels + kernelSize);
        byte[] mask = RandomMask(channels, seed: 7 + channels);
        int kept = mask.Count(m => m == 1);
        var (expected, rho) = NaiveRefit(p, mask, relativeRidge);

        float[] refitted = TestData.NaNs(p.W.Length);
        float[] compact = TestData.NaNs(p.O * kept * p.K);
        RefitResult r = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, refitted, compact, relativeRidge);

        Assert.Equal(kept, r.KeptChannels);
        Assert.Equal(rho, r.Ridge, rho * 1e-5 + 1e-300);
        // Gram products carry ~1e-6 relative rounding (float chunks); cond(X_keptᵀX_kept) of Gaussian data with N ≥ P is
        // modest (≤ ~100 for n=40, P≈17), so 1e-4 of the largest coefficient bounds the difference.
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(compact[i] - expected[i]) <= 1e-4 * scale, $"compact[{i}] = {compact[i]}, expected {expected[i]}");

        int q = kept * p.K;
        for (int o = 0; o < p.O; o++)
        {
            int next = 0;
            for (int c = 0; c < p.C; c++)
            {
                for (int e = 0; e < p.K; e++)
                {
                    float v = refitted[o * p.D + c * p.K + e];
                    if (mask[c] == 0) Assert.Equal(0f, v);
                    else Assert.Equal(compact[o * q + next++], v);
                }
            }
        }

        float[] masked = (float[])p.W.Clone();
        for (int o = 0; o < p.O; o++)
            for (int c = 0; c < p.C; c++)
                if (mask[c] == 0)
                    for (int e = 0; e < p.K; e++) masked[o * p.D + c * p.K + e] = 0;
        // Residual columns are built in float (≈ 1e-6 relative to ‖Y‖), so the relative errors agree to ~1e-5.
        Assert.Equal(RelativeError(p.X, masked, p.Y, p.Shape, p.N), r.RelativeErrorBefore, 1e-5);
        Assert.Equal(RelativeError(p.X, refitted, p.Y, p.Shape, p.N), r.RelativeErrorAfter, 1e-5);
        Assert.True(r.RelativeErrorAfter <= r.RelativeErrorBefore);
    }

    [Fact]
    public void LargeRidge_ShrinksTheSolution()
    {
        Problem p = Generic(200, 8, 9, 5, seed: 3);
        byte[] mask = [1, 0, 1, 1, 0, 1, 0, 1];
        int q = 5 * p.K;
        var small = new float[p.O * q];
        var large = new float[p.O * q];
        var full = new float[p.W.Length];
        RefitResult a = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, full, small);
        RefitResult b = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, full, large, relativeRidge: 10);
        double normSmall = Math.Sqrt(small.Sum(v => (double)v * v)), normLarge = Math.Sqrt(large.Sum(v => (double)v * v));
        // ρ = 10·mean diag ≫ every eigenvalue share: the solution shrinks by roughly 1/(1 + 10·P/λ-ratio); at least 2× here.
        Assert.True(normLarge < 0.5 * normSmall, $"‖W'‖ {normLarge} vs {normSmall}");
        Assert.True(b.Ridge > 1e6 * a.Ridge);
        Assert.True(b.RelativeErrorAfter > a.RelativeErrorAfter);

        var (expected, _) = NaiveRefit(p, mask, 10);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(large[i] - expected[i]) <= 1e-4 * scale);
    }

    [Fact]
    public void InPlace_RefittedMayBeTheWeights()
    {
        Problem p = Generic(120, 6, 1, 4, seed: 8);
        byte[] mask = [0, 1, 1, 0, 1, 1];
        var expected = new float[p.W.Length];
        RefitResult r1 = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, expected);
        float[] w = (float[])p.W.Clone();
        RefitResult r2 = ChannelRegression.Refit(p.X, w, p.Y, p.Shape, p.N, mask, w);
        Assert.Equal(expected, w);
        Assert.Equal(r1, r2);
    }

    [Fact]
    public void DuplicateColumns_DefaultRidgeSolves_ZeroRidgeThrowsWithoutWriting()
    {
        // Channels 1 and 2 receive identical inputs: X_keptᵀX_kept is singular.
        Problem p = Generic(80, 4, 1, 3, seed: 12);
        for (int n = 0; n < p.N; n++) p.X[n * p.D + 2] = p.X[n * p.D + 1];
        byte[] mask = [1, 1, 1, 0];
        var refitted = new float[p.W.Length];
        RefitResult r = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, refitted);
        Assert.True(r.Ridge > 0);
        Assert.All(refitted, v => Assert.True(float.IsFinite(v)));
        // The ridge splits the shared weight evenly between the two identical columns.
        for (int o = 0; o < p.O; o++) Assert.Equal(refitted[o * p.D + 1], refitted[o * p.D + 2], 1e-3f);

        float[] sentinel = TestData.NaNs(p.W.Length);
        float[] compact = TestData.NaNs(p.O * 3);
        var ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, mask, sentinel, compact, relativeRidge: 0));
        Assert.Equal("inputs", ex.ParamName);
        Assert.All(sentinel, v => Assert.True(float.IsNaN(v)));
        Assert.All(compact, v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void AllZeroKeptInputs_Throw()
    {
        Problem p = Generic(30, 3, 1, 2, seed: 13);
        for (int n = 0; n < p.N; n++) p.X[n * p.D + 1] = 0;
        var ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, [0, 1, 0], new float[p.W.Length]));
        Assert.Equal("inputs", ex.ParamName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void ReconstructionError_MatchesNaive(int kernelSize)
    {
        Problem p = Generic(90, 5, kernelSize, 7, seed: 21 + kernelSize);
        double expected = RelativeError(p.X, p.W, p.Y, p.Shape, p.N);
        Assert.Equal(expected, ChannelRegression.ReconstructionError(p.X, p.W, p.Y, p.Shape, p.N), 1e-6 * expected);
    }

    [Fact]
    public void ReconstructionError_ZeroTargets()
    {
        Problem p = Generic(10, 2, 1, 2, seed: 22);
        Array.Clear(p.Y);
        Assert.Equal(double.PositiveInfinity, ChannelRegression.ReconstructionError(p.X, p.W, p.Y, p.Shape, p.N));
        Array.Clear(p.W);
        Assert.Equal(0.0, ChannelRegression.ReconstructionError(p.X, p.W, p.Y, p.Shape, p.N));
    }
}
