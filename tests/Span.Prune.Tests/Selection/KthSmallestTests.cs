using Span.Prune.SelectionKernels;
using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class KthSmallestTests
{
    public static IEnumerable<object[]> SmallLengths()
    {
        for (int n = 1; n <= 257; n++) yield return [n];
    }

    [Theory]
    [MemberData(nameof(SmallLengths))]
    public void EveryRank_EveryVariant_MatchesSort(int n)
    {
        float[] values = TestData.Normal(n, seed: n);
        float[] sorted = (float[])values.Clone();
        Array.Sort(sorted);
        var scratch = TestData.NaNs(n);
        foreach (var (path, partition) in SelectionReference.Variants())
        {
            for (int k = 0; k < n; k++)
            {
                float got = SelectionReference.With(path, partition, () => Sel.KthSmallest(values, k, scratch));
                Assert.True(got == sorted[k], $"{path}/{partition} n={n} k={k}: {got} != {sorted[k]}");
            }
        }
        // Auto path, both overloads.
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(sorted[k], Sel.KthSmallest(values, k, scratch));
            Assert.Equal(sorted[k], Sel.KthSmallest(values, k));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(4099)]
    public void Adversarial_EveryVariant_MatchesSort(int n)
    {
        var rng = new Random(n);
        var scratch = new float[n];
        foreach (var (name, values) in SelectionReference.Adversarial(n, n))
        {
            float[] sorted = (float[])values.Clone();
            Array.Sort(sorted);
            int[] ranks = n <= 65 ? Enumerable.Range(0, n).ToArray() : [0, 1, n / 2, n - 2, n - 1, rng.Next(n), rng.Next(n)];
            foreach (var (path, partition) in SelectionReference.Variants())
            {
                foreach (int k in ranks)
                {
                    float got = SelectionReference.With(path, partition, () => Sel.KthSmallest(values, k, scratch));
                    Assert.True(got == sorted[k], $"{name} {path}/{partition} n={n} k={k}: {got} != {sorted[k]}");
                }
            }
        }
    }

    // Around the large-input threshold, at powers of two, and large enough for the sample window and the radix bins.
    [Theory]
    [InlineData(SelectionCore.LargeThreshold - 1)]
    [InlineData(SelectionCore.LargeThreshold)]
    [InlineData(SelectionCore.LargeThreshold + 1)]
    [InlineData(65_537)]
    [InlineData(1 << 20)]
    [InlineData((1 << 20) + 13)]
    public void Large_RandomRanks_MatchSort(int n)
    {
        var rng = new Random(n);
        foreach (float[] values in new[] { TestData.Uniform(n, n), TestData.Normal(n, n + 1, 0.02f) })
        {
            float[] sorted = (float[])values.Clone();
            Array.Sort(sorted);
            var scratch = new float[n];
            int[] ranks = [0, n - 1, n / 2, (int)(0.9 * n), rng.Next(n), rng.Next(n)];
            foreach (int k in ranks)
            {
                Assert.Equal(sorted[k], Sel.KthSmallest(values, k, scratch));
                Assert.Equal(sorted[k], Sel.KthSmallest(values, k));
                foreach (var path in new[] { SelectionPath.Introselect, SelectionPath.Radix, SelectionPath.SampleWindow })
                {
                    Assert.Equal(sorted[k], SelectionReference.With(path, PartitionVariant.Auto, () => Sel.KthSmallest(values, k, scratch)));
                    Assert.Equal(sorted[k], SelectionReference.With(path, PartitionVariant.Auto, () => Sel.KthSmallest(values, k)));
                }
            }
        }
    }

    [Fact]
    public void Large_Adversarial_MatchSort()
    {
        const int n = 1 << 18;
        var scratch = new float[n];
        foreach (var (name, values) in SelectionReference.Adversarial(n, 3))
        {
            float[] sorted = (float[])values.Clone();
            Array.Sort(sorted);
            foreach (int k in new[] { 0, n / 3, n / 2, n - 1 })
            {
                foreach (var path in new[] { SelectionPath.Auto, SelectionPath.Introselect, SelectionPath.Radix })
                {
                    float got = SelectionReference.With(path, PartitionVariant.Auto, () => Sel.KthSmallest(values, k, scratch));
                    Assert.True(got == sorted[k], $"{name} {path} k={k}: {got} != {sorted[k]}");
                }
            }
        }
    }

    [Fact]
    public void MedianOf3Killer_Million_IsCorrect()
    {
        float[] values = SelectionReference.MedianOf3Killer(1 << 20);
        float[] sorted = (float[])values.Clone();
        Array.Sort(sorted);
        var scratch = new float[values.Length];
        foreach (var partition in new[] { PartitionVariant.Scalar, PartitionVariant.Shuffle, PartitionVariant.Permute, PartitionVariant.Compress })
        {
            foreach (int k in new[] { values.Length / 2, values.Length / 2 - 1, 12345 })
            {
                Assert.Equal(sorted[k], SelectionReference.With(SelectionPath.Introselect, partition, () => Sel.KthSmallest(values, k, scratch)));
            }
        }
    }

    [Fact]
    public void WorstCasePivots_FallBackToMedianOfMedians_AndStayLinear()
    {
        // With every sampled pivot at the range minimum (what a killer input does to median-of-3), plain quickselect
        // partitions ~n²/2 values. The fallback must cut that to a small multiple of n: work is counted, not timed.
        const int n = 1 << 20;
        float[] values = TestData.Uniform(n, 21);
        float[] sorted = (float[])values.Clone();
        Array.Sort(sorted);
        var scratch = new float[n];
        Introselect.t_worstPivots = true;
        try
        {
            foreach (int k in new[] { n / 2, n - 1, 1000 })
            {
                int pivots = Introselect.t_medianOfMediansPivots;
                long work = Introselect.t_partitionedValues;
                Assert.Equal(sorted[k], SelectionReference.With(SelectionPath.Introselect, PartitionVariant.Auto, () => Sel.KthSmallest(values, k, scratch)));
                Assert.True(Introselect.t_medianOfMediansPivots > pivots, "no median-of-medians fallback");
                long partitioned = Introselect.t_partitionedValues - work;
                Assert.True(partitioned < 20L * n, $"partitioned {partitioned} values for n = {n}");
            }
        }
        finally
        {
            Introselect.t_worstPivots = false;
        }
    }

    [Fact]
    public void MedianOfMedians_ForcedFromFirstStep_IsCorrect()
    {
        // Depth budget 0: every pivot is a median of medians, the guaranteed-linear fallback.
        var rng = new Random(9);
        Introselect.t_depthBudget = 0;
        try
        {
            foreach (int n in new[] { 17, 100, 257, 5000, 100_003 })
            {
                foreach (var (name, values) in SelectionReference.Adversarial(n, n))
                {
                    float[] sorted = (float[])values.Clone();
                    Array.Sort(sorted);
                    var scratch = new float[n];
                    int before = Introselect.t_medianOfMediansPivots;
                    foreach (int k in new[] { 0, n / 2, n - 1, rng.Next(n) })
                    {
                        float got = SelectionReference.With(SelectionPath.Introselect, PartitionVariant.Auto, () => Sel.KthSmallest(values, k, scratch));
                        Assert.True(got == sorted[k], $"{name} n={n} k={k}");
                    }
                    Assert.True(Introselect.t_medianOfMediansPivots > before, "the fallback was not used");
                }
            }
        }
        finally
        {
            Introselect.t_depthBudget = null;
        }
    }

    [Fact]
    public void SampleMiss_FallsBackToRadix_AndIsCorrect()
    {
        // Find which positions the stratified sample reads, then give exactly those a large value, so the predicted
        // window lies far above the true median and the pass must miss.
        const int n = 1 << 17;
        var positions = new float[n];
        for (int i = 0; i < n; i++) positions[i] = i;
        var sample = new float[SampleWindow.SampleSize(n)];
        SampleWindow.Draw<SignedKey>(ref positions[0], n, sample);
        float[] values = TestData.Uniform(n, 4);
        foreach (float p in sample) values[(int)p] = 1000f + p;

        float[] sorted = (float[])values.Clone();
        Array.Sort(sorted);
        int misses = SelectionCore.t_sampleMisses;
        Assert.Equal(sorted[n / 2], Sel.KthSmallest(values, n / 2, new float[n]));
        Assert.Equal(sorted[n / 2], Sel.KthSmallest(values, n / 2));
        Assert.Equal(misses + 2, SelectionCore.t_sampleMisses);
    }

    [Fact]
    public void SignedZeros_CompareEqual_ResultIsPositiveZero()
    {
        // −0 and +0 are equal (IEEE ==): any rank that lands on zero returns +0.
        float[] values = [-0f, 1f, 0f, -1f, -0f];
        foreach (var (path, partition) in SelectionReference.Variants())
        {
            for (int k = 1; k <= 3; k++)
            {
                float got = SelectionReference.With(path, partition, () => Sel.KthSmallest(values, k));
                Assert.Equal(0f, got);
                Assert.False(float.IsNegative(got));
            }
        }
    }

    [Fact]
    public void Input_IsNotModified()
    {
        foreach (int n in new[] { 100, 1 << 16 })
        {
            float[] values = TestData.Uniform(n, 1);
            float[] copy = (float[])values.Clone();
            Sel.KthSmallest(values, n / 2, new float[n]);
            Sel.KthSmallest(values, n / 3);
            Assert.Equal(copy, values);
        }
    }

    [Fact]
    public void BadArguments_Throw()
    {
        float[] values = [1f, 2f, 3f];
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => Sel.KthSmallest([], 0)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.KthSmallest(values, 3)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.KthSmallest(values, -1)).ParamName);
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sel.KthSmallest(values, 0, new float[2])).ParamName);
        var shared = new float[6];
        Assert.Equal("scratch", Assert.Throws<ArgumentException>(() => Sel.KthSmallest(shared.AsSpan(0, 3), 0, shared.AsSpan(2, 3))).ParamName);
        Assert.Equal("unitCount", Assert.Throws<ArgumentOutOfRangeException>(() => Sel.ScratchLength(-1)).ParamName);
        Assert.Equal(7, Sel.ScratchLength(7));
    }

    // Bad values as bit patterns (NaN and −NaN would otherwise print alike): NaN, −NaN, +∞, −∞, a NaN with payload.
    public static IEnumerable<object[]> NonFiniteCases()
    {
        foreach (int n in new[] { 1, 7, 64, 257, 40_000, 1 << 17 })
            foreach (uint bad in new[] { 0x7FC00000u, 0xFFC00000u, 0x7F800000u, 0xFF800000u, 0x7F800001u })
                foreach (int at in new[] { 0, n / 2, n - 1 }.Distinct())
                    yield return [n, bad, at];
    }

    [Theory]
    [MemberData(nameof(NonFiniteCases))]
    public void NonFinite_Throws_NamingFirstIndex(int n, uint bad, int at)
    {
        float[] values = TestData.Uniform(n, 2);
        values[at] = BitConverter.UInt32BitsToSingle(bad);
        if (at + 1 < n) values[n - 1] = float.NaN; // a later bad value must not be the one reported
        foreach (var path in new[] { SelectionPath.Auto, SelectionPath.Introselect, SelectionPath.Radix, SelectionPath.SampleWindow })
        {
            var ex = Assert.Throws<ArgumentException>(() => SelectionReference.With(path, PartitionVariant.Auto, () => Sel.KthSmallest(values, n / 2, new float[n])));
            Assert.Equal("values", ex.ParamName);
            Assert.Contains($"Element {at} ", ex.Message, StringComparison.Ordinal);
            Assert.Equal("values", Assert.Throws<ArgumentException>(() => SelectionReference.With(path, PartitionVariant.Auto, () => Sel.KthSmallest(values, 0))).ParamName);
        }
    }
}
