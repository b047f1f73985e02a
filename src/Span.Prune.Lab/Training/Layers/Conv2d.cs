using System.Numerics.Tensors;
using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>A stride-1 2-D convolution with zero padding, lowered to the core's GEMM by im2col, a few images at a time.</summary>
/// <remarks>
/// <para>Layout: input <c>[Cin × B × H × W]</c> and output <c>[Cout × B × Ho × Wo]</c> (channel-major, the batch inside
/// each channel, so that <c>Y = W·col</c> with <c>W [Cout × Cin·K·K]</c> in PyTorch's OIHW order is a GEMM over
/// <c>images·Ho·Wo</c> columns and a BatchNorm channel is one contiguous run).</para>
/// <para>Chunking: the batch is processed <see cref="ImagesPerChunk"/> images at a time, sized so that a chunk's column
/// matrix (<c>Cin·K·K × images·Ho·Wo</c>) stays within ~512 KiB of L2. Measured on conv2 (16 → 32 on 14×14, batch 64):
/// the whole-batch column matrix (7 MiB) made the GEMM stream it from L3 and ran at a fraction of the kernel's speed.
/// The chunk size depends only on the layer's shape, so results are deterministic; the backward pass rebuilds each
/// chunk's columns from X instead of keeping them.</para>
/// <para>Backward: <c>db = Σ dY</c> per channel; <c>dW = Σ_chunks dY_c·col_cᵀ</c> by <see cref="GemmNT"/> (dot products of
/// contiguous rows, no transposed copy), summed over chunks in order; <c>dcol = Wᵀ·dY_c</c> by the GEMM, then col2im
/// into dX.</para>
/// </remarks>
public sealed class Conv2d
{
    private readonly Memory<float> _weight, _bias, _weightGradient, _biasGradient;
    /// <summary>Column-matrix budget per chunk, in floats (512 KiB).</summary>
    private const int ColumnBudget = 128 * 1024;

    private readonly float[] _columns, _columnGradient, _weightTransposed, _outputChunk, _weightGradientChunk;

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
        int perImage = ColumnRows * OutputHeight * OutputWidth;
        // Col2im with a channel stride exists for same padding only; other paddings run the batch as one chunk.
        ImagesPerChunk = 2 * padding == kernel - 1 ? Math.Clamp(ColumnBudget / perImage, 1, maxBatch) : maxBatch;
        _columns = new float[perImage * ImagesPerChunk];
        _columnGradient = new float[_columns.Length];
        _outputChunk = new float[outChannels * ImagesPerChunk * OutputHeight * OutputWidth];
        _weightTransposed = new float[ColumnRows * outChannels];
        _weightGradientChunk = new float[outChannels * ColumnRows];
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

    /// <summary>Images per GEMM chunk (from the layer's shape; all of <see cref="MaxBatch"/> when padding is not "same").</summary>
    public int ImagesPerChunk { get; }

    /// <summary>
    /// The im2col matrix of images <c>[first, first + images)</c> of <paramref name="x"/> (a <c>[Cin × batch × H × W]</c>
    /// tensor): <c>[Cin·K·K × images·Ho·Wo]</c>, row <c>(c·K + ky)·K + kx</c> in the weight's OIHW column order. For
    /// statistics that need the GEMM's view of a convolution's input (input norms per weight column, regression samples).
    /// </summary>
    /// <exception cref="ArgumentException">The range is outside the batch, or a span is too short.</exception>
    public void LowerInput(ReadOnlySpan<float> x, int batch, int first, int images, Span<float> columns)
    {
        if (batch <= 0 || first < 0 || images <= 0 || first + images > batch) throw new ArgumentException("The image range is outside the batch.", nameof(first));
        int plane = Height * Width;
        if (x.Length < InChannels * batch * plane) throw new ArgumentException("X is shorter than Cin·batch·H·W.", nameof(x));
        Im2Col.Lower(x[(first * plane)..], InChannels, batch * plane, images, Height, Width, Kernel, Padding, columns);
    }

    /// <summary><c>Y = W ⋆ X + b</c>.</summary>
    /// <param name="x">X, <c>[Cin × batch × H × W]</c>.</param>
    /// <param name="y">Y, <c>[Cout × batch × Ho × Wo]</c>.</param>
    /// <param name="batch">Images, 1 to <see cref="MaxBatch"/>.</param>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        Check.Batch(batch, MaxBatch);
        int plane = Height * Width, outPlane = OutputHeight * OutputWidth, n = batch * outPlane;
        if (x.Length < InChannels * batch * plane || y.Length < OutChannels * n) throw new ArgumentException("A span is too short.", nameof(x));
        ReadOnlySpan<float> bias = _bias.Span;
        for (int b0 = 0; b0 < batch; b0 += ImagesPerChunk)
        {
            int nb = Math.Min(ImagesPerChunk, batch - b0), nc = nb * outPlane;
            Span<float> col = _columns.AsSpan(0, ColumnRows * nc);
            Im2Col.Lower(x[(b0 * plane)..], InChannels, batch * plane, nb, Height, Width, Kernel, Padding, col);
            Span<float> yc = _outputChunk.AsSpan(0, OutChannels * nc);
            if (ForwardMultiply is { } multiply) multiply.Multiply(col, yc, nc);
            else Gemm.Multiply(_weight.Span, OutChannels, ColumnRows, col, yc, nc, MaxDegreeOfParallelism);
            // Scatter the chunk's rows into place, adding the bias on the way.
            for (int o = 0; o < OutChannels; o++)
                TensorPrimitives.Add(yc.Slice(o * nc, nc), bias[o], y.Slice(o * n + b0 * outPlane, nc));
        }
    }

    /// <summary>Backward pass: writes dW and db, and dX unless <paramref name="dx"/> is empty.</summary>
    /// <param name="x">The forward input X, <c>[Cin × batch × H × W]</c>.</param>
    /// <param name="dy">dL/dY, <c>[Cout × batch × Ho × Wo]</c>.</param>
    /// <param name="dx">dL/dX, <c>[Cin × batch × H × W]</c>, or empty to skip it (a first layer).</param>
    /// <param name="batch">Images.</param>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        Check.Batch(batch, MaxBatch);
        int plane = Height * Width, outPlane = OutputHeight * OutputWidth, n = batch * outPlane;
        if (x.Length < InChannels * batch * plane || dy.Length < OutChannels * n) throw new ArgumentException("A span is too short.", nameof(x));
        if (!dx.IsEmpty && dx.Length < InChannels * batch * plane) throw new ArgumentException("dx is too short.", nameof(dx));
        Span<float> db = _biasGradient.Span, dw = _weightGradient.Span;
        for (int o = 0; o < OutChannels; o++) db[o] = TensorPrimitives.Sum(dy.Slice(o * n, n));
        if (!dx.IsEmpty) Transpose.Run(_weight.Span, OutChannels, ColumnRows, _weightTransposed);
        bool same = 2 * Padding == Kernel - 1;
        for (int b0 = 0; b0 < batch; b0 += ImagesPerChunk)
        {
            int nb = Math.Min(ImagesPerChunk, batch - b0), nc = nb * outPlane;
            Span<float> dyc = _outputChunk.AsSpan(0, OutChannels * nc);
            for (int o = 0; o < OutChannels; o++) dy.Slice(o * n + b0 * outPlane, nc).CopyTo(dyc.Slice(o * nc, nc));
            Span<float> col = _columns.AsSpan(0, ColumnRows * nc);
            Im2Col.Lower(x[(b0 * plane)..], InChannels, batch * plane, nb, Height, Width, Kernel, Padding, col);
            if (b0 == 0) GemmNT.Multiply(dyc, col, dw, OutChannels, ColumnRows, nc);
            else
            {
                GemmNT.Multiply(dyc, col, _weightGradientChunk, OutChannels, ColumnRows, nc);
                TensorPrimitives.Add(dw, _weightGradientChunk, dw);
            }
            if (dx.IsEmpty) continue;
            Span<float> dcol = _columnGradient.AsSpan(0, ColumnRows * nc);
            Gemm.Multiply(_weightTransposed, ColumnRows, OutChannels, dyc, dcol, nc, MaxDegreeOfParallelism);
            if (same) Im2Col.RaiseSameInPlace(dcol, InChannels, batch * plane, nb, Height, Width, Kernel, Padding, dx[(b0 * plane)..]);
            else Im2Col.Raise(dcol, InChannels, batch, Height, Width, Kernel, Padding, dx); // one chunk: nb = batch
        }
    }
}
