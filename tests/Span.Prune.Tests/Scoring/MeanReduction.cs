using System.Runtime.Intrinsics;

namespace Span.Prune.Tests.Scoring;

// A test-only vectorised reduction whose Finish uses the count (Σs / n): it exercises the kernels' Finish paths.
// (Within one layer every unit has the same size, so it ranks units as SumReduction does; the library does not ship it.)
/// <summary>Mean of the element scores, <c>Σs / count</c>.</summary>
/// <remarks>Lets units of different sizes be compared (e.g. across layers); within one granularity every unit
/// has the same count, so it ranks like <see cref="SumReduction"/>.</remarks>
internal readonly struct MeanReduction : IGroupReduction
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static float Accumulate(float accumulator, float score) => accumulator + score;

    /// <inheritdoc/>
    public static Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score) => accumulator + score;

    /// <inheritdoc/>
    public static Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score) => accumulator + score;

    /// <inheritdoc/>
    public static Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score) => accumulator + score;

    /// <inheritdoc/>
    public static float Finish(float accumulator, int count) => accumulator / count;

    /// <inheritdoc/>
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => accumulator / count;

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => accumulator / count;

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => accumulator / count;
}

