using System.Runtime.Intrinsics;

namespace Span.Prune;

// The element-wise criteria. Each is an empty struct whose static members the JIT inlines into the shared
// loops (Internal/BinaryMapLoop.cs, Internal/GroupReduceLoop.cs). Every vector overload evaluates the same
// operations in the same order as the scalar one and none uses a fused multiply-add, so the scalar and the
// vector paths agree bit for bit (IElementCriterion contract).

/// <summary>Weight magnitude, <c>s = |w|</c>; the statistic is not used.</summary>
/// <remarks>The classic magnitude criterion (Han et al. 2015, "Learning both Weights and Connections").</remarks>
public readonly struct MagnitudeCriterion : IElementCriterion
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static bool UsesStatistic => false;

    /// <inheritdoc/>
    public static float Score(float weight, float statistic) => MathF.Abs(weight);

    /// <inheritdoc/>
    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => Vector128.Abs(weight);

    /// <inheritdoc/>
    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => Vector256.Abs(weight);

    /// <inheritdoc/>
    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => Vector512.Abs(weight);
}

/// <summary>First-order Taylor importance, <c>s = |g·w|</c>; the statistic is the gradient <c>g = ∂L/∂w</c>.</summary>
/// <remarks>
/// <para>Molchanov et al. 2017 ("Pruning Convolutional Neural Networks for Resource Efficient Inference") and
/// 2019 ("Importance Estimation for Neural Network Pruning"): removing <c>w</c> changes the loss by about
/// <c>−g·w</c>, so <c>|g·w|</c> estimates the damage.</para>
/// <para>Pass the gradient averaged over the calibration batches (a mean gradient). Averaging <c>g·w</c> itself
/// per batch is a different estimator; to score with it, pass those means as the statistic and ones as weights.</para>
/// <para>The same criterion is Wanda's element score (Sun et al. 2023), <c>|w|·a</c> with <c>a = ‖X_j‖₂ ≥ 0</c>, the
/// L2 norm of input feature <c>j</c> (<see cref="Scoring.Wanda"/> broadcasts the norms over the rows): IEEE
/// multiplication rounds symmetrically in sign, so <c>|a·w| = |a|·|w|</c> bit for bit, and <c>|a| = a</c>.</para>
/// </remarks>
public readonly struct TaylorCriterion : IElementCriterion
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static bool UsesStatistic => true;

    /// <inheritdoc/>
    public static float Score(float weight, float statistic) => MathF.Abs(statistic * weight);

    /// <inheritdoc/>
    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => Vector128.Abs(statistic * weight);

    /// <inheritdoc/>
    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => Vector256.Abs(statistic * weight);

    /// <inheritdoc/>
    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => Vector512.Abs(statistic * weight);
}

/// <summary>Signed first-order Taylor term, <c>s = g·w</c>; the statistic is the gradient.</summary>
/// <remarks>Meant for group scores: with <see cref="AbsSumReduction"/> it gives <c>|Σ g·w|</c>, the Taylor estimate
/// of removing the whole unit at once (Molchanov et al. 2019), where the terms of one unit may cancel.</remarks>
internal readonly struct SignedTaylorCriterion : IElementCriterion
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static bool UsesStatistic => true;

    /// <inheritdoc/>
    public static float Score(float weight, float statistic) => statistic * weight;

    /// <inheritdoc/>
    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => statistic * weight;

    /// <inheritdoc/>
    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => statistic * weight;

    /// <inheritdoc/>
    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => statistic * weight;
}

/// <summary>Optimal Brain Damage saliency, <c>s = ½·h·w²</c>; the statistic is the Hessian diagonal <c>h = ∂²L/∂w²</c>.</summary>
/// <remarks>
/// <para>LeCun, Denker and Solla 1990 ("Optimal Brain Damage"): at a minimum, with a diagonal Hessian, deleting
/// <c>w</c> raises the loss by about <c>½·h·w²</c>.</para>
/// <para>The empirical Fisher diagonal (the mean of <c>g²</c> over samples) is the usual positive stand-in for
/// <c>h</c>. A negative <c>h</c> gives a negative saliency, which ranks the weight as least important.</para>
/// <para>Evaluated as <c>(0.5·h)·(w·w)</c> on every path.</para>
/// </remarks>
public readonly struct ObdCriterion : IElementCriterion
{
    /// <inheritdoc/>
    public static bool Vectorizable => true;

    /// <inheritdoc/>
    public static bool UsesStatistic => true;

    /// <inheritdoc/>
    public static float Score(float weight, float statistic) => 0.5f * statistic * (weight * weight);

    /// <inheritdoc/>
    public static Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => 0.5f * statistic * (weight * weight);

    /// <inheritdoc/>
    public static Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => 0.5f * statistic * (weight * weight);

    /// <inheritdoc/>
    public static Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => 0.5f * statistic * (weight * weight);
}
