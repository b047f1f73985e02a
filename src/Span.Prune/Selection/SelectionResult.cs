namespace Span.Prune;

/// <summary>The outcome of an exact-k selection.</summary>
/// <param name="Threshold">The largest pruned score (the k-th smallest); −∞ when nothing was pruned.</param>
/// <param name="Pruned">Units pruned: exactly the requested count.</param>
public readonly record struct SelectionResult(float Threshold, int Pruned);
