using System.Runtime.CompilerServices;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>Element criteria of the <c>layer</c> experiment.</summary>
public enum ElementCriterion
{
    /// <summary><c>|w|</c>.</summary>
    Magnitude,
    /// <summary>Mean over batches of <c>|g·w|</c> (<see cref="LayerStatistics.Taylor"/>).</summary>
    Taylor,
    /// <summary><c>½·F·w²</c>, F the empirical Fisher (<see cref="LayerStatistics.Fisher"/>).</summary>
    Obd,
    /// <summary><c>|w|·‖X_j‖₂</c> within each output row (<see cref="LayerStatistics.InputNorms"/>).</summary>
    Wanda,
    /// <summary>Uniform random scores from a fixed seed.</summary>
    Random,
}

/// <summary>Unit criteria of the <c>neurons</c> experiment.</summary>
public enum NeuronCriterion
{
    /// <summary><c>Σ|w|</c> of the unit's row.</summary>
    L1,
    /// <summary><c>√Σw²</c> of the unit's row.</summary>
    L2,
    /// <summary>Average Percentage of Zeros of the unit's post-ReLU output (the highest go first).</summary>
    Apoz,
    /// <summary>Mean post-ReLU output (the lowest go first).</summary>
    MeanActivation,
    /// <summary><c>|Σ_row ḡ·w|</c> on the mean gradient (<see cref="Scoring.GroupTaylor"/>, absolute of the sum).</summary>
    Taylor,
    /// <summary>LASSO selection of the consumer layer's input columns and a least-squares refit of its weights (He et al. 2017).</summary>
    Regression,
    /// <summary>Uniform random unit scores from a fixed seed.</summary>
    Random,
}

/// <summary>
/// The mlp pruning steps the experiments share, each computing a mask with the core library's public API from a
/// network and its <see cref="NetworkStatistics"/>, applying it to the weights and adding it to a <see cref="MaskSet"/>
/// (which the trainer re-applies after every fine-tuning step).
/// </summary>
public static class MlpPruning
{
    /// <summary>Seed of every random baseline (<see cref="Pruning.Random"/>, <see cref="Pruning.RandomNM"/>).</summary>
    public const ulong RandomSeed = 7;

    private static readonly ConditionalWeakTable<ReferenceNetwork, NetworkStatistics> s_statistics = new();

    /// <summary>The statistics of a trained dense network (the first 1,024 training images, batches of 32), collected on first use and cached per network.</summary>
    /// <param name="context">The run (its training set).</param>
    /// <param name="network">The dense network (not modified).</param>
    /// <returns>The statistics.</returns>
    public static NetworkStatistics StatisticsOf(DemoContext context, ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(network);
        lock (s_statistics)
        {
            if (!s_statistics.TryGetValue(network, out NetworkStatistics? statistics))
            {
                statistics = NetworkStatistics.Collect(network, context.Train, Math.Min(1024, context.Train.Count), 32);
                s_statistics.Add(network, statistics);
            }
            return statistics;
        }
    }

    /// <summary>The JSON name of an element criterion.</summary>
    /// <param name="criterion">The criterion.</param>
    /// <returns>magnitude, taylor, obd, wanda or random.</returns>
    public static string Name(ElementCriterion criterion) => criterion switch
    {
        ElementCriterion.Magnitude => "magnitude",
        ElementCriterion.Taylor => "taylor",
        ElementCriterion.Obd => "obd",
        ElementCriterion.Wanda => "wanda",
        _ => "random",
    };

    /// <summary>The JSON name of a unit criterion.</summary>
    /// <param name="criterion">The criterion.</param>
    /// <returns>l1, l2, apoz, mean_activation, taylor, regression or random.</returns>
    public static string Name(NeuronCriterion criterion) => criterion switch
    {
        NeuronCriterion.L1 => "l1",
        NeuronCriterion.L2 => "l2",
        NeuronCriterion.Apoz => "apoz",
        NeuronCriterion.MeanActivation => "mean_activation",
        NeuronCriterion.Taylor => "taylor",
        NeuronCriterion.Regression => "regression",
        _ => "random",
    };

    /// <summary>Element mask of one layer's weight at sparsity <paramref name="sparsity"/> (exactly round-half-even(s·n) pruned; Wanda per output row).</summary>
    /// <param name="layer">The layer (its weight is read, not changed).</param>
    /// <param name="statistics">Its statistics.</param>
    /// <param name="criterion">The criterion.</param>
    /// <param name="sparsity">Fraction of the weight to prune.</param>
    /// <returns>The element mask (1 keep, 0 prune).</returns>
    public static byte[] ElementMask(PrunableLayer layer, LayerStatistics statistics, ElementCriterion criterion, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(statistics);
        float[] w = layer.Weight.Values.ToArray();
        byte[] mask = new byte[w.Length];
        WeightShape shape = layer.Shape;
        switch (criterion)
        {
            case ElementCriterion.Magnitude: Pruning.Layer<MagnitudeCriterion, SumReduction>(w, default, shape, Granularity.Element, sparsity, mask); break;
            case ElementCriterion.Obd: Pruning.Layer<ObdCriterion, SumReduction>(w, statistics.Fisher, shape, Granularity.Element, sparsity, mask); break;
            case ElementCriterion.Wanda: Pruning.Wanda(w, shape, statistics.InputNorms, sparsity, mask); break;
            case ElementCriterion.Random: Pruning.Random(w, shape, Granularity.Element, sparsity, RandomSeed, mask); break;
            default: Selection.LowestMask(statistics.Taylor, Selection.PruneCount(w.Length, sparsity), mask); break;
        }
        return mask;
    }

    /// <summary>2:4 element mask of one layer: magnitude (<see cref="Pruning.NM{TCriterion}"/>) or Wanda (<see cref="Pruning.WandaNM"/>).</summary>
    /// <param name="layer">The layer (read only).</param>
    /// <param name="statistics">Its statistics.</param>
    /// <param name="wanda">Wanda when true, magnitude when false.</param>
    /// <returns>The element mask.</returns>
    public static byte[] TwoFourMask(PrunableLayer layer, LayerStatistics statistics, bool wanda)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(statistics);
        float[] w = layer.Weight.Values.ToArray();
        byte[] mask = new byte[w.Length];
        if (wanda) Pruning.WandaNM(w, layer.Shape, statistics.InputNorms, Granularity.NM(2, 4), mask);
        else Pruning.NM<MagnitudeCriterion>(w, default, layer.Shape, Granularity.NM(2, 4), mask);
        return mask;
    }

    /// <summary>
    /// Unit mask of a hidden layer (exactly round-half-even(s·Out) units pruned) for every criterion but
    /// <see cref="NeuronCriterion.Regression"/> (see <see cref="PruneNeuronsByRegression"/>).
    /// </summary>
    /// <param name="layer">The layer (read only).</param>
    /// <param name="statistics">Its statistics.</param>
    /// <param name="criterion">The criterion.</param>
    /// <param name="sparsity">Fraction of the units to prune.</param>
    /// <returns>The unit mask, <c>Out</c> bytes.</returns>
    public static byte[] UnitMask(PrunableLayer layer, LayerStatistics statistics, NeuronCriterion criterion, double sparsity)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(statistics);
        float[] w = layer.Weight.Values.ToArray();
        WeightShape shape = layer.Shape;
        byte[] mask = new byte[shape.Out];
        int k = Selection.PruneCount(shape.Out, sparsity);
        float[] scores = new float[shape.Out];
        switch (criterion)
        {
            case NeuronCriterion.L1: Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, default, shape, Granularity.Row, sparsity, mask); break;
            case NeuronCriterion.L2: Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, Granularity.Row, sparsity, mask); break;
            case NeuronCriterion.Apoz: Pruning.Apoz(w, shape, statistics.Apoz ?? throw new ArgumentException("The layer has no APoZ (last layer).", nameof(statistics)), sparsity, mask); break;
            case NeuronCriterion.MeanActivation: Selection.LowestMask(statistics.MeanActivation ?? throw new ArgumentException("The layer has no activations (last layer).", nameof(statistics)), k, mask); break;
            case NeuronCriterion.Taylor:
                Scoring.GroupTaylor(w, statistics.MeanGradient, shape, Granularity.Row, scores, absoluteOfSum: true);
                Selection.LowestMask(scores, k, mask);
                break;
            case NeuronCriterion.Random: Pruning.Random(w, shape, Granularity.Row, sparsity, RandomSeed, mask); break;
            default: throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "Regression selects the consumer's columns: use PruneNeuronsByRegression.");
        }
        return mask;
    }

    /// <summary>
    /// Regression neuron pruning of hidden layer <paramref name="producer"/>: <see cref="Pruning.Regression"/> on the
    /// consumer (the next layer) with its sampled inputs and targets selects the consumer's input columns to keep and
    /// refits the consumer's weights in place; the producer's pruned units (row and bias) are then masked too, so the
    /// neuron is gone as with the other criteria.
    /// </summary>
    /// <param name="network">The network, changed in place (consumer refitted, masks applied).</param>
    /// <param name="statistics">The dense network's statistics.</param>
    /// <param name="producer">Index of the hidden layer whose units are pruned.</param>
    /// <param name="sparsity">Fraction of its units to prune.</param>
    /// <param name="masks">Receives the producer's unit mask and the consumer's column mask.</param>
    /// <returns>The unit (= consumer column) mask.</returns>
    public static byte[] PruneNeuronsByRegression(ReferenceNetwork network, NetworkStatistics statistics, int producer, double sparsity, MaskSet masks)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(masks);
        PrunableLayer consumer = network.Layers[producer + 1];
        LayerStatistics s = statistics.Layers[producer + 1];
        byte[] units = new byte[consumer.Shape.In];
        Pruning.Regression(consumer.Weight.Values.Span, consumer.Shape, s.Inputs, s.Targets, s.Samples, sparsity, units, out _, out _);
        byte[] columns = new byte[consumer.Weight.Length];
        Masking.ExpandUnitMask(units, consumer.Shape, Granularity.Column, columns);
        masks.Restrict(consumer.Weight, columns);
        masks.RestrictUnits(network.Layers[producer], units);
        masks.Apply();
        return units;
    }

    /// <summary>Zero weights over all weight tensors of the network (biases excluded): the achieved global / layer sparsity.</summary>
    /// <param name="network">The network.</param>
    /// <returns>Zeros / weights.</returns>
    public static double WeightSparsity(ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        long zeros = 0, total = 0;
        foreach (PrunableLayer layer in network.Layers)
        {
            ReadOnlySpan<float> w = layer.Weight.Values.Span;
            total += w.Length;
            foreach (float v in w)
                if (v == 0f) zeros++;
        }
        return (double)zeros / total;
    }

    /// <summary>Global pruning of every weight tensor (magnitude or LAMP, <see cref="Pruning.Global"/>), masks added to <paramref name="masks"/>.</summary>
    /// <param name="network">The network, pruned in place.</param>
    /// <param name="sparsity">Fraction of all weights to prune (weights already zero count as the lowest scores).</param>
    /// <param name="score">Magnitude or LAMP.</param>
    /// <param name="masks">Receives the weights' masks (zero = pruned).</param>
    public static void PruneGlobal(ReferenceNetwork network, double sparsity, GlobalScore score, MaskSet masks)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(masks);
        Memory<float>[] weights = [.. network.Layers.Select(l => l.Weight.Values)];
        Pruning.Global(weights, sparsity, score);
        foreach (PrunableLayer layer in network.Layers)
        {
            ReadOnlySpan<float> w = layer.Weight.Values.Span;
            byte[] keep = new byte[w.Length];
            for (int i = 0; i < w.Length; i++) keep[i] = (byte)(w[i] != 0f ? 1 : 0);
            masks.Restrict(layer.Weight, keep);
        }
        masks.Apply();
    }
}
