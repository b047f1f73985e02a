namespace Span.Prune.Tests.Scoring;

/// <summary>
/// Naive references written from the definitions: per-element formulas, the unit index of every element from the
/// numbering in the <see cref="Granularity"/> remarks, and reductions accumulated in double, one element at a time.
/// </summary>
public static class ScoringReference
{
    public enum Criterion { Magnitude, SquaredMagnitude, Taylor, SignedTaylor, Obd, Product }

    public enum Reduction { L1, L2, Sum, Mean, Max, AbsSum }

    public static readonly Criterion[] Criteria = Enum.GetValues<Criterion>();
    public static readonly Reduction[] Reductions = Enum.GetValues<Reduction>();

    public static bool UsesStatistic(Criterion c) => c is not (Criterion.Magnitude or Criterion.SquaredMagnitude);

    /// <summary>The criterion in single precision, operation by operation as documented (vector paths must match it exactly).</summary>
    public static float ScoreFloat(Criterion c, float w, float a) => c switch
    {
        Criterion.Magnitude => Math.Abs(w),
        Criterion.SquaredMagnitude => w * w,
        Criterion.Taylor => Math.Abs(a * w),
        Criterion.SignedTaylor => a * w,
        Criterion.Obd => 0.5f * a * (w * w),
        Criterion.Product => Math.Abs(w) * Math.Abs(a), // Wanda's |w|·a: TaylorCriterion's |a·w|, bit for bit
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>The criterion in double precision (the reference for group scores).</summary>
    public static double ScoreDouble(Criterion c, double w, double a) => c switch
    {
        Criterion.Magnitude => Math.Abs(w),
        Criterion.SquaredMagnitude => w * w,
        Criterion.Taylor => Math.Abs(a * w),
        Criterion.SignedTaylor => a * w,
        Criterion.Obd => 0.5 * a * w * w,
        Criterion.Product => Math.Abs(w) * Math.Abs(a), // Wanda's |w|·a: TaylorCriterion's |a·w|, bit for bit
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>Unit of element <c>(o, c)</c> of the 2-D view, straight from the Granularity remarks.</summary>
    public static int UnitOf(WeightShape shape, Granularity g, int o, int c)
    {
        int rowLength = shape.RowLength;
        int e = o * rowLength + c;
        int i = c / shape.KernelSize; // input channel of column c (OIHW: c = i·kh·kw + kh_idx·kw + kw_idx)
        return g.Kind switch
        {
            GranularityKind.Element => e,
            GranularityKind.Row => o,
            GranularityKind.Column => i,
            GranularityKind.Kernel => o * shape.In + i,
            GranularityKind.Block => o / g.BlockRows * (rowLength / g.BlockCols) + c / g.BlockCols,
            GranularityKind.NM => e / g.M,
            _ => throw new ArgumentOutOfRangeException(nameof(g)),
        };
    }

    /// <summary>
    /// Reference unit scores, and for each unit a magnitude scale for the tolerance: Σ|s| for the sums (the
    /// condition of a float sum), √Σs² for L2, max|s| for Max.
    /// </summary>
    public static (double[] Scores, double[] Scales) Group(
        Criterion criterion, Reduction reduction, float[] weights, float[] statistic, WeightShape shape, Granularity g)
    {
        int units = g.UnitCount(shape);
        var acc = new double[units];
        var absSum = new double[units];
        var count = new int[units];
        var maxAbs = new double[units];
        var max = new double[units];
        Array.Fill(max, double.NegativeInfinity);
        for (int o = 0; o < shape.Out; o++)
        {
            for (int c = 0; c < shape.RowLength; c++)
            {
                int e = o * shape.RowLength + c;
                int u = UnitOf(shape, g, o, c);
                double s = ScoreDouble(criterion, weights[e], UsesStatistic(criterion) ? statistic[e] : 0);
                count[u]++;
                absSum[u] += Math.Abs(s);
                maxAbs[u] = Math.Max(maxAbs[u], Math.Abs(s));
                max[u] = Math.Max(max[u], s);
                acc[u] += reduction switch
                {
                    Reduction.L1 => Math.Abs(s),
                    Reduction.L2 => s * s,
                    _ => s,
                };
            }
        }
        var scores = new double[units];
        var scales = new double[units];
        for (int u = 0; u < units; u++)
        {
            Assert.Equal(g.UnitSize(shape), count[u]);
            (scores[u], scales[u]) = reduction switch
            {
                Reduction.L1 => (acc[u], absSum[u]),
                Reduction.L2 => (Math.Sqrt(acc[u]), Math.Sqrt(acc[u])),
                Reduction.Sum => (acc[u], absSum[u]),
                Reduction.Mean => (acc[u] / count[u], absSum[u] / count[u]),
                Reduction.Max => (max[u], maxAbs[u]),
                Reduction.AbsSum => (Math.Abs(acc[u]), absSum[u]),
                _ => throw new ArgumentOutOfRangeException(nameof(reduction)),
            };
        }
        return (scores, scales);
    }

    /// <summary>Calls <c>Scoring.Elementwise</c> with the struct that implements <paramref name="c"/>.</summary>
    public static void Elementwise(Criterion c, ReadOnlySpan<float> w, ReadOnlySpan<float> a, Span<float> scores)
    {
        switch (c)
        {
            case Criterion.Magnitude: Span.Prune.Scoring.Elementwise<MagnitudeCriterion>(w, a, scores); break;
            case Criterion.SquaredMagnitude: Span.Prune.Scoring.Elementwise<SquaredMagnitudeCriterion>(w, a, scores); break;
            case Criterion.Taylor: Span.Prune.Scoring.Elementwise<TaylorCriterion>(w, a, scores); break;
            case Criterion.SignedTaylor: Span.Prune.Scoring.Elementwise<SignedTaylorCriterion>(w, a, scores); break;
            case Criterion.Obd: Span.Prune.Scoring.Elementwise<ObdCriterion>(w, a, scores); break;
            case Criterion.Product: Span.Prune.Scoring.Elementwise<TaylorCriterion>(w, a, scores); break;
            default: throw new ArgumentOutOfRangeException(nameof(c));
        }
    }

    /// <summary>Calls <c>Scoring.Group</c> with the structs that implement <paramref name="c"/> and <paramref name="r"/>.</summary>
    public static void Group(Criterion c, Reduction r, ReadOnlySpan<float> w, ReadOnlySpan<float> a, WeightShape shape, Granularity g, Span<float> units)
    {
        switch (c)
        {
            case Criterion.Magnitude: Group<MagnitudeCriterion>(r, w, a, shape, g, units); break;
            case Criterion.SquaredMagnitude: Group<SquaredMagnitudeCriterion>(r, w, a, shape, g, units); break;
            case Criterion.Taylor: Group<TaylorCriterion>(r, w, a, shape, g, units); break;
            case Criterion.SignedTaylor: Group<SignedTaylorCriterion>(r, w, a, shape, g, units); break;
            case Criterion.Obd: Group<ObdCriterion>(r, w, a, shape, g, units); break;
            case Criterion.Product: Group<TaylorCriterion>(r, w, a, shape, g, units); break;
            default: throw new ArgumentOutOfRangeException(nameof(c));
        }
    }

    private static void Group<TC>(Reduction r, ReadOnlySpan<float> w, ReadOnlySpan<float> a, WeightShape shape, Granularity g, Span<float> units)
        where TC : struct, IElementCriterion
    {
        switch (r)
        {
            case Reduction.L1: Span.Prune.Scoring.Group<TC, L1Reduction>(w, a, shape, g, units); break;
            case Reduction.L2: Span.Prune.Scoring.Group<TC, L2Reduction>(w, a, shape, g, units); break;
            case Reduction.Sum: Span.Prune.Scoring.Group<TC, SumReduction>(w, a, shape, g, units); break;
            case Reduction.Mean: Span.Prune.Scoring.Group<TC, MeanReduction>(w, a, shape, g, units); break;
            case Reduction.Max: Span.Prune.Scoring.Group<TC, MaxReduction>(w, a, shape, g, units); break;
            case Reduction.AbsSum: Span.Prune.Scoring.Group<TC, AbsSumReduction>(w, a, shape, g, units); break;
            default: throw new ArgumentOutOfRangeException(nameof(r));
        }
    }
}
