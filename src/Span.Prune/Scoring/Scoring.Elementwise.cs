using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Importance scores for pruning: element scores <c>s = f(w, a)</c>, group (unit) scores that reduce element
/// scores over a <see cref="Granularity"/>, the Wanda score and random scores. Higher score = more important;
/// pruning removes the lowest scores.
/// </summary>
/// <remarks>
/// <para>Criteria (<see cref="IElementCriterion"/>) and reductions (<see cref="IGroupReduction"/>) are structs passed
/// as type arguments, so every kernel is specialised by the JIT and by NativeAOT; add your own the same way.</para>
/// <para>All operations read spans and write into caller-provided spans, allocate nothing, and validate in this
/// order: lengths and shapes, overlap (only the documented exact in-place aliasing), then finiteness. NaN or ±∞ in
/// weights or statistics throws <see cref="ArgumentException"/> naming the parameter before anything is written.</para>
/// </remarks>
public static partial class Scoring
{
    /// <summary>Element scores <c>scores[i] = TCriterion.Score(weights[i], statistic[i])</c>.</summary>
    /// <typeparam name="TCriterion">The criterion, e.g. <see cref="MagnitudeCriterion"/>, <see cref="TaylorCriterion"/>, <see cref="ObdCriterion"/>.</typeparam>
    /// <param name="weights">The weights, any layout (the score is element-wise).</param>
    /// <param name="statistic">One statistic per weight when <c>TCriterion.UsesStatistic</c>; otherwise empty
    /// (or of the weights' length, and then ignored).</param>
    /// <param name="scores">Destination, at least as long as <paramref name="weights"/> (only that prefix is written). It may be <paramref name="weights"/>
    /// or <paramref name="statistic"/> itself (exact in-place use); any other overlap is rejected.</param>
    /// <remarks>
    /// <para>Vectorised with the widest available vectors (512, 256, 128 bits) and an overlapping last vector that is
    /// computed before anything is stored, so that in-place use is exact.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length differs (<paramref name="scores"/>, <paramref name="statistic"/>),
    /// <paramref name="scores"/> partially overlaps an input, or an input holds NaN or ±∞ (<paramref name="weights"/>,
    /// <paramref name="statistic"/>); nothing is written then.</exception>
    public static void Elementwise<TCriterion>(ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, Span<float> scores)
        where TCriterion : struct, IElementCriterion =>
        ElementwiseCore<TCriterion>(weights, statistic, scores, nameof(statistic));

    /// <summary>Magnitude scores, <c>scores[i] = |w_i|</c>.</summary>
    /// <param name="weights">The weights.</param>
    /// <param name="scores">Destination, at least as long; may be <paramref name="weights"/> itself.</param>
    /// <remarks>Same as <see cref="Elementwise{TCriterion}"/> with <see cref="MagnitudeCriterion"/>.</remarks>
    /// <exception cref="ArgumentException">The lengths differ, the spans partially overlap, or a weight is NaN or ±∞.</exception>
    public static void Magnitude(ReadOnlySpan<float> weights, Span<float> scores) =>
        ElementwiseCore<MagnitudeCriterion>(weights, default, scores, "statistic");

    /// <summary>First-order Taylor scores, <c>scores[i] = |g_i·w_i|</c> (Molchanov et al. 2017/2019).</summary>
    /// <param name="weights">The weights.</param>
    /// <param name="gradients">The loss gradient per weight (usually averaged over calibration batches).</param>
    /// <param name="scores">Destination, at least as long; may be <paramref name="weights"/> or <paramref name="gradients"/> itself.</param>
    /// <remarks>Same as <see cref="Elementwise{TCriterion}"/> with <see cref="TaylorCriterion"/>.</remarks>
    /// <exception cref="ArgumentException">A length differs, the destination partially overlaps an input, or an input holds NaN or ±∞.</exception>
    public static void Taylor(ReadOnlySpan<float> weights, ReadOnlySpan<float> gradients, Span<float> scores) =>
        ElementwiseCore<TaylorCriterion>(weights, gradients, scores, nameof(gradients));

    /// <summary>Optimal Brain Damage saliencies, <c>scores[i] = ½·h_ii·w_i²</c> (LeCun et al. 1990).</summary>
    /// <param name="weights">The weights.</param>
    /// <param name="hessianDiagonal">The Hessian diagonal per weight, or the empirical Fisher diagonal (mean of <c>g²</c>).</param>
    /// <param name="scores">Destination, at least as long; may be <paramref name="weights"/> or <paramref name="hessianDiagonal"/> itself.</param>
    /// <remarks>Same as <see cref="Elementwise{TCriterion}"/> with <see cref="ObdCriterion"/>. Unlike magnitude, OBD
    /// ranks <c>w = 0.5, h = 0.1</c> (saliency 0.0125) below <c>w = 0.3, h = 2</c> (saliency 0.09).</remarks>
    /// <exception cref="ArgumentException">A length differs, the destination partially overlaps an input, or an input holds NaN or ±∞.</exception>
    public static void Obd(ReadOnlySpan<float> weights, ReadOnlySpan<float> hessianDiagonal, Span<float> scores) =>
        ElementwiseCore<ObdCriterion>(weights, hessianDiagonal, scores, nameof(hessianDiagonal));

    private static void ElementwiseCore<TCriterion>(ReadOnlySpan<float> weights, ReadOnlySpan<float> statistic, Span<float> scores, string statisticName)
        where TCriterion : struct, IElementCriterion
    {
        if (scores.Length < weights.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scores), scores.Length, weights.Length);
        scores = scores[..weights.Length];
        CheckStatisticLength<TCriterion>(weights.Length, statistic.Length, statisticName);
        CheckInPlace(weights, scores, nameof(scores));
        if (TCriterion.UsesStatistic) CheckInPlace(statistic, scores, nameof(scores));
        CheckFinite(weights, nameof(weights));
        if (TCriterion.UsesStatistic) CheckFinite(statistic, statisticName);

        BinaryMapLoop.Map<TCriterion>(weights, statistic, scores);
    }
}
