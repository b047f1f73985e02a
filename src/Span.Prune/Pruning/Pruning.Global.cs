using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

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
    /// <param name="maxLayerSparsity">Per-layer cap <c>⌊cap·n⌋</c> in [0, 1]; 1 = none.</param>
    /// <returns>The weights and units considered and pruned (equal: one unit is one weight), and the largest pruned
    /// score (−∞ when nothing is pruned).</returns>
    /// <remarks>
    /// <para>The rule is <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>'s
    /// on the concatenated scores: the lowest (score, layer, index) are pruned — ties at the global threshold in layer
    /// order, then index order — and with a cap, the greedy walk that skips layers at their cap.</para>
    /// <para>It runs the engine of <see cref="GlobalMagnitudePruning"/> (histograms of the scores' float32 bits, an
    /// exact threshold, one masking pass), so the masks equal the streamed ones. Magnitude reads the weights
    /// themselves; LAMP first writes each layer's scores (≥ 0) into pooled scratch and ranks those. Working memory,
    /// pooled: 128 KiB of counts (one per layer with a cap), 256 KiB per layer whose cut needs the second level, 512 KiB
    /// of sub-histograms for layers of 16,384 weights or more, and for LAMP one float per weight.</para>
    /// <para>NaN policy: a NaN or ±∞ weight throws a <see cref="TensorArgumentException"/> naming the layer
    /// (<see cref="TensorArgumentException.TensorIndex"/>) before any weight is written.</para>
    /// </remarks>
    /// <exception cref="TensorArgumentException">A layer holds a NaN or ±∞ weight (<paramref name="layers"/>).</exception>
    /// <exception cref="ArgumentException">The layers are empty or hold more than <see cref="Array.MaxLength"/> weights
    /// together, or the caps cannot reach the target (<paramref name="maxLayerSparsity"/>); nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A sparsity is outside [0, 1] or not finite.</exception>
    public static PruneReport Global(ReadOnlySpan<Memory<float>> layers, double sparsity, GlobalScore score = GlobalScore.Magnitude, double maxLayerSparsity = 1.0)
    {
        long total = 0;
        bool largeLayer = false;
        foreach (Memory<float> layer in layers)
        {
            total += layer.Length;
            largeLayer |= !MagnitudeHistograms.CountsDirectly(layer.Length);
        }
        if (total == 0) ThrowHelper.ThrowEmpty(nameof(layers));
        if (total > Array.MaxLength) ThrowHelper.ThrowArgument(nameof(layers), $"The layers hold {total} weights together; global selection handles at most {Array.MaxLength}.");
        if (!(sparsity >= 0.0 && sparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(sparsity), sparsity);
        if (!(maxLayerSparsity >= 0.0 && maxLayerSparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(maxLayerSparsity), maxLayerSparsity);
        long k = PruneRules.PruneCount(total, sparsity);
        long capacity = 0;
        foreach (Memory<float> layer in layers) capacity += PruneRules.LayerCap(maxLayerSparsity, layer.Length);
        if (capacity < k) ThrowHelper.ThrowGlobalCapsInfeasible(nameof(maxLayerSparsity), capacity, k);
        if (score == GlobalScore.Lamp)
        {
            // LAMP's scores are finite for finite weights; check the weights here so that the error names the layer.
            for (int l = 0; l < layers.Length; l++)
                if (FiniteScan.IndexOfNonFinite(layers[l].Span) >= 0) ThrowHelper.ThrowTensorNonFinite(nameof(layers), l);
        }

        using SpanOwner<ElementType> types = SpanOwner<ElementType>.Allocate(layers.Length);
        using SpanOwner<long> lengths = SpanOwner<long>.Allocate(layers.Length);
        using SpanOwner<float> lampScores = SpanOwner<float>.Allocate(score == GlobalScore.Lamp ? (int)total : 0);
        using SpanOwner<uint> scratch = SpanOwner<uint>.Allocate(largeLayer ? MagnitudeHistograms.SubHistogramLength : 0, AllocationMode.Clear);
        types.Span.Fill(ElementType.Float32);
        for (int l = 0; l < layers.Length; l++) lengths.Span[l] = layers[l].Length;

        // Uncapped, all layers share one histogram (same masks: see GlobalMagnitudePruning); capped, one each.
        var arrays = new StateArrays(pooled: true);
        var histograms = new MagnitudeHistograms(types.Span, lengths.Span, total, maxLayerSparsity >= 1.0 ? 1 : int.MaxValue, arrays);
        var solver = new GlobalThresholdSolver(histograms.SlotCount, k, arrays);
        try
        {
            for (int l = 0; l < layers.Length; l++) solver.AddCap(histograms.SlotOf(l), PruneRules.LayerCap(maxLayerSparsity, layers[l].Length));
            Span<float> lamp = lampScores.Span;
            int offset = 0;
            for (int l = 0; l < layers.Length; l++)
            {
                ReadOnlySpan<float> keys = layers[l].Span;
                if (score == GlobalScore.Lamp)
                {
                    Scoring.Lamp(keys, lamp.Slice(offset, keys.Length));
                    keys = lamp.Slice(offset, keys.Length);
                    offset += keys.Length;
                }
                if (!histograms.CountHigh<Float32Key, float>(l, keys, scratch.Span)) ThrowHelper.ThrowTensorNonFinite(nameof(layers), l);
            }
            if (k > 0)
            {
                if (solver.Locate(ref histograms))
                {
                    offset = 0;
                    for (int l = 0; l < layers.Length; l++)
                    {
                        int length = layers[l].Length;
                        if (histograms.IsRefined(histograms.SlotOf(l)))
                            histograms.CountLow<Float32Key, float>(l, score == GlobalScore.Lamp ? lamp.Slice(offset, length) : layers[l].Span);
                        offset += length;
                    }
                }
                solver.Finish(histograms);
            }

            // Apply in layer order: a shared histogram hands its ties out in that order.
            int slot = -1;
            long ties = 0, zeros = 0;
            offset = 0;
            for (int l = 0; l < layers.Length; l++)
            {
                Span<float> w = layers[l].Span;
                int s = histograms.SlotOf(l);
                if (s != slot)
                {
                    slot = s;
                    ties = solver.Ties(s);
                }
                ties = score == GlobalScore.Lamp
                    ? MagnitudeRadix.ApplyByScores(lamp.Slice(offset, w.Length), w, solver.Cut(s), ties)
                    : Float32Key.Apply(w, w, solver.Cut(s), ties, ref zeros);
                offset += w.Length;
            }
            float threshold = k == 0 ? float.NegativeInfinity : BitConverter.UInt32BitsToSingle(solver.ThresholdKey);
            return new PruneReport((int)total, (int)k, total, k, threshold);
        }
        finally
        {
            solver.Return();
            histograms.Return();
        }
    }
}
