using System.Runtime.Intrinsics;

namespace Span.Prune;

/// <summary>
/// How element scores of one unit combine into the unit's score: <c>acc = Accumulate(acc, s)</c> from
/// <see cref="Identity"/>, then <c>Finish(acc, count)</c>. Accumulation must be associative and commutative
/// up to float rounding, because kernels split it over vector lanes and several accumulators.
/// </summary>
/// <remarks>
/// <para>A custom reduction is one to three members: the scalar <see cref="Accumulate(float, float)"/>, and
/// <see cref="Identity"/> (default 0), <see cref="Combine(float, float)"/> (default +) and
/// <see cref="Finish(float, int)"/> (default: the accumulator) where the defaults do not fit. The kernels then run
/// it on the scalar path. To vectorise it, return <see langword="true"/> from <see cref="Vectorizable"/> and implement
/// the vector <c>Accumulate</c> and <c>Finish</c> overloads (the vector <c>Combine</c> defaults to +), lane by lane
/// equal to the scalar ones.</para>
/// </remarks>
public interface IGroupReduction
{
    /// <summary>True when the vector overloads are implemented; the kernels use the scalar ones otherwise. Default: false.</summary>
    static virtual bool Vectorizable => false;

    /// <summary>The starting value of the accumulator. Default: 0.</summary>
    static virtual float Identity => 0f;

    /// <summary>Folds one element score into the accumulator.</summary>
    static abstract float Accumulate(float accumulator, float score);

    /// <summary>Folds 128-bit lanes of element scores into lane accumulators; called only when <see cref="Vectorizable"/>.</summary>
    static virtual Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>Folds 256-bit lanes of element scores into lane accumulators; called only when <see cref="Vectorizable"/>.</summary>
    static virtual Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>Folds 512-bit lanes of element scores into lane accumulators; called only when <see cref="Vectorizable"/>.</summary>
    static virtual Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>Combines two partial accumulators (lanes, or split ranges). Default: <c>left + right</c>.</summary>
    static virtual float Combine(float left, float right) => left + right;

    /// <summary>Combines two 128-bit vectors of partial accumulators lane by lane.</summary>
    /// <remarks>Kernels keep several independent vector accumulators (and accumulate one unit in several
    /// lanes); they merge them with this overload before the scalar <see cref="Combine(float, float)"/>.</remarks>
    static virtual Vector128<float> Combine(Vector128<float> left, Vector128<float> right) => left + right;

    /// <summary>Combines two 256-bit vectors of partial accumulators lane by lane. Default: <c>left + right</c>.</summary>
    static virtual Vector256<float> Combine(Vector256<float> left, Vector256<float> right) => left + right;

    /// <summary>Combines two 512-bit vectors of partial accumulators lane by lane. Default: <c>left + right</c>.</summary>
    static virtual Vector512<float> Combine(Vector512<float> left, Vector512<float> right) => left + right;

    /// <summary>Turns the accumulator of <paramref name="count"/> element scores into the unit score. Default: the accumulator.</summary>
    static virtual float Finish(float accumulator, int count) => accumulator;

    /// <summary>Finishes 128 bits of unit accumulators, each of <paramref name="count"/> element scores.</summary>
    /// <remarks>Must agree with the scalar <see cref="Finish(float, int)"/> lane by lane.</remarks>
    static virtual Vector128<float> Finish(Vector128<float> accumulator, int count) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>Finishes 256 bits of unit accumulators; called only when <see cref="Vectorizable"/>.</summary>
    static virtual Vector256<float> Finish(Vector256<float> accumulator, int count) => throw new NotSupportedException("Vectorizable is false.");

    /// <summary>Finishes 512 bits of unit accumulators; called only when <see cref="Vectorizable"/>.</summary>
    static virtual Vector512<float> Finish(Vector512<float> accumulator, int count) => throw new NotSupportedException("Vectorizable is false.");
}
