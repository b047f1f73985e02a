namespace Span.Prune;

/// <summary>
/// Settings of the LASSO channel selection (<see cref="ChannelRegression.SelectLasso(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, WeightShape, int, int, Span{byte}, Span{double}, LassoOptions)"/>). A property left at 0
/// (including every property of <c>default(LassoOptions)</c>) means its documented default.
/// </summary>
public readonly record struct LassoOptions
{
    /// <summary>Default <see cref="Tolerance"/>.</summary>
    public const double DefaultTolerance = 1e-6;

    /// <summary>Default <see cref="MaxSweeps"/>.</summary>
    public const int DefaultMaxSweeps = 1000;

    /// <summary>Default <see cref="PathLength"/>.</summary>
    public const int DefaultPathLength = 100;

    /// <summary>Default <see cref="MinLambdaRatio"/>.</summary>
    public const double DefaultMinLambdaRatio = 1e-6;

    /// <summary>Default <see cref="BisectionSteps"/>.</summary>
    public const int DefaultBisectionSteps = 40;

    private readonly double _tolerance;
    private readonly int _maxSweeps;
    private readonly int _pathLength;
    private readonly double _minLambdaRatio;
    private readonly int _bisectionSteps;

    /// <summary>
    /// Convergence tolerance of coordinate descent, relative to <c>N·λ_max = max_c |⟨Z_c, Y⟩|</c>: a solve stops when every
    /// LASSO optimality condition holds within <c>Tolerance·λ_max</c> in λ units, i.e.
    /// <c>|(1/N)⟨Z_c, Y − Σβ_b Z_b⟩ − λ·sign(β_c)| ≤ Tolerance·λ_max</c> for β_c ≠ 0 and
    /// <c>|(1/N)⟨Z_c, Y − Σβ_b Z_b⟩| ≤ λ + Tolerance·λ_max</c> for β_c = 0. Default 1e-6; must be positive and finite.
    /// </summary>
    public double Tolerance { get => _tolerance == 0 ? DefaultTolerance : _tolerance; init => _tolerance = value; }

    /// <summary>Maximum coordinate-descent sweeps (passes over all channels) per λ. Default 1000; must be positive.</summary>
    public int MaxSweeps { get => _maxSweeps == 0 ? DefaultMaxSweeps : _maxSweeps; init => _maxSweeps = value; }

    /// <summary>Number of geometric steps from <c>λ_max</c> down to <c>MinLambdaRatio·λ_max</c>. Default 100; must be positive.</summary>
    public int PathLength { get => _pathLength == 0 ? DefaultPathLength : _pathLength; init => _pathLength = value; }

    /// <summary>Smallest λ of the path as a fraction of <c>λ_max</c>. Default 1e-6; must be in (0, 1).</summary>
    public double MinLambdaRatio { get => _minLambdaRatio == 0 ? DefaultMinLambdaRatio : _minLambdaRatio; init => _minLambdaRatio = value; }

    /// <summary>
    /// Maximum bisection steps (geometric midpoints) between the last path λ with at most <c>keep</c> non-zero coefficients
    /// and the first with more. Default 40; must be positive.
    /// </summary>
    public int BisectionSteps { get => _bisectionSteps == 0 ? DefaultBisectionSteps : _bisectionSteps; init => _bisectionSteps = value; }
}
