using System.Runtime.Intrinsics;

namespace Span.Prune.Tests.Scoring;

// A test-only vectorised criterion (w², no statistic): it exercises the kernels with a second statistic-free
// criterion whose scores are not |w|. (It ranks units as |w| does, so the library does not ship it.)
/// <summary>Squared weight, <c>s = w²</c>; the statistic is not used.</summary>
/// <remarks>Same ranking as <see cref="MagnitudeCriterion"/> element-wise; with <see cref="SumReduction"/>
/// it gives the squared L2 norm of a unit (the same ranking as <see cref="L2Reduction"/> without the square root).</remarks>
internal readonly struct SquaredMagnitudeCriterion : IElementCriterion
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static bool UsesStatistic => false;

    /// <inheritdoc/>
    public static float Score(float weight, float statistic) => weight * weight;

    /// <inheritdoc/>
    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => weight * weight;

    /// <inheritdoc/>
    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => weight * weight;

    /// <inheritdoc/>
    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => weight * weight;
}

