using System.Buffers;
using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>How <see cref="Pruning.Global"/> ranks weights across layers.</summary>
public enum GlobalScore
{
    /// <summary><c>|w|</c>, one threshold for all layers (<c>global_unstructured</c> with L1Unstructured).</summary>
    Magnitude,
    /// <summary>LAMP scores (Lee et al. 2021): layer-normalised, so no layer is wiped out.</summary>
    Lamp,
}

public static partial class Pruning
{
    /// <summary>
    /// Global unstructured pruning across layers: exactly <c>round-half-even(s·Σn)</c> weights of lowest global score
    /// are pruned, optionally with no layer losing more than <paramref name="maxLayerSparsity"/> of its weights.
    /// </summary>
    /// <param name="layers">The layers' weights, pruned in place.</param>
    /// <param name="sparsity">Fraction of all weights to prune, in [0, 1].</param>
    /// <param name="score">Magnitude (one global threshold on |w|) or LAMP.</param>
    /// <param name="maxLayerSparsity">Per-layer cap in [0, 1] (see <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>); 1 = none.</param>
    /// <remarks>Ties at the global threshold are pruned in layer order, then index order.</remarks>
    /// <exception cref="ArgumentException">A weight is NaN or ±∞, or the caps cannot reach the target (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A sparsity is outside [0, 1] or not finite.</exception>
    public static PruneReport Global(ReadOnlySpan<Memory<float>> layers, double sparsity, GlobalScore score = GlobalScore.Magnitude, double maxLayerSparsity = 1.0)
    {
        long total = 0;
        foreach (Memory<float> layer in layers) total += layer.Length;
        if (total == 0) ThrowHelper.ThrowEmpty(nameof(layers));
        if (total > Array.MaxLength) ThrowHelper.ThrowArgument(nameof(layers), $"The layers hold {total} weights together; global selection handles at most {Array.MaxLength}.");
        int n = (int)total;
        int prune = Selection.PruneCount(n, sparsity);

        float[] scoreArray = ArrayPool<float>.Shared.Rent(n);
        byte[] maskArray = ArrayPool<byte>.Shared.Rent(n);
        int[] lengthArray = ArrayPool<int>.Shared.Rent(layers.Length);
        try
        {
            Span<float> scores = scoreArray.AsSpan(0, n);
            Span<byte> mask = maskArray.AsSpan(0, n);
            Span<int> lengths = lengthArray.AsSpan(0, layers.Length);
            int offset = 0;
            for (int l = 0; l < layers.Length; l++)
            {
                ReadOnlySpan<float> w = layers[l].Span;
                Span<float> s = scores.Slice(offset, w.Length);
                if (score == GlobalScore.Lamp) Scoring.Lamp(w, s);
                else Scoring.Magnitude(w, s);
                lengths[l] = w.Length;
                offset += w.Length;
            }
            SelectionResult r = Selection.GlobalLowestMask(scores, lengths, prune, mask, maxLayerSparsity);
            offset = 0;
            foreach (Memory<float> layer in layers)
            {
                Masking.Apply(layer.Span, mask.Slice(offset, layer.Length));
                offset += layer.Length;
            }
            return new PruneReport(n, r.Pruned, n, r.Pruned, r.Threshold);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(lengthArray);
            ArrayPool<byte>.Shared.Return(maskArray);
            ArrayPool<float>.Shared.Return(scoreArray);
        }
    }
}
