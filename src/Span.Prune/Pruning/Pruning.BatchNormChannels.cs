using CommunityToolkit.HighPerformance.Buffers;
using System.Numerics.Tensors;
using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Pruning
{
    /// <summary>
    /// Network Slimming (Liu et al. 2017) for one layer: prunes the <c>round-half-even(s·Out)</c> output channels whose
    /// following BatchNorm has the smallest <c>|γ|</c>. A pruned channel is dead: its weight row, γ and β become zero.
    /// </summary>
    /// <param name="weights">The conv or linear weight before the BatchNorm (<c>shape.ElementCount</c>), pruned in place.</param>
    /// <param name="shape">The weight's shape; its <c>Out</c> channels are the BatchNorm's.</param>
    /// <param name="gamma">BatchNorm scale γ, <c>shape.Out</c> finite values; pruned entries become +0.</param>
    /// <param name="beta">BatchNorm shift β, <c>shape.Out</c> values (or empty); pruned entries become +0.</param>
    /// <param name="sparsity">Fraction of channels to prune, in [0, 1].</param>
    /// <param name="channelMask">Receives 1 for kept and 0 for pruned channels, at least <c>shape.Out</c> bytes.</param>
    /// <returns>What was pruned; the threshold is the largest pruned <c>|γ|</c>.</returns>
    /// <remarks>Running statistics are left alone (they no longer matter once γ = β = 0). For the global form across
    /// layers with a per-layer cap, score <c>|γ|</c> with <see cref="Scoring.Magnitude"/> and select with
    /// <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>.</remarks>
    /// <exception cref="ArgumentException">Lengths, overlaps between γ and β, or NaN/±∞ in γ (nothing is written).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sparsity"/> is outside [0, 1] or not finite.</exception>
    public static PruneReport BatchNormChannels(Span<float> weights, WeightShape shape, Span<float> gamma, Span<float> beta,
        double sparsity, Span<byte> channelMask)
    {
        CheckWeights(weights, shape);
        if (gamma.Length != shape.Out) ThrowHelper.ThrowLengthMismatch(nameof(gamma), gamma.Length, shape.Out);
        if (!beta.IsEmpty && beta.Length != shape.Out) ThrowHelper.ThrowLengthMismatch(nameof(beta), beta.Length, shape.Out);
        channelMask = CheckRows(channelMask, shape, nameof(channelMask));
        if (gamma.Overlaps(beta) || gamma.Overlaps(weights) || beta.Overlaps(weights)) ThrowHelper.ThrowOverlap(nameof(gamma));
        int bad = FiniteScan.IndexOfNonFinite(gamma);
        if (bad >= 0) ThrowHelper.ThrowNotFinite(nameof(gamma), bad);

        using SpanOwner<float> scores = SpanOwner<float>.Allocate(shape.Out);
        TensorPrimitives.Abs(gamma, scores.Span);
        PruneReport report = SelectUnits(weights, scores.Span, shape, Granularity.Row, sparsity, channelMask);
        Masking.Apply(gamma, channelMask);
        if (!beta.IsEmpty) Masking.Apply(beta, channelMask);
        return report;
    }
}
