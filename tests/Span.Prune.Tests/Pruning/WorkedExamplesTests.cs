namespace Span.Prune.Tests.Pruning;

/// <summary>The worked examples of the criteria text (issue #2), end to end: score → exact-k select → mask.</summary>
public class WorkedExamplesTests
{
    [Fact]
    public void Magnitude_Half_Of_3_m2_1_m5()
    {
        float[] w = [3f, -2f, 1f, -5f];
        Span.Prune.Pruning.Magnitude(w, 0.5);
        Assert.Equal([3f, 0f, 0f, -5f], w);
    }

    [Fact]
    public void RowNorms_L1_5_vs_6_L2_361_vs_510_PruneRow0()
    {
        var shape = WeightShape.Linear(2, 2);
        float[] w = [3f, -2f, 1f, -5f];
        var l1 = new float[2];
        var l2 = new float[2];
        Span.Prune.Scoring.L1Norm(w, shape, Granularity.Row, l1);
        Span.Prune.Scoring.L2Norm(w, shape, Granularity.Row, l2);
        Assert.Equal([5f, 6f], l1);
        Assert.Equal(Math.Sqrt(13), l2[0], 1e-6); // ≈ 3.61
        Assert.Equal(Math.Sqrt(26), l2[1], 1e-6); // ≈ 5.10

        foreach (bool useL2 in new[] { false, true })
        {
            float[] weights = (float[])w.Clone();
            var rows = new byte[2];
            if (useL2) Span.Prune.Pruning.Layer<MagnitudeCriterion, L2Reduction>(weights, default, shape, Granularity.Row, 0.5, rows);
            else Span.Prune.Pruning.Layer<MagnitudeCriterion, L1Reduction>(weights, default, shape, Granularity.Row, 0.5, rows);
            Assert.Equal([0, 1], rows);
            Assert.Equal([0f, 0f, 1f, -5f], weights);
        }
    }

    [Fact]
    public void BatchNormGamma_Half_Keeps_0_And_3()
    {
        float[] gamma = [1.17f, 0.10f, 0.29f, 0.82f];
        var scores = new float[4];
        var keep = new byte[4];
        Span.Prune.Scoring.Magnitude(gamma, scores); // Network Slimming scores channels by |γ|
        Span.Prune.Selection.LowestMask(scores, Span.Prune.Selection.PruneCount(4, 0.5), keep);
        Assert.Equal([1, 0, 0, 1], keep);
    }

    [Fact]
    public void Obd_PrunesWhatMagnitudeKeeps()
    {
        float[] w = [0.5f, 0.3f];
        float[] h = [0.1f, 2.0f];
        var obd = new float[2];
        Span.Prune.Scoring.Obd(w, h, obd);
        Assert.Equal(0.0125f, obd[0], 1e-7f);
        Assert.Equal(0.09f, obd[1], 1e-7f);

        var obdMask = new byte[2];
        Span.Prune.Pruning.Layer<ObdCriterion, SumReduction>((float[])w.Clone(), h, WeightShape.Linear(1, 2), Granularity.Element, 0.5, obdMask);
        var magnitudeMask = new byte[2];
        Span.Prune.Pruning.Layer<MagnitudeCriterion, SumReduction>((float[])w.Clone(), default, WeightShape.Linear(1, 2), Granularity.Element, 0.5, magnitudeMask);
        Assert.Equal([0, 1], obdMask);       // OBD prunes w = 0.5 (saliency 0.0125)
        Assert.Equal([1, 0], magnitudeMask); // magnitude prunes w = 0.3
    }

    [Fact]
    public void Apoz_11_12_14_of_32_PrunesChannel2()
    {
        // [N = 32, C = 3] post-ReLU activations: channel c has zeroCounts[c] zeros among its 32 values.
        int[] zeroCounts = [11, 12, 14];
        var activations = new float[32 * 3];
        for (int n = 0; n < 32; n++)
            for (int c = 0; c < 3; c++)
                activations[n * 3 + c] = n < zeroCounts[c] ? 0f : 0.5f + n;
        var acc = new ActivationAccumulator(3);
        acc.AddNC(activations.AsSpan(0, 16 * 3), 16); // two batches, streamed
        acc.AddNC(activations.AsSpan(16 * 3), 16);

        var apoz = new float[3];
        var importance = new float[3];
        var keep = new byte[3];
        acc.CopyApozTo(apoz);
        acc.CopyImportanceTo(importance);
        Assert.Equal([11f / 32, 12f / 32, 14f / 32], apoz);
        Span.Prune.Selection.LowestMask(importance, 1, keep);
        Assert.Equal([1, 1, 0], keep);
    }
}
