namespace Span.Prune;

/// <summary>
/// Network Slimming (Liu et al. 2017, "Learning Efficient Convolutional Networks through Network Slimming"):
/// the BatchNorm scale <c>γ_c</c> of each channel is its importance. Training with an L1 penalty
/// <c>λ·Σ|γ|</c> (<see cref="AddL1Subgradient"/>, or the proximal <see cref="SoftThreshold"/>) drives unimportant scales
/// to zero; <see cref="Pruning.BatchNormChannels"/> prunes the channels with the smallest <c>|γ|</c> (the score is
/// <see cref="Scoring.Magnitude"/> of γ), and <see cref="Fold"/> merges the BatchNorm into the preceding layer so the
/// pruned layer can be shrunk physically.
/// </summary>
/// <remarks>
/// Every operation is element-wise over channels and SIMD. NaN policy: a NaN or ±Inf input throws
/// <see cref="ArgumentException"/> naming the parameter before anything is written.
/// </remarks>
public static partial class BatchNormScaling
{
}
