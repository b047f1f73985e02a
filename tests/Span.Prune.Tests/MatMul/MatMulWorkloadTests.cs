using Span.Prune.Cli.Bench;

namespace Span.Prune.Tests.MatMul;

public class MatMulWorkloadTests
{
    /// <summary>The report's entry point: every format of a small workload multiplies correctly against its own densified weights.</summary>
    [Theory]
    [InlineData(0.5, 1)]
    [InlineData(0.9, 8)]
    [InlineData(0.75, 33)]
    public void Create_EveryFormat_RunsAndMatchesItsDenseForm(double sparsity, int batch)
    {
        const int rows = 64, cols = 128;
        var w = MatMulWorkload.Create(rows, cols, batch, sparsity, seed: 3);
        foreach (MatMulFormat f in Enum.GetValues<MatMulFormat>())
        {
            Assert.True(w.Has(f), f.ToString());
            float[] dense = new float[rows * cols];
            int outRows = rows;
            switch (f)
            {
                case MatMulFormat.Dense: w.Dense.CopyTo(dense, 0); break;
                case MatMulFormat.Csr: w.Csr.ToDense(dense); break;
                case MatMulFormat.Csr16: w.Csr16!.ToDense(dense); break;
                case MatMulFormat.Bsr: w.Bsr!.ToDense(dense); break;
                case MatMulFormat.Nm: w.Nm!.ToDense(dense); break;
                case MatMulFormat.Shrunk:
                    outRows = w.Shrunk.Rows;
                    dense = w.Shrunk.Weights.ToArray();
                    break;
            }
            var (expected, abs) = MatMulReference.Compute(dense, outRows, cols, w.X, batch);
            Array.Fill(w.Y, float.NaN);
            w.Run(f);
            MatMulReference.AssertClose(expected, abs, w.Y.AsSpan(0, outRows * batch), cols, w.Name(f));
            float[] single = w.Y[..(outRows * batch)];
            w.RunParallel(f, 2);
            Assert.Equal(single, w.Y[..(outRows * batch)]);
            Assert.True(w.MedianMilliseconds(f, rounds: 1, roundMilliseconds: 0.1) > 0);
            double actual = w.ActualSparsity(f);
            Assert.True(f == MatMulFormat.Dense ? actual == 0 : Math.Abs(actual - sparsity) < 0.2, $"{w.Name(f)} sparsity {actual}");
        }
        Assert.Equal($"nm:{MatMulWorkload.NmFor(sparsity).N}:{MatMulWorkload.NmFor(sparsity).M}", w.Name(MatMulFormat.Nm));
    }

    [Theory]
    [InlineData(0.5, 2, 4)]
    [InlineData(0.7, 1, 4)]
    [InlineData(0.8, 1, 4)]
    [InlineData(0.9, 1, 8)]
    [InlineData(0.95, 1, 16)]
    [InlineData(0.98, 1, 64)]
    public void NmFor_PicksTheNearestPattern(double sparsity, int n, int m) =>
        Assert.Equal((n, m), MatMulWorkload.NmFor(sparsity));
}
