using System.Runtime.Intrinsics;

namespace Span.Prune;

/// <summary>
/// An element-wise importance criterion <c>s = f(w, a)</c>, where <c>a</c> is the per-element statistic the
/// criterion needs (a gradient, a Hessian diagonal, an input norm) or ignored by criteria that need none.
/// Higher score = more important. Implement it as a <c>struct</c> and pass it as a type argument: the JIT and
/// NativeAOT specialise every kernel for it, with no delegate and no boxing.
/// </summary>
/// <remarks>The vector overloads must agree with the scalar one bit for bit on finite inputs.</remarks>
public interface IElementCriterion
{
    /// <summary>True when the criterion reads the statistic operand.</summary>
    static abstract bool UsesStatistic { get; }

    /// <summary>Scalar score.</summary>
    static abstract float Score(float weight, float statistic);

    /// <summary>128-bit score.</summary>
    static abstract Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic);

    /// <summary>256-bit score.</summary>
    static abstract Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic);

    /// <summary>512-bit score.</summary>
    static abstract Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic);
}
