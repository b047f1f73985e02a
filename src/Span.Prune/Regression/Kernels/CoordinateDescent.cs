using System.Numerics.Tensors;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// Cyclic coordinate descent for the channel LASSO
/// <c>min_β (1/2N)‖Y − Σ_c β_c Z_c‖_F² + λ‖β‖₁</c> in covariance form: only <c>G = [⟨Z_a, Z_b⟩]</c> and
/// <c>r = [⟨Z_c, Y⟩]</c> are needed (Friedman, Hastie, Tibshirani 2010, "covariance updates").
/// </summary>
/// <remarks>
/// <para>Everything is scaled by N: with <c>t = N·λ</c> and the residual correlation <c>g = r − G·β</c>, the exact
/// minimiser over coordinate c is <c>β_c ← S(g_c + G_cc·β_c, t) / G_cc</c>, with the soft threshold
/// <c>S(z, t) = sign(z)·max(|z| − t, 0)</c>. A change δ in β_c updates <c>g −= δ·G[:, c]</c> (O(C)), so a sweep costs
/// O(C·changes) and a channel whose <c>G_cc = 0</c> (its contribution is identically zero) stays at 0.</para>
/// <para>Convergence is tested on the optimality (KKT) conditions themselves, in the same units:
/// <c>|g_c − t·sign(β_c)|</c> for β_c ≠ 0 and <c>max(|g_c| − t, 0)</c> for β_c = 0; the solve stops when the largest
/// violation after a full sweep is at most the caller's absolute tolerance.</para>
/// </remarks>
internal static class CoordinateDescent
{
    /// <summary>Sets <c>g = r − G·β</c>.</summary>
    public static void ResetCorrelation(ReadOnlySpan<double> gram, ReadOnlySpan<double> response, ReadOnlySpan<double> beta, Span<double> correlation, int channels)
    {
        response.Slice(0, channels).CopyTo(correlation);
        for (int c = 0; c < channels; c++)
        {
            if (beta[c] != 0) TensorPrimitives.MultiplyAdd<double>(gram.Slice(c * channels, channels), -beta[c], correlation.Slice(0, channels), correlation.Slice(0, channels));
        }
    }

    /// <summary>
    /// Runs sweeps from the warm start in <paramref name="beta"/> (with matching <paramref name="correlation"/>) at threshold
    /// <c>t = N·λ</c> until the KKT violation is at most <paramref name="tolerance"/> or <paramref name="maxSweeps"/> is reached.
    /// Returns the number of sweeps.
    /// </summary>
    public static int Solve(
        ReadOnlySpan<double> gram, int channels, Span<double> beta, Span<double> correlation,
        double threshold, double tolerance, int maxSweeps, out bool converged)
    {
        Span<double> g = correlation.Slice(0, channels);
        for (int sweep = 1; sweep <= maxSweeps; sweep++)
        {
            for (int c = 0; c < channels; c++)
            {
                double gcc = gram[c * channels + c];
                if (gcc <= 0) continue;
                double old = beta[c];
                double z = g[c] + gcc * old;
                double updated = z > threshold ? (z - threshold) / gcc : z < -threshold ? (z + threshold) / gcc : 0.0;
                if (updated != old)
                {
                    beta[c] = updated;
                    TensorPrimitives.MultiplyAdd<double>(gram.Slice(c * channels, channels), old - updated, g, g);
                }
            }
            if (KktViolation(beta, g, channels, threshold) <= tolerance)
            {
                converged = true;
                return sweep;
            }
        }
        converged = false;
        return maxSweeps;
    }

    /// <summary>The largest violation of the LASSO optimality conditions, in units of <c>r</c>.</summary>
    public static double KktViolation(ReadOnlySpan<double> beta, ReadOnlySpan<double> correlation, int channels, double threshold)
    {
        double worst = 0;
        for (int c = 0; c < channels; c++)
        {
            double b = beta[c], g = correlation[c];
            double violation = b > 0 ? Math.Abs(g - threshold) : b < 0 ? Math.Abs(g + threshold) : Math.Max(Math.Abs(g) - threshold, 0);
            worst = Math.Max(worst, violation);
        }
        return worst;
    }

    /// <summary>Number of non-zero coefficients (soft thresholding produces exact zeros).</summary>
    public static int CountNonZero(ReadOnlySpan<double> beta, int channels)
    {
        int count = 0;
        for (int c = 0; c < channels; c++) count += beta[c] != 0 ? 1 : 0;
        return count;
    }
}
