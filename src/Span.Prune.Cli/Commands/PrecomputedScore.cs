using System.Runtime.Intrinsics;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// The statistic is the score: for an importance collected elsewhere (<c>W.taylor</c>, the mean over batches of
/// <c>|g_b·w|</c>), which no per-element formula of the weight and one statistic reproduces. A client criterion written
/// against the library's <see cref="IElementCriterion"/>, as any user's would be.
/// </summary>
internal readonly struct PrecomputedScore : IElementCriterion
{
    public static bool Vectorizable => true;

    public static bool UsesStatistic => true;

    public static float Score(float weight, float statistic) => statistic;

    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => statistic;

    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => statistic;

    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => statistic;
}
