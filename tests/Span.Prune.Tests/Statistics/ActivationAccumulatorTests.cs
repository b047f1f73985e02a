namespace Span.Prune.Tests.Statistics;

public class ActivationAccumulatorTests
{
    // ---- Naive references -------------------------------------------------------------------------------

    /// <summary>Per-channel state as the definitions give it: exact zero counts, and double sums.</summary>
    private sealed class Reference(int channels, float threshold)
    {
        public readonly long[] Zeros = new long[channels];
        public readonly double[] ExactOrderSums = new double[channels]; // the order the library documents (bit-exact)
        public readonly double[] NaiveSums = new double[channels];      // plain sequential sums (tolerance)
        public readonly double[] AbsSums = new double[channels];
        // Sums of squares in the documented order: each plane's virtual-lane sum of squares (NCHW) or each value's
        // square (NC, NHWC) added to the running sum in turn, across batches.
        public readonly double[] ExactOrderSquares = new double[channels];
        public long Values;

        public void AddNCHW(float[] a, int n, int h, int w)
        {
            int plane = h * w;
            var batch = new double[channels];
            for (int b = 0; b < n; b++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int start = (b * channels + c) * plane;
                    batch[c] += VirtualLaneSum(a.AsSpan(start, plane));
                    ExactOrderSquares[c] += VirtualLaneSum([.. a.AsSpan(start, plane).ToArray().Select(v => (double)v * v)]);
                    for (int p = 0; p < plane; p++) Visit(c, a[start + p]);
                }
            }
            Commit(batch, (long)n * plane);
        }

        public void AddNHWC(float[] a, int n, int h, int w)
        {
            var batch = new double[channels];
            for (int r = 0; r < n * h * w; r++)
            {
                for (int c = 0; c < channels; c++)
                {
                    batch[c] += a[r * channels + c];
                    ExactOrderSquares[c] += (double)a[r * channels + c] * a[r * channels + c];
                    Visit(c, a[r * channels + c]);
                }
            }
            Commit(batch, (long)n * h * w);
        }

        private void Visit(int c, float x)
        {
            if (x <= threshold) Zeros[c]++;
            NaiveSums[c] += x;
            AbsSums[c] += Math.Abs(x);
        }

        private void Commit(double[] batch, long values)
        {
            for (int c = 0; c < channels; c++) ExactOrderSums[c] += batch[c];
            Values += values;
        }

        // The documented plane order: lane k sums values at offsets ≡ k (mod 16) in order, then the fixed tree.
        private static double VirtualLaneSum(ReadOnlySpan<float> x) => VirtualLaneSum([.. x.ToArray().Select(v => (double)v)]);

        private static double VirtualLaneSum(double[] x)
        {
            var lanes = new double[16];
            for (int i = 0; i < x.Length; i++) lanes[i % 16] += x[i];
            for (int k = 0; k < 8; k++) lanes[k] += lanes[k + 8];
            for (int k = 0; k < 4; k++) lanes[k] += lanes[k + 4];
            for (int k = 0; k < 2; k++) lanes[k] += lanes[k + 2];
            return lanes[0] + lanes[1];
        }

        public void AssertMatches(ActivationAccumulator acc)
        {
            Assert.Equal(Values, acc.ValuesPerChannel);
            var zeros = new long[channels + 2];
            Array.Fill(zeros, -1L);
            acc.CopyZeroCountsTo(zeros);
            Assert.Equal(Zeros, zeros[..channels]);
            Assert.Equal([-1L, -1L], zeros[channels..]);

            float[] apoz = TestData.NaNs(channels + 2), importance = TestData.NaNs(channels + 2), mean = TestData.NaNs(channels + 2);
            float[] norms = TestData.NaNs(channels + 2);
            acc.CopyNormsTo(norms);
            StatisticsAssert.AllNaN(norms.AsSpan(channels));
            for (int c = 0; c < channels; c++) Assert.Equal((float)Math.Sqrt(ExactOrderSquares[c]), norms[c]);
            acc.CopyApozTo(apoz);
            acc.CopyImportanceTo(importance);
            acc.CopyMeanTo(mean);
            StatisticsAssert.AllNaN(apoz.AsSpan(channels));
            StatisticsAssert.AllNaN(importance.AsSpan(channels));
            StatisticsAssert.AllNaN(mean.AsSpan(channels));
            for (int c = 0; c < channels; c++)
            {
                // Counts are integers, so APoZ and importance are exact ratios rounded once.
                Assert.Equal((float)((double)Zeros[c] / Values), apoz[c]);
                Assert.Equal((float)((double)(Values - Zeros[c]) / Values), importance[c]);
                // The documented summation order is reproduced exactly, on every vector width.
                Assert.Equal((float)(ExactOrderSums[c] / Values), mean[c]);
                // Against the plain sequential mean: the final rounding to float costs half an ulp (≤ 2⁻²⁴·|mean|),
                // and either double summation order is within (values)·2⁻⁵³·Σ|a| of exact; 2⁻²³ and 1e-9 bound these.
                double naive = NaiveSums[c] / Values;
                double tolerance = Math.ScaleB(Math.Abs(naive), -23) + 1e-9 * AbsSums[c] / Values;
                Assert.True(Math.Abs(mean[c] - naive) <= tolerance, $"Channel {c}: mean {mean[c]:R} vs naive {naive:R}.");
            }
        }
    }

    /// <summary>Activations as a ReLU network produces them, plus pre-ReLU negatives: about 30 % exact zeros,
    /// 5 % −0.0, 15 % negatives, 5 % exactly <paramref name="threshold"/>, the rest positive.</summary>
    private static float[] Activations(int length, int seed, float threshold = 0f)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++)
        {
            double u = rng.NextDouble();
            a[i] = u switch
            {
                < 0.30 => 0f,
                < 0.35 => -0f,
                < 0.50 => (float)(-rng.NextDouble() * 2),
                < 0.55 => threshold,
                _ => (float)(rng.NextDouble() * 3),
            };
        }
        return a;
    }

    /// <summary>
    /// Values whose double sum depends on the order of additions: small integers plus a few pairs ±2^k
    /// (k in 52…58, about one pair per 64 values) at distinct random positions. A small value added to a partial
    /// sum near 2^55 is rounded to a multiple of 2^(k−52), and the pairs cancel only where they meet, so a change
    /// of summation order (lane assignment, tree shape, row order) changes the float mean — unlike typical data,
    /// where it only moves bits that the final rounding to float hides. (Simulated: swapping two groups of four
    /// lanes changes about half of all plane sums; reversing a sequential sum changes most.)
    /// </summary>
    private static float[] OrderSensitive(int length, int seed)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++) a[i] = rng.Next(-1, 4);
        // Distinct positions, so every +2^k has its −2^k: the big values total exactly 0, and the mean is a small
        // number made of the small values as rounded by the order in which they met the big ones.
        int[] positions = Enumerable.Range(0, length).OrderBy(_ => rng.Next()).ToArray();
        for (int pair = 0; 2 * pair + 1 < length && pair < length / 64 + 1; pair++)
        {
            float big = MathF.ScaleB(1f, rng.Next(52, 59));
            a[positions[2 * pair]] = big;
            a[positions[2 * pair + 1]] = -big;
        }
        return a;
    }

    /// <summary>NCHW data whose every plane is <see cref="OrderSensitive"/> on its own, so that the big pairs
    /// cancel within each channel's sum and the per-channel mean stays small.</summary>
    private static float[] OrderSensitivePlanes(int n, int c, int plane, int seed)
    {
        var a = new float[n * c * plane];
        for (int p = 0; p < n * c; p++) OrderSensitive(plane, seed * 1000 + p).CopyTo(a, p * plane);
        return a;
    }

    private static float[] NchwToNhwc(float[] a, int n, int c, int h, int w)
    {
        var r = new float[a.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++)
                    r[(b * h * w + p) * c + ch] = a[(b * c + ch) * h * w + p];
        return r;
    }

    // ---- Worked example -----------------------------------------------------------------------------------

    [Fact]
    public void WorkedExample_ApozPicksChannelTwo()
    {
        // NCHW [2, 3, 4, 4]: each channel has 2·16 = 32 values; channels 0, 1, 2 hold 11, 12, 14 zeros.
        const int N = 2, C = 3, H = 4, W = 4, Plane = H * W;
        int[] zerosPerChannel = [11, 12, 14];
        var a = new float[N * C * Plane];
        var rng = new Random(2016);
        for (int c = 0; c < C; c++)
        {
            // Scatter this channel's zeros over its 32 slots (both images) with a shuffled slot order.
            int[] slots = Enumerable.Range(0, N * Plane).OrderBy(_ => rng.Next()).ToArray();
            for (int k = 0; k < N * Plane; k++)
            {
                int b = slots[k] / Plane, p = slots[k] % Plane;
                // Zeros first; the rest are positive multiples of 1/4, so every sum is exact.
                a[(b * C + c) * Plane + p] = k < zerosPerChannel[c] ? 0f : 0.25f * (1 + rng.Next(8));
            }
        }

        var acc = new ActivationAccumulator(C);
        acc.AddNCHW(a, N, H, W);

        float[] apoz = TestData.NaNs(C), importance = TestData.NaNs(C);
        acc.CopyApozTo(apoz);
        acc.CopyImportanceTo(importance);
        Assert.Equal([11f / 32, 12f / 32, 14f / 32], apoz);
        Assert.Equal([0.34375f, 0.375f, 0.4375f], apoz);
        Assert.Equal([1 - 0.34375f, 1 - 0.375f, 1 - 0.4375f], importance);

        // Prune the lowest importance: a plain arg-min over the three scores.
        int pruned = 0;
        for (int c = 1; c < C; c++) if (importance[c] < importance[pruned]) pruned = c;
        Assert.Equal(2, pruned);

        // The same tensor channels-last gives the same counts and (sums being exact here) the same means.
        var nhwc = new ActivationAccumulator(C);
        nhwc.AddNHWC(NchwToNhwc(a, N, C, H, W), N, H, W);
        float[] apoz2 = TestData.NaNs(C), mean = TestData.NaNs(C), mean2 = TestData.NaNs(C);
        nhwc.CopyApozTo(apoz2);
        Assert.Equal(apoz, apoz2);
        acc.CopyMeanTo(mean);
        nhwc.CopyMeanTo(mean2);
        Assert.Equal(mean, mean2);
        for (int c = 0; c < C; c++)
        {
            double sum = 0;
            for (int b = 0; b < N; b++)
                for (int p = 0; p < Plane; p++) sum += a[(b * C + c) * Plane + p];
            Assert.Equal((float)(sum / 32), mean[c]);
        }
    }

    // ---- Kernels against the references ---------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TestData.NonEmptyLengths), MemberType = typeof(TestData))]
    public void AddNCHW_EveryPlaneLength(int planeLength)
    {
        // A 1×W plane of every length: every vector-loop count and every tail of the 16-lane plane reduction.
        const int N = 2, C = 3;
        var acc = new ActivationAccumulator(C);
        var reference = new Reference(C, 0f);
        for (int call = 0; call < 2; call++)
        {
            float[] a = Activations(N * C * planeLength, seed: planeLength * 2 + call);
            acc.AddNCHW(a, N, 1, planeLength);
            reference.AddNCHW(a, N, 1, planeLength);
        }
        Assert.Equal(2, acc.Count);
        reference.AssertMatches(acc);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(1, 5, 3, 3)]
    [InlineData(4, 7, 7, 7)]
    [InlineData(2, 16, 14, 14)]
    [InlineData(3, 6, 28, 28)]
    [InlineData(2, 9, 5, 13)]
    [InlineData(1, 2, 64, 65)]
    public void AddNCHW_ConvShapes(int n, int c, int h, int w)
    {
        var acc = new ActivationAccumulator(c);
        var reference = new Reference(c, 0f);
        float[] a = Activations(n * c * h * w, seed: n * 1000 + c * 100 + h * 10 + w);
        acc.AddNCHW(a, n, h, w);
        reference.AddNCHW(a, n, h, w);
        reference.AssertMatches(acc);
    }

    [Theory]
    [MemberData(nameof(TestData.NonEmptyLengths), MemberType = typeof(TestData))]
    public void AddNHWC_EveryChannelCount(int channels)
    {
        // Vectorised across channels: every channel count exercises every channel tail.
        const int N = 2, H = 2, W = 3;
        var acc = new ActivationAccumulator(channels);
        var reference = new Reference(channels, 0f);
        for (int call = 0; call < 2; call++)
        {
            float[] a = Activations(N * H * W * channels, seed: channels * 2 + call);
            acc.AddNHWC(a, N, H, W);
            reference.AddNHWC(a, N, H, W);
        }
        reference.AssertMatches(acc);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(48)]
    [InlineData(63)]
    [InlineData(100)]
    [InlineData(257)]
    [InlineData(1000)]
    public void AddNCHW_ReproducesTheDocumentedSummationOrder(int planeLength)
    {
        // Bit-exact against the 16-lane order on order-sensitive data; run under DOTNET_EnableAVX512=0 and
        // DOTNET_EnableHWIntrinsic=0 too, this is what shows the mean does not depend on the vector width.
        const int N = 3, C = 5;
        var acc = new ActivationAccumulator(C);
        var reference = new Reference(C, 0f);
        for (int call = 0; call < 2; call++)
        {
            float[] a = OrderSensitivePlanes(N, C, planeLength, seed: planeLength + 31 * call);
            acc.AddNCHW(a, N, 1, planeLength);
            reference.AddNCHW(a, N, 1, planeLength);
        }
        reference.AssertMatches(acc);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(17)]
    [InlineData(37)]
    [InlineData(64)]
    [InlineData(100)]
    public void AddNHWC_ReproducesTheDocumentedSummationOrder(int channels)
    {
        const int N = 3, H = 8, W = 16;
        var acc = new ActivationAccumulator(channels);
        var reference = new Reference(channels, 0f);
        for (int call = 0; call < 2; call++)
        {
            float[] a = NchwToNhwc(OrderSensitivePlanes(N, channels, H * W, seed: channels + 31 * call), N, channels, H, W);
            acc.AddNHWC(a, N, H, W);
            reference.AddNHWC(a, N, H, W);
        }
        reference.AssertMatches(acc);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(64, 10)]
    [InlineData(3, 256)]
    [InlineData(5, 1000)]
    public void AddNC_IsNhwcWithUnitSpatialSize(int batch, int channels)
    {
        var acc = new ActivationAccumulator(channels);
        var reference = new Reference(channels, 0f);
        float[] a = Activations(batch * channels, seed: batch + channels);
        acc.AddNC(a, batch);
        reference.AddNHWC(a, batch, 1, 1);
        reference.AssertMatches(acc);
        Assert.Equal(batch, acc.ValuesPerChannel);
    }

    [Theory]
    [InlineData(0.25f)]
    [InlineData(-0.5f)]
    [InlineData(1e-3f)]
    public void ZeroThreshold_CountsValuesAtOrBelowIt(float threshold)
    {
        const int N = 2, C = 19, H = 5, W = 7;
        float[] a = Activations(N * C * H * W, seed: 11, threshold);
        var nchw = new ActivationAccumulator(C, threshold);
        var nhwc = new ActivationAccumulator(C, threshold);
        Assert.Equal(threshold, nchw.ZeroThreshold);
        var refNchw = new Reference(C, threshold);
        var refNhwc = new Reference(C, threshold);
        nchw.AddNCHW(a, N, H, W);
        refNchw.AddNCHW(a, N, H, W);
        float[] t = NchwToNhwc(a, N, C, H, W);
        nhwc.AddNHWC(t, N, H, W);
        refNhwc.AddNHWC(t, N, H, W);
        refNchw.AssertMatches(nchw);
        refNhwc.AssertMatches(nhwc);
        Assert.Equal(refNchw.Zeros, refNhwc.Zeros);
    }

    [Fact]
    public void DefaultThreshold_CountsNegativeAndNegativeZeroAsZero()
    {
        var acc = new ActivationAccumulator(4);
        // Rows: channel 0 gets −0.0, channel 1 a negative, channel 2 the smallest positive, channel 3 zero.
        acc.AddNC([-0f, -1e-30f, float.Epsilon, 0f], 1);
        var zeros = new long[4];
        acc.CopyZeroCountsTo(zeros);
        Assert.Equal([1L, 1L, 0L, 1L], zeros);
    }

    [Fact]
    public void MixedLayouts_Stream()
    {
        const int C = 21;
        var acc = new ActivationAccumulator(C);
        var reference = new Reference(C, 0f);
        float[] a = Activations(2 * C * 3 * 5, seed: 1);
        float[] b = Activations(3 * C * 4 * 4, seed: 2);
        float[] fc = Activations(7 * C, seed: 3);
        acc.AddNCHW(a, 2, 3, 5);
        reference.AddNCHW(a, 2, 3, 5);
        acc.AddNHWC(b, 3, 4, 4);
        reference.AddNHWC(b, 3, 4, 4);
        acc.AddNC(fc, 7);
        reference.AddNHWC(fc, 7, 1, 1);
        Assert.Equal(3, acc.Count);
        Assert.Equal(2 * 15 + 3 * 16 + 7, acc.ValuesPerChannel);
        reference.AssertMatches(acc);
    }

    [Fact]
    public void Reset_StartsOver()
    {
        const int C = 8;
        var acc = new ActivationAccumulator(C);
        acc.AddNCHW(Activations(C * 9, seed: 1), 1, 3, 3);
        acc.Reset();
        Assert.Equal(0, acc.Count);
        Assert.Equal(0, acc.ValuesPerChannel);
        Assert.Throws<InvalidOperationException>(() => acc.CopyApozTo(new float[C]));
        var zeros = new long[C];
        acc.CopyZeroCountsTo(zeros);
        Assert.All(zeros, z => Assert.Equal(0, z));

        var reference = new Reference(C, 0f);
        float[] a = Activations(2 * C * 4, seed: 2);
        acc.AddNCHW(a, 2, 2, 2);
        reference.AddNCHW(a, 2, 2, 2);
        reference.AssertMatches(acc);
    }

    // ---- Validation -----------------------------------------------------------------------------------------

    [Fact]
    public void Constructor_RejectsBadArguments()
    {
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationAccumulator(0)).ParamName);
        Assert.Equal("channels", Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationAccumulator(-3)).ParamName);
        Assert.Equal("zeroThreshold", Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationAccumulator(2, float.NaN)).ParamName);
        Assert.Equal("zeroThreshold", Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationAccumulator(2, float.PositiveInfinity)).ParamName);
    }

    private static (ActivationAccumulator Acc, Reference Ref) Seeded(int channels)
    {
        var acc = new ActivationAccumulator(channels);
        var reference = new Reference(channels, 0f);
        float[] a = Activations(2 * channels * 9, seed: 5);
        acc.AddNCHW(a, 2, 3, 3);
        reference.AddNCHW(a, 2, 3, 3);
        return (acc, reference);
    }

    [Fact]
    public void Add_RejectsBadShapes_StateUnchanged()
    {
        const int C = 5;
        (ActivationAccumulator acc, Reference reference) = Seeded(C);
        float[] a = new float[2 * C * 3 * 4];

        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNC(a, 0)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNCHW(a, -1, 3, 4)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNCHW(a, 2, 0, 4)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNCHW(a, 2, 3, 0)).ParamName);
        Assert.Equal("batch", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNHWC(a, 0, 3, 4)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNHWC(a, 2, -3, 4)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => acc.AddNHWC(a, 2, 3, -4)).ParamName);

        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNC(a, 23)).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNCHW(a, 2, 4, 4)).ParamName);
        var shapeError = Assert.Throws<ArgumentException>(() => acc.AddNHWC(a, 2, 3, 5));
        Assert.Equal("activations", shapeError.ParamName);
        Assert.Contains("NHWC [2, 3, 5, 5]", shapeError.Message, StringComparison.Ordinal);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNCHW(a.AsSpan(1), 2, 3, 4)).ParamName);
        // A shape whose element count overflows int must not wrap around to a matching length.
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNCHW(a, 65_536, 65_536, 65_536)).ParamName);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() => acc.AddNHWC(a, int.MaxValue, int.MaxValue, int.MaxValue)).ParamName);

        Assert.Equal(1, acc.Count);
        reference.AssertMatches(acc);
    }

    public static IEnumerable<object[]> NonFiniteCases()
    {
        foreach (string layout in new[] { "NC", "NCHW", "NHWC" })
            foreach (int position in new[] { 0, 17, 100, 359 })
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                    yield return [layout, position, bad];
    }

    [Theory]
    [MemberData(nameof(NonFiniteCases))]
    public void Add_RejectsNonFinite_StateUnchanged(string layout, int position, float bad)
    {
        const int C = 20; // 360 values = [2, 20, 3, 3] or [18, 20]
        (ActivationAccumulator acc, Reference reference) = Seeded(C);
        float[] a = Activations(360, seed: 9);
        a[position] = bad;
        ArgumentException ex = layout switch
        {
            "NC" => Assert.Throws<ArgumentException>(() => acc.AddNC(a, 18)),
            "NCHW" => Assert.Throws<ArgumentException>(() => acc.AddNCHW(a, 2, 3, 3)),
            _ => Assert.Throws<ArgumentException>(() => acc.AddNHWC(a, 2, 3, 3)),
        };
        Assert.Equal("activations", ex.ParamName);
        Assert.Contains($"Element {position}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, acc.Count);
        reference.AssertMatches(acc);

        // A later clean batch is still accepted and counted once (the scratch of the failed batch is gone).
        float[] clean = Activations(360, seed: 10);
        acc.AddNCHW(clean, 2, 3, 3);
        reference.AddNCHW(clean, 2, 3, 3);
        reference.AssertMatches(acc);
    }

    [Fact]
    public void Add_InfinitiesOfBothSignsInOneChannelStillThrow()
    {
        // +Inf and −Inf in one channel sum to NaN, not Inf; the fused check must still catch it.
        var acc = new ActivationAccumulator(2);
        Assert.Equal("activations", Assert.Throws<ArgumentException>(() =>
            acc.AddNC([float.PositiveInfinity, 1f, float.NegativeInfinity, 2f], 2)).ParamName);
        Assert.Equal(0, acc.Count);
    }

    [Fact]
    public void Copies_RejectShortDestinationAndEmptyState()
    {
        var acc = new ActivationAccumulator(6);
        float[] d = TestData.NaNs(6);
        Assert.Throws<InvalidOperationException>(() => acc.CopyApozTo(d));
        Assert.Throws<InvalidOperationException>(() => acc.CopyImportanceTo(d));
        Assert.Throws<InvalidOperationException>(() => acc.CopyMeanTo(d));
        StatisticsAssert.AllNaN(d);

        acc.AddNC(Activations(12, seed: 1), 2);
        float[] shortD = TestData.NaNs(5);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyApozTo(shortD)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyImportanceTo(shortD)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyMeanTo(shortD)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => acc.CopyZeroCountsTo(new long[5])).ParamName);
        StatisticsAssert.AllNaN(shortD);
    }

    [Fact]
    public void SteadyState_DoesNotAllocate()
    {
        const int N = 2, C = 33, H = 5, W = 6;
        var acc = new ActivationAccumulator(C);
        float[] a = Activations(N * C * H * W, seed: 1);
        float[] d = new float[C];
        long[] z = new long[C];
        StatisticsAssert.NoAllocations(() => acc.AddNCHW(a, N, H, W));
        StatisticsAssert.NoAllocations(() => acc.AddNHWC(a, N, H, W));
        StatisticsAssert.NoAllocations(() => acc.AddNC(a, N * H * W));
        StatisticsAssert.NoAllocations(() => acc.CopyApozTo(d));
        StatisticsAssert.NoAllocations(() => acc.CopyImportanceTo(d));
        StatisticsAssert.NoAllocations(() => acc.CopyMeanTo(d));
        StatisticsAssert.NoAllocations(() => acc.CopyZeroCountsTo(z));
        StatisticsAssert.NoAllocations(acc.Reset);
    }
}
