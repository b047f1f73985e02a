namespace Span.Prune.Internal;

/// <summary>
/// The counting rules every selection shares, written once: how many units a sparsity prunes and how many one
/// layer may lose under a cap. (The tie order, the third shared rule, is <see cref="SelectionKernels.TieQuota"/>.)
/// </summary>
internal static class PruneRules
{
    /// <summary>
    /// <c>round-half-even(sparsity · unitCount)</c> on the double product, as <c>torch.nn.utils.prune</c> computes it
    /// (Python's <c>round</c>): <c>0.5·5 = 2.5 → 2</c>, <c>0.5·7 = 3.5 → 4</c>.
    /// </summary>
    /// <param name="unitCount">Units, ≥ 0.</param>
    /// <param name="sparsity">Fraction, already checked to be in <c>[0, 1]</c> (so the result is in <c>[0, unitCount]</c>).</param>
    public static long PruneCount(long unitCount, double sparsity) =>
        (long)Math.Round(sparsity * unitCount, MidpointRounding.ToEven);

    /// <summary>
    /// The per-layer cap <c>⌊cap · n⌋</c>, taken on the decimal value of <paramref name="maxLayerSparsity"/>: the
    /// double → decimal conversion keeps 15 significant digits, which removes the binary representation error of caps
    /// written as short decimals (<c>0.29 · 100 = 29</c>, where the double product floors to 28).
    /// </summary>
    /// <param name="maxLayerSparsity">The cap, already checked to be in <c>[0, 1]</c>.</param>
    /// <param name="unitCount">The layer's units, ≥ 0.</param>
    public static long LayerCap(double maxLayerSparsity, long unitCount) =>
        (long)decimal.Floor((decimal)maxLayerSparsity * unitCount);
}
