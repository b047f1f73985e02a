namespace Span.Prune.Tests.Statistics;

public class TaylorAccumulatorTests
{
    // Reference: both sums in double in batch order; (double)w·(double)g is exact, so the kernel (vectorised
    // across elements only) performs the same double operations and must agree bit for bit.
    private sealed record Reference(float[] MeanAbsolute, float[] AbsoluteMean, float[] SignedMean);

    private static Reference Compute(List<(float[] W, float[] G)> batches, int length)
    {
        var signed = new double[length];
        var absolute = new double[length];
        foreach ((float[] w, float[] g) in batches)
        {
            for (int i = 0; i < length; i++)
            {
                double p = (double)w[i] * g[i];
                signed[i] += p;
                absolute[i] += Math.Abs(p);
            }
        }
        int n = batches.Count;
        var r = new Reference(new float[length], new float[length], new float[length]);
        for (int i = 0; i < length; i++)
        {
            r.MeanAbsolute[i] = (float)(absolute[i] / n);
            r.AbsoluteMean[i] = (float)Math.Abs(signed[i] / n);
            r.SignedMean[i] = (float)(signed[i] / n);
        }
        return r;
    }

    private static List<(float[] W, float[] G)> Batches(int length, int count, int seed)
    {
        var batches = new List<(float[], float[])>();
        float[] w = TestData.Normal(length, seed, 0.1f);
        for (int b = 0; b < count; b++)
        {
            // Weights drift a little between steps, as during fine-tuning; gradients change sign between batches.
            float[] step = TestData.Normal(length, seed + 100 + b, 1e-3f);
            var wb = new float[length];
            for (int i = 0; i < length; i++) wb[i] = w[i] + step[i];
            batches.Add((wb, TestData.Normal(length, seed + 200 + b, b % 2 == 0 ? 1f : 1e-2f)));
        }
        return batches;
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void AllReadouts_MatchDoubleReferenceBitExactly(int length)
    {
        List<(float[] W, float[] G)> batches = Batches(length, 4, seed: length);
        var acc = new TaylorAccumulator(length);
        foreach ((float[] w, float[] g) in batches) acc.Add(w, g);
        Reference expected = Compute(batches, length);
        Assert.Equal(4, acc.Count);
        Assert.Equal(length, acc.Length);

        float[] destination = TestData.NaNs(length + 3);
        acc.CopyMeanAbsoluteTo(destination);
        StatisticsAssert.BitEqual(expected.MeanAbsolute, destination.AsSpan(0, length));
        StatisticsAssert.AllNaN(destination.AsSpan(length));

        destination = TestData.NaNs(length + 3);
        acc.CopyAbsoluteMeanTo(destination);
        StatisticsAssert.BitEqual(expected.AbsoluteMean, destination.AsSpan(0, length));
        StatisticsAssert.AllNaN(destination.AsSpan(length));

        destination = TestData.NaNs(length + 3);
        acc.CopySignedMeanTo(destination);
        StatisticsAssert.BitEqual(expected.SignedMean, destination.AsSpan(0, length));
        StatisticsAssert.AllNaN(destination.AsSpan(length));
    }

    [Fact]
    public void OpposingBatches_CancelOnlyInTheAbsoluteMean()
    {
        // Element 0: g·w = +2 then −2 → |mean| = 0, mean |·| = 2. Element 1: +2 then +4 → both 3.
        // Element 2: 0.5·(−3) = −1.5 twice → |mean| = 1.5, signed mean −1.5.
        var acc = new TaylorAccumulator(3);
        acc.Add([1f, 1f, 0.5f], [2f, 2f, -3f]);
        acc.Add([1f, 2f, 0.5f], [-2f, 2f, -3f]);
        float[] d = new float[3];
        acc.CopyAbsoluteMeanTo(d);
        Assert.Equal([0f, 3f, 1.5f], d);
        acc.CopyMeanAbsoluteTo(d);
        Assert.Equal([2f, 3f, 1.5f], d);
        acc.CopySignedMeanTo(d);
        Assert.Equal([0f, 3f, -1.5f], d);
    }

    [Fact]
    public void Reset_StartsOver()
    {
        const int Length = 70;
        var acc = new TaylorAccumulator(Length);
        foreach ((float[] w, float[] g) in Batches(Length, 3, seed: 1)) acc.Add(w, g);
        acc.Reset();
        Assert.Equal(0, acc.Count);
        Assert.Throws<InvalidOperationException>(() => acc.CopyMeanAbsoluteTo(new float[Length]));

        List<(float[] W, float[] G)> fresh = Batches(Length, 2, seed: 9);
        foreach ((float[] w, float[] g) in fresh) acc.Add(w, g);
        float[] d = TestData.NaNs(Length);
        acc.CopyAbsoluteMeanTo(d);
        StatisticsAssert.BitEqual(Compute(fresh, Length).AbsoluteMean, d);
    }

    [Fact]
    public void Constructor_RejectsNegativeLength() =>
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => new TaylorAccumulator(-5)).ParamName);

    [Fact]
    public void Add_RejectsWrongLengths_WeightsFirst()
    {
        var acc = new TaylorAccumulator(20);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => acc.Add(new float[19], new float[20])).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => acc.Add(new float[20], new float[21])).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => acc.Add(new float[21], new float[21])).ParamName);
        Assert.Equal(0, acc.Count);
    }

    public static IEnumerable<object[]> NonFiniteCases()
    {
        foreach (bool inWeights in new[] { true, false })
            foreach (int position in new[] { 0, 16, 40, 52 })
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                    yield return [inWeights, position, bad];
    }

    [Theory]
    [MemberData(nameof(NonFiniteCases))]
    public void Add_RejectsNonFiniteAndLeavesStateUnchanged(bool inWeights, int position, float bad)
    {
        const int Length = 53;
        var acc = new TaylorAccumulator(Length);
        List<(float[] W, float[] G)> good = Batches(Length, 2, seed: 5);
        foreach ((float[] w, float[] g) in good) acc.Add(w, g);

        float[] weights = TestData.Normal(Length, 1), gradients = TestData.Normal(Length, 2);
        (inWeights ? weights : gradients)[position] = bad;
        var ex = Assert.Throws<ArgumentException>(() => acc.Add(weights, gradients));
        Assert.Equal(inWeights ? "weights" : "gradients", ex.ParamName);
        Assert.Contains($"Element {position}", ex.Message, StringComparison.Ordinal);

        Assert.Equal(2, acc.Count);
        Reference expected = Compute(good, Length);
        float[] d = TestData.NaNs(Length);
        acc.CopyMeanAbsoluteTo(d);
        StatisticsAssert.BitEqual(expected.MeanAbsolute, d);
        acc.CopySignedMeanTo(d);
        StatisticsAssert.BitEqual(expected.SignedMean, d);
    }

    [Fact]
    public void Copies_RejectShortDestinationAndEmptyState()
    {
        var acc = new TaylorAccumulator(8);
        float[] d = TestData.NaNs(8);
        Assert.Throws<InvalidOperationException>(() => acc.CopyMeanAbsoluteTo(d));
        Assert.Throws<InvalidOperationException>(() => acc.CopyAbsoluteMeanTo(d));
        Assert.Throws<InvalidOperationException>(() => acc.CopySignedMeanTo(d));
        StatisticsAssert.AllNaN(d);

        acc.Add(TestData.Normal(8, 1), TestData.Normal(8, 2));
        float[] shortD = TestData.NaNs(7);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyMeanAbsoluteTo(shortD)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyAbsoluteMeanTo(shortD)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopySignedMeanTo(shortD)).ParamName);
        StatisticsAssert.AllNaN(shortD);
    }

    [Fact]
    public void SteadyState_DoesNotAllocate()
    {
        const int Length = 1000;
        var acc = new TaylorAccumulator(Length);
        float[] w = TestData.Normal(Length, 1), g = TestData.Normal(Length, 2), d = new float[Length];
        StatisticsAssert.NoAllocations(() => acc.Add(w, g));
        StatisticsAssert.NoAllocations(() => acc.CopyMeanAbsoluteTo(d));
        StatisticsAssert.NoAllocations(() => acc.CopyAbsoluteMeanTo(d));
        StatisticsAssert.NoAllocations(() => acc.CopySignedMeanTo(d));
        StatisticsAssert.NoAllocations(acc.Reset);
    }
}
