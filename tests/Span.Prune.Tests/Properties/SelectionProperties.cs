using CsCheck;

namespace Span.Prune.Tests.Properties;

using Masking = Span.Prune.Masking;
using Selection = Span.Prune.Selection;

/// <summary>Properties of exact-k selection: counts, order, the tie rule, the NaN/±∞ policy and <see cref="Selection.PruneCount"/>.</summary>
public class SelectionProperties
{
    private static readonly Gen<(float[] Scores, int K)> ScoresAndK =
        from n in Gen.Int[0, 300]
        from scores in PropertyGens.TieProneScore.Array[n]
        from k in Gen.Int[0, n]
        select (scores, k);

    /// <summary>Naive reference: stable-sort the (score, index) pairs ascending and prune the first k.</summary>
    private static byte[] ReferenceMask(float[] scores, int k)
    {
        int[] order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray(); // LINQ OrderBy is stable
        var mask = new byte[scores.Length];
        Array.Fill(mask, (byte)1);
        for (int i = 0; i < k; i++) mask[order[i]] = 0;
        return mask;
    }

    [Fact]
    public void LowestMask_PrunesExactlyK_AndNoPrunedScoreExceedsAKeptOne() =>
        ScoresAndK.Sample((scores, k) =>
        {
            byte[] mask = new byte[scores.Length + 3];
            Array.Fill(mask, (byte)0xCC);
            var report = Selection.LowestMask(scores, k, mask.AsSpan(0, scores.Length));
            int pruned = 0;
            float maxPruned = float.NegativeInfinity, minKept = float.PositiveInfinity;
            for (int i = 0; i < scores.Length; i++)
            {
                Assert.True(mask[i] is 0 or 1, $"mask[{i}] = {mask[i]}");
                if (mask[i] == 0) { pruned++; maxPruned = Math.Max(maxPruned, scores[i]); }
                else minKept = Math.Min(minKept, scores[i]);
            }
            Assert.Equal(k, pruned);
            Assert.True(maxPruned <= minKept, $"pruned {maxPruned} > kept {minKept}");
            Assert.Equal(k, report.PrunedUnits);
            Assert.Equal([0xCC, 0xCC, 0xCC], mask[scores.Length..]);
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void LowestMask_TiesPruneLowerIndexFirst_AsAStableSort() =>
        ScoresAndK.Sample((scores, k) =>
        {
            byte[] mask = new byte[scores.Length];
            Selection.LowestMask(scores, k, mask);
            Assert.Equal(ReferenceMask(scores, k), mask);
            // The caller-scratch overload follows the same rule.
            byte[] mask2 = new byte[scores.Length];
            Selection.LowestMask(scores, k, mask2, new float[Selection.ScratchLength(scores.Length)]);
            Assert.Equal(mask, mask2);
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void LowestMask_NaNOrInfinity_IsRejected_AndTheMaskIsUntouched() =>
        (from n in Gen.Int[1, 200]
         from scores in PropertyGens.TieProneScore.Array[n]
         from at in Gen.Int[0, n - 1]
         from bad in Gen.OneOf(float.NaN, float.PositiveInfinity, float.NegativeInfinity)
         from k in Gen.Int[0, n]
         select (scores, at, bad, k))
        .Sample((scores, at, bad, k) =>
        {
            scores = (float[])scores.Clone();
            scores[at] = bad;
            byte[] mask = new byte[scores.Length];
            Array.Fill(mask, (byte)0xCC);
            var e = Assert.ThrowsAny<ArgumentException>(() => Selection.LowestMask(scores, k, mask));
            Assert.Equal("scores", e.ParamName);
            Assert.All(mask, b => Assert.Equal(0xCC, b));
        }, iter: PropertyGens.Iterations);

    /// <summary>Naive round-half-to-even of the double product, written out without Math.Round.</summary>
    private static int ReferencePruneCount(int n, double sparsity)
    {
        double p = n * sparsity;
        double floor = Math.Floor(p), frac = p - floor;
        if (frac > 0.5) return (int)floor + 1;
        if (frac < 0.5) return (int)floor;
        return (long)floor % 2 == 0 ? (int)floor : (int)floor + 1;
    }

    [Fact]
    public void PruneCount_IsRoundHalfToEven() =>
        (from n in Gen.Int[0, 100_000]
         from sparsity in Gen.Frequency(
             (2, Gen.Double[0.0, 1.0]),
             // exact halves j/(2n) and exact fractions j/n, where the rounding rule decides
             (2, Gen.Int[0, 2 * Math.Max(n, 1)].Select(j => j / (2.0 * Math.Max(n, 1)))),
             (1, Gen.Int[0, Math.Max(n, 1)].Select(j => (double)j / Math.Max(n, 1))),
             (1, Gen.OneOf(0.0, 0.5, 1.0, 0.25, 0.75)))
         select (n, sparsity))
        .Sample((n, sparsity) =>
        {
            int count = Selection.PruneCount(n, sparsity);
            Assert.Equal(ReferencePruneCount(n, sparsity), count);
            Assert.InRange(count, 0, n);
        }, iter: PropertyGens.Iterations * 5);
}
