using System.Runtime.Intrinsics;

namespace Span.Prune;

// The group reductions: how element scores of one unit (a row, a column, a kernel, a block, an N:M group)
// combine into the unit's score. The accumulator is a float; Accumulate folds a score in, Combine merges two
// partial accumulators (vector lanes, independent accumulators, the rows of a block) and Finish turns the
// accumulator of `count` scores into the unit score. Members equal to IGroupReduction's defaults (Identity 0,
// Combine +, Finish identity) are not repeated. For a one-element unit every reduction except
// Max gives |s| or s exactly: sqrt(s·s) == |s| in IEEE arithmetic unless s·s over- or underflows
// (|s| > ~1.8e19 or |s| < ~1e-19).

/// <summary>L1 norm of the element scores, <c>Σ|s|</c>.</summary>
/// <remarks>With <see cref="MagnitudeCriterion"/> it is the L1 norm of the unit's weights (Li et al. 2017,
/// "Pruning Filters for Efficient ConvNets").</remarks>
public readonly struct L1Reduction : IGroupReduction
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static float Accumulate(float accumulator, float score) => accumulator + MathF.Abs(score);

    /// <inheritdoc/>
    public static Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score) => accumulator + Vector128.Abs(score);

    /// <inheritdoc/>
    public static Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score) => accumulator + Vector256.Abs(score);

    /// <inheritdoc/>
    public static Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score) => accumulator + Vector512.Abs(score);

    /// <inheritdoc/>
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => accumulator;
}

/// <summary>L2 norm of the element scores, <c>√Σs²</c>.</summary>
/// <remarks>The sum of squares is accumulated in single precision across several vector lanes and
/// accumulators (relative error about <c>√n·2⁻²⁴</c> in practice); the square root is taken once in
/// <see cref="Finish(float, int)"/>.</remarks>
public readonly struct L2Reduction : IGroupReduction
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static float Accumulate(float accumulator, float score) => accumulator + score * score;

    /// <inheritdoc/>
    public static Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score) => accumulator + score * score;

    /// <inheritdoc/>
    public static Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score) => accumulator + score * score;

    /// <inheritdoc/>
    public static Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score) => accumulator + score * score;

    /// <inheritdoc/>
    public static float Finish(float accumulator, int count) => MathF.Sqrt(accumulator);

    /// <inheritdoc/>
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => Vector128.Sqrt(accumulator);

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => Vector256.Sqrt(accumulator);

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => Vector512.Sqrt(accumulator);
}

/// <summary>Sum of the element scores, <c>Σs</c>.</summary>
/// <remarks>With <see cref="TaylorCriterion"/> it gives <c>Σ|g·w|</c>; with <see cref="ObdCriterion"/> the OBD
/// saliency of the whole unit under the diagonal approximation.</remarks>
public readonly struct SumReduction : IGroupReduction
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
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => accumulator;
}

/// <summary>Largest element score, <c>max s</c>.</summary>
/// <remarks>Uses IEEE <c>maximum</c> semantics (<see cref="MathF.Max"/>, <see cref="Vector512.Max{T}"/>) on every
/// path, so the result does not depend on the vector width. The identity is <c>−∞</c>.</remarks>
public readonly struct MaxReduction : IGroupReduction
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static float Identity => float.NegativeInfinity;

    /// <inheritdoc/>
    public static float Accumulate(float accumulator, float score) => MathF.Max(accumulator, score);

    /// <inheritdoc/>
    public static Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score) => Vector128.Max(accumulator, score);

    /// <inheritdoc/>
    public static Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score) => Vector256.Max(accumulator, score);

    /// <inheritdoc/>
    public static Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score) => Vector512.Max(accumulator, score);

    /// <inheritdoc/>
    public static float Combine(float left, float right) => MathF.Max(left, right);

    /// <inheritdoc/>
    public static Vector128<float> Combine(Vector128<float> left, Vector128<float> right) => Vector128.Max(left, right);

    /// <inheritdoc/>
    public static Vector256<float> Combine(Vector256<float> left, Vector256<float> right) => Vector256.Max(left, right);

    /// <inheritdoc/>
    public static Vector512<float> Combine(Vector512<float> left, Vector512<float> right) => Vector512.Max(left, right);

    /// <inheritdoc/>
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => accumulator;

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => accumulator;
}

/// <summary>Magnitude of the sum of the element scores, <c>|Σs|</c>.</summary>
/// <remarks>With the signed product <c>g·w</c> it gives the group Taylor score <c>|Σ g·w|</c>
/// (Molchanov et al. 2019).</remarks>
internal readonly struct AbsSumReduction : IGroupReduction
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
    public static float Finish(float accumulator, int count) => MathF.Abs(accumulator);

    /// <inheritdoc/>
    public static Vector128<float> Finish(Vector128<float> accumulator, int count) => Vector128.Abs(accumulator);

    /// <inheritdoc/>
    public static Vector256<float> Finish(Vector256<float> accumulator, int count) => Vector256.Abs(accumulator);

    /// <inheritdoc/>
    public static Vector512<float> Finish(Vector512<float> accumulator, int count) => Vector512.Abs(accumulator);
}
