using Span.Prune.Internal;

namespace Span.Prune;

// The steps every one-call entry shares, written once: validation of the weight against its shape, of a unit or an
// N:M granularity and of the mask destination (at least as long; the prefix is returned), and the select-and-apply
// tails that turn scores into a mask, zero the weights and report.
public static partial class Pruning
{
    /// <summary>A weight of the given shape: the shape is not default and the lengths match.</summary>
    private static void CheckWeights(Span<float> weights, WeightShape shape)
    {
        if (shape.Out <= 0) ThrowHelper.ThrowDefaultShape(nameof(shape));
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
    }

    /// <summary>A unit granularity (not N:M, which fixes its own count) and its mask destination; returns the mask prefix.</summary>
    private static Span<byte> CheckUnits(Span<float> weights, WeightShape shape, Granularity granularity, Span<byte> unitMask, string nmAlternative)
    {
        if (granularity.Kind == GranularityKind.NM)
            ThrowHelper.ThrowArgument(nameof(granularity), $"N:M fixes the kept count per group; use Pruning.{nmAlternative} instead of a sparsity.");
        CheckWeights(weights, shape);
        int units = granularity.UnitCount(shape);
        if (unitMask.Length < units) ThrowHelper.ThrowDestinationTooShort(nameof(unitMask), unitMask.Length, units);
        return unitMask[..units];
    }

    /// <summary>An N:M granularity dividing the rows and the element mask destination; returns the mask prefix.</summary>
    private static Span<byte> CheckNM(Span<float> weights, WeightShape shape, Granularity granularity, Span<byte> elementMask)
    {
        if (granularity.Kind != GranularityKind.NM) ThrowHelper.ThrowArgument(nameof(granularity), $"Expected an N:M granularity, got {granularity}.");
        granularity.Validate(shape);
        CheckWeights(weights, shape);
        if (elementMask.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(elementMask), elementMask.Length, shape.ElementCount);
        return elementMask[..shape.ElementCount];
    }

    /// <summary>Output units (rows): the mask destination; returns the mask prefix.</summary>
    private static Span<byte> CheckRows(Span<byte> rowMask, WeightShape shape, string paramName)
    {
        if (rowMask.Length < shape.Out) ThrowHelper.ThrowDestinationTooShort(paramName, rowMask.Length, shape.Out);
        return rowMask[..shape.Out];
    }

    /// <summary>Prunes the <c>round-half-even(s·units)</c> lowest unit scores, ties lowest index first, and zeroes their weights.</summary>
    private static PruneReport SelectUnits(Span<float> weights, ReadOnlySpan<float> unitScores, WeightShape shape, Granularity granularity,
        double sparsity, Span<byte> unitMask)
    {
        int units = unitScores.Length;
        PruneReport r = Selection.LowestMask(unitScores, Selection.PruneCount(units, sparsity), unitMask);
        Masking.ApplyUnitMask(weights, unitMask, shape, granularity);
        return new PruneReport(units, r.PrunedUnits, weights.Length, (long)r.PrunedUnits * granularity.UnitSize(shape), r.Threshold);
    }

    /// <summary>Keeps the N highest element scores of every M-group, ties lowest index pruned first, and zeroes the rest.</summary>
    private static PruneReport SelectNM(Span<float> weights, ReadOnlySpan<float> scores, WeightShape shape, Granularity granularity, Span<byte> elementMask)
    {
        Selection.NmMask(scores, shape, granularity, elementMask);
        Masking.Apply(weights, elementMask);
        long pruned = (long)weights.Length / granularity.M * (granularity.M - granularity.N);
        return new PruneReport(weights.Length, (int)pruned, weights.Length, pruned, float.NaN);
    }
}
