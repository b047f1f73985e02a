namespace Span.Prune;

/// <summary>What <see cref="ChannelRegression.SelectGreedy(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double})"/> achieved with its channels.</summary>
internal readonly record struct GreedySelection
{
    internal GreedySelection(int keptCount, double relativeResidual)
    {
        KeptCount = keptCount;
        RelativeResidual = relativeResidual;
    }

    /// <summary>Channels kept in the mask (the requested <c>keep</c>).</summary>
    public int KeptCount { get; }

    /// <summary>
    /// <c>‖Y − Σ_{c kept} β_c Z_c‖_F / ‖Y‖_F</c> for the returned least-squares coefficients, computed from the Gram matrix
    /// (<c>√max(‖Y‖² − explained, 0) / ‖Y‖</c>, so below about 1e-4 it is dominated by rounding); 0 when <c>‖Y‖ = 0</c>.
    /// </summary>
    public double RelativeResidual { get; }
}
