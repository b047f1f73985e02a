namespace Span.Prune;

/// <summary>What one pruning call did to a tensor (or, for a global call, to all of them).</summary>
/// <param name="UnitCount">Prunable units considered (elements, rows, blocks, ... or M-groups' elements for N:M).</param>
/// <param name="PrunedUnits">Units pruned; exactly <c>round-half-even(sparsity·UnitCount)</c> for a sparsity target.</param>
/// <param name="ElementCount">Weights covered.</param>
/// <param name="PrunedElements">Weights set to zero by this call (units pruned × unit size).</param>
/// <param name="Threshold">The largest pruned score; −∞ when nothing was pruned, NaN where no single threshold
/// exists (N:M and per-row Wanda decide per group).</param>
public readonly record struct PruneReport(int UnitCount, int PrunedUnits, long ElementCount, long PrunedElements, float Threshold)
{
    /// <summary>Fraction of the covered weights this call pruned, <c>PrunedElements / ElementCount</c>.</summary>
    public double Sparsity => ElementCount == 0 ? 0 : (double)PrunedElements / ElementCount;
}
