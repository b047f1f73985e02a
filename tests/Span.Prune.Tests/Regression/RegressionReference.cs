namespace Span.Prune.Tests.Regression;

/// <summary>
/// Naive double-precision references for channel regression: channel contributions Z_c materialised as N×O
/// matrices, Gram matrices by definition, Gaussian elimination with partial pivoting. Written from the definitions
/// only, independent of the library's routes (XᵀX∘WᵀW, Cholesky).
/// </summary>
internal static class RegressionReference
{
    /// <summary>A sampled regression problem with X, W, Y in the library's layout.</summary>
    internal sealed record Problem(float[] X, float[] W, float[] Y, WeightShape Shape, int N)
    {
        public int C => Shape.In;
        public int K => Shape.KernelSize;
        public int O => Shape.Out;
        public int D => Shape.RowLength;
    }

    public static WeightShape Shape(int outputs, int channels, int kernelSize) =>
        kernelSize == 1 ? WeightShape.Linear(outputs, channels) : WeightShape.Conv2D(outputs, channels, 3, kernelSize / 3);

    /// <summary>
    /// X, W standard normal; Y = Σ_c β_c Z_c + noise·std(Σ β Z)·ε with ε standard normal. β is the planted coefficient
    /// per channel (0 = the channel does not contribute).
    /// </summary>
    public static Problem Planted(int n, int channels, int kernelSize, int outputs, double[] beta, double noise, int seed)
    {
        var shape = Shape(outputs, channels, kernelSize);
        float[] x = TestData.Normal(n * shape.RowLength, seed);
        float[] w = TestData.Normal(shape.ElementCount, seed + 1);
        var y = new double[n * outputs];
        for (int c = 0; c < channels; c++)
        {
            if (beta[c] == 0) continue;
            double[] z = Z(x, w, shape, n, c);
            for (int i = 0; i < y.Length; i++) y[i] += beta[c] * z[i];
        }
        double rms = Math.Sqrt(y.Sum(v => v * v) / y.Length);
        float[] eps = TestData.Normal(y.Length, seed + 2);
        var yf = new float[y.Length];
        for (int i = 0; i < y.Length; i++) yf[i] = (float)(y[i] + noise * rms * eps[i]);
        return new Problem(x, w, yf, shape, n);
    }

    /// <summary>Z_c[n, o] = Σ_{k} X[n, c·K + k]·W[o, c·K + k], row-major [N, O].</summary>
    public static double[] Z(float[] x, float[] w, WeightShape shape, int n, int c)
    {
        int k = shape.KernelSize, d = shape.RowLength, o = shape.Out;
        var z = new double[n * o];
        for (int s = 0; s < n; s++)
        {
            for (int j = 0; j < o; j++)
            {
                double sum = 0;
                for (int e = 0; e < k; e++) sum += (double)x[s * d + c * k + e] * w[j * d + c * k + e];
                z[s * o + j] = sum;
            }
        }
        return z;
    }

    public static double[][] AllZ(Problem p) => Enumerable.Range(0, p.C).Select(c => Z(p.X, p.W, p.Shape, p.N, c)).ToArray();

    public static double Inner(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    public static double Inner(double[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Y − Σ_c β_c Z_c.</summary>
    public static double[] Residual(float[] y, double[][] z, ReadOnlySpan<double> beta)
    {
        var r = y.Select(v => (double)v).ToArray();
        for (int c = 0; c < z.Length; c++)
        {
            if (beta[c] == 0) continue;
            for (int i = 0; i < r.Length; i++) r[i] -= beta[c] * z[c][i];
        }
        return r;
    }

    /// <summary>‖Y − X·Wᵀ‖_F / ‖Y‖_F in double.</summary>
    public static double RelativeError(float[] x, float[] w, float[] y, WeightShape shape, int n)
    {
        int d = shape.RowLength, o = shape.Out;
        double res = 0, tot = 0;
        for (int s = 0; s < n; s++)
        {
            for (int j = 0; j < o; j++)
            {
                double pred = 0;
                for (int e = 0; e < d; e++) pred += (double)x[s * d + e] * w[j * d + e];
                double diff = y[s * o + j] - pred;
                res += diff * diff;
                tot += (double)y[s * o + j] * y[s * o + j];
            }
        }
        return Math.Sqrt(res / tot);
    }

    /// <summary>Solves A·X = B (A n×n, B n×m, row-major) by Gaussian elimination with partial pivoting, in double.</summary>
    public static double[] SolveGaussian(double[] a, double[] b, int n, int m)
    {
        var aa = (double[])a.Clone();
        var bb = (double[])b.Clone();
        for (int col = 0; col < n; col++)
        {
            int piv = col;
            for (int r = col + 1; r < n; r++)
                if (Math.Abs(aa[r * n + col]) > Math.Abs(aa[piv * n + col])) piv = r;
            if (piv != col)
            {
                for (int j = 0; j < n; j++) (aa[col * n + j], aa[piv * n + j]) = (aa[piv * n + j], aa[col * n + j]);
                for (int j = 0; j < m; j++) (bb[col * m + j], bb[piv * m + j]) = (bb[piv * m + j], bb[col * m + j]);
            }
            for (int r = col + 1; r < n; r++)
            {
                double f = aa[r * n + col] / aa[col * n + col];
                if (f == 0) continue;
                for (int j = col; j < n; j++) aa[r * n + j] -= f * aa[col * n + j];
                for (int j = 0; j < m; j++) bb[r * m + j] -= f * bb[col * m + j];
            }
        }
        var xs = new double[n * m];
        for (int r = n - 1; r >= 0; r--)
        {
            for (int j = 0; j < m; j++)
            {
                double s = bb[r * m + j];
                for (int k = r + 1; k < n; k++) s -= aa[r * n + k] * xs[k * m + j];
                xs[r * m + j] = s / aa[r * n + r];
            }
        }
        return xs;
    }

    /// <summary>
    /// Ridge least squares on the kept columns by the normal equations in double:
    /// returns the compact W'_kept [O, P] and the ridge ρ = relativeRidge·trace(A)/P.
    /// </summary>
    public static (double[] Compact, double Ridge) NaiveRefit(Problem p, byte[] mask, double relativeRidge)
    {
        var cols = new List<int>();
        for (int c = 0; c < p.C; c++)
            if (mask[c] == 1)
                for (int e = 0; e < p.K; e++) cols.Add(c * p.K + e);
        int q = cols.Count;
        var a = new double[q * q];
        var b = new double[q * p.O];
        for (int i = 0; i < q; i++)
        {
            for (int j = 0; j < q; j++)
            {
                double s = 0;
                for (int n = 0; n < p.N; n++) s += (double)p.X[n * p.D + cols[i]] * p.X[n * p.D + cols[j]];
                a[i * q + j] = s;
            }
            for (int o = 0; o < p.O; o++)
            {
                double s = 0;
                for (int n = 0; n < p.N; n++) s += (double)p.X[n * p.D + cols[i]] * p.Y[n * p.O + o];
                b[i * p.O + o] = s;
            }
        }
        double trace = 0;
        for (int i = 0; i < q; i++) trace += a[i * q + i];
        double rho = relativeRidge * trace / q;
        for (int i = 0; i < q; i++) a[i * q + i] += rho;
        double[] wt = SolveGaussian(a, b, q, p.O); // [P, O]
        var compact = new double[p.O * q];
        for (int o = 0; o < p.O; o++)
            for (int i = 0; i < q; i++) compact[o * q + i] = wt[i * p.O + o];
        return (compact, rho);
    }

    /// <summary>Least-squares β on the given channel set (materialised Z, normal equations in double); 0 elsewhere.</summary>
    public static double[] LeastSquaresBeta(double[][] z, float[] y, IReadOnlyList<int> set)
    {
        int q = set.Count;
        var a = new double[q * q];
        var b = new double[q];
        for (int i = 0; i < q; i++)
        {
            for (int j = 0; j < q; j++) a[i * q + j] = Inner(z[set[i]], z[set[j]]);
            b[i] = Inner(z[set[i]], y);
        }
        double[] s = SolveGaussian(a, b, q, 1);
        var beta = new double[z.Length];
        for (int i = 0; i < q; i++) beta[set[i]] = s[i];
        return beta;
    }

    public static double Norm(double[] v) => Math.Sqrt(Inner(v, v));

    public static int[] Ones(ReadOnlySpan<byte> mask)
    {
        var list = new List<int>();
        for (int i = 0; i < mask.Length; i++) if (mask[i] == 1) list.Add(i);
        return list.ToArray();
    }
}
