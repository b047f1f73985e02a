using Span.Prune.Sparse;
namespace Span.Prune.Lab.Training;

/// <summary>
/// The forward product <c>Y = W·X</c> of one linear or convolution layer, swappable so that inference can run a pruned
/// weight matrix through a sparse kernel (e.g. the core's <see cref="SparseLayer"/>) instead of the dense GEMM.
/// </summary>
/// <remarks>
/// Same layout as the core's <c>MatMul.Multiply</c>: X is <c>[cols × batch]</c> row-major, exactly
/// <c>cols·batch</c> long; the first <c>rows·batch</c> elements of Y are overwritten. For a convolution, X is the
/// im2col matrix of one chunk of images (<see cref="Layers.Conv2d.ImagesPerChunk"/>) and <c>batch</c> is
/// <c>images·Ho·Wo</c>. An override must multiply by the same weights the layer holds
/// (the bias is added by the layer); the backward pass always uses the layer's dense weights.
/// </remarks>
public interface IWeightMultiply
{
    /// <summary>Computes <c>Y = W·X</c>.</summary>
    /// <param name="x">X, <c>[cols × batch]</c>.</param>
    /// <param name="y">Y, at least <c>rows·batch</c>.</param>
    /// <param name="batch">Columns of X and Y.</param>
    void Multiply(ReadOnlySpan<float> x, Span<float> y, int batch);
}

/// <summary>Runs a layer's forward product through a prepared <see cref="SparseLayer"/>.</summary>
/// <param name="layer">The sparse (or dense-chosen) weights; must hold the layer's current weights.</param>
public sealed class SparseLayerMultiply(SparseLayer layer) : IWeightMultiply
{
    /// <summary>The wrapped layer.</summary>
    public SparseLayer Layer { get; } = layer ?? throw new ArgumentNullException(nameof(layer));

    /// <inheritdoc/>
    public void Multiply(ReadOnlySpan<float> x, Span<float> y, int batch) => Layer.Multiply(x, y, batch);
}
