using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// The logical shape of one weight tensor. Linear weights are <c>[out, in]</c> row-major; convolution
/// weights are <c>OIHW</c>. A linear layer is a convolution with a 1×1 kernel, so every granularity is
/// defined once over the 2-D view <c>[Out, RowLength]</c> with <c>RowLength = In·KernelHeight·KernelWidth</c>.
/// </summary>
public readonly record struct WeightShape
{
    /// <summary>Output units (rows of a linear weight, filters of a convolution).</summary>
    public int Out { get; }

    /// <summary>Input features (columns of a linear weight, input channels of a convolution).</summary>
    public int In { get; }

    /// <summary>Kernel height (1 for a linear layer).</summary>
    public int KernelHeight { get; }

    /// <summary>Kernel width (1 for a linear layer).</summary>
    public int KernelWidth { get; }

    private WeightShape(int @out, int @in, int kernelHeight, int kernelWidth)
    {
        Out = @out;
        In = @in;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    /// <summary>A linear weight <c>[out, in]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the element count exceeds <see cref="int.MaxValue"/>.</exception>
    public static WeightShape Linear(int @out, int @in) => Conv2D(@out, @in, 1, 1);

    /// <summary>A convolution weight in <c>OIHW</c> layout.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive, or the element count exceeds <see cref="int.MaxValue"/>.</exception>
    public static WeightShape Conv2D(int @out, int @in, int kernelHeight, int kernelWidth)
    {
        if (@out <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(@out), "Out must be positive.");
        if (@in <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(@in), "In must be positive.");
        if (kernelHeight <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelHeight), "Kernel height must be positive.");
        if (kernelWidth <= 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(kernelWidth), "Kernel width must be positive.");
        long count = (long)@out * @in * kernelHeight * kernelWidth;
        if (count > int.MaxValue) ThrowHelper.ThrowArgumentOutOfRange(nameof(@out), $"The tensor has {count} elements; spans hold at most {int.MaxValue}.");
        return new WeightShape(@out, @in, kernelHeight, kernelWidth);
    }

    /// <summary>Elements in one kernel, <c>KernelHeight·KernelWidth</c> (1 for a linear layer).</summary>
    public int KernelSize => KernelHeight * KernelWidth;

    /// <summary>Elements in one output row of the 2-D view, <c>In·KernelSize</c>.</summary>
    public int RowLength => In * KernelHeight * KernelWidth;

    /// <summary>Total element count, <c>Out·RowLength</c>.</summary>
    public int ElementCount => Out * RowLength;

    /// <summary>True when the kernel is 1×1 (a linear layer, or a pointwise convolution).</summary>
    public bool IsLinear => KernelHeight == 1 && KernelWidth == 1;

    /// <inheritdoc/>
    public override string ToString() =>
        IsLinear ? $"[{Out}, {In}]" : $"[{Out}, {In}, {KernelHeight}, {KernelWidth}]";
}
