using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Masking
{
    /// <summary>
    /// Expands a unit mask (one byte per unit of <paramref name="granularity"/>, numbered as in
    /// <see cref="Granularity"/>) to one byte per element of <paramref name="shape"/>.
    /// </summary>
    /// <remarks>For <see cref="GranularityKind.NM"/> the units are the M-groups (a whole group kept or pruned);
    /// an N:M selection already yields an element mask and needs no expansion.</remarks>
    /// <exception cref="ArgumentException">A length does not match the shape, or the granularity does not divide it.</exception>
    public static void ExpandUnitMask(ReadOnlySpan<byte> unitMask, WeightShape shape, Granularity granularity, Span<byte> elementMask)
    {
        int units = granularity.UnitCount(shape);
        if (unitMask.Length != units) ThrowHelper.ThrowLengthMismatch(nameof(unitMask), unitMask.Length, units);
        if (elementMask.Length < shape.ElementCount) ThrowHelper.ThrowDestinationTooShort(nameof(elementMask), elementMask.Length, shape.ElementCount);
        elementMask = elementMask[..shape.ElementCount];

        int rowLength = shape.RowLength;
        switch (granularity.Kind)
        {
            case GranularityKind.Element:
                // min(b, 1) normalises any non-zero "keep" byte to 1.
                System.Numerics.Tensors.TensorPrimitives.Min(unitMask, (byte)1, elementMask);
                break;
            case GranularityKind.Row:
            case GranularityKind.Kernel:
            case GranularityKind.NM:
                // Units are contiguous runs of equal size: row, kh·kw kernel, or M-group.
                FillRuns(unitMask, granularity.UnitSize(shape), elementMask);
                break;
            case GranularityKind.Column:
                // Every row repeats the same per-input pattern: input i owns the kernel-size run at i·K.
                FillRuns(unitMask, shape.KernelSize, elementMask[..rowLength]);
                for (int o = 1; o < shape.Out; o++)
                    elementMask[..rowLength].CopyTo(elementMask.Slice(o * rowLength, rowLength));
                break;
            case GranularityKind.Block:
                int r = granularity.BlockRows, c = granularity.BlockCols, blocksPerRow = rowLength / c;
                for (int o = 0; o < shape.Out; o++)
                    FillRuns(unitMask.Slice(o / r * blocksPerRow, blocksPerRow), c, elementMask.Slice(o * rowLength, rowLength));
                break;
        }
    }

    /// <summary>
    /// Zeroes, in place, every element of every unit whose <paramref name="unitMask"/> entry is 0, without
    /// materialising an element mask.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match the shape, or the granularity does not divide it.</exception>
    public static void ApplyUnitMask(Span<float> weights, ReadOnlySpan<byte> unitMask, WeightShape shape, Granularity granularity)
    {
        int units = granularity.UnitCount(shape);
        if (weights.Length != shape.ElementCount) ThrowHelper.ThrowLengthMismatch(nameof(weights), weights.Length, shape.ElementCount);
        if (unitMask.Length != units) ThrowHelper.ThrowLengthMismatch(nameof(unitMask), unitMask.Length, units);

        int rowLength = shape.RowLength;
        switch (granularity.Kind)
        {
            case GranularityKind.Element:
                Apply(weights, unitMask);
                break;
            case GranularityKind.Row:
            case GranularityKind.Kernel:
            case GranularityKind.NM:
                ClearRuns(weights, unitMask, granularity.UnitSize(shape));
                break;
            case GranularityKind.Column:
                for (int o = 0; o < shape.Out; o++)
                {
                    Span<float> row = weights.Slice(o * rowLength, rowLength);
                    if (shape.KernelSize == 1) Apply(row, unitMask);
                    else ClearRuns(row, unitMask, shape.KernelSize);
                }
                break;
            case GranularityKind.Block:
                int r = granularity.BlockRows, c = granularity.BlockCols, blocksPerRow = rowLength / c;
                for (int o = 0; o < shape.Out; o++)
                    ClearRuns(weights.Slice(o * rowLength, rowLength), unitMask.Slice(o / r * blocksPerRow, blocksPerRow), c);
                break;
        }
    }

    private static void FillRuns(ReadOnlySpan<byte> unitMask, int runLength, Span<byte> destination)
    {
        for (int u = 0; u < unitMask.Length; u++)
            destination.Slice(u * runLength, runLength).Fill(unitMask[u] != 0 ? (byte)1 : (byte)0);
    }

    private static void ClearRuns(Span<float> weights, ReadOnlySpan<byte> unitMask, int runLength)
    {
        for (int u = 0; u < unitMask.Length; u++)
        {
            if (unitMask[u] == 0) weights.Slice(u * runLength, runLength).Clear();
        }
    }
}
