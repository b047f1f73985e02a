using System.Runtime.Intrinsics;

namespace Span.Prune;

/// <summary>
/// An element-wise importance criterion <c>s = f(w, a)</c>, where <c>a</c> is the per-element statistic the
/// criterion needs (a gradient, a Hessian diagonal, an input norm) or ignored by criteria that need none.
/// Higher score = more important. Implement it as a <c>struct</c> and pass it as a type argument: the JIT and
/// NativeAOT specialise every kernel for it, with no delegate and no boxing.
/// </summary>
/// <remarks>
/// <para>A custom criterion is two members: <see cref="UsesStatistic"/> and the scalar <see cref="Score(float, float)"/>.
/// The kernels then run it on the scalar path. To vectorise it, also return <see langword="true"/> from
/// <see cref="Vectorizable"/> and implement the three vector overloads, which must agree with the scalar one bit for
/// bit on finite inputs (the built-in criteria do). This is TensorPrimitives' operator pattern, with the
/// non-vectorised defaults written once here.</para>
/// </remarks>
public interface IElementCriterion
{
    /// <summary>True when the criterion reads the statistic operand.</summary>
    static abstract bool UsesStatistic { get; }

    /// <summary>True when the vector overloads are implemented; the kernels use the scalar overload otherwise. Default: false.</summary>
    static virtual bool Vectorizable => false;

    /// <summary>Scalar score.</summary>
    static abstract float Score(float weight, float statistic);

    /// <summary>128-bit score; called only when <see cref="Vectorizable"/> is true.</summary>
    static virtual Vector128<float> Score(Vector128<float> weight, Vector128<float> statistic) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>256-bit score; called only when <see cref="Vectorizable"/> is true.</summary>
    static virtual Vector256<float> Score(Vector256<float> weight, Vector256<float> statistic) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>512-bit score; called only when <see cref="Vectorizable"/> is true.</summary>
    static virtual Vector512<float> Score(Vector512<float> weight, Vector512<float> statistic) => throw new NotSupportedException("Vectorizable is false.");
}
