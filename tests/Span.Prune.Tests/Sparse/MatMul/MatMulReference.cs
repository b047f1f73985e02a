namespace Span.Prune.Tests.Sparse;

/// <summary>Naive triple-loop reference for Y = W·X and the comparison every matrix-multiply test uses.</summary>
internal static class MatMulReference
{
    /// <summary>Y[r, b] = Σ_k W[r, k]·X[k, b] in double, plus Σ_k |W[r, k]·X[k, b]| for the error bound.</summary>
    public static (double[] Y, double[] AbsSum) Compute(float[] w, int rows, int cols, float[] x, int batch)
    {
        var y = new double[rows * batch];
        var abs = new double[rows * batch];
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++)
            {
                double wk = w[r * cols + k];
                if (wk == 0) continue;
                for (int b = 0; b < batch; b++)
                {
                    double p = wk * x[k * batch + b];
                    y[r * batch + b] += p;
                    abs[r * batch + b] += Math.Abs(p);
                }
            }
        return (y, abs);
    }

    /// <summary>
    /// Asserts every output is within the forward error bound of a float dot product of K terms. Whatever the
    /// order (one FMA chain, or up to four chains combined by two more additions) the computed sum satisfies
    /// |ŷ − y| ≤ (K + 2)·u·Σ|w·x| with u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1); the slot past the output
    /// (NaN sentinel) must be untouched.
    /// </summary>
    public static void AssertClose(double[] expected, double[] absSum, ReadOnlySpan<float> actual, int terms, string what)
    {
        double u = Math.Pow(2, -24);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = (terms + 2) * u * absSum[i] + 1e-37;
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= tol))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {err:E3} > bound {tol:E3}).");
        }
        for (int i = expected.Length; i < actual.Length; i++)
            Assert.True(float.IsNaN(actual[i]), $"{what}: element {i} past the output was written.");
    }

    /// <summary>A dense matrix with about <paramref name="sparsity"/> of its entries zero, some rows entirely zero, and a few −0 entries.</summary>
    public static float[] Pruned(int rows, int cols, double sparsity, int seed)
    {
        var rng = new Random(seed);
        float[] w = TestData.Normal(rows * cols, seed + 1);
        for (int i = 0; i < w.Length; i++)
            if (rng.NextDouble() < sparsity) w[i] = rng.Next(8) == 0 ? -0f : 0f;
        if (rows > 2) Array.Clear(w, (rows / 2) * cols, cols); // an empty row in the middle
        return w;
    }

    /// <summary>Output buffer of rows·batch NaN sentinels plus 3 more past the end.</summary>
    public static float[] Output(int rows, int batch) => TestData.NaNs(rows * batch + 3);

    public static IEnumerable<(int Rows, int Cols)> Shapes() =>
        [(1, 1), (3, 17), (37, 129), (64, 256), (13, 600), (9, 1)];

    public static readonly int[] Batches = [1, 2, 3, 4, 8, 12, 16, 17, 24, 32, 33, 64, 65];
}
