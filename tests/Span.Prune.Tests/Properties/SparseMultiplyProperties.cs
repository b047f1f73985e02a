using CsCheck;
using Span.Prune.Sparse;
using Span.Prune.Tests.Sparse;

namespace Span.Prune.Tests.Properties;

using Masking = Span.Prune.Masking;
using Selection = Span.Prune.Selection;

/// <summary>
/// Every format's <c>Multiply</c> equals the naive double-precision product of the same (masked) matrix, within the
/// forward error bound of a float dot product (<see cref="MatMulReference.AssertClose"/>: (K + 2)·u·Σ|w·x|), and
/// <c>MultiplyParallel</c> equals <c>Multiply</c> bit for bit.
/// </summary>
public class SparseMultiplyProperties
{
    private static readonly Gen<(int Rows, int Cols, int Batch, float[] W, float[] X)> Case =
        from shape in PropertyGens.Shape
        from batch in Gen.Int[1, 9]
        from w in PropertyGens.Weights(shape.Rows * shape.Cols)
        from x in Gen.Float[-4f, 4f].Array[shape.Cols * batch]
        select (shape.Rows, shape.Cols, batch, w, x);

    private static void Check(float[] w, int rows, int cols, float[] x, int batch, string what,
        Action<float[]> multiply, Action<float[]> multiplyParallel)
    {
        var (expected, abs) = MatMulReference.Compute(w, rows, cols, x, batch);
        float[] y = MatMulReference.Output(rows, batch);
        multiply(y);
        MatMulReference.AssertClose(expected, abs, y, cols, what);
        float[] yp = MatMulReference.Output(rows, batch);
        multiplyParallel(yp);
        for (int i = 0; i < y.Length; i++)
            if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(yp[i]))
                throw new Xunit.Sdk.XunitException($"{what}: MultiplyParallel element {i} is {yp[i]}, Multiply gave {y[i]}.");
    }

    [Fact]
    public void Dense_MatchesReference() =>
        Case.Sample((rows, cols, batch, w, x) =>
            Check(w, rows, cols, x, batch, "dense",
                y => MatMul.Multiply(w, rows, cols, x, y, batch),
                y => MatMul.MultiplyParallel(w, rows, cols, x, y, batch, 2)),
            iter: PropertyGens.Iterations);

    [Fact]
    public void Csr_MatchesReference() =>
        Case.Sample((rows, cols, batch, w, x) =>
        {
            var m = CsrMatrix.FromDense(w, rows, cols);
            Check(w, rows, cols, x, batch, "csr", y => MatMul.Multiply(m, x, y, batch), y => MatMul.MultiplyParallel(m, x, y, batch, 2));
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Csr16_MatchesReference() =>
        Case.Sample((rows, cols, batch, w, x) =>
        {
            var m = Csr16Matrix.FromDense(w, rows, cols);
            Check(w, rows, cols, x, batch, "csr16", y => MatMul.Multiply(m, x, y, batch), y => MatMul.MultiplyParallel(m, x, y, batch, 2));
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Bsr_MatchesReference() =>
        (from c in Case
         from br in Gen.OneOf(PropertyGens.Divisors(c.Rows, 16))
         from bc in Gen.OneOf(PropertyGens.Divisors(c.Cols, 16))
         select (c, br, bc))
        .Sample((c, br, bc) =>
        {
            var m = BsrMatrix.FromDense(c.W, c.Rows, c.Cols, br, bc);
            Check(c.W, c.Rows, c.Cols, c.X, c.Batch, $"bsr {br}x{bc}",
                y => MatMul.Multiply(m, c.X, y, c.Batch), y => MatMul.MultiplyParallel(m, c.X, y, c.Batch, 2));
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Nm_MatchesReference() =>
        (from p in SparseRoundTripProperties.NmPruned
         from batch in Gen.Int[1, 9]
         from x in Gen.Float[-4f, 4f].Array[p.Cols * batch]
         select (p, batch, x))
        .Sample((p, batch, x) =>
        {
            var m = NmSparseMatrix.FromDense(p.W, p.Rows, p.Cols, p.N, p.M);
            Check(p.W, p.Rows, p.Cols, x, batch, $"nm {p.N}:{p.M}",
                y => MatMul.Multiply(m, x, y, batch), y => MatMul.MultiplyParallel(m, x, y, batch, 2));
        }, iter: PropertyGens.Iterations);

    [Fact]
    public void Layer_EveryLayout_MatchesReference() =>
        (from c in Case
         from layout in Gen.OneOf("dense", "csr", "csr16", "shrunk", "bsr", "nm")
         from br in Gen.OneOf(PropertyGens.Divisors(c.Rows, 8))
         from bc in Gen.OneOf(PropertyGens.Divisors(c.Cols, 8))
         select (c, layout, br, bc))
        .Sample((c, layout, br, bc) =>
        {
            float[] w = c.W;
            string text = layout switch { "bsr" => $"bsr:{br}x{bc}", "nm" => $"nm:{(bc + 1) / 2}:{bc}", _ => layout };
            if (layout == "nm")
            {
                // N:M needs the pattern to fit: prune with the same N:M first.
                float[] scores = w.Select(MathF.Abs).ToArray();
                byte[] mask = new byte[w.Length];
                Selection.NmMask(scores, c.Cols, (bc + 1) / 2, bc, mask);
                w = (float[])w.Clone();
                Masking.Apply(w, mask);
            }
            var l = SparseLayer.Create(w, c.Rows, c.Cols, SparseLayout.Parse(text));
            Check(w, c.Rows, c.Cols, c.X, c.Batch, text, y => l.Multiply(c.X, y, c.Batch), y => l.MultiplyParallel(c.X, y, c.Batch, 2));
        }, iter: PropertyGens.Iterations);

    /// <summary>The batch-1 sliced layout of CSR layers: every kernel, on one thread or two, is bit for bit the naive
    /// sequential sum of each row (see <see cref="SlicedCsrTests"/>), and within the bound of the double product.</summary>
    [Fact]
    public void SlicedCsr_EveryPath_IsTheSequentialSum() =>
        (from c in Case
         from shape in Gen.OneOf(Gen.Const((16, 31)), Gen.Const((8, 15)), Gen.Const((3, 5)))
         from path in Gen.OneOf(Gen.Const(SlicedCsrKernels.Path.Scalar), Gen.Const(SlicedCsrKernels.Path.V256), Gen.Const(SlicedCsrKernels.Path.V512), Gen.Const(SlicedCsrKernels.Path.Auto))
         from threads in Gen.Int[1, 2]
         select (c, shape, path, threads))
        .Sample((c, shape, path, threads) =>
        {
            float[] x = c.X[..c.Cols];
            var m = CsrMatrix.FromDense(c.W, c.Rows, c.Cols);
            int[] rp = m.RowPointers.ToArray(), ci = m.ColumnIndices.ToArray();
            float[] v = m.Values.ToArray();
            var sliced = SlicedCsr.From<int>(c.Rows, c.Cols, rp, ci, v, shape.Item1, shape.Item2);
            float[] y = MatMulReference.Output(c.Rows, 1);
            SlicedCsrKernels.Multiply(sliced, x, y.AsSpan(0, c.Rows), threads, path);
            SlicedCsrTests.AssertBits(SlicedCsrTests.Sequential(rp, ci, v, x), y, $"{path} {shape.Item1}×{shape.Item2} on {threads}");
            var (expected, abs) = MatMulReference.Compute(c.W, c.Rows, c.Cols, x, 1);
            MatMulReference.AssertClose(expected, abs, y, c.Cols, "sliced");
        }, iter: PropertyGens.Iterations);
}
