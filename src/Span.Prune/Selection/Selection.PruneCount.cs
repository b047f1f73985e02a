using Span.Prune.Internal;

namespace Span.Prune;

/// <summary>
/// Exact-k selection: how many units to prune, the k-th smallest score, and masks that prune exactly k units.
/// </summary>
/// <remarks>
/// <para><b>Exact-k tie rule</b> (every mask and in-place operation of this class): to prune <c>k</c> units, let
/// <c>t</c> be the k-th smallest score (<see cref="KthSmallest(ReadOnlySpan{float}, int, Span{float})"/> at rank
/// <c>k − 1</c>). Every unit scoring <c>&lt; t</c> is pruned; then the units scoring exactly <c>t</c> are pruned in
/// ascending index order until exactly <c>k</c> are pruned. The result is deterministic and equals "stable-sort the
/// (score, index) pairs ascending and prune the first <c>k</c>".</para>
/// <para>Scores compare as IEEE floats: <c>−0</c> and <c>+0</c> are equal (they tie, and the index decides).
/// NaN and ±∞ are rejected with an <see cref="ArgumentException"/> naming the parameter, before anything is written.</para>
/// <para>Mask convention: one byte per unit, <c>1</c> = keep, <c>0</c> = prune.</para>
/// </remarks>
public static partial class Selection
{
    /// <summary>
    /// The number of units to prune for a sparsity: <c>round(sparsity · unitCount)</c> with round-half-to-even, exactly
    /// as <c>torch.nn.utils.prune</c> computes it (Python's <c>round</c> on the double product).
    /// </summary>
    /// <param name="unitCount">The number of prunable units (≥ 0).</param>
    /// <param name="sparsity">The fraction to prune, finite and in <c>[0, 1]</c>.</param>
    /// <returns>A count in <c>[0, unitCount]</c>.</returns>
    /// <remarks>The product is formed in double precision and rounded half to even: <c>0.5·5 = 2.5 → 2</c>,
    /// <c>0.5·7 = 3.5 → 4</c>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unitCount"/> is negative, or
    /// <paramref name="sparsity"/> is NaN, infinite or outside <c>[0, 1]</c>.</exception>
    public static int PruneCount(int unitCount, double sparsity)
    {
        if (unitCount < 0) ThrowHelper.ThrowSelectionNegative(nameof(unitCount), unitCount);
        if (!(sparsity >= 0.0 && sparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(sparsity), sparsity);
        // sparsity ≤ 1 keeps the product ≤ unitCount, so the cast cannot overflow.
        return (int)PruneRules.PruneCount(unitCount, sparsity);
    }

    /// <summary>Checks that <paramref name="pruneCount"/> is a valid number of units to prune out of <paramref name="unitCount"/>.</summary>
    /// <param name="unitCount">The number of units (≥ 0).</param>
    /// <param name="pruneCount">The number to prune, in <c>[0, unitCount]</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="unitCount"/> is negative, or
    /// <paramref name="pruneCount"/> is outside <c>[0, unitCount]</c>.</exception>
    public static void ValidateCount(int unitCount, int pruneCount)
    {
        if (unitCount < 0) ThrowHelper.ThrowSelectionNegative(nameof(unitCount), unitCount);
        if ((uint)pruneCount > (uint)unitCount) ThrowHelper.ThrowCount(nameof(pruneCount), pruneCount, unitCount);
    }
}
