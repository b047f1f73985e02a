using System.Runtime.Intrinsics;

namespace Span.Prune;

/// <summary>
/// How element scores of one unit combine into the unit's score: <c>acc = Accumulate(acc, s)</c> from
/// <see cref="Identity"/>, then <c>Finish(acc, count)</c>. Accumulation must be associative and commutative
/// up to float rounding, because kernels split it over vector lanes and several accumulators.
/// </summary>
public interface IGroupReduction
{
    /// <summary>The starting value of the accumulator.</summary>
    static abstract float Identity { get; }

    /// <summary>Folds one element score into the accumulator.</summary>
    static abstract float Accumulate(float accumulator, float score);

    /// <summary>Folds 128-bit lanes of element scores into lane accumulators.</summary>
    static abstract Vector128<float> Accumulate(Vector128<float> accumulator, Vector128<float> score);

    /// <summary>Folds 256-bit lanes of element scores into lane accumulators.</summary>
    static abstract Vector256<float> Accumulate(Vector256<float> accumulator, Vector256<float> score);

    /// <summary>Folds 512-bit lanes of element scores into lane accumulators.</summary>
    static abstract Vector512<float> Accumulate(Vector512<float> accumulator, Vector512<float> score);

    /// <summary>Combines two partial accumulators (lanes, or split ranges).</summary>
    static abstract float Combine(float left, float right);

    /// <summary>Combines two 128-bit vectors of partial accumulators lane by lane.</summary>
    /// <remarks>Kernels keep several independent vector accumulators (and accumulate one unit in several
    /// lanes); they merge them with this overload before the scalar <see cref="Combine(float, float)"/>.</remarks>
    static abstract Vector128<float> Combine(Vector128<float> left, Vector128<float> right);

    /// <summary>Combines two 256-bit vectors of partial accumulators lane by lane.</summary>
    static abstract Vector256<float> Combine(Vector256<float> left, Vector256<float> right);

    /// <summary>Combines two 512-bit vectors of partial accumulators lane by lane.</summary>
    static abstract Vector512<float> Combine(Vector512<float> left, Vector512<float> right);

    /// <summary>Turns the accumulator of <paramref name="count"/> element scores into the unit score.</summary>
    static abstract float Finish(float accumulator, int count);

    /// <summary>Finishes 128 bits of unit accumulators, each of <paramref name="count"/> element scores.</summary>
    /// <remarks>Must agree with the scalar <see cref="Finish(float, int)"/> lane by lane.</remarks>
    static abstract Vector128<float> Finish(Vector128<float> accumulator, int count);

    /// <summary>Finishes 256 bits of unit accumulators, each of <paramref name="count"/> element scores.</summary>
    static abstract Vector256<float> Finish(Vector256<float> accumulator, int count);

    /// <summary>Finishes 512 bits of unit accumulators, each of <paramref name="count"/> element scores.</summary>
    static abstract Vector512<float> Finish(Vector512<float> accumulator, int count);
}
