using System.Numerics.Tensors;

namespace Span.Prune.RegressionKernels;

/// <summary>
/// Dense Cholesky factorisation <c>A = L·Lᵀ</c> and the two triangular solves, in double, for the small
/// <c>(K·keep)²</c> normal-equation matrices of the least-squares refit.
/// </summary>
/// <remarks>
/// Row-oriented (Cholesky–Crout) order: <c>L_ij = (A_ij − Σ_{k&lt;j} L_ik·L_jk) / L_jj</c>, where the sum is a dot
/// product of two contiguous row prefixes, vectorised by <c>TensorPrimitives.Dot</c> (double).
/// A pivot <c>d_j = A_jj − Σ L_jk²</c> is rejected when <c>d_j ≤ 16·n·ε·A_jj</c> (or is NaN): below that, rounding in
/// the factorisation (backward error ≈ n·ε·‖A‖) can produce the sign, so the matrix is numerically not positive
/// definite and the solution would be noise.
/// </remarks>
internal static class Cholesky
{
    /// <summary>The unit roundoff of double, 2⁻⁵² (<see cref="double.Epsilon"/> is the smallest subnormal, not this).</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    /// <summary>
    /// Overwrites the lower triangle of the row-major <c>n×n</c> <paramref name="a"/> with L (the strict upper triangle
    /// is set to zero). Returns −1 on success, else the index of the first failing pivot (then <paramref name="a"/> is partly overwritten).
    /// </summary>
    public static int Factor(Span<double> a, int n)
    {
        double tolerance = 16.0 * n * MachineEpsilon;
        for (int j = 0; j < n; j++)
        {
            Span<double> rowJ = a.Slice(j * n, n);
            double ajj = rowJ[j];
            double d = ajj - TensorPrimitives.Dot<double>(rowJ.Slice(0, j), rowJ.Slice(0, j));
            if (!(d > tolerance * ajj)) return j;
            double ljj = Math.Sqrt(d);
            rowJ[j] = ljj;
            rowJ.Slice(j + 1).Clear();
            for (int i = j + 1; i < n; i++)
            {
                Span<double> rowI = a.Slice(i * n, n);
                rowI[j] = (rowI[j] - TensorPrimitives.Dot<double>(rowI.Slice(0, j), rowJ.Slice(0, j))) / ljj;
            }
        }
        return -1;
    }

    /// <summary>
    /// Solves <c>L·Lᵀ·X = B</c> in place for the row-major <c>n×m</c> right-hand side <paramref name="b"/> (m columns),
    /// with L from <see cref="Factor"/>: forward substitution <c>L·Z = B</c>, then back substitution <c>Lᵀ·X = Z</c>,
    /// each as row updates <c>row_i −= L·row_k</c> (vector multiply-adds over the m columns).
    /// </summary>
    public static void Solve(ReadOnlySpan<double> l, int n, Span<double> b, int m)
    {
        for (int i = 0; i < n; i++)
        {
            Span<double> rowI = b.Slice(i * m, m);
            for (int k = 0; k < i; k++)
            {
                double lik = l[i * n + k];
                if (lik != 0) TensorPrimitives.MultiplyAdd<double>(b.Slice(k * m, m), -lik, rowI, rowI);
            }
            TensorPrimitives.Divide<double>(rowI, l[i * n + i], rowI);
        }
        for (int i = n - 1; i >= 0; i--)
        {
            Span<double> rowI = b.Slice(i * m, m);
            for (int k = i + 1; k < n; k++)
            {
                double lki = l[k * n + i];
                if (lki != 0) TensorPrimitives.MultiplyAdd<double>(b.Slice(k * m, m), -lki, rowI, rowI);
            }
            TensorPrimitives.Divide<double>(rowI, l[i * n + i], rowI);
        }
    }
}
