using Span.Prune.Lab.Bench;
using Span.Prune.Sparse;
using Span.Prune.Tests.Sparse;

namespace Span.Prune.Tests.Lab.Bench;

/// <summary>
/// The report's matmul workload (Lab's <see cref="MatMulWorkload"/>): each format multiplies correctly, the layouts
/// name the report's rows, unbuildable formats are refused, and the random draws are the public generator's stream.
/// </summary>
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
        foreach (SparseFormat f in Enum.GetValues<SparseFormat>())
        {
            Assert.True(w.Has(f), f.ToString());
            float[] dense = new float[rows * cols];
            int outRows = rows;
            switch (f)
            {
                case SparseFormat.Dense: w.Dense.CopyTo(dense, 0); break;
                case SparseFormat.Csr: w.Csr.ToDense(dense); break;
                case SparseFormat.Csr16: w.Csr.ToDense(dense); break; // the layer holds the same entries as CSR
                case SparseFormat.Bsr: w.Bsr!.ToDense(dense); break;
                case SparseFormat.NM: w.Nm!.ToDense(dense); break;
                case SparseFormat.Shrunk:
                    outRows = w.Shrunk.Rows;
                    dense = w.Shrunk.Weights.ToArray();
                    break;
            }
            var (expected, abs) = MatMulReference.Compute(dense, outRows, cols, w.X, batch);
            Array.Fill(w.Y, float.NaN);
            w.Run(f);
            MatMulReference.AssertClose(expected, abs, w.Y.AsSpan(0, outRows * batch), cols, w.Layout(f).ToString());
            float[] single = w.Y[..(outRows * batch)];
            w.RunParallel(f, 2);
            Assert.Equal(single, w.Y[..(outRows * batch)]);
            Assert.True(w.MedianMilliseconds(f, rounds: 1, roundMilliseconds: 0.1) > 0);
            double actual = w.ActualSparsity(f);
            Assert.True(f == SparseFormat.Dense ? actual == 0 : Math.Abs(actual - sparsity) < 0.2, $"{w.Layout(f).ToString()} sparsity {actual}");
        }
        Assert.Equal($"nm:{MatMulWorkload.NmFor(sparsity).N}:{MatMulWorkload.NmFor(sparsity).M}", w.Layout(SparseFormat.NM).ToString());
        Assert.Equal("bsr:4x4", w.Layout(SparseFormat.Bsr).ToString());
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

    /// <summary>A format the shape cannot hold is not built, says so, and refuses to run instead of failing inside a kernel.</summary>
    [Fact]
    public void Create_AShapeAFormatCannotHold_LeavesItUnbuilt()
    {
        var w = MatMulWorkload.Create(6, 10, 1, 0.9, blockRows: 4, blockColumns: 4, includeDense: false);
        Assert.False(w.Has(SparseFormat.Dense));
        Assert.False(w.Has(SparseFormat.Bsr));
        Assert.False(w.Has(SparseFormat.NM)); // 1:8 needs the columns to be a multiple of 8
        Assert.True(w.Has(SparseFormat.Csr) && w.Has(SparseFormat.Csr16) && w.Has(SparseFormat.Shrunk));
        Assert.True(double.IsNaN(w.ActualSparsity(SparseFormat.Bsr)));
        Assert.Throws<InvalidOperationException>(() => w.Run(SparseFormat.Bsr));
        Assert.Throws<InvalidOperationException>(() => w.Run(SparseFormat.Dense));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMulWorkload.Create(8, 8, 1, 0.5, blockRows: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMulWorkload.Create(8, 8, 1, 1.0));
    }

    /// <summary>The workloads' draws are the one stream <see cref="Span.Prune.Scoring.Random"/> gives for the seed, read in order
    /// across the chunk refills (the chunk seeds rely on its documented counter form).</summary>
    [Theory]
    [InlineData(0UL)]
    [InlineData(7UL)]
    [InlineData(ulong.MaxValue)]
    public void UniformStream_IsScoringRandomReadInOrder(ulong seed)
    {
        const int length = 3 * 4096 + 123;
        float[] expected = new float[length];
        Span.Prune.Scoring.Random(expected, seed);
        var stream = new UniformStream(seed);
        for (int i = 0; i < length; i++)
            Assert.True(expected[i] == stream.Next(), $"draw {i}");
    }

    /// <summary>The weights are standard normal: mean ≈ 0, variance ≈ 1 (2¹⁶ draws: standard errors 0.004 and 0.006; the bounds are 5σ).</summary>
    [Fact]
    public void UniformStream_Normal_HasUnitVariance()
    {
        var stream = new UniformStream(11);
        double sum = 0, squares = 0;
        const int n = 1 << 16;
        for (int i = 0; i < n; i++)
        {
            double z = stream.Normal();
            Assert.True(double.IsFinite(z) && Math.Abs(z) < 6, $"draw {i}: {z}");
            sum += z;
            squares += z * z;
        }
        Assert.InRange(sum / n, -0.02, 0.02);
        Assert.InRange(squares / n, 0.97, 1.03);
    }
}
