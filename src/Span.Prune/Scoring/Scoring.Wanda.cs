using System.Runtime.InteropServices;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Scoring
{
    /// <summary>
    /// Wanda scores (Sun et al. 2023, "A Simple and Effective Pruning Approach for Large Language Models"):
    /// <c>scores[o, j] = |w[o, j]|·‖X_j‖₂</c>, the input norm broadcast over the rows.
    /// </summary>
    /// <param name="weights">The weights, <c>shape.ElementCount</c> floats (linear <c>[out, in]</c>, conv OIHW).</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="inputNorms">One norm per column of the 2-D view, <c>shape.RowLength</c> floats: for a linear
    /// layer <c>‖X_j‖₂</c> over the calibration tokens of input feature <c>j</c> (see
    /// <see cref="InputNorms"/>); for a convolution the norm of im2col feature <c>(i, kh, kw)</c>, i.e. of input
    /// channel <c>i</c> shifted by kernel position <c>(kh, kw)</c> over all output positions of the calibration set,
    /// in the same <c>i·kh·kw + …</c> order as a filter row. Must be finite and non-negative.</param>
    /// <param name="scores">Destination, <c>shape.ElementCount</c> floats; may be <paramref name="weights"/> itself.</param>
    /// <remarks>
    /// <para>Wanda compares weights <b>within each output row</b> (per-output selection): the norms rescale columns,
    /// which makes scores of different rows incomparable in general. Select per row (a Row-wise top-k over each row
    /// of <paramref name="scores"/>), not globally.</para>
    /// <para>Each row is scored with <see cref="TaylorCriterion"/> (<c>|a·w|</c>, which is <c>|w|·a</c> for norms <c>a ≥ 0</c>) by the shared vectorised element loop.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A length differs (<paramref name="weights"/>, <paramref name="inputNorms"/>,
    /// <paramref name="scores"/>), <paramref name="scores"/> overlaps <paramref name="inputNorms"/> or partially overlaps
    /// <paramref name="weights"/>, <paramref name="shape"/> is a default value, or a weight is NaN or ±∞ or a norm is
    /// NaN, ±∞ or negative; nothing is written then.</exception>
    public static void Wanda(ReadOnlySpan<float> weights, WeightShape shape, ReadOnlySpan<float> inputNorms, Span<float> scores)
    {
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (inputNorms.Length != shape.RowLength) ThrowHelper.ThrowLengthMismatch(nameof(inputNorms), inputNorms.Length, shape.RowLength);
        if (scores.Length < weights.Length) ThrowHelper.ThrowDestinationTooShort(nameof(scores), scores.Length, weights.Length);
        scores = scores[..weights.Length];
        CheckInPlace(weights, scores, nameof(scores));
        CheckDisjoint(inputNorms, scores, nameof(scores));
        CheckFinite(weights, nameof(weights));
        CheckFinite(inputNorms, nameof(inputNorms));
        for (int j = 0; j < inputNorms.Length; j++)
        {
            // Norms are few (one per column); a scalar sign test is negligible next to the weights' pass.
            if (inputNorms[j] < 0f) ThrowHelper.ThrowNegativeElement(nameof(inputNorms), j);
        }

        int rowLength = shape.RowLength;
        for (int o = 0; o < shape.Out; o++)
        {
            int start = o * rowLength;
            BinaryMapLoop.Map<TaylorCriterion>(weights.Slice(start, rowLength), inputNorms, scores.Slice(start, rowLength));
        }
    }

    /// <summary>
    /// Input feature norms for Wanda, <c>norms[j] = ‖X_j‖₂ = √Σ_t x[t, j]²</c> over the rows of a
    /// <c>[tokens, features]</c> row-major activation matrix.
    /// </summary>
    /// <param name="activations">The calibration activations, <c>tokens·features</c> floats, row-major. Zero tokens
    /// (an empty span) give zero norms.</param>
    /// <param name="features">Features per token (columns).</param>
    /// <param name="norms">Destination, <paramref name="features"/> floats.</param>
    /// <remarks>
    /// <para>Vectorised across features; every square is taken and summed in double precision and rounded to float
    /// once at the end, so the result is within about one float ulp of the exact norm for any token count.</para>
    /// <para>To accumulate over several batches, use <see cref="ActivationAccumulator.CopyNormsTo"/> (the same bits).</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="features"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="activations"/> is not a whole number of rows or holds NaN or ±∞,
    /// or <paramref name="norms"/> has the wrong length or overlaps the activations; nothing is written then.</exception>
    public static void InputNorms(ReadOnlySpan<float> activations, int features, Span<float> norms)
    {
        if (features <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(features), "The feature count must be positive.");
        if (activations.Length % features != 0) ThrowHelper.ThrowNotMultiple(nameof(activations), activations.Length, features);
        if (norms.Length < features) ThrowHelper.ThrowDestinationTooShort(nameof(norms), norms.Length, features);
        norms = norms[..features];
        CheckDisjoint(activations, norms, nameof(norms));
        CheckFinite(activations, nameof(activations));

        SquareSumLoop.Norms(activations, features, norms);
    }
}
