using System.Runtime.Intrinsics;
using Span.Prune.Internal;
using static Span.Prune.Tests.Scoring.ScoringReference;
using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

public class GroupTests
{
    /// <summary>
    /// Shapes with odd sizes and every granularity that tiles them. Together they reach every kernel strategy:
    /// horizontal runs (Row of [64,300], Kernel 5×5, a 2×150 block with two rows per tile, a 2×2048 block longer
    /// than the stack chunk), vertical accumulation straight into the unit scores (linear Column, Element, R×1
    /// blocks) and vertical accumulation through a chunk (conv Column, Kernel 3×3 over two stack chunks, N:M,
    /// small blocks, 2-row blocks over three chunks; runs of 2, 4, 8, 16 combined in registers, others one
    /// by one), and Element as a map. <see cref="Cases_CoverEveryStrategy"/> checks that.
    /// </summary>
    public static IEnumerable<(WeightShape Shape, Granularity Granularity)> ShapeCases()
    {
        var common = new[] { Granularity.Element, Granularity.Row, Granularity.Column, Granularity.Kernel };
        var cases = new (WeightShape, Granularity[])[]
        {
            (WeightShape.Linear(7, 13), [.. common, Granularity.Block(7, 13), Granularity.Block(1, 13), Granularity.Block(7, 1), Granularity.NM(1, 13)]),
            (WeightShape.Conv2D(5, 3, 3, 3), [.. common, Granularity.Block(5, 9), Granularity.Block(1, 3), Granularity.NM(2, 9), Granularity.NM(1, 3)]),
            (WeightShape.Linear(8, 16), [.. common, Granularity.Block(2, 4), Granularity.Block(4, 1), Granularity.Block(1, 4), Granularity.NM(2, 4), Granularity.NM(4, 8),
                Granularity.Block(2, 2), Granularity.NM(1, 2), Granularity.Block(4, 16), Granularity.Block(2, 8)]),
            (WeightShape.Linear(3, 10), [.. common, Granularity.NM(2, 5)]),
            (WeightShape.Linear(9, 5), [Granularity.Column, Granularity.Block(3, 1), Granularity.Block(9, 5)]),
            (WeightShape.Linear(64, 300), [.. common, Granularity.Block(2, 150), Granularity.Block(8, 4), Granularity.NM(2, 4)]),
            (WeightShape.Conv2D(16, 20, 5, 5), [.. common, Granularity.Block(4, 25), Granularity.NM(2, 4)]),
            (WeightShape.Conv2D(4, 130, 3, 3), [Granularity.Row, Granularity.Column, Granularity.Kernel, Granularity.Block(2, 9)]),
            (WeightShape.Linear(2, 2048), [Granularity.Row, Granularity.Column, Granularity.Block(2, 2048), Granularity.Block(2, 1)]),
            (WeightShape.Linear(2, 2050), [Granularity.Column, Granularity.Block(2, 2), Granularity.Block(2, 5), Granularity.Block(2, 1025)]),
        };
        foreach ((WeightShape shape, Granularity[] granularities) in cases)
            foreach (Granularity g in granularities)
                yield return (shape, g);
    }

    public static IEnumerable<object[]> CriterionReductionPairs()
    {
        foreach (Criterion c in Criteria)
            foreach (Reduction r in Reductions)
                yield return [c, r];
    }

    /// <summary>
    /// Tolerance, relative to a scale: the kernel accumulates in float, the reference in double. A float sum that
    /// folds n terms in one chain errs by at most (n−1)·2⁻²⁴·Σ|s|. With SIMD the longest chain in these shapes is
    /// 128 terms (a 2048-long run split over the 16 lanes of the 128-bit path — 64 lanes with AVX-512 — and then
    /// combined pairwise; columns are at most 64 rows), so ≤ 7.6e-6·Σ|s|, plus 2–3 roundings per element score
    /// (≤ 2e-7 relative): 1e-5 bounds it. Without SIMD (DOTNET_EnableHWIntrinsic=0)
    /// a unit is one chain of UnitSize terms, so the bound is UnitSize·2⁻²⁴. The scale is Σ|s| for sums (the sum's
    /// condition; signed sums may cancel), √Σs² for L2 and max|s| for Max.
    /// </summary>
    private static double RelativeTolerance(WeightShape shape, Granularity g) =>
        Vector128.IsHardwareAccelerated ? 1e-5 : Math.Max(1e-5, (g.UnitSize(shape) + 3) / 16777216.0);

    [Theory]
    [MemberData(nameof(CriterionReductionPairs))]
    public void EveryGranularity_MatchesDoubleReference(Criterion criterion, Reduction reduction)
    {
        int seed = 0;
        foreach ((WeightShape shape, Granularity g) in ShapeCases())
        {
            seed++;
            float[] w = TestData.Normal(shape.ElementCount, seed);
            // Positive statistics for OBD/Product (Hessian-like, norms), signed gradients for Taylor.
            float[] a = criterion is Criterion.Obd or Criterion.Product
                ? TestData.Uniform(shape.ElementCount, seed + 500, 2f).Select(Math.Abs).ToArray()
                : TestData.Normal(shape.ElementCount, seed + 500);
            float[] units = TestData.NaNs(g.UnitCount(shape));
            Group(criterion, reduction, w, UsesStatistic(criterion) ? a : [], shape, g, units);

            (double[] expected, double[] scale) = ScoringReference.Group(criterion, reduction, w, a, shape, g);
            for (int u = 0; u < units.Length; u++)
            {
                double error = Math.Abs(units[u] - expected[u]);
                Assert.True(error <= RelativeTolerance(shape, g) * scale[u] + 1e-30,
                    $"{criterion}/{reduction} {shape} {g} unit {u}: got {units[u]}, expected {expected[u]} (scale {scale[u]})");
            }
        }
    }

    [Fact]
    public void Cases_CoverEveryStrategy()
    {
        bool horizontal = false, horizontalTallTile = false, verticalDirect = false, verticalChunked = false;
        bool multiChunkOneRow = false, multiChunkTall = false, element = false;
        var vectorCombine = new HashSet<int>();
        foreach ((WeightShape shape, Granularity g) in ShapeCases())
        {
            (int r, int c) = g.Kind switch
            {
                GranularityKind.Element => (1, 1),
                GranularityKind.Row => (1, shape.RowLength),
                GranularityKind.Column => (shape.Out, shape.KernelSize),
                GranularityKind.Kernel => (1, shape.KernelSize),
                GranularityKind.Block => (g.BlockRows, g.BlockCols),
                _ => (1, g.M),
            };
            if (r == 1 && c == 1) element = true;
            else if (GroupReduceLoop.UseHorizontal(r, c))
            {
                horizontal = true;
                horizontalTallTile |= r > 1;
            }
            else if (c == 1) verticalDirect = true;
            else
            {
                verticalChunked = true;
                bool multi = shape.RowLength > GroupReduceLoop.ChunkLength(shape.RowLength, c);
                multiChunkOneRow |= multi && r == 1;
                multiChunkTall |= multi && r > 1;
                if (c is 2 or 4 or 8 or 16) vectorCombine.Add(c);
            }
        }
        Assert.True(element && horizontal && horizontalTallTile && verticalDirect && verticalChunked && multiChunkOneRow && multiChunkTall);
        Assert.Equal(4, vectorCombine.Count);
    }

    [Fact]
    public void ElementGranularity_IsElementwiseScore()
    {
        // L2, L1, Max, Sum and AbsSum of a one-element unit give back |s| or s exactly (sqrt(s²) = |s| in IEEE
        // arithmetic when s² neither over- nor underflows, which holds for these inputs).
        var shape = WeightShape.Conv2D(3, 5, 3, 3);
        float[] w = TestData.Normal(shape.ElementCount, 21);
        float[] g = TestData.Normal(shape.ElementCount, 22);
        float[] signed = new float[w.Length], abs = new float[w.Length], units = TestData.NaNs(w.Length);
        PruneScoring.Elementwise<SignedTaylorCriterion>(w, g, signed);
        PruneScoring.Elementwise<TaylorCriterion>(w, g, abs);

        PruneScoring.Group<SignedTaylorCriterion, L2Reduction>(w, g, shape, Granularity.Element, units);
        Assert.Equal(abs, units);
        PruneScoring.Group<SignedTaylorCriterion, L1Reduction>(w, g, shape, Granularity.Element, units);
        Assert.Equal(abs, units);
        PruneScoring.Group<SignedTaylorCriterion, AbsSumReduction>(w, g, shape, Granularity.Element, units);
        Assert.Equal(abs, units);
        PruneScoring.Group<SignedTaylorCriterion, MaxReduction>(w, g, shape, Granularity.Element, units);
        Assert.Equal(signed, units);
        PruneScoring.Group<SignedTaylorCriterion, MeanReduction>(w, g, shape, Granularity.Element, units);
        Assert.Equal(signed, units);
    }

    [Fact]
    public void Norms_WorkedExample()
    {
        // Spec example: rows [3, −2] and [1, −5]. L1: 5 vs 6. L2: √13 ≈ 3.61 vs √26 ≈ 5.10.
        float[] w = [3f, -2f, 1f, -5f];
        var shape = WeightShape.Linear(2, 2);
        float[] units = TestData.NaNs(2);
        PruneScoring.L1Norm(w, shape, Granularity.Row, units);
        Assert.Equal([5f, 6f], units);
        PruneScoring.L2Norm(w, shape, Granularity.Row, units);
        Assert.Equal(Math.Sqrt(13), units[0], 1e-6);
        Assert.Equal(Math.Sqrt(26), units[1], 1e-6);
        // Columns of the same matrix: [3, 1] and [−2, −5].
        PruneScoring.L1Norm(w, shape, Granularity.Column, units);
        Assert.Equal([4f, 7f], units);
    }

    [Fact]
    public void Convenience_EqualsGeneric()
    {
        var shape = WeightShape.Conv2D(6, 4, 3, 3);
        float[] w = TestData.Normal(shape.ElementCount, 31);
        float[] g = TestData.Normal(shape.ElementCount, 32);
        foreach (Granularity gran in new[] { Granularity.Row, Granularity.Column, Granularity.Kernel, Granularity.Block(2, 4), Granularity.NM(2, 4) })
        {
            int n = gran.UnitCount(shape);
            float[] expected = new float[n], actual = TestData.NaNs(n);

            PruneScoring.Group<MagnitudeCriterion, L1Reduction>(w, [], shape, gran, expected);
            PruneScoring.L1Norm(w, shape, gran, actual);
            Assert.Equal(expected, actual);

            PruneScoring.Group<MagnitudeCriterion, L2Reduction>(w, [], shape, gran, expected);
            PruneScoring.L2Norm(w, shape, gran, actual);
            Assert.Equal(expected, actual);

            PruneScoring.Group<TaylorCriterion, SumReduction>(w, g, shape, gran, expected);
            PruneScoring.GroupTaylor(w, g, shape, gran, actual, absoluteOfSum: false);
            Assert.Equal(expected, actual);

            PruneScoring.Group<SignedTaylorCriterion, AbsSumReduction>(w, g, shape, gran, expected);
            PruneScoring.GroupTaylor(w, g, shape, gran, actual, absoluteOfSum: true);
            Assert.Equal(expected, actual);

            float[] h = g.Select(Math.Abs).ToArray();
            PruneScoring.Group<ObdCriterion, SumReduction>(w, h, shape, gran, expected);
            PruneScoring.GroupObd(w, h, shape, gran, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void GroupTaylor_AbsoluteOfSum_LetsTermsCancel()
    {
        // One row whose g·w terms are +1 and −1: Σ|g·w| = 2, |Σ g·w| = 0.
        float[] w = [1f, 1f];
        float[] g = [1f, -1f];
        float[] unit = TestData.NaNs(1);
        PruneScoring.GroupTaylor(w, g, WeightShape.Linear(1, 2), Granularity.Row, unit, absoluteOfSum: false);
        Assert.Equal(2f, unit[0]);
        PruneScoring.GroupTaylor(w, g, WeightShape.Linear(1, 2), Granularity.Row, unit, absoluteOfSum: true);
        Assert.Equal(0f, unit[0]);
    }

    [Fact]
    public void BadLengths_Throw_WithParamName()
    {
        var shape = WeightShape.Linear(4, 6);
        float[] w = new float[24], units = new float[4];
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruneScoring.L1Norm(new float[23], shape, Granularity.Row, units)).ParamName);
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(() => PruneScoring.L1Norm(w, shape, Granularity.Row, new float[3])).ParamName);
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(() => PruneScoring.L1Norm(w, shape, Granularity.Column, units)).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => PruneScoring.GroupTaylor(w, new float[5], shape, Granularity.Row, units, false)).ParamName);
        Assert.Equal("hessianDiagonal", Assert.Throws<ArgumentException>(() => PruneScoring.GroupObd(w, [], shape, Granularity.Row, units)).ParamName);
        Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Group<TaylorCriterion, SumReduction>(w, new float[25], shape, Granularity.Row, units)).ParamName);
        Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Group<MagnitudeCriterion, SumReduction>(w, new float[3], shape, Granularity.Row, units)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => PruneScoring.L1Norm([], default, Granularity.Row, [])).ParamName);
        Assert.All(units, u => Assert.Equal(0f, u));
    }

    [Fact]
    public void NonDividingGranularity_Throws()
    {
        var shape = WeightShape.Linear(6, 10);
        float[] w = new float[60], units = TestData.NaNs(60);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruneScoring.L2Norm(w, shape, Granularity.Block(4, 2), units.AsSpan(0, 6))).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruneScoring.L2Norm(w, shape, Granularity.Block(2, 4), units.AsSpan(0, 6))).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruneScoring.L2Norm(w, shape, Granularity.NM(2, 4), units.AsSpan(0, 15))).ParamName);
        var conv = WeightShape.Conv2D(2, 3, 3, 3); // row length 27
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => PruneScoring.L2Norm(new float[54], conv, Granularity.NM(2, 4), units.AsSpan(0, 13))).ParamName);
        Assert.All(units, u => Assert.True(float.IsNaN(u)));
    }

    [Fact]
    public void Overlap_Throws()
    {
        var shape = WeightShape.Linear(4, 4);
        float[] buffer = TestData.Normal(20, 41);
        float[] before = (float[])buffer.Clone();
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(
            () => PruneScoring.L1Norm(buffer.AsSpan(0, 16), shape, Granularity.Row, buffer.AsSpan(14, 4))).ParamName);
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(
            () => PruneScoring.L1Norm(buffer.AsSpan(0, 16), shape, Granularity.Element, buffer.AsSpan(0, 16))).ParamName);
        Assert.Equal("unitScores", Assert.Throws<ArgumentException>(
            () => PruneScoring.GroupTaylor(new float[16], buffer.AsSpan(0, 16), shape, Granularity.Row, buffer.AsSpan(12, 4), false)).ParamName);
        Assert.Equal(before, buffer);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFinite_Throws_AndWritesNothing(float bad)
    {
        var shape = WeightShape.Conv2D(4, 6, 3, 3);
        foreach (int at in new[] { 0, 100, shape.ElementCount - 1 })
        {
            foreach (Granularity gran in new[] { Granularity.Row, Granularity.Column, Granularity.Kernel, Granularity.Element })
            {
                float[] w = TestData.Normal(shape.ElementCount, 51);
                float[] g = TestData.Normal(shape.ElementCount, 52);
                float[] units = TestData.NaNs(gran.UnitCount(shape));

                float[] badW = (float[])w.Clone();
                badW[at] = bad;
                Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruneScoring.L2Norm(badW, shape, gran, units)).ParamName);
                Assert.Equal("weights", Assert.Throws<ArgumentException>(() => PruneScoring.GroupTaylor(badW, g, shape, gran, units, true)).ParamName);

                float[] badG = (float[])g.Clone();
                badG[at] = bad;
                Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => PruneScoring.GroupTaylor(w, badG, shape, gran, units, false)).ParamName);
                Assert.Equal("hessianDiagonal", Assert.Throws<ArgumentException>(() => PruneScoring.GroupObd(w, badG, shape, gran, units)).ParamName);
                Assert.Equal("statistic", Assert.Throws<ArgumentException>(() => PruneScoring.Group<TaylorCriterion, MaxReduction>(w, badG, shape, gran, units)).ParamName);
                Assert.All(units, u => Assert.True(float.IsNaN(u)));
            }
        }
    }
}
