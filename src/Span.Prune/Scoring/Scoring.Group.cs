using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Scoring
{
    /// <summary>
    /// Group scores: the criterion per element, reduced over each unit of <paramref name="granularity"/>,
    /// <c>unitScores[u] = TReduction.Finish(fold of TReduction.Accumulate over the scores of unit u, |u|)</c>.
    /// </summary>
    /// <typeparam name="TCriterion">The element criterion.</typeparam>
    /// <typeparam name="TReduction">How the element scores of a unit combine, e.g. <see cref="L1Reduction"/>, <see cref="L2Reduction"/>.</typeparam>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats (linear <c>[out, in]</c> row-major, conv OIHW).</param>
    /// <param name="statistic">One statistic per weight when <c>TCriterion.UsesStatistic</c>; otherwise empty
    /// (or of the weights' length, and then ignored).</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Which elements form a unit.</param>
    /// <param name="unitScores">Destination, at least <c>granularity.UnitCount(shape)</c> floats, numbered as in
    /// <see cref="Granularity"/>. Must not overlap the inputs.</param>
    /// <remarks>
    /// <para>Units on the 2-D view <c>[Out, RowLength]</c>, <c>RowLength = In·kh·kw</c>:</para>
    /// <list type="bullet">
    /// <item>Row: output unit <c>o</c>, the contiguous row (a conv filter <c>[i, kh, kw]</c>).</item>
    /// <item>Column: input feature <c>i</c>; for a convolution it spans every output <c>o</c> and every kernel
    /// position <c>(kh, kw)</c> of input channel <c>i</c>, i.e. <c>Out·kh·kw</c> elements (channel pruning).</item>
    /// <item>Kernel: the <c>kh·kw</c> kernel of each (o, i) pair, unit <c>o·In + i</c> (equals Element for a linear weight).</item>
    /// <item>Block R×C: unit <c>(o/R)·(RowLength/C) + c/C</c>; R and C must divide the view.</item>
    /// <item>N:M: the unit is one M-group of consecutive elements of a row, unit <c>e/M</c>; its score is the
    /// reduction over the whole group. Choosing the N elements kept inside each group is a selection step, not
    /// done here.</item>
    /// <item>Element: <c>Finish(Accumulate(Identity, s), 1)</c> per element, e.g. <c>|s|</c> for L2.</item>
    /// </list>
    /// <para>The kernel is fused (one read of the weights, no element scores stored) and vectorised: long contiguous
    /// runs (Row) are reduced with four vector accumulators and a masked last vector; tall or short units
    /// (Column, Kernel, N:M, blocks) are accumulated row by row into per-column lane accumulators, vectorised
    /// across columns, and then combined per unit. No scratch is rented (a 4 KiB stack chunk at most). Element
    /// units are a single element-wise pass.</para>
    /// <para>Accumulation is in single precision; the summation order depends on the vector width, so results may
    /// differ from a sequential sum by rounding (relative error about <c>√n·2⁻²⁴</c> in practice).</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length differs (<paramref name="weights"/>, <paramref name="statistic"/>,
    /// <paramref name="unitScores"/>), the block or M does not divide the shape (<paramref name="granularity"/>),
    /// <paramref name="unitScores"/> overlaps an input, <paramref name="shape"/> is a default value, or an input holds
    /// NaN or ±∞ (<paramref name="weights"/>, <paramref name="statistic"/>); nothing is written then.</exception>
    public static void Group<TCriterion, TReduction>(
        ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, WeightShape shape, Granularity granularity, Span<float> unitScores)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction =>
        GroupCore<TCriterion, TReduction>(weights, statistic, shape, granularity, unitScores, nameof(statistic));

    /// <summary>L1 norm of the weights of each unit, <c>Σ|w|</c> (Li et al. 2017, filter pruning).</summary>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Which elements form a unit.</param>
    /// <param name="unitScores">Destination, <c>granularity.UnitCount(shape)</c> floats.</param>
    /// <remarks>Same as <see cref="Group{TCriterion, TReduction}"/> with <see cref="MagnitudeCriterion"/> and
    /// <see cref="SumReduction"/> (the scores are already non-negative, so L1 needs no second absolute value).</remarks>
    /// <exception cref="ArgumentException">See <see cref="Group{TCriterion, TReduction}"/>.</exception>
    public static void L1Norm(ReadOnlySpan<float> weights, WeightShape shape, Granularity granularity, Span<float> unitScores) =>
        GroupCore<MagnitudeCriterion, SumReduction>(weights, default, shape, granularity, unitScores, "statistic");

    /// <summary>L2 norm of the weights of each unit, <c>√Σw²</c>.</summary>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Which elements form a unit.</param>
    /// <param name="unitScores">Destination, <c>granularity.UnitCount(shape)</c> floats.</param>
    /// <remarks>Same as <see cref="Group{TCriterion, TReduction}"/> with <see cref="MagnitudeCriterion"/> and <see cref="L2Reduction"/>.</remarks>
    /// <exception cref="ArgumentException">See <see cref="Group{TCriterion, TReduction}"/>.</exception>
    public static void L2Norm(ReadOnlySpan<float> weights, WeightShape shape, Granularity granularity, Span<float> unitScores) =>
        GroupCore<MagnitudeCriterion, L2Reduction>(weights, default, shape, granularity, unitScores, "statistic");

    /// <summary>Group first-order Taylor scores: <c>Σ|g·w|</c> per unit, or <c>|Σ g·w|</c> when <paramref name="absoluteOfSum"/>.</summary>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats.</param>
    /// <param name="gradients">The loss gradient per weight.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Which elements form a unit.</param>
    /// <param name="unitScores">Destination, <c>granularity.UnitCount(shape)</c> floats.</param>
    /// <param name="absoluteOfSum">False: sum of the element Taylor scores, <c>Σ|g·w|</c>. True: the Taylor estimate
    /// of removing the whole unit, <c>|Σ g·w|</c> (Molchanov et al. 2019), where terms may cancel.</param>
    /// <remarks><see cref="TaylorCriterion"/> with <see cref="SumReduction"/>, or the signed product <c>g·w</c>
    /// reduced by <c>|Σs|</c>.</remarks>
    /// <exception cref="ArgumentException">See <see cref="Group{TCriterion, TReduction}"/>.</exception>
    public static void GroupTaylor(
        ReadOnlySpan<float> weights, ReadOnlySpan<float> gradients, WeightShape shape, Granularity granularity, Span<float> unitScores, bool absoluteOfSum)
    {
        if (absoluteOfSum)
            GroupCore<SignedTaylorCriterion, AbsSumReduction>(weights, gradients, shape, granularity, unitScores, nameof(gradients));
        else
            GroupCore<TaylorCriterion, SumReduction>(weights, gradients, shape, granularity, unitScores, nameof(gradients));
    }

    /// <summary>Group Optimal Brain Damage saliencies, <c>Σ ½·h·w²</c> per unit (diagonal approximation).</summary>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats.</param>
    /// <param name="hessianDiagonal">The Hessian (or empirical Fisher) diagonal per weight.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Which elements form a unit.</param>
    /// <param name="unitScores">Destination, <c>granularity.UnitCount(shape)</c> floats.</param>
    /// <remarks><see cref="ObdCriterion"/> with <see cref="SumReduction"/>.</remarks>
    /// <exception cref="ArgumentException">See <see cref="Group{TCriterion, TReduction}"/>.</exception>
    public static void GroupObd(
        ReadOnlySpan<float> weights, ReadOnlySpan<float> hessianDiagonal, WeightShape shape, Granularity granularity, Span<float> unitScores) =>
        GroupCore<ObdCriterion, SumReduction>(weights, hessianDiagonal, shape, granularity, unitScores, nameof(hessianDiagonal));

    private static void GroupCore<TCriterion, TReduction>(
        ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, WeightShape shape, Granularity granularity, Span<float> unitScores, string statisticName)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        CheckStatisticLength<TCriterion>(weights.Length, statistic.Length, statisticName);
        granularity.Validate(shape);
        (int tileRows, int tileCols) = Tile(shape, granularity);
        int unitCount = shape.Out / tileRows * (shape.RowLength / tileCols);
        if (unitScores.Length < unitCount) ThrowHelper.ThrowDestinationTooShort(nameof(unitScores), unitScores.Length, unitCount);
        unitScores = unitScores[..unitCount];
        CheckDisjoint(weights, unitScores, nameof(unitScores));
        if (TCriterion.UsesStatistic) CheckDisjoint(statistic, unitScores, nameof(unitScores));
        CheckFinite(weights, nameof(weights));
        if (TCriterion.UsesStatistic) CheckFinite(statistic, statisticName);

        GroupReduceLoop.Reduce<TCriterion, TReduction>(weights, statistic, shape.Out, shape.RowLength, tileRows, tileCols, unitScores);
    }

    /// <summary>Every granularity as an R×C tile of the view <c>[Out, RowLength]</c> (see <see cref="GroupReduceLoop"/>).</summary>
    private static (int Rows, int Cols) Tile(WeightShape shape, Granularity granularity)
    {
        switch (granularity.Kind)
        {
            case GranularityKind.Element: return (1, 1);
            case GranularityKind.Row: return (1, shape.RowLength);
            case GranularityKind.Column: return (shape.Out, shape.KernelSize);
            case GranularityKind.Kernel: return (1, shape.KernelSize);
            case GranularityKind.Block: return (granularity.BlockRows, granularity.BlockCols);
            case GranularityKind.NM: return (1, granularity.M);
            default:
                ThrowHelper.ThrowUnknownGranularity(nameof(granularity), granularity.Kind);
                return default;
        }
    }
}
