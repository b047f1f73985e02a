using System.Numerics.Tensors;
using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>A fully connected layer <c>Y = W·X + b</c> on feature-major activations.</summary>
/// <remarks>
/// <para>Layout: X <c>[in × batch]</c>, Y <c>[out × batch]</c>, W <c>[out × in]</c> row-major (PyTorch's
/// <c>nn.Linear.weight</c>), so the forward pass is one call of the core's <c>MatMul</c> and the bias is added row
/// by row.</para>
/// <para>Backward: <c>db = Σ_b dY[:, b]</c>; <c>dW = dY·Xᵀ</c> (the GEMM on <c>Xᵀ [batch × in]</c>, transposed here
/// unless the caller already has it); <c>dX = Wᵀ·dY</c> (the GEMM on <c>Wᵀ</c>, transposed per call). Gradients are
/// overwritten, not accumulated. All scratch is allocated once for <see cref="MaxBatch"/>.</para>
/// </remarks>
public sealed class Linear
{
    private readonly Memory<float> _weight, _bias, _weightGradient, _biasGradient;
    private readonly float[] _inputTransposed, _weightTransposed;

    /// <summary>A layer over caller-owned parameter and gradient views (the network's flat arrays).</summary>
    /// <exception cref="ArgumentException">A view has the wrong length.</exception>
    public Linear(int inFeatures, int outFeatures, int maxBatch, Memory<float> weight, Memory<float> bias, Memory<float> weightGradient, Memory<float> biasGradient)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        Check.Length(weight, outFeatures * inFeatures, nameof(weight));
        Check.Length(weightGradient, outFeatures * inFeatures, nameof(weightGradient));
        Check.Length(bias, outFeatures, nameof(bias));
        Check.Length(biasGradient, outFeatures, nameof(biasGradient));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        MaxBatch = maxBatch;
        _weight = weight;
        _bias = bias;
        _weightGradient = weightGradient;
        _biasGradient = biasGradient;
        _inputTransposed = new float[maxBatch * inFeatures];
        _weightTransposed = new float[inFeatures * outFeatures];
    }

    /// <summary>A stand-alone layer owning zero-filled parameter and gradient arrays.</summary>
    public Linear(int inFeatures, int outFeatures, int maxBatch)
        : this(inFeatures, outFeatures, maxBatch, new float[outFeatures * inFeatures], new float[outFeatures], new float[outFeatures * inFeatures], new float[outFeatures])
    {
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Largest batch the scratch buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary>W, <c>[out × in]</c>.</summary>
    public Memory<float> Weight => _weight;

    /// <summary>b, <c>[out]</c>.</summary>
    public Memory<float> Bias => _bias;

    /// <summary>dW of the last backward pass.</summary>
    public Memory<float> WeightGradient => _weightGradient;

    /// <summary>db of the last backward pass.</summary>
    public Memory<float> BiasGradient => _biasGradient;

    /// <summary>Replaces the dense forward product (null = the core's dense GEMM on <see cref="Weight"/>).</summary>
    public IWeightMultiply? ForwardMultiply { get; set; }

    /// <summary>Test and benchmark hook: compute <c>dW</c> with <see cref="GemmNT"/> on X in place instead of the GEMM on Xᵀ.</summary>
    internal bool WeightGradientByDotProducts { get; set; }

    /// <summary>Threads for the dense GEMMs (1 = calling thread; results are bit-identical for any value).</summary>
    public int MaxDegreeOfParallelism { get; set; } = 1;

    /// <summary><c>Y = W·X + b</c>.</summary>
    /// <param name="x">X, <c>[in × batch]</c>.</param>
    /// <param name="y">Y, <c>[out × batch]</c> (at least).</param>
    /// <param name="batch">Batch size, 1 to <see cref="MaxBatch"/>.</param>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        Check.Batch(batch, MaxBatch);
        x = x[..(InFeatures * batch)];
        y = y[..(OutFeatures * batch)];
        if (ForwardMultiply is { } multiply) multiply.Multiply(x, y, batch);
        else Gemm.Multiply(_weight.Span, OutFeatures, InFeatures, x, y, batch, MaxDegreeOfParallelism);
        ReadOnlySpan<float> bias = _bias.Span;
        if (batch == 1)
        {
            // One vector add instead of OutFeatures one-element calls, which cost as much as a sparse product at
            // batch 1 (the same float additions, so the same bits).
            TensorPrimitives.Add(y, bias, y);
            return;
        }
        for (int r = 0; r < OutFeatures; r++)
        {
            Span<float> row = y.Slice(r * batch, batch);
            TensorPrimitives.Add(row, bias[r], row);
        }
    }

    /// <summary>Backward pass: writes dW and db, and dX unless <paramref name="dx"/> is empty.</summary>
    /// <param name="x">The forward input X, <c>[in × batch]</c>.</param>
    /// <param name="dy">dL/dY, <c>[out × batch]</c>.</param>
    /// <param name="dx">dL/dX, <c>[in × batch]</c>, or empty to skip it (a first layer).</param>
    /// <param name="batch">Batch size.</param>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        Check.Batch(batch, MaxBatch);
        if (WeightGradientByDotProducts)
        {
            dy = dy[..(OutFeatures * batch)];
            Span<float> bg = _biasGradient.Span;
            for (int r = 0; r < OutFeatures; r++) bg[r] = TensorPrimitives.Sum(dy.Slice(r * batch, batch));
            GemmNT.Multiply(dy, x[..(InFeatures * batch)], _weightGradient.Span, OutFeatures, InFeatures, batch);
            InputGradient(dy, dx, batch);
            return;
        }
        Span<float> xt = _inputTransposed.AsSpan(0, batch * InFeatures);
        Transpose.Run(x[..(InFeatures * batch)], InFeatures, batch, xt);
        BackwardTransposedInput(xt, dy, dx, batch);
    }

    /// <summary>Backward pass for a caller that already holds <c>Xᵀ</c> (<c>[batch × in]</c>, e.g. the image-major input batch).</summary>
    /// <param name="xTransposed">Xᵀ, <c>[batch × in]</c>.</param>
    /// <param name="dy">dL/dY, <c>[out × batch]</c>.</param>
    /// <param name="dx">dL/dX, <c>[in × batch]</c>, or empty to skip it.</param>
    /// <param name="batch">Batch size.</param>
    public void BackwardTransposedInput(ReadOnlySpan<float> xTransposed, ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        Check.Batch(batch, MaxBatch);
        dy = dy[..(OutFeatures * batch)];
        Span<float> db = _biasGradient.Span;
        for (int r = 0; r < OutFeatures; r++) db[r] = TensorPrimitives.Sum(dy.Slice(r * batch, batch));
        // dW[out × in] = dY[out × batch] · Xᵀ[batch × in].
        Gemm.Multiply(dy, OutFeatures, batch, xTransposed[..(batch * InFeatures)], _weightGradient.Span, InFeatures, MaxDegreeOfParallelism);
        InputGradient(dy, dx, batch);
    }

    private void InputGradient(ReadOnlySpan<float> dy, Span<float> dx, int batch)
    {
        if (dx.IsEmpty) return;
        // dX[in × batch] = Wᵀ[in × out] · dY[out × batch].
        Transpose.Run(_weight.Span, OutFeatures, InFeatures, _weightTransposed);
        Gemm.Multiply(_weightTransposed, InFeatures, OutFeatures, dy, dx[..(InFeatures * batch)], batch, MaxDegreeOfParallelism);
    }
}
