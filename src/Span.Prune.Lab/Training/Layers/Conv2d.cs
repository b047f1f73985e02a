using System.Numerics.Tensors;
using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>A stride-1 2-D convolution with zero padding, lowered to the core's GEMM by im2col.</summary>
/// <remarks>
/// <para>Layout: input <c>[Cin × B × H × W]</c> and output <c>[Cout × B × Ho × Wo]</c> (channel-major, the batch inside
/// each channel, so that <c>Y = W·col</c> with <c>W [Cout × Cin·K·K]</c> in PyTorch's OIHW order is one GEMM of width
/// <c>B·Ho·Wo</c> and a BatchNorm channel is one contiguous run).</para>
/// <para>Backward: <c>db = Σ dY</c> per channel; <c>dW = dY·colᵀ</c> by <see cref="GemmNT"/> (dot products of long
/// contiguous rows, no transposed copy of the column matrix); <c>dcol = Wᵀ·dY</c> by the GEMM, then col2im into dX.
/// The column matrix of the last <see cref="Forward"/> is kept for <see cref="Backward"/>.</para>
/// </remarks>
public sealed class Conv2d
{
    private readonly Memory<float> _weight, _bias, _weightGradient, _biasGradient;
    private readonly float[] _columns, _columnGradient, _weightTransposed;

    /// <summary>A layer over caller-owned parameter and gradient views.</summary>
    /// <exception cref="ArgumentException">A view has the wrong length.</exception>
    public Conv2d(int inChannels, int outChannels, int height, int width, int kernel, int padding, int maxBatch,
        Memory<float> weight, Memory<float> bias, Memory<float> weightGradient, Memory<float> biasGradient)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        InChannels = inChannels;
        OutChannels = outChannels;
        Height = height;
        Width = width;
        Kernel = kernel;
        Padding = padding;
        MaxBatch = maxBatch;
        OutputHeight = Im2Col.OutputSize(height, kernel, padding);
        OutputWidth = Im2Col.OutputSize(width, kernel, padding);
        if (OutputHeight <= 0 || OutputWidth <= 0) throw new ArgumentOutOfRangeException(nameof(kernel), "The kernel is larger than the padded image.");
        Check.Length(weight, outChannels * ColumnRows, nameof(weight));
        Check.Length(weightGradient, outChannels * ColumnRows, nameof(weightGradient));
        Check.Length(bias, outChannels, nameof(bias));
        Check.Length(biasGradient, outChannels, nameof(biasGradient));
        _weight = weight;
        _bias = bias;
        _weightGradient = weightGradient;
        _biasGradient = biasGradient;
        _columns = new float[ColumnRows * maxBatch * OutputHeight * OutputWidth];
        _columnGradient = new float[_columns.Length];
        _weightTransposed = new float[ColumnRows * outChannels];
    }

    /// <summary>A stand-alone layer owning zero-filled parameter and gradient arrays.</summary>
    public Conv2d(int inChannels, int outChannels, int height, int width, int kernel, int padding, int maxBatch)
        : this(inChannels, outChannels, height, width, kernel, padding, maxBatch,
            new float[outChannels * inChannels * kernel * kernel], new float[outChannels],
            new float[outChannels * inChannels * kernel * kernel], new float[outChannels])
    {
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Input height.</summary>
    public int Height { get; }

    /// <summary>Input width.</summary>
    public int Width { get; }

    /// <summary>Square kernel size K.</summary>
    public int Kernel { get; }

    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; }

    /// <summary>Output height, <c>H + 2·pad − K + 1</c>.</summary>
    public int OutputHeight { get; }

    /// <summary>Output width, <c>W + 2·pad − K + 1</c>.</summary>
    public int OutputWidth { get; }

    /// <summary>Largest batch the scratch buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary>Rows of the column matrix and columns of W: <c>Cin·K·K</c>.</summary>
    public int ColumnRows => InChannels * Kernel * Kernel;

    /// <summary>W, <c>[Cout × Cin × K × K]</c>.</summary>
    public Memory<float> Weight => _weight;

    /// <summary>b, <c>[Cout]</c>.</summary>
    public Memory<float> Bias => _bias;

    /// <summary>dW of the last backward pass.</summary>
    public Memory<float> WeightGradient => _weightGradient;

    /// <summary>db of the last backward pass.</summary>
    public Memory<float> BiasGradient => _biasGradient;

    /// <summary>Replaces the dense forward product over the column matrix (null = the core's dense GEMM).</summary>
    public IWeightMultiply? ForwardMultiply { get; set; }

    /// <summary>Threads for the dense GEMMs (results are bit-identical for any value).</summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;

    /// <summary>The column matrix <c>[Cin·K·K × B·Ho·Wo]</c> of the last forward pass (its first <c>batch</c> images).</summary>
    public ReadOnlySpan<float> Columns(int batch) => _columns.AsSpan(0, ColumnRows * batch * OutputHeight * OutputWidth);

    /// <summary><c>Y = W ⋆ X + b</c>.</summary>
    /// <param name="x">X, <c>[Cin × batch × H × W]</c>.</param>
    /// <param name="y">Y, <c>[Cout × batch × Ho × Wo]</c>.</param>
    /// <param name="batch">Images, 1 to <see cref="MaxBatch"/>.</param>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        Check.Batch(batch, MaxBatch);
        int n = batch * OutputHeight * OutputWidth;
        Span<float> col = _columns.AsSpan(0, ColumnRows * n);
        Im2Col.Lower(x, InChannels, batch, Height, Width, Kernel, Padding, col);
        y = y[..(OutChannels * n)];
        if (ForwardMultiply is { } multiply) multiply.Multiply(col, y, n);
        else Gemm.Multiply(_weight.Span, OutChannels, ColumnRows, col, y, n, MaxDegreeOfParallelism);
        ReadOnlySpan<float> bias = _bias.Span;
        for (int o = 0; o < OutChannels; o++)
        {
            Span<float> row = y.Slice(o * n, n);
            TensorPrimitives.Add(row, bias[o], row);
        }
    }

    /// <summary>Backward pass over the last forward's batch: writes dW and db, and dX unless <paramref name="dx"/> is empty.</summary>
    /// <param name="dy">dL/dY, <c>[Cout × batch × Ho × Wo]</c>.</param>
    /// <param name="dx">dL/dX, <c>[Cin × batch × H × W]</c>, or empty to skip it (a first layer).</param>
    /// <param name="batch">The batch of the last <see cref="Forward"/>.</param>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        Check.Batch(batch, MaxBatch);
        int n = batch * OutputHeight * OutputWidth;
        dy = dy[..(OutChannels * n)];
        Span<float> db = _biasGradient.Span;
        for (int o = 0; o < OutChannels; o++) db[o] = TensorPrimitives.Sum(dy.Slice(o * n, n));
        GemmNT.Multiply(dy, _columns.AsSpan(0, ColumnRows * n), _weightGradient.Span, OutChannels, ColumnRows, n);
        if (dx.IsEmpty) return;
        Transpose.Run(_weight.Span, OutChannels, ColumnRows, _weightTransposed);
        Span<float> dcol = _columnGradient.AsSpan(0, ColumnRows * n);
        Gemm.Multiply(_weightTransposed, ColumnRows, OutChannels, dy, dcol, n, MaxDegreeOfParallelism);
        if (2 * Padding == Kernel - 1) Im2Col.RaiseSameInPlace(dcol, InChannels, batch, Height, Width, Kernel, Padding, dx);
        else Im2Col.Raise(dcol, InChannels, batch, Height, Width, Kernel, Padding, dx);
    }
}
