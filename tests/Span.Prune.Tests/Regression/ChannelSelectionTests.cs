using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

/// <summary>LASSO and greedy selection, checked against planted supports and independently computed optimality conditions.</summary>
public class ChannelSelectionTests
{
    private static readonly int[] Support = [1, 4, 7, 12, 13];

    private static double[] PlantedBeta(int channels, IEnumerable<int> support, Func<int, double> value)
    {
        var beta = new double[channels];
        foreach (int c in support) beta[c] = value(c);
        return beta;
    }

    private static byte[] MaskOf(int channels, IEnumerable<int> set)
    {
        var m = new byte[channels];
        foreach (int c in set) m[c] = 1;
        return m;
    }

    private static (byte[] Mask, double[] Beta, LassoSelection Result) Lasso(Problem p, int keep, LassoOptions options = default)
    {
        byte[] mask = Enumerable.Repeat((byte)0xAB, p.C).ToArray();
        double[] beta = Enumerable.Repeat(double.NaN, p.C).ToArray();
        LassoSelection r = ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, p.N, keep, mask, beta, options);
        return (mask, beta, r);
    }

    private static (byte[] Mask, double[] Beta, GreedySelection Result) Greedy(Problem p, int keep)
    {
        byte[] mask = Enumerable.Repeat((byte)0xAB, p.C).ToArray();
        double[] beta = Enumerable.Repeat(double.NaN, p.C).ToArray();
        GreedySelection r = ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, p.N, keep, mask, beta);
        return (mask, beta, r);
    }

    private static void AssertExactlyKeep(byte[] mask, int keep)
    {
        Assert.All(mask, m => Assert.True(m is 0 or 1));
        Assert.Equal(keep, mask.Count(m => m == 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void PlantedSupport_UnitBeta_BothSelectorsRecoverIt_AndRefitReproducesY(int kernelSize)
    {
        // Y = Σ_{c∈S} Z_c + noise (3e-4 of the signal's rms): the He et al. model with β = 1 on S, 0 elsewhere.
        Problem p = Planted(512, 16, kernelSize, 12, PlantedBeta(16, Support, _ => 1.0), 3e-4, seed: 40 + kernelSize);
        byte[] expected = MaskOf(16, Support);

        var (lassoMask, lassoBeta, lasso) = Lasso(p, Support.Length);
        Assert.Equal(expected, lassoMask);
        Assert.Equal(Support.Length, lasso.LassoCount);
        Assert.Equal(0, lasso.FilledCount);
        Assert.True(lasso.Converged);
        Assert.InRange(lasso.Lambda, 0, lasso.LambdaMax);
        for (int c = 0; c < 16; c++) Assert.Equal(expected[c] == 1, lassoBeta[c] != 0);

        var (greedyMask, greedyBeta, greedy) = Greedy(p, Support.Length);
        Assert.Equal(expected, greedyMask);
        // Greedy β is the least-squares fit on S, ≈ the planted 1 (noise 3e-4).
        foreach (int c in Support) Assert.Equal(1.0, greedyBeta[c], 1e-3);
        Assert.InRange(greedy.RelativeResidual, 0, 1e-3);

        float[] refitted = TestData.NaNs(p.W.Length);
        RefitResult refit = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, lassoMask, refitted);
        Assert.True(refit.RelativeErrorAfter < 1e-3, $"after {refit.RelativeErrorAfter}");
        // Masking the original W is already the planted model; the refit also fits part of the noise, so it is strictly better.
        Assert.True(refit.RelativeErrorBefore > refit.RelativeErrorAfter, $"before {refit.RelativeErrorBefore}, after {refit.RelativeErrorAfter}");
        Assert.Equal(ReconstructionErrorOf(p, refitted), refit.RelativeErrorAfter, 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void PlantedSupport_ScaledBeta_RefitRemovesMaskingError(int kernelSize)
    {
        // β_S ≠ 1: masking the original weights leaves a large error that only the refit removes.
        double[] values = [0.5, 1.8, -0.7, 2.5, 0.3];
        Problem p = Planted(400, 16, kernelSize, 10, PlantedBeta(16, Support, c => values[Array.IndexOf(Support, c)]), 1e-4, seed: 60 + kernelSize);
        byte[] expected = MaskOf(16, Support);

        Assert.Equal(expected, Lasso(p, Support.Length).Mask);
        Assert.Equal(expected, Greedy(p, Support.Length).Mask);

        var refitted = new float[p.W.Length];
        RefitResult refit = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, expected, refitted);
        Assert.True(refit.RelativeErrorAfter < 1e-3, $"after {refit.RelativeErrorAfter}");
        Assert.True(refit.RelativeErrorBefore > 0.3, $"before {refit.RelativeErrorBefore}");
        Assert.Equal(RelativeError(p.X, MaskColumns(p, expected), p.Y, p.Shape, p.N), refit.RelativeErrorBefore, 1e-5);
        // The refit of a planted channel is β_c·W_c.
        for (int o = 0; o < p.O; o++)
            for (int c = 0; c < p.C; c++)
                for (int e = 0; e < p.K; e++)
                {
                    int i = o * p.D + c * p.K + e;
                    double want = expected[c] == 1 ? values[Array.IndexOf(Support, c)] * p.W[i] : 0.0;
                    Assert.True(Math.Abs(refitted[i] - want) <= 2e-3 * (1 + Math.Abs(want)), $"W'[{i}] = {refitted[i]}, want {want}");
                }
    }

    [Theory]
    [InlineData(1, 6)]
    [InlineData(9, 6)]
    [InlineData(1, 1)]
    [InlineData(9, 11)]
    public void Lasso_ReturnedBetaSatisfiesKkt(int kernelSize, int keep)
    {
        // Dense random problem (every channel contributes with a random β plus noise): the support is not planted.
        double[] beta = TestData.Uniform(12, 77 + kernelSize, 1.5f).Select(v => (double)v).ToArray();
        Problem p = Planted(300, 12, kernelSize, 7, beta, 0.2, seed: 80 + kernelSize + keep);
        var (mask, b, r) = Lasso(p, keep, new LassoOptions { Tolerance = 1e-9 });
        AssertExactlyKeep(mask, keep);
        double lambda = r.Lambda;
        Assert.True(lambda > 0 && lambda < r.LambdaMax);

        double[][] z = AllZ(p);
        double[] residual = Residual(p.Y, z, b);
        double lambdaMax = z.Max(zc => Math.Abs(Inner(zc, p.Y))) / p.N;
        Assert.Equal(lambdaMax, r.LambdaMax, lambdaMax * 1e-5);
        // G and r come from float data summed in 512-sample chunks (~1e-6 relative); the test's double Z differ by that,
        // which moves (1/N)⟨Z_c, residual⟩ by ~1e-6·λ_max·Σ|β|. 1e-4·λ_max covers it with margin.
        double tol = 1e-4 * lambdaMax;
        int nonZero = 0;
        for (int c = 0; c < p.C; c++)
        {
            double grad = Inner(z[c], residual) / p.N;
            if (b[c] != 0)
            {
                nonZero++;
                Assert.True(mask[c] == 1, $"β[{c}] ≠ 0 but not kept");
                Assert.True(Math.Abs(grad - lambda * Math.Sign(b[c])) <= tol, $"c={c}: grad {grad}, λ·sign {lambda * Math.Sign(b[c])}");
            }
            else
            {
                Assert.True(Math.Abs(grad) <= lambda + tol, $"c={c}: |grad| {Math.Abs(grad)} > λ {lambda}");
            }
        }
        Assert.Equal(r.LassoCount, nonZero);
        Assert.True(nonZero <= keep);
        Assert.Equal(keep, r.KeptCount);
    }

    [Fact]
    public void Lasso_SupportShortOfKeep_FillsByResidualCorrelation()
    {
        // Exact Y from two channels: the LASSO path converges to β = 1 on them and no other channel enters before
        // λ_min, so the other two slots are filled. Channel 5 has zero weights (Z_5 = 0): it can never be filled first.
        double[] planted = [0, 1, 0, 0, 1, 0, 0, 0];
        Problem p = Planted(200, 8, 1, 6, planted, 0, seed: 91);
        for (int o = 0; o < p.O; o++) p.W[o * p.D + 5] = 0;
        var (mask, b, r) = Lasso(p, 4);
        AssertExactlyKeep(mask, 4);
        Assert.Equal(2, r.LassoCount);
        Assert.Equal(2, r.FilledCount);
        Assert.Equal(1, mask[1]);
        Assert.Equal(1, mask[4]);
        Assert.Equal(0, mask[5]);

        // Filled channels (kept, β = 0) have the largest |⟨Z_c, Y − Zβ⟩| among the zero-coefficient channels.
        double[][] z = AllZ(p);
        double[] residual = Residual(p.Y, z, b);
        double minFilled = double.PositiveInfinity, maxRest = 0;
        for (int c = 0; c < p.C; c++)
        {
            if (b[c] != 0) continue;
            double score = Math.Abs(Inner(z[c], residual));
            if (mask[c] == 1) minFilled = Math.Min(minFilled, score);
            else maxRest = Math.Max(maxRest, score);
        }
        Assert.True(minFilled >= maxRest, $"filled {minFilled} < unselected {maxRest}");
    }

    [Fact]
    public void Lasso_ZeroContributionChannels_AreFilledLastInIndexOrder()
    {
        // Channels 0, 2, 3 have zero weights: their contribution and correlation are exactly 0, they never enter the
        // LASSO, and keep = C must still keep them (ties → lowest index order is then the only order).
        Problem p = Planted(100, 6, 9, 4, [1, 1, 1, 1, 1, 1], 0.05, seed: 92);
        foreach (int c in new[] { 0, 2, 3 })
            for (int o = 0; o < p.O; o++)
                for (int e = 0; e < p.K; e++) p.W[o * p.D + c * p.K + e] = 0;
        var (mask, b, r) = Lasso(p, 6);
        Assert.All(mask, m => Assert.Equal(1, m));
        Assert.True(r.FilledCount >= 3);
        Assert.Equal(0, b[0]);
        Assert.Equal(0, b[2]);
        Assert.Equal(0, b[3]);

        var (mask4, b4, r4) = Lasso(p, 4);
        AssertExactlyKeep(mask4, 4);
        // Three live channels, all entering the LASSO; the fourth slot goes to the lowest-index zero channel.
        Assert.Equal(3, r4.LassoCount);
        Assert.Equal(new byte[] { 1, 1, 0, 0, 1, 1 }, mask4);
        Assert.Equal(0, b4[0]);
    }

    [Fact]
    public void Lasso_ZeroTargets_KeepsLowestIndices()
    {
        Problem p = Planted(50, 5, 1, 3, [1, 1, 1, 1, 1], 0, seed: 93);
        Array.Clear(p.Y);
        var (mask, b, r) = Lasso(p, 2);
        Assert.Equal(new byte[] { 1, 1, 0, 0, 0 }, mask);
        Assert.All(b, v => Assert.Equal(0.0, v));
        Assert.Equal(0.0, r.LambdaMax);
        Assert.Equal(0, r.LassoCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void KeepAll_ExactTargets_RefitIsExact(int kernelSize)
    {
        // Y = X·Wᵀ exactly (β = 1 everywhere, no noise): keep = C keeps every channel and W' = W.
        Problem p = Planted(200, 7, kernelSize, 5, Enumerable.Repeat(1.0, 7).ToArray(), 0, seed: 94 + kernelSize);
        var (lassoMask, _, lasso) = Lasso(p, 7);
        Assert.All(lassoMask, m => Assert.Equal(1, m));
        Assert.Equal(7, lasso.KeptCount);
        var (greedyMask, greedyBeta, greedy) = Greedy(p, 7);
        Assert.All(greedyMask, m => Assert.Equal(1, m));
        Assert.All(greedyBeta, v => Assert.Equal(1.0, v, 1e-4));
        Assert.InRange(greedy.RelativeResidual, 0, 1e-3);

        var refitted = new float[p.W.Length];
        var compact = TestData.NaNs(p.W.Length);
        RefitResult refit = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, lassoMask, refitted, compact);
        Assert.InRange(refit.RelativeErrorBefore, 0, 1e-5);
        Assert.InRange(refit.RelativeErrorAfter, 0, 1e-4);
        Assert.Equal(refitted, compact);
        for (int i = 0; i < p.W.Length; i++) Assert.Equal(p.W[i], refitted[i], 1e-3f);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void KeepOne_PlantedSingleChannel(int kernelSize)
    {
        double[] planted = new double[9];
        planted[6] = 1.3;
        Problem p = Planted(150, 9, kernelSize, 4, planted, 1e-3, seed: 96 + kernelSize);
        var (lassoMask, lassoBeta, lasso) = Lasso(p, 1);
        var (greedyMask, greedyBeta, _) = Greedy(p, 1);
        byte[] expected = MaskOf(9, [6]);
        Assert.Equal(expected, lassoMask);
        Assert.Equal(expected, greedyMask);
        Assert.Equal(1, lasso.LassoCount);
        Assert.True(lassoBeta[6] > 0);
        Assert.Equal(1.3, greedyBeta[6], 1e-2);

        var compact = TestData.NaNs(p.O * p.K);
        var refitted = new float[p.W.Length];
        RefitResult refit = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, expected, refitted, compact);
        Assert.Equal(1, refit.KeptChannels);
        Assert.True(refit.RelativeErrorAfter < 1e-2);
        Assert.True(refit.RelativeErrorBefore > 0.2);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void Greedy_EachStepAddsTheBestChannel_AndBetaIsLeastSquares(int kernelSize)
    {
        // Dense random problem; keep = t+1 extends keep = t by the channel whose addition minimises the LS residual,
        // found here by brute force over materialised Z with Gaussian elimination.
        double[] planted = TestData.Uniform(7, 120 + kernelSize, 1).Select(v => (double)v).ToArray();
        Problem p = Planted(120, 7, kernelSize, 5, planted, 0.5, seed: 121 + kernelSize);
        double[][] z = AllZ(p);
        var chosen = new List<int>();
        for (int keep = 1; keep <= 5; keep++)
        {
            var (mask, beta, result) = Greedy(p, keep);
            AssertExactlyKeep(mask, keep);
            int[] set = Ones(mask);
            Assert.All(chosen, c => Assert.Contains(c, set));
            int added = set.Single(c => !chosen.Contains(c));

            double best = double.PositiveInfinity;
            for (int cand = 0; cand < p.C; cand++)
            {
                if (chosen.Contains(cand)) continue;
                var trial = chosen.Append(cand).ToList();
                best = Math.Min(best, Norm(Residual(p.Y, z, LeastSquaresBeta(z, p.Y, trial))));
            }
            chosen.Add(added);
            double[] lsBeta = LeastSquaresBeta(z, p.Y, chosen);
            double mine = Norm(Residual(p.Y, z, lsBeta));
            Assert.True(mine <= best * (1 + 1e-6), $"keep={keep}: residual {mine} > best {best}");

            for (int c = 0; c < p.C; c++) Assert.Equal(lsBeta[c], beta[c], 1e-4 * (1 + Math.Abs(lsBeta[c])));
            double yNorm = Math.Sqrt(p.Y.Sum(v => (double)v * v));
            Assert.Equal(mine / yNorm, result.RelativeResidual, 1e-4);
        }
    }

    [Fact]
    public void Greedy_DuplicateChannel_IsNotChosenTwice()
    {
        // Channel 3 duplicates channel 1 exactly (same inputs and weights): after 1 is chosen, 3 adds nothing and must
        // rank below every independent channel.
        Problem p = Planted(100, 5, 1, 4, [0.2, 1, 0.3, 0, 0.4], 0.01, seed: 130);
        for (int n = 0; n < p.N; n++) p.X[n * p.D + 3] = p.X[n * p.D + 1];
        for (int o = 0; o < p.O; o++) p.W[o * p.D + 3] = p.W[o * p.D + 1];
        var (mask, beta, _) = Greedy(p, 4);
        Assert.Equal(new byte[] { 1, 1, 1, 0, 1 }, mask);
        var (maskAll, betaAll, _) = Greedy(p, 5);
        Assert.All(maskAll, m => Assert.Equal(1, m));
        // Channels 1 and 3 tie exactly, so 1 (lower index) is taken first; 3 is taken last with β = 0 and the fit of the
        // other channels is unchanged.
        Assert.Equal(0.0, betaAll[3]);
        for (int c = 0; c < 5; c++) if (c != 3) Assert.Equal(beta[c], betaAll[c], 1e-9);
    }

    private static float[] MaskColumns(Problem p, byte[] mask)
    {
        var w = (float[])p.W.Clone();
        for (int o = 0; o < p.O; o++)
            for (int c = 0; c < p.C; c++)
                if (mask[c] == 0)
                    for (int e = 0; e < p.K; e++) w[o * p.D + c * p.K + e] = 0;
        return w;
    }

    private static double ReconstructionErrorOf(Problem p, float[] w) => RelativeError(p.X, w, p.Y, p.Shape, p.N);
}
