using CsCheck;
using Span.Prune.Sparse;

namespace Span.Prune.Tests.Properties;

using Masking = Span.Prune.Masking;
using Selection = Span.Prune.Selection;

/// <summary><c>ToDense(FromDense(x)) == x</c> for every sparse format (zeros compare equal whatever their sign).</summary>
public class SparseRoundTripProperties
{
    private static readonly Gen<(int Rows, int Cols, float[] W)> Matrix =
        from shape in PropertyGens.Shape
        from w in PropertyGens.Weights(shape.Rows * shape.Cols)
        select (shape.Rows, shape.Cols, w);

    private static float[] Sentinels(int length) => TestData.NaNs(length);

    [Fact]
    public void Csr_RoundTrips() =>
        Matrix.Sample((rows, cols, w) =>
        {
            var m = CsrMatrix.FromDense(w, rows, cols);
            Assert.Equal(CsrMatrix.CountNonZeros(w), m.NonZeroCount);
            float[] back = Sentinels(rows * cols);
            m.ToDense(back);
            PropertyGens.AssertSameValues(w, back, "csr");
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Csr16_RoundTrips() =>
        Matrix.Sample((rows, cols, w) =>
        {
            var m = Csr16Matrix.FromDense(w, rows, cols);
            float[] back = Sentinels(rows * cols);
            m.ToDense(back);
            PropertyGens.AssertSameValues(w, back, "csr16");
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Bsr_RoundTrips_ForEveryDividingBlock() =>
        (from m in Matrix
         from r in Gen.OneOf(PropertyGens.Divisors(m.Rows, 16))
         from c in Gen.OneOf(PropertyGens.Divisors(m.Cols, 16))
         select (m.Rows, m.Cols, m.W, r, c))
        .Sample((rows, cols, w, r, c) =>
        {
            var m = BsrMatrix.FromDense(w, rows, cols, r, c);
            float[] back = Sentinels(rows * cols);
            m.ToDense(back);
            PropertyGens.AssertSameValues(w, back, $"bsr {r}x{c}");
        }, iter: PropertyGens.Iterations);

    /// <summary>A matrix pruned N:M with <see cref="Selection.NmMask(ReadOnlySpan{float}, int, int, int, Span{byte})"/>, so the pattern fits.</summary>
    internal static readonly Gen<(int Rows, int Cols, float[] W, int N, int M)> NmPruned =
        from m0 in Matrix
        from mm in Gen.OneOf(PropertyGens.Divisors(m0.Cols, 16))
        from n in Gen.Int[1, mm] // the format stores N ≥ 1 slots per group
        select (m0.Rows, m0.Cols, NmPrune(m0.W, m0.Cols, n, mm), n, mm);

    private static float[] NmPrune(float[] w, int cols, int n, int m)
    {
        float[] scores = w.Select(MathF.Abs).ToArray();
        byte[] mask = new byte[w.Length];
        Selection.NmMask(scores, cols, n, m, mask);
        float[] pruned = (float[])w.Clone();
        Masking.Apply(pruned, mask);
        return pruned;
    }

    [Fact]
    public void Nm_RoundTrips_AfterNmPruning() =>
        NmPruned.Sample((rows, cols, w, n, m) =>
        {
            var s = NmSparseMatrix.FromDense(w, rows, cols, n, m);
            float[] back = Sentinels(rows * cols);
            s.ToDense(back);
            PropertyGens.AssertSameValues(w, back, $"nm {n}:{m}");
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void ShrunkDense_RoundTrips() =>
        (from m in Matrix
         from zeroRows in Gen.Int[0, 3]
         from zeroCols in Gen.Int[0, 3]
         from seed in Gen.Int
         select (m.Rows, m.Cols, WithZeroLines(m.W, m.Rows, m.Cols, zeroRows, zeroCols, seed)))
        .Sample((rows, cols, w) =>
        {
            var s = ShrunkDense.FromDense(w, rows, cols);
            float[] back = Sentinels(rows * cols);
            s.ToDense(back);
            PropertyGens.AssertSameValues(w, back, "shrunk");
        }, iter: PropertyGens.Iterations);

    /// <summary>Zeroes a few whole rows and columns so that shrinking removes something.</summary>
    internal static float[] WithZeroLines(float[] w, int rows, int cols, int zeroRows, int zeroCols, int seed)
    {
        float[] z = (float[])w.Clone();
        var rng = new Random(seed);
        for (int i = 0; i < zeroRows; i++) Array.Clear(z, rng.Next(rows) * cols, cols);
        for (int i = 0; i < zeroCols; i++)
        {
            int c = rng.Next(cols);
            for (int r = 0; r < rows; r++) z[r * cols + c] = 0;
        }
        return z;
    }
}
