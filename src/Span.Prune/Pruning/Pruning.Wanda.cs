using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// Wanda (Sun et al. 2023): scores <c>|w_ij|·‖X_j‖₂</c> and prunes <c>round-half-even(s·RowLength)</c> weights
    /// <b>within each output row</b>, which is what makes it work without retraining.
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="inputNorms">‖X_j‖₂ per input feature, <c>shape.RowLength</c> floats (see <see cref="Scoring.InputNorms"/>).</param>
    /// <param name="sparsity">Fraction of each row to prune, in [0, 1].</param>
    /// <param name="elementMask">Receives the element mask, <c>shape.ElementCount</c> bytes.</param>
    /// <exception cref="ArgumentException">Lengths, or NaN/±∞ inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Wanda(Span<float> weights, WeightShape shape, ReadOnlySpan<float> inputNorms, double sparsity, Span<byte> elementMask)
    {
        CheckWeights(weights, shape);
        if (elementMask.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(elementMask), elementMask.Length, shape.ElementCount);
        elementMask = elementMask[..shape.ElementCount];
        int rowLength = shape.RowLength;
        int perRow = Selection.PruneCount(rowLength, sparsity);

        using SpanOwner<float> rented = SpanOwner<float>.Allocate(weights.Length + Selection.ScratchLength(rowLength));
        Span<float> scores = rented.Span.Slice(0, weights.Length);
        Span<float> scratch = rented.Span.Slice(weights.Length, Selection.ScratchLength(rowLength));
        Scoring.Wanda(weights, shape, inputNorms, scores);
        for (int o = 0; o < shape.Out; o++)
            Selection.LowestMask(scores.Slice(o * rowLength, rowLength), perRow, elementMask.Slice(o * rowLength, rowLength), scratch);
        Masking.Apply(weights, elementMask);
        long pruned = (long)perRow * shape.Out;
        return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
    }

    /// <summary>
    /// Wanda at N:M (Sun et al. 2023, section 3): in every run of M consecutive weights of a row, keeps the N of highest
    /// <c>|w_ij|·‖X_j‖₂</c> (ties: the lower index is pruned first).
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="shape">The weight's shape; M must divide <c>shape.RowLength</c>.</param>
    /// <param name="inputNorms">‖X_j‖₂ per input feature, <c>shape.RowLength</c> non-negative floats.</param>
    /// <param name="granularity">An N:M granularity.</param>
    /// <param name="elementMask">Receives the element mask, at least <c>shape.ElementCount</c> bytes.</param>
    /// <returns>What was pruned (no single threshold: NaN).</returns>
    /// <exception cref="ArgumentException">Not N:M, M does not divide the row, lengths, negative norms, or NaN/±∞ inputs.</exception>
    public static PruneReport WandaNM(Span<float> weights, WeightShape shape, ReadOnlySpan<float> inputNorms, Granularity granularity, Span<byte> elementMask)
    {
        elementMask = CheckNM(weights, shape, granularity, elementMask);
        using SpanOwner<float> scores = SpanOwner<float>.Allocate(weights.Length);
        Scoring.Wanda(weights, shape, inputNorms, scores.Span); // validates the norms
        return SelectNM(weights, scores.Span, shape, granularity, elementMask);
    }
}
