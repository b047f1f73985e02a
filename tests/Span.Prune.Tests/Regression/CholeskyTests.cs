using Span.Prune.RegressionKernels;
using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

public class CholeskyTests
{
    public static IEnumerable<object[]> Sizes() => Enumerable.Range(1, 40).Select(n => new object[] { n });

    /// <summary>A = BᵀB + shift·I with B uniform in [-1, 1]: SPD, condition number controlled by the shift.</summary>
    private static double[] RandomSpd(int n, int seed, double shift)
    {
        float[] b = TestData.Uniform(n * n, seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += (double)b[k * n + i] * b[k * n + j];
                a[i * n + j] = s + (i == j ? shift : 0);
            }
        return a;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Factor_ReconstructsMatrix(int n)
    {
        double[] a = RandomSpd(n, 100 + n, 0.1);
        var l = (double[])a.Clone();
        Assert.Equal(-1, Cholesky.Factor(l, n));
        double scale = a.Max(Math.Abs);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (j > i) Assert.Equal(0.0, l[i * n + j]);
                double s = 0;
                for (int k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
                // Backward error of Cholesky is O(n·ε·‖A‖); 1e-12 relative is far above that and far below any real error.
                Assert.True(Math.Abs(s - a[i * n + j]) <= 1e-12 * scale, $"(LLᵀ)[{i},{j}] = {s}, A = {a[i * n + j]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Solve_MatchesGaussianElimination(int n)
    {
        const int m = 3;
        double[] a = RandomSpd(n, 200 + n, 0.05);
        double[] b = TestData.Normal(n * m, 300 + n).Select(v => (double)v).ToArray();
        double[] expected = SolveGaussian(a, b, n, m);

        var l = (double[])a.Clone();
        Assert.Equal(-1, Cholesky.Factor(l, n));
        var x = (double[])b.Clone();
        Cholesky.Solve(l, n, x, m);

        // Both solvers are backward stable; forward error ≲ cond(A)·n·ε. cond ≤ ~n²/0.05 here, so 1e-8 relative is ample.
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - expected[i]) <= 1e-8 * scale, $"x[{i}] = {x[i]}, expected {expected[i]}");
    }

    [Fact]
    public void Factor_ReportsFirstNonPositivePivot()
    {
        // [[4, 2, 0], [2, 1, 0], [0, 0, 1]]: second pivot is 1 − 2²/4 = 0.
        double[] singular = [4, 2, 0, 2, 1, 0, 0, 0, 1];
        Assert.Equal(1, Cholesky.Factor(singular, 3));

        double[] negative = [1, 0, 0, -2];
        Assert.Equal(1, Cholesky.Factor(negative, 2));

        double[] nan = [double.NaN];
        Assert.Equal(0, Cholesky.Factor(nan, 1));

        double[] zero = [0];
        Assert.Equal(0, Cholesky.Factor(zero, 1));
    }
}
