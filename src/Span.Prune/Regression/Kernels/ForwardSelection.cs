using System.Numerics.Tensors;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// Forward stepwise (orthogonal least squares) channel selection on the channel Gram matrix: each step adds the
/// channel whose contribution, after refitting all coefficients of the chosen set by least squares, lowers
/// <c>‖Y − Σ_{c∈S} β_c Z_c‖_F²</c> the most.
/// </summary>
/// <remarks>
/// <para>This is a Cholesky factorisation of <c>G</c> with a greedy pivot order. After the chosen set S has a factor
/// <c>G_SS = L·Lᵀ</c>, every candidate c carries <c>u_c = L⁻¹·G_Sc</c> (a row of U), its residual energy
/// <c>d_c = G_cc − ‖u_c‖²</c> (what of <c>Z_c</c> is not explained by the set) and its residual correlation
/// <c>h_c = r_c − u_c·z</c> with <c>z = L⁻¹·r_S</c>. Adding c lowers the squared residual by exactly
/// <c>h_c² / d_c</c>, so the step picks the largest (ties to the lowest index), appends column
/// <c>u_{c,t} = (G_{c,c*} − u_c·u_{c*}) / √d_{c*}</c> to every candidate and updates <c>h</c> and <c>d</c>: O(C·t) per step,
/// O(C·keep²) in all, O(C·keep) memory. The coefficients are <c>β_S = L⁻ᵀ·z</c>.</para>
/// <para>A candidate with <c>d_c ≤ 1e-6·G_cc</c> (or <c>G_cc = 0</c>) lies in the span of the set and scores −1, below every
/// real candidate; it is only chosen when nothing else is left, gets β = 0 and does not change the factor.</para>
/// </remarks>
internal static class ForwardSelection
{
    // G is built from float data (~1e-7 relative rounding per entry), so an orthogonal remainder below 1e-6 of a channel's
    // own energy is indistinguishable from rounding; pivoting on it would only amplify noise into huge opposite β.
    private const double DependenceTolerance = 1e-6;

    /// <summary>Doubles of scratch <see cref="Select"/> needs.</summary>
    public static long ScratchLength(int channels, int keep) => (long)channels * keep + 2L * channels + 2L * keep;

    /// <summary>
    /// Chooses <paramref name="keep"/> channels into <paramref name="keepMask"/> (1 = keep), writes their least-squares
    /// coefficients into <paramref name="beta"/> (0 elsewhere) and returns the explained energy <c>Σ z_t²</c>.
    /// </summary>
    public static double Select(
        ReadOnlySpan<double> gram, ReadOnlySpan<double> response, int channels, int keep,
        Span<byte> keepMask, Span<double> beta, Span<double> scratch)
    {
        Span<double> u = scratch.Slice(0, channels * keep);
        Span<double> d = scratch.Slice(channels * keep, channels);
        Span<double> h = scratch.Slice(channels * keep + channels, channels);
        Span<double> z = scratch.Slice(channels * keep + 2 * channels, keep);
        Span<double> order = scratch.Slice(channels * keep + 2 * channels + keep, keep);

        keepMask.Slice(0, channels).Clear();
        for (int c = 0; c < channels; c++)
        {
            d[c] = gram[c * channels + c];
            h[c] = response[c];
        }

        double explained = 0;
        for (int t = 0; t < keep; t++)
        {
            int best = -1;
            double bestScore = double.NegativeInfinity;
            for (int c = 0; c < channels; c++)
            {
                if (keepMask[c] != 0) continue;
                double gcc = gram[c * channels + c];
                double score = gcc > 0 && d[c] > DependenceTolerance * gcc ? h[c] * h[c] / d[c] : -1.0;
                if (score > bestScore)
                {
                    bestScore = score;
                    best = c;
                }
            }

            keepMask[best] = 1;
            order[t] = best;
            Span<double> uBest = u.Slice(best * keep, keep);
            if (bestScore < 0)
            {
                // Dependent channel: zero diagonal marks it; it adds nothing to the factor or the fit.
                uBest.Slice(t).Clear();
                z[t] = 0;
                for (int c = 0; c < channels; c++)
                {
                    if (keepMask[c] == 0) u[c * keep + t] = 0;
                }
                continue;
            }

            double pivot = Math.Sqrt(d[best]);
            uBest[t] = pivot;
            z[t] = h[best] / pivot;
            explained += z[t] * z[t];
            for (int c = 0; c < channels; c++)
            {
                if (keepMask[c] != 0) continue;
                Span<double> uc = u.Slice(c * keep, keep);
                double uct = (gram[c * channels + best] - TensorPrimitives.Dot<double>(uc.Slice(0, t), uBest.Slice(0, t))) / pivot;
                uc[t] = uct;
                h[c] -= uct * z[t];
                d[c] -= uct * uct;
            }
        }

        // β_S = L⁻ᵀ z with L[i, j] = u[s_i, j] (j ≤ i); back substitution from the last chosen channel.
        beta.Slice(0, channels).Clear();
        for (int i = keep - 1; i >= 0; i--)
        {
            int si = (int)order[i];
            double lii = u[si * keep + i];
            if (lii == 0) continue;
            double sum = z[i];
            for (int j = i + 1; j < keep; j++)
            {
                int sj = (int)order[j];
                sum -= u[sj * keep + i] * beta[sj];
            }
            beta[si] = sum / lii;
        }
        return explained;
    }
}
