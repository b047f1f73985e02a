using Xunit.Abstractions;

namespace Span.Prune.Tests.Pruning;

/// <summary>
/// <see cref="GlobalMagnitudePruning"/> against the in-memory selection (<see cref="Span.Prune.Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>
/// and <see cref="Span.Prune.Pruning.Global"/>) and against a naive reference: sort every (|w|, tensor, index), then walk
/// it greedily, skipping tensors at their cap. Tensors are float[] (F32), Half[] (F16), ushort[] (BF16 bits) or double[] (F64).
/// </summary>
public class GlobalMagnitudePruningTests(ITestOutputHelper output)
{
    private static ElementType TypeOf(Array t) => t switch
    {
        float[] => ElementType.Float32,
        Half[] => ElementType.Float16,
        ushort[] => ElementType.BFloat16,
        _ => ElementType.Float64,
    };

    /// <summary>|w| as float32 scoring sees it (exact widening for F16/BF16, rounding for F64).</summary>
    private static float[] Magnitudes(Array t) => t switch
    {
        float[] f => f.Select(MathF.Abs).ToArray(),
        Half[] h => h.Select(x => MathF.Abs((float)x)).ToArray(),
        ushort[] b => b.Select(x => MathF.Abs(BitConverter.UInt32BitsToSingle((uint)x << 16))).ToArray(),
        double[] d => d.Select(x => MathF.Abs((float)x)).ToArray(),
        _ => throw new ArgumentException("dtype"),
    };

    private static int Count(double s, long n) => (int)Math.Round(s * n, MidpointRounding.ToEven);

    /// <summary>Naive reference: stable sort by (|w|, tensor, index), greedy walk with caps ⌊cap·n⌋ (decimal).</summary>
    private static byte[][] NaiveMasks(Array[] tensors, double s, double cap)
    {
        float[][] mags = tensors.Select(Magnitudes).ToArray();
        long n = mags.Sum(m => (long)m.Length);
        int k = Count(s, n);
        var order = mags.SelectMany((m, t) => m.Select((x, i) => (x, t, i))).OrderBy(e => e.x).ThenBy(e => e.t).ThenBy(e => e.i);
        long[] caps = mags.Select(m => (long)decimal.Floor((decimal)cap * m.Length)).ToArray();
        long[] lost = new long[tensors.Length];
        byte[][] masks = mags.Select(m => Enumerable.Repeat((byte)1, m.Length).ToArray()).ToArray();
        int pruned = 0;
        foreach (var (_, t, i) in order)
        {
            if (pruned == k) break;
            if (lost[t] == caps[t]) continue;
            masks[t][i] = 0;
            lost[t]++;
            pruned++;
        }
        return masks;
    }

    /// <summary>The library's in-memory global selection on the float32 magnitudes.</summary>
    private static byte[][] InMemoryMasks(Array[] tensors, double s, double cap)
    {
        float[][] mags = tensors.Select(Magnitudes).ToArray();
        float[] all = mags.SelectMany(m => m).ToArray();
        var mask = new byte[all.Length];
        Span.Prune.Selection.GlobalLowestMask(all, mags.Select(m => m.Length).ToArray(), Count(s, all.Length), mask, cap);
        var result = new byte[tensors.Length][];
        int offset = 0;
        for (int t = 0; t < tensors.Length; t++)
        {
            result[t] = mask.AsSpan(offset, mags[t].Length).ToArray();
            offset += mags[t].Length;
        }
        return result;
    }

    /// <summary>
    /// Runs the streaming selection with the given chunk length; outputs are pre-filled with NaN sentinels. A small
    /// <paramref name="maxHistograms"/> makes consecutive same-dtype tensors share histograms (uncapped only).
    /// </summary>
    private static (Array[] Outputs, GlobalMagnitudePruning Engine, int Passes) Stream(Array[] tensors, double s, double cap, int chunk,
        int maxHistograms = GlobalMagnitudePruning.MaxHistograms)
    {
        var engine = new GlobalMagnitudePruning(tensors.Select(TypeOf).ToArray(), tensors.Select(t => (long)t.Length).ToArray(), s, cap, maxHistograms);
        int passes = 1;
        ScanAll(engine, tensors, chunk, onlyRefined: false);
        while (!engine.Resolve())
        {
            passes++;
            ScanAll(engine, tensors, chunk, onlyRefined: true);
        }
        var outputs = new Array[tensors.Length];
        for (int t = 0; t < tensors.Length; t++)
        {
            for (int start = 0; start < tensors[t].Length || start == 0; start += chunk)
            {
                int len = Math.Min(chunk, tensors[t].Length - start);
                switch (tensors[t])
                {
                    case float[] f:
                        outputs[t] ??= Enumerable.Repeat(float.NaN, f.Length).ToArray();
                        engine.Apply(t, f.AsSpan(start, len), ((float[])outputs[t]).AsSpan(start, len));
                        break;
                    case Half[] h:
                        outputs[t] ??= Enumerable.Repeat(Half.NaN, h.Length).ToArray();
                        engine.Apply(t, h.AsSpan(start, len), ((Half[])outputs[t]).AsSpan(start, len));
                        break;
                    case ushort[] b:
                        outputs[t] ??= Enumerable.Repeat((ushort)0x7FC0, b.Length).ToArray();
                        engine.ApplyBFloat16(t, b.AsSpan(start, len), ((ushort[])outputs[t]).AsSpan(start, len));
                        break;
                    case double[] d:
                        outputs[t] ??= Enumerable.Repeat(double.NaN, d.Length).ToArray();
                        engine.Apply(t, d.AsSpan(start, len), ((double[])outputs[t]).AsSpan(start, len));
                        break;
                }
                if (len <= 0) break;
            }
        }
        return (outputs, engine, passes);
    }

    private static void ScanAll(GlobalMagnitudePruning engine, Array[] tensors, int chunk, bool onlyRefined)
    {
        for (int t = 0; t < tensors.Length; t++)
        {
            if (onlyRefined && !engine.NeedsRefinement(t)) continue;
            for (int start = 0; start < tensors[t].Length; start += chunk)
            {
                int len = Math.Min(chunk, tensors[t].Length - start);
                switch (tensors[t])
                {
                    case float[] f: engine.Scan(t, f.AsSpan(start, len)); break;
                    case Half[] h: engine.Scan(t, h.AsSpan(start, len)); break;
                    case ushort[] b: engine.ScanBFloat16(t, b.AsSpan(start, len)); break;
                    case double[] d: engine.Scan(t, d.AsSpan(start, len)); break;
                }
            }
        }
    }

    /// <summary>Output bits must be +0 where the mask prunes and the input's bits elsewhere.</summary>
    private static void AssertMasked(Array input, Array output, byte[] mask, string what)
    {
        for (int i = 0; i < mask.Length; i++)
        {
            ulong inBits = Bits(input, i), outBits = Bits(output, i);
            ulong expected = mask[i] == 0 ? 0 : inBits;
            if (outBits != expected) Assert.Fail($"{what}: element {i}: got bits {outBits:X}, expected {expected:X} (mask {mask[i]})");
        }
    }

    private static ulong Bits(Array a, int i) => a switch
    {
        float[] f => BitConverter.SingleToUInt32Bits(f[i]),
        Half[] h => BitConverter.HalfToUInt16Bits(h[i]),
        ushort[] b => b[i],
        double[] d => BitConverter.DoubleToUInt64Bits(d[i]),
        _ => throw new ArgumentException("dtype"),
    };

    private static void CheckAll(Array[] tensors, double s, double cap, params int[] chunks)
    {
        byte[][] inMemory = InMemoryMasks(tensors, s, cap);
        byte[][] naive = NaiveMasks(tensors, s, cap);
        for (int t = 0; t < tensors.Length; t++) Assert.Equal(naive[t], inMemory[t]); // the two references agree
        // Also with runs of tensors sharing one histogram (budget 1) or a few (budget 2): uncapped, whatever their dtypes;
        // capped, those of at most SmallTensorLimit elements, each capped from its own sorted keys.
        int[] budgets = [GlobalMagnitudePruning.MaxHistograms, 1, 2];
        foreach (int budget in budgets)
        foreach (int chunk in chunks)
        {
            var (outputs, engine, _) = Stream(tensors, s, cap, chunk, budget);
            long total = 0;
            for (int t = 0; t < tensors.Length; t++)
            {
                AssertMasked(tensors[t], outputs[t], inMemory[t], $"s={s} cap={cap} chunk={chunk} budget={budget} tensor {t}");
                long pruned = inMemory[t].LongCount(m => m == 0);
                Assert.Equal(pruned, engine.PrunedCount(t));
                float[] mags = Magnitudes(tensors[t]);
                Assert.Equal(mags.Where((x, i) => inMemory[t][i] == 0 || x == 0).LongCount(), engine.ZeroCount(t));
                total += pruned;
            }
            Assert.Equal(Count(s, tensors.Sum(t => (long)t.Length)), total);
            float[] all = tensors.SelectMany(Magnitudes).ToArray();
            byte[] flat = inMemory.SelectMany(m => m).ToArray();
            float expectedThreshold = total == 0 ? float.NegativeInfinity : all.Where((x, i) => flat[i] == 0).Max();
            Assert.Equal(expectedThreshold, engine.Threshold);
        }
    }

    private static float[] F32(int n, int seed, float std = 1f) => TestData.Normal(n, seed, std);

    /// <summary>Values on a coarse grid (k/8, |k| ≤ 12): many ties and exact zeros.</summary>
    private static float[] Grid(int n, int seed) => TestData.Uniform(n, seed).Select(x => MathF.Round(x * 12f) / 8f).ToArray();

    private static ushort[] Bf16(float[] x) => x.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();

    private static Half[] F16(float[] x) => x.Select(v => (Half)v).ToArray();

    public static IEnumerable<object[]> Targets() =>
        from s in new[] { 0.0, 0.3, 0.5, 0.77, 1.0 }
        from cap in new[] { 1.0, 0.8, 0.6 }
        where s <= cap
        select new object[] { s, cap };

    [Theory]
    [MemberData(nameof(Targets))]
    public void F32_NoTies_MatchesInMemory(double s, double cap)
    {
        Array[] tensors = [F32(300, 1), F32(1, 2), F32(517, 3, 0.1f), F32(64, 4, 3f)];
        CheckAll(tensors, s, cap, 1, 7, 64, 100_000);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void F32_ManyTies_MatchesInMemory(double s, double cap)
    {
        Array[] tensors = [Grid(257, 5), Grid(100, 6), Grid(33, 7)];
        CheckAll(tensors, s, cap, 3, 1000);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Bf16_ManyTies_MatchesInMemory(double s, double cap)
    {
        // BF16 of normal weights: 8 mantissa bits, so hundreds of ties per value; plus a grid tensor with zeros.
        Array[] tensors = [Bf16(F32(2000, 8)), Bf16(Grid(301, 9)), Bf16(F32(999, 10, 0.01f))];
        CheckAll(tensors, s, cap, 5, 4096);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void F16_MatchesInMemory(double s, double cap)
    {
        Array[] tensors = [F16(F32(700, 11)), F16(Grid(129, 12)), F16(F32(90, 13, 1e-4f))]; // the last one has subnormals
        CheckAll(tensors, s, cap, 2, 333);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void MixedDTypes_MatchInMemory(double s, double cap)
    {
        // F16 among wider dtypes and F64 rank by float32 keys: the two-level path for them too.
        Array[] tensors = [Bf16(F32(400, 14)), F32(300, 15), F16(Grid(150, 16)), F32(120, 17).Select(x => (double)x).ToArray(), Bf16(Grid(77, 18))];
        CheckAll(tensors, s, cap, 1, 50, 10_000);
    }

    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.5, 0.55)]
    [InlineData(0.3, 0.31)]
    public void F32_OneFirstLevelBin_TiesSplitAcrossTensors(double s, double cap)
    {
        // Every value in [1, 1 + 2^-7): one first-level bin; the second level decides, with ties (values repeat mod 40).
        static float[] Near1(int n, int offset) => Enumerable.Range(0, n).Select(i => BitConverter.UInt32BitsToSingle(0x3F800000u + (uint)((i * 7 + offset) % 40))).ToArray();
        Array[] tensors = [Near1(100, 0), Near1(90, 3), Near1(110, 11)];
        CheckAll(tensors, s, cap, 1, 17, 1000);
        var (_, _, passes) = Stream(tensors, s, cap, 1000);
        Assert.Equal(2, passes);
    }

    [Theory]
    [MemberData(nameof(TestData.NonEmptyLengths), MemberType = typeof(TestData))]
    public void EveryLength_OneChunk_MatchesNaive(int n)
    {
        // One chunk per tensor: every vector tail of the 16- and 32-bit masking loops, with ties (grid values).
        Array[] tensors = [Bf16(Grid(n, n)), Grid(n, n + 1), F16(Grid(n, n + 2))];
        byte[][] naive = NaiveMasks(tensors, 0.45, 1.0);
        var (outputs, _, _) = Stream(tensors, 0.45, 1.0, int.MaxValue);
        for (int t = 0; t < tensors.Length; t++) AssertMasked(tensors[t], outputs[t], naive[t], $"n={n} tensor {t}");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.7)]
    public void LargeChunks_CountedThroughPooledSubHistograms_MatchInMemory(double cap)
    {
        // Chunks of at least 16,384 elements take the session's zeroed sub-histograms (and hand them back zeroed).
        int n = 40_000;
        Array[] tensors = [F32(n, 30, 0.02f), Bf16(F32(n, 31, 0.02f)), F16(Grid(n, 32)), F32(n, 33).Select(x => (double)x).ToArray(), F16(F32(n, 34))];
        CheckAll(tensors, 0.6, cap, 20_000, 1 << 20);
        CheckAll([tensors[2], tensors[4]], 0.45, cap, 1 << 20); // all F16: whole 15-bit keys
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void WrongElementType_ThrowsTensorArgumentException_NamingTheTensor(int tensor)
    {
        var engine = new GlobalMagnitudePruning([ElementType.Float32, ElementType.BFloat16, ElementType.Float16], [4, 4, 4], 0.5);
        var e = Assert.Throws<TensorArgumentException>(() => engine.Scan(tensor, new double[4]));
        Assert.Equal(tensor, e.TensorIndex);
        Assert.Equal("chunk", e.ParamName);
        Assert.Contains("Float64", e.Message);
        e = Assert.Throws<TensorArgumentException>(() => engine.ScanBFloat16(tensor, new ushort[5]));
        Assert.Equal(tensor, e.TensorIndex);
    }

    [Fact]
    public void CapBinds_LargeTensorsGiveTheRest()
    {
        // Tensor 0 holds the smallest weights; uncapped it would lose almost everything.
        Array[] tensors = [F32(400, 19, 0.001f), F32(400, 20), F32(200, 21, 10f)];
        CheckAll(tensors, 0.5, 0.5, 64);
        CheckAll(tensors, 0.5, 1.0, 64);
        var (_, engine, _) = Stream(tensors, 0.5, 0.5, 64);
        Assert.Equal(200, engine.PrunedCount(0));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void EmptyAndZeroOnlyTensors(double s)
    {
        Array[] tensors = [new float[0], new float[50], F32(70, 22), new ushort[0], Bf16(new float[30]), new Half[40]];
        CheckAll(tensors, s, 1.0, 1, 8, 1000);
        CheckAll(tensors, s, s, 9);
        var (outputs, _, _) = Stream(tensors, s, 1.0, 8);
        Assert.Empty((float[])outputs[0]);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.93)]
    public void MoreTensorsThanHistograms_ShareThem_AndSelectTheSame(double s)
    {
        // 3,000 small tensors (above MaxHistograms): uncapped, runs of them share a histogram; BF16 then F32 (ties in both).
        Array[] tensors = Enumerable.Range(0, 3000)
            .Select(i => i < 1800 ? (Array)Bf16(Grid(1 + i % 13, 100 + i)) : Grid(1 + i % 11, 100 + i)).ToArray();
        Assert.True(tensors.Length > GlobalMagnitudePruning.MaxHistograms);
        byte[][] expected = InMemoryMasks(tensors, s, 1.0);
        var (outputs, engine, _) = Stream(tensors, s, 1.0, 5);
        for (int t = 0; t < tensors.Length; t++)
        {
            AssertMasked(tensors[t], outputs[t], expected[t], $"tensor {t}");
            Assert.Equal(expected[t].LongCount(m => m == 0), engine.PrunedCount(t));
        }
    }

    [Fact]
    public void SharedHistogram_AppliedOutOfOrder_Throws_AndPrunedCountWaitsForTheApply()
    {
        float[] a = Grid(40, 1), b = Grid(40, 2);
        var engine = new GlobalMagnitudePruning([ElementType.Float32, ElementType.Float32], [40, 40], 0.5, 1.0, maxHistograms: 1);
        engine.Scan(0, a);
        engine.Scan(1, b);
        while (!engine.Resolve())
        {
            engine.Scan(0, a);
            engine.Scan(1, b);
        }
        var output = new float[40];
        Assert.Throws<InvalidOperationException>(() => engine.Apply(1, b, output)); // tensor 0 first: ties go in tensor order
        Assert.Throws<InvalidOperationException>(() => engine.PrunedCount(0));
        engine.Apply(0, a.AsSpan(0, 20), output.AsSpan(0, 20));
        Assert.Throws<InvalidOperationException>(() => engine.Apply(1, b, output)); // tensor 0 is not complete yet
        engine.Apply(0, a.AsSpan(20), output.AsSpan(20));
        engine.Apply(1, b, output);
        Assert.Equal(40, engine.PrunedCount(0) + engine.PrunedCount(1));
    }

    [Fact]
    public void NegativeZeroes_ArePrunedToPositiveZero_KeptOnesKeepTheirBits()
    {
        // 4 zeros of both signs and 4 non-zeros; prune 2: the first two zeros (index order) become +0, the others stay.
        float[] w = [-0f, 0f, -0f, 1f, -0f, 2f, -3f, 4f];
        var (outputs, engine, _) = Stream([w], 0.25, 1.0, 3);
        float[] o = (float[])outputs[0];
        Assert.Equal(0u, BitConverter.SingleToUInt32Bits(o[0]));
        Assert.Equal(0u, BitConverter.SingleToUInt32Bits(o[1]));
        Assert.Equal(0x80000000u, BitConverter.SingleToUInt32Bits(o[2]));
        Assert.Equal(0x80000000u, BitConverter.SingleToUInt32Bits(o[4]));
        Assert.Equal(4, engine.ZeroCount(0));
        Assert.Equal(0f, engine.Threshold);
    }

    [Fact]
    public void InPlaceApply_EqualsOutOfPlace()
    {
        float[] w = F32(1000, 23);
        var (outputs, _, _) = Stream([w], 0.6, 1.0, 1000);
        var engine = new GlobalMagnitudePruning([ElementType.Float32], [w.Length], 0.6);
        engine.Scan(0, w);
        while (!engine.Resolve()) engine.Scan(0, w);
        float[] copy = (float[])w.Clone();
        engine.Apply(0, copy, copy);
        Assert.Equal((float[])outputs[0], copy);
    }

    [Fact]
    public void InMemoryPruningGlobal_GivesTheSameWeights()
    {
        float[][] layers = [F32(333, 24), F32(222, 25, 0.2f), Grid(111, 26)];
        var (outputs, engine, _) = Stream(layers, 0.45, 0.7, 50);
        float[][] copies = layers.Select(l => (float[])l.Clone()).ToArray();
        PruneReport r = Span.Prune.Pruning.Global(copies.Select(c => (Memory<float>)c).ToArray(), 0.45, GlobalScore.Magnitude, 0.7);
        for (int t = 0; t < layers.Length; t++)
            Assert.Equal(copies[t].Select(BitConverter.SingleToUInt32Bits), ((float[])outputs[t]).Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(r.Threshold, engine.Threshold);
        Assert.Equal(r.PrunedUnits, Enumerable.Range(0, 3).Sum(t => engine.PrunedCount(t)));
    }

    public static IEnumerable<object[]> NonFinite() =>
        from kind in new[] { "f32", "f16", "bf16", "f64", "f16-mixed" }
        from bad in new[] { "nan", "inf", "-inf" }
        select new object[] { kind, bad };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void NonFinite_Throws_NamingTheTensor(string kind, string bad)
    {
        double v = bad == "nan" ? double.NaN : bad == "inf" ? double.PositiveInfinity : double.NegativeInfinity;
        float[] good = F32(100, 27);
        float[] w = F32(100, 28);
        w[37] = (float)v;
        Array badTensor = kind switch
        {
            "f32" or "f16-mixed" => kind == "f32" ? w : F16(w),
            "f16" => F16(w),
            "bf16" => Bf16(w),
            _ => w.Select((x, i) => i == 37 ? v : x).ToArray(),
        };
        Array goodTensor = kind == "f16" ? F16(good) : good;
        var engine = new GlobalMagnitudePruning([TypeOf(goodTensor), TypeOf(badTensor)], [100, 100], 0.5);
        var e = Assert.Throws<TensorArgumentException>(() => ScanAll(engine, [goodTensor, badTensor], 30, false));
        Assert.Equal("chunk", e.ParamName);
        Assert.Equal(1, e.TensorIndex);
        Assert.Contains("NaN", e.Message);
        Assert.DoesNotContain("Tensor 1", e.Message);
    }

    [Fact]
    public void F64_BeyondFloatRange_IsRejectedAsInfinite()
    {
        var engine = new GlobalMagnitudePruning([ElementType.Float64], [3], 0.5);
        var e = Assert.Throws<TensorArgumentException>(() => engine.Scan(0, new double[] { 1, 1e300, 2 }));
        Assert.Equal(0, e.TensorIndex);
    }

    [Fact]
    public void BadArguments_Throw_WithParamName()
    {
        ElementType[] f32 = [ElementType.Float32];
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => new GlobalMagnitudePruning(f32, [1, 2], 0.5)).ParamName);
        Assert.Equal("types", Assert.Throws<ArgumentException>(() => new GlobalMagnitudePruning([], [], 0.5)).ParamName);
        Assert.Equal("types", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning([(ElementType)4], [4], 0.5)).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning(f32, [-1], 0.5)).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning(f32, [1L << 32], 0.5)).ParamName);
        Assert.Equal("lengths", Assert.Throws<ArgumentException>(() => new GlobalMagnitudePruning(f32, [0], 0.5)).ParamName);
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning(f32, [4], 1.5)).ParamName);
        Assert.Equal("sparsity", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning(f32, [4], double.NaN)).ParamName);
        Assert.Equal("maxLayerSparsity", Assert.Throws<ArgumentOutOfRangeException>(() => new GlobalMagnitudePruning(f32, [4], 0.5, -0.1)).ParamName);
        Assert.Equal("maxLayerSparsity", Assert.Throws<ArgumentException>(() => new GlobalMagnitudePruning(f32, [10], 0.5, 0.4)).ParamName);

        var engine = new GlobalMagnitudePruning(f32, [4], 0.5);
        Assert.Equal("chunk", Assert.Throws<TensorArgumentException>(() => engine.Scan(0, new Half[4])).ParamName);
        Assert.Equal("chunk", Assert.Throws<TensorArgumentException>(() => engine.Scan(0, new float[5])).ParamName);
        Assert.Equal("tensor", Assert.Throws<ArgumentOutOfRangeException>(() => engine.Scan(1, new float[1])).ParamName);
        Assert.Throws<InvalidOperationException>(() => engine.Apply(0, new float[4], new float[4]));
        engine.Scan(0, new float[] { 1, 2 });
        Assert.Throws<InvalidOperationException>(() => engine.Resolve()); // two elements missing
        engine.Scan(0, new float[] { 3, 4 });
        Assert.False(engine.Resolve()); // F32: the threshold's bin needs the second level
        Assert.True(engine.NeedsRefinement(0));
        Assert.Throws<InvalidOperationException>(() => engine.Resolve());
        engine.Scan(0, new float[] { 1, 2, 3, 4 });
        Assert.True(engine.Resolve());
        Assert.Equal(2f, engine.Threshold);
        Assert.Throws<InvalidOperationException>(() => engine.Scan(0, new float[1]));
        float[] data = [1, 2, 3, 4, 5];
        float[] sentinel = [float.NaN, float.NaN, float.NaN];
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => engine.Apply(0, data.AsSpan(0, 4), sentinel)).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => engine.Apply(0, data.AsSpan(0, 4), data.AsSpan(1, 4))).ParamName);
        Assert.Equal("source", Assert.Throws<TensorArgumentException>(() => engine.ApplyBFloat16(0, new ushort[1], new ushort[1])).ParamName);
        Assert.All(sentinel, x => Assert.True(float.IsNaN(x))); // nothing written
        engine.Apply(0, data.AsSpan(0, 4), data.AsSpan(0, 4));
        Assert.Equal("source", Assert.Throws<TensorArgumentException>(() => engine.Apply(0, data.AsSpan(4, 1), data.AsSpan(4, 1))).ParamName);
        Assert.Equal(new float[] { 0, 0, 3, 4, 5 }, data);
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(1 << 17)]
    public void ScanAndApply_DoNotAllocate_InSteadyState(int chunkLength)
    {
        // Short chunks are counted directly; long ones reuse the session's pooled sub-histograms.
        ushort[] chunk = Bf16(F32(chunkLength, 29));
        var engine = new GlobalMagnitudePruning([ElementType.BFloat16], [chunkLength * 64L], 0.5);
        int scans = 0;
        AllocationAssert.None(() => { engine.ScanBFloat16(0, chunk); scans++; }, repeats: 20);
        for (; scans < 64; scans++) engine.ScanBFloat16(0, chunk);
        Assert.True(engine.Resolve());
        ushort[] output = new ushort[chunkLength];
        AllocationAssert.None(() => engine.ApplyBFloat16(0, chunk, output), repeats: 20);
    }

    /// <summary>
    /// 100,000 tiny tensors of alternating dtypes (BF16 grid values with many ties; F16, which among other types ranks
    /// by its widening and takes the second pass; every 7th F32): far more tensors than histograms, capped or not.
    /// </summary>
    private static Array[] TinyTensors(int count) => Enumerable.Range(0, count).Select(i =>
        i % 7 == 6 ? Grid(1 + i % 3, i) : i % 2 == 0 ? (Array)Bf16(Grid(1 + i % 5, i)) : F16(F32(1 + i % 4, i, 0.05f))).ToArray();

    [Theory]
    [InlineData(0.6, 1.0, 1)]
    [InlineData(0.6, 1.0, 1000)]
    [InlineData(0.5, 0.7, 1)]
    [InlineData(0.5, 0.7, 1000)]
    [InlineData(0.35, 0.5, 2)]
    public void ManyTinyTensors_AlternatingDtypes_SameMasksAsTheReferences_WithinTheHistogramBound(double s, double cap, int chunk)
    {
        Array[] tensors = TinyTensors(100_000);
        byte[][] naive = NaiveMasks(tensors, s, cap);
        byte[][] inMemory = InMemoryMasks(tensors, s, cap);
        var (outputs, engine, passes) = Stream(tensors, s, cap, chunk);
        Assert.Equal(2, passes); // the F16 and F32 keys need the second level
        long total = tensors.Sum(t => (long)t.Length);
        Assert.InRange(engine.HistogramCount, 1, GlobalMagnitudePruning.MaxHistogramCount(tensors.Length, total, largeCapped: 0));
        Assert.True(engine.HistogramCount <= 1 + total / (1 << 16)); // shared by ~65,536 weights each, not one per dtype run
        long pruned = 0;
        for (int t = 0; t < tensors.Length; t++)
        {
            Assert.Equal(naive[t], inMemory[t]);
            AssertMasked(tensors[t], outputs[t], naive[t], $"s={s} cap={cap} chunk={chunk} tensor {t}");
            Assert.Equal(naive[t].LongCount(m => m == 0), engine.PrunedCount(t));
            pruned += engine.PrunedCount(t);
        }
        Assert.Equal(Count(s, total), pruned);
    }

    [Fact]
    public void CappedLargeTensorsAmongTinyOnes_KeepTheirOwnHistograms_SameMasks()
    {
        // Tensors over SmallTensorLimit keep a histogram each and split the shared runs; the rest share.
        int large = GlobalMagnitudePruning.SmallTensorLimit + 1;
        Array[] tensors = TinyTensors(3000);
        tensors[100] = F32(large, 40, 0.05f);
        tensors[2500] = Bf16(Grid(large, 41));
        foreach (double cap in new[] { 0.5, 0.9 })
        {
            var (outputs, engine, _) = Stream(tensors, 0.4, cap, 777);
            byte[][] expected = InMemoryMasks(tensors, 0.4, cap);
            for (int t = 0; t < tensors.Length; t++)
            {
                AssertMasked(tensors[t], outputs[t], expected[t], $"cap={cap} tensor {t}");
                Assert.Equal(expected[t].LongCount(m => m == 0), engine.PrunedCount(t));
            }
            Assert.InRange(engine.HistogramCount, 3, GlobalMagnitudePruning.MaxHistogramCount(tensors.Length, tensors.Sum(t => (long)t.Length), largeCapped: 2));
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.7)]
    public void ManyTinyTensors_AllocateWithinTheDocumentedBudget(double cap)
    {
        // Everything the session allocates on this thread, from the constructor to the last Apply (outputs in place).
        Array[] tensors = TinyTensors(100_000);
        ElementType[] types = tensors.Select(TypeOf).ToArray();
        long[] lengths = tensors.Select(t => (long)t.Length).ToArray();
        long total = lengths.Sum();
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var engine = new GlobalMagnitudePruning(types, lengths, 0.5, cap);
        ScanAll(engine, tensors, 3, onlyRefined: false);
        while (!engine.Resolve()) ScanAll(engine, tensors, 3, onlyRefined: true);
        for (int t = 0; t < tensors.Length; t++)
        {
            switch (tensors[t])
            {
                case float[] f: engine.Apply(t, f, f); break;
                case Half[] h: engine.Apply(t, h, h); break;
                case ushort[] b: engine.ApplyBFloat16(t, b, b); break;
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long budget = GlobalMagnitudePruning.MemoryBudget(tensors.Length, total, largeCapped: 0, scanningThreads: 1);
        output.WriteLine($"{tensors.Length:N0} tensors, {total:N0} weights, cap {cap}: {engine.HistogramCount} histograms, allocated {allocated:N0} B, budget {budget:N0} B");
        Assert.True(allocated <= budget, $"allocated {allocated:N0} bytes, budget {budget:N0}");
        // Before the shared histograms, this asked for one 128 KiB histogram per dtype run (here, per tensor): 12.8 GB.
        Assert.True(allocated < 20L << 20, $"allocated {allocated:N0} bytes");
    }

    [Fact]
    public void HostileHeaderScale_1_4MillionTinyTensors_Capped_StaysBounded()
    {
        // The size of a 100 MB header of one-element tensors, BF16 and F16 alternating, capped: declared and scanned.
        const int count = 1_400_000;
        var types = new ElementType[count];
        var lengths = new long[count];
        for (int j = 0; j < count; j++)
        {
            types[j] = j % 2 == 0 ? ElementType.BFloat16 : ElementType.Float16;
            lengths[j] = 1 + j % 2;
        }
        long total = lengths.Sum();
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var engine = new GlobalMagnitudePruning(types, lengths, 0.3, 0.5);
        ushort[] bf16 = [0x3F80];
        Half[] f16 = [(Half)0.5f, (Half)(-2f)];
        for (int j = 0; j < count; j++)
        {
            if (j % 2 == 0) engine.ScanBFloat16(j, bf16);
            else engine.Scan(j, f16);
        }
        while (!engine.Resolve())
        {
            for (int j = 0; j < count; j++)
            {
                if (!engine.NeedsRefinement(j)) continue;
                if (j % 2 == 0) engine.ScanBFloat16(j, bf16);
                else engine.Scan(j, f16);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long budget = GlobalMagnitudePruning.MemoryBudget(count, total, 0, 1);
        output.WriteLine($"{count:N0} tensors, {total:N0} weights, capped: {engine.HistogramCount} histograms, allocated {allocated:N0} B, budget {budget:N0} B");
        Assert.True(allocated <= budget, $"allocated {allocated:N0} bytes");
        Assert.True(engine.HistogramCount <= 1 + total / (1 << 16));
        // k = 630,000 of 2.1 M: the caps (0 for one-element, 1 for two-element tensors) leave exactly the 0.5s to prune.
        Assert.Equal(0.5f, engine.Threshold);
    }
}
