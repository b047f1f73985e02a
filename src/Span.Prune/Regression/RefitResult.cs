namespace Span.Prune;

/// <summary>Reconstruction quality of a least-squares refit (<see cref="ChannelRegression.Refit(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, ReadOnlySpan{byte}, Span{float}, Span{float}, double)"/>).</summary>
public readonly record struct RefitResult
{
    internal RefitResult(double relativeErrorBefore, double relativeErrorAfter, double ridge, int keptChannels)
    {
        RelativeErrorBefore = relativeErrorBefore;
        RelativeErrorAfter = relativeErrorAfter;
        Ridge = ridge;
        KeptChannels = keptChannels;
    }

    /// <summary>
    /// <c>‖Y − X·W_maskedᵀ‖_F / ‖Y‖_F</c> with the original weights and the pruned channel columns zeroed (pruning
    /// without a refit).
    /// </summary>
    public double RelativeErrorBefore { get; }

    /// <summary><c>‖Y − X·W'ᵀ‖_F / ‖Y‖_F</c> with the refitted weights.</summary>
    public double RelativeErrorAfter { get; }

    /// <summary>The absolute ridge ρ added to the diagonal of <c>X_keptᵀX_kept</c>.</summary>
    public double Ridge { get; }

    /// <summary>Number of kept channels (ones in the mask).</summary>
    public int KeptChannels { get; }
}
