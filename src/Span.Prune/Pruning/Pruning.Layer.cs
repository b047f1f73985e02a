using System.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// One-call pruning: score → exact-k select → apply the mask in place. Each method is the composition of the
/// public <see cref="Scoring"/>, <see cref="Selection"/> and <see cref="Masking"/> operations, with working memory
/// from the shared array pool (zero managed allocations in steady state).
/// </summary>
/// <remarks>
/// Counting follows <c>torch.nn.utils.prune</c>: a sparsity <c>s</c> prunes exactly <c>round-half-even(s·units)</c>
/// units; ties at the threshold are pruned lowest index first. NaN or ±∞ weights or statistics throw
/// <see cref="ArgumentException"/> before anything is written, and so does an empty tensor: asking to prune nothing
/// is a caller bug, not a no-op. (The lower-level <see cref="Scoring"/> and <see cref="Selection"/> kernels accept
/// empty spans, as TensorPrimitives does.)
/// </remarks>
public static partial class Pruning
{
    /// <summary>
    /// Unstructured magnitude pruning (<c>l1_unstructured</c>): zeroes the <c>round-half-even(s·n)</c> weights of
    /// smallest <c>|w|</c>, fused so that no score array is materialised.
    /// </summary>
    /// <param name="weights">Weights, pruned in place.</param>
    /// <param name="sparsity">Fraction to prune, in [0, 1].</param>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty, or a weight is NaN or ±∞ (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Magnitude(Span<float> weights, double sparsity)
    {
        if (weights.IsEmpty) ThrowHelper.ThrowEmpty(nameof(weights));
        int prune = Selection.PruneCount(weights.Length, sparsity);
        SelectionResult r = Selection.PruneSmallestMagnitudeInPlace(weights, prune);
        return new PruneReport(weights.Length, r.Pruned, weights.Length, r.Pruned, r.Threshold);
    }

    /// <summary>
    /// Prunes one layer at any granularity except N:M: unit scores with <typeparamref name="TCriterion"/> reduced by
    /// <typeparamref name="TReduction"/>, the lowest <c>round-half-even(s·units)</c> units pruned, the mask applied.
    /// </summary>
    /// <typeparam name="TCriterion">Element criterion, e.g. <see cref="MagnitudeCriterion"/>, <see cref="TaylorCriterion"/>, <see cref="ObdCriterion"/>.</typeparam>
    /// <typeparam name="TReduction">Group reduction, e.g. <see cref="L1Reduction"/>, <see cref="L2Reduction"/> (ignored for Element).</typeparam>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="statistic">Per-weight statistic the criterion reads (gradient, Hessian diagonal); empty if none.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="granularity">Unit of pruning; use <see cref="NM{TCriterion}"/> for N:M.</param>
    /// <param name="sparsity">Fraction of units to prune, in [0, 1].</param>
    /// <param name="unitMask">Receives the unit mask (1 keep, 0 pruned), <c>granularity.UnitCount(shape)</c> bytes; keep
    /// it to re-apply after weight updates with <see cref="Masking.ApplyUnitMask"/>.</param>
    /// <exception cref="ArgumentException">Lengths, granularity (N:M, or not dividing the shape), or NaN/±∞ inputs.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport Layer<TCriterion, TReduction>(Span<float> weights, ReadOnlySpan<float> statistic, WeightShape shape,
        Granularity granularity, double sparsity, Span<byte> unitMask)
        where TCriterion : struct, IElementCriterion
        where TReduction : struct, IGroupReduction
    {
        if (granularity.Kind == GranularityKind.NM)
            ThrowHelper.ThrowArgument(nameof(granularity), "N:M fixes the kept count per group; use Pruning.NM instead of a sparsity.");
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        int units = granularity.UnitCount(shape);
        if (unitMask.Length != units) ThrowHelper.ThrowLengthMismatch(nameof(unitMask), unitMask.Length, units);
        int prune = Selection.PruneCount(units, sparsity);

        float[] rented = ArrayPool<float>.Shared.Rent(units);
        try
        {
            Span<float> scores = rented.AsSpan(0, units);
            if (granularity.Kind == GranularityKind.Element) Scoring.Elementwise<TCriterion>(weights, statistic, scores);
            else Scoring.Group<TCriterion, TReduction>(weights, statistic, shape, granularity, scores);
            SelectionResult r = Selection.LowestMask(scores, prune, unitMask);
            Masking.ApplyUnitMask(weights, unitMask, shape, granularity);
            return new PruneReport(units, r.Pruned, weights.Length, (long)r.Pruned * granularity.UnitSize(shape), r.Threshold);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// N:M semi-structured pruning: in every run of M consecutive weights of a row, keeps the N of highest
    /// <typeparamref name="TCriterion"/> score (ties: the lower index is pruned first).
    /// </summary>
    /// <param name="weights">Weights (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="statistic">Per-weight statistic the criterion reads; empty if none.</param>
    /// <param name="shape">The weight's shape; M must divide <c>shape.RowLength</c>.</param>
    /// <param name="granularity">An N:M granularity.</param>
    /// <param name="elementMask">Receives the element mask, <c>shape.ElementCount</c> bytes.</param>
    /// <exception cref="ArgumentException">Not N:M, M does not divide the row, lengths, or NaN/±∞ inputs.</exception>
    public static PruneReport NM<TCriterion>(Span<float> weights, ReadOnlySpan<float> statistic, WeightShape shape,
        Granularity granularity, Span<byte> elementMask)
        where TCriterion : struct, IElementCriterion
    {
        if (granularity.Kind != GranularityKind.NM) ThrowHelper.ThrowArgument(nameof(granularity), $"Expected an N:M granularity, got {granularity}.");
        granularity.Validate(shape);
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (elementMask.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(elementMask), elementMask.Length, shape.ElementCount);

        float[] rented = ArrayPool<float>.Shared.Rent(weights.Length);
        try
        {
            Span<float> scores = rented.AsSpan(0, weights.Length);
            Scoring.Elementwise<TCriterion>(weights, statistic, scores);
            Selection.NmMask(scores, shape, granularity, elementMask);
            Masking.Apply(weights, elementMask);
            long pruned = (long)weights.Length / granularity.M * (granularity.M - granularity.N);
            return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

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
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (elementMask.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(elementMask), elementMask.Length, shape.ElementCount);
        int rowLength = shape.RowLength;
        int perRow = Selection.PruneCount(rowLength, sparsity);

        float[] rented = ArrayPool<float>.Shared.Rent(weights.Length + Selection.ScratchLength(rowLength));
        try
        {
            Span<float> scores = rented.AsSpan(0, weights.Length);
            Span<float> scratch = rented.AsSpan(weights.Length, Selection.ScratchLength(rowLength));
            Scoring.Wanda(weights, shape, inputNorms, scores);
            for (int o = 0; o < shape.Out; o++)
                Selection.LowestMask(scores.Slice(o * rowLength, rowLength), perRow, elementMask.Slice(o * rowLength, rowLength), scratch);
            Masking.Apply(weights, elementMask);
            long pruned = (long)perRow * shape.Out;
            return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }
}
