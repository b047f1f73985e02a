namespace Span.Prune.Tests.Statistics;

public class FisherAccumulatorTests
{
    // Reference: the definition F_i = (1/n)·Σ_b g_{b,i}², summed in double in batch order, divided in double,
    // rounded once. The product of two widened floats is exact and the kernel vectorises across elements only,
    // so it performs exactly these double operations: the comparison is bit-exact, not a tolerance.
    private static float[] ReferenceMean(List<float[]> batches, int length)
    {
        var sums = new double[length];
        foreach (float[] g in batches)
            for (int i = 0; i < length; i++) sums[i] += (double)g[i] * g[i];
        var mean = new float[length];
        for (int i = 0; i < length; i++) mean[i] = (float)(sums[i] / batches.Count);
        return mean;
    }

    private static List<float[]> Batches(int length, int count, int seed)
    {
        var batches = new List<float[]>();
        for (int b = 0; b < count; b++)
        {
            // Mixed scales so that sums cover a wide dynamic range; subnormal-sized gradients included.
            float scale = (b % 4) switch { 0 => 1f, 1 => 1e-3f, 2 => 50f, _ => 1e-20f };
            batches.Add(TestData.Normal(length, seed + b, scale));
        }
        return batches;
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void CopyMeanTo_MatchesDoubleReferenceBitExactly(int length)
    {
        List<float[]> batches = Batches(length, 5, seed: length);
        var acc = new FisherAccumulator(length);
        foreach (float[] g in batches) acc.Add(g);

        float[] destination = TestData.NaNs(length + 5);
        acc.CopyMeanTo(destination);

        Assert.Equal(5, acc.Count);
        Assert.Equal(length, acc.Length);
        StatisticsAssert.BitEqual(ReferenceMean(batches, length), destination.AsSpan(0, length));
        StatisticsAssert.AllNaN(destination.AsSpan(length));
    }

    [Fact]
    public void TenThousandBatches_MatchReferenceAndTrueMean()
    {
        // 37 = 2·16 + 4 + 1: the 512-bit loop, the 128-bit step and the scalar tail (256-bit too when AVX-512 is off).
        const int Length = 37, Count = 10_000;
        var rng = new Random(7);
        var acc = new FisherAccumulator(Length);
        var naive = new double[Length];
        var compensated = new double[Length];
        var compensation = new double[Length];
        var g = new float[Length];
        for (int b = 0; b < Count; b++)
        {
            float scale = (float)Math.Pow(10, rng.NextDouble() * 6 - 3); // 1e-3 … 1e3: six decades of g, twelve of g²
            for (int i = 0; i < Length; i++) g[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
            acc.Add(g);
            for (int i = 0; i < Length; i++)
            {
                double x = (double)g[i] * g[i];
                naive[i] += x;
                // Neumaier summation: error O(2⁻⁵³) independent of the batch count — the "true" sum.
                double t = compensated[i] + x;
                compensation[i] += Math.Abs(compensated[i]) >= Math.Abs(x) ? (compensated[i] - t) + x : (x - t) + compensated[i];
                compensated[i] = t;
            }
        }

        float[] mean = TestData.NaNs(Length);
        acc.CopyMeanTo(mean);
        for (int i = 0; i < Length; i++)
        {
            // Same double operations as the kernel: exact.
            Assert.Equal((float)(naive[i] / Count), mean[i]);
            // Against the true mean: rounding to float costs at most half an ulp (2⁻²⁴ relative); the double
            // running sum adds at most Count·2⁻⁵³ ≈ 1.1e-12 relative. 2⁻²³ bounds both with room to spare, and a
            // float running sum (error up to ~Count·2⁻²⁴ ≈ 6e-4) could not meet it reliably.
            double truth = (compensated[i] + compensation[i]) / Count;
            Assert.True(Math.Abs(mean[i] - truth) <= Math.ScaleB(truth, -23), $"Element {i}: {mean[i]:R} vs true {truth:R}.");
        }
    }

    [Fact]
    public void DoubleSums_DoNotStagnateWhereFloatSumsWould()
    {
        // First batch g = 4096 (g² = 2²⁴), then 9,999 batches of g = 1. A float running sum is stuck at 2²⁴
        // (2²⁴ + 1 rounds back to 2²⁴); the exact sum is 2²⁴ + 9,999.
        const int Length = 19, Count = 10_000;
        var acc = new FisherAccumulator(Length);
        float floatSum = 0;
        for (int b = 0; b < Count; b++)
        {
            float value = b == 0 ? 4096f : 1f;
            var g = new float[Length];
            Array.Fill(g, value);
            acc.Add(g);
            floatSum += value * value;
        }
        float[] mean = TestData.NaNs(Length);
        acc.CopyMeanTo(mean);

        float exact = (float)((16_777_216.0 + 9_999.0) / Count);
        Assert.NotEqual(exact, floatSum / Count); // the float accumulator this design avoids is visibly wrong
        Assert.All(mean, m => Assert.Equal(exact, m));
    }

    [Fact]
    public void HugeGradients_GiveInfinityNotAClampedValue()
    {
        // g = float.MaxValue: g² = 1.16e77 is held exactly in double; the mean exceeds float range and rounds to +Inf (documented).
        var acc = new FisherAccumulator(3);
        acc.Add([float.MaxValue, -1e19f, 2f]);
        float[] mean = TestData.NaNs(3);
        acc.CopyMeanTo(mean);
        Assert.Equal(float.PositiveInfinity, mean[0]);
        Assert.Equal((float)(1e19 * 1e19), mean[1]);
        Assert.Equal(4f, mean[2]);
    }

    [Fact]
    public void Reset_StartsOver()
    {
        const int Length = 100;
        var acc = new FisherAccumulator(Length);
        foreach (float[] g in Batches(Length, 3, seed: 1)) acc.Add(g);
        acc.Reset();
        Assert.Equal(0, acc.Count);
        Assert.Throws<InvalidOperationException>(() => acc.CopyMeanTo(new float[Length]));

        List<float[]> fresh = Batches(Length, 4, seed: 2);
        foreach (float[] g in fresh) acc.Add(g);
        float[] mean = TestData.NaNs(Length);
        acc.CopyMeanTo(mean);
        StatisticsAssert.BitEqual(ReferenceMean(fresh, Length), mean);
    }

    [Fact]
    public void Constructor_RejectsNegativeLength() =>
        Assert.Equal("length", Assert.Throws<ArgumentOutOfRangeException>(() => new FisherAccumulator(-1)).ParamName);

    [Theory]
    [InlineData(36)]
    [InlineData(38)]
    [InlineData(0)]
    public void Add_RejectsWrongLength(int length)
    {
        var acc = new FisherAccumulator(37);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => acc.Add(new float[length])).ParamName);
        Assert.Equal(0, acc.Count);
    }

    public static IEnumerable<object[]> NonFiniteCases()
    {
        foreach (int length in new[] { 1, 37, 100 })
            foreach (int position in new[] { 0, 15, 16, 31, 35, 99 })
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                    if (position < length) yield return [length, position, bad];
    }

    [Theory]
    [MemberData(nameof(NonFiniteCases))]
    public void Add_RejectsNonFiniteAndLeavesStateUnchanged(int length, int position, float bad)
    {
        var acc = new FisherAccumulator(length);
        List<float[]> good = Batches(length, 2, seed: 3);
        foreach (float[] g in good) acc.Add(g);

        float[] poisoned = TestData.Normal(length, 4);
        poisoned[position] = bad;
        var ex = Assert.Throws<ArgumentException>(() => acc.Add(poisoned));
        Assert.Equal("gradients", ex.ParamName);
        Assert.Contains($"Element {position}", ex.Message, StringComparison.Ordinal);

        Assert.Equal(2, acc.Count);
        float[] mean = TestData.NaNs(length);
        acc.CopyMeanTo(mean);
        StatisticsAssert.BitEqual(ReferenceMean(good, length), mean);
    }

    [Fact]
    public void CopyMeanTo_RejectsShortDestinationAndEmptyState()
    {
        var acc = new FisherAccumulator(10);
        float[] destination = TestData.NaNs(10);
        Assert.Throws<InvalidOperationException>(() => acc.CopyMeanTo(destination));
        StatisticsAssert.AllNaN(destination);

        acc.Add(TestData.Normal(10, 1));
        float[] shortDestination = TestData.NaNs(9);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyMeanTo(shortDestination)).ParamName);
        StatisticsAssert.AllNaN(shortDestination);
    }

    [Fact]
    public void SteadyState_DoesNotAllocate()
    {
        const int Length = 1000;
        var acc = new FisherAccumulator(Length);
        float[] g = TestData.Normal(Length, 1);
        float[] mean = new float[Length];
        StatisticsAssert.NoAllocations(() => acc.Add(g));
        StatisticsAssert.NoAllocations(() => acc.CopyMeanTo(mean));
        StatisticsAssert.NoAllocations(acc.Reset);
    }
}
