namespace Span.Prune;

/// <summary>What <see cref="ChannelRegression.SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/> did to choose its channels.</summary>
public readonly record struct LassoSelection
{
    internal LassoSelection(double lambda, double lambdaMax, int sweeps, int pathPoints, int lassoCount, int keptCount, bool converged)
    {
        Lambda = lambda;
        LambdaMax = lambdaMax;
        Sweeps = sweeps;
        PathPoints = pathPoints;
        LassoCount = lassoCount;
        KeptCount = keptCount;
        Converged = converged;
    }

    /// <summary>The λ whose LASSO solution was used (the coefficients are the solution at this λ).</summary>
    public double Lambda { get; }

    /// <summary><c>λ_max = max_c |⟨Z_c, Y⟩| / N</c>, the smallest λ at which every coefficient is zero.</summary>
    public double LambdaMax { get; }

    /// <summary>Coordinate-descent sweeps over all λ values solved (each sweep visits every channel once).</summary>
    public int Sweeps { get; }

    /// <summary>Number of λ values solved (path points plus bisection steps).</summary>
    public int PathPoints { get; }

    /// <summary>Non-zero coefficients at <see cref="Lambda"/>: channels chosen by the LASSO itself (≤ <see cref="KeptCount"/>).</summary>
    public int LassoCount { get; }

    /// <summary>Channels kept in the mask, always the requested <c>keep</c>; <c>KeptCount − LassoCount</c> were filled in.</summary>
    public int KeptCount { get; }

    /// <summary>Number of kept channels added by the fill rule because the LASSO chose fewer than <c>keep</c>.</summary>
    public int FilledCount => KeptCount - LassoCount;

    /// <summary>True when every coordinate-descent solve met the tolerance within <see cref="LassoOptions.MaxSweeps"/>.</summary>
    public bool Converged { get; }
}
