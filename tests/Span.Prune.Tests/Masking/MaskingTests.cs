namespace Span.Prune.Tests.Masking;

public class MaskingTests
{
    private static byte[] RandomMask(int length, int seed, double keepProbability = 0.5)
    {
        var rng = new Random(seed);
        var m = new byte[length];
        // Mix in non-0/1 "keep" values: any non-zero byte means keep.
        for (int i = 0; i < length; i++) m[i] = rng.NextDouble() < keepProbability ? (byte)rng.Next(1, 256) : (byte)0;
        return m;
    }

    /// <summary>Unit index of element (o, i, k) by the definition in <see cref="Granularity"/>'s remarks.</summary>
    private static int UnitOf(WeightShape s, Granularity g, int element)
    {
        int row = element / s.RowLength, col = element % s.RowLength, input = col / s.KernelSize;
        return g.Kind switch
        {
            GranularityKind.Element => element,
            GranularityKind.Row => row,
            GranularityKind.Column => input,
            GranularityKind.Kernel => row * s.In + input,
            GranularityKind.Block => row / g.BlockRows * (s.RowLength / g.BlockCols) + col / g.BlockCols,
            GranularityKind.NM => element / g.M,
            _ => throw new InvalidOperationException(),
        };
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void Apply_ByteMask_MatchesScalar(int length)
    {
        float[] w = TestData.Uniform(length, length + 1);
        w.AsSpan(0, length / 3).Fill(float.NaN); // NaN weights must still become +0 when pruned.
        byte[] m = RandomMask(length, length + 2);
        float[] expected = w.Select((x, i) => m[i] == 0 ? 0f : x).ToArray();

        Span.Prune.Masking.Apply(w, m);

        for (int i = 0; i < length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(w[i]));
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void Apply_BitMask_MatchesByteMask(int length)
    {
        float[] w = TestData.Uniform(length, length + 3);
        byte[] m = RandomMask(length, length + 4, 0.3);
        ulong[] bits = new ulong[Span.Prune.Masking.BitMaskLength(length)];
        // Reference packing by definition: bit i%64 of word i/64.
        for (int i = 0; i < length; i++) if (m[i] != 0) bits[i >> 6] |= 1UL << (i & 63);
        float[] expected = w.Select((x, i) => m[i] == 0 ? 0f : x).ToArray();

        Span.Prune.Masking.Apply(w, bits);

        Assert.Equal(expected, w);
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void PackUnpackCount_RoundTrip(int length)
    {
        byte[] m = RandomMask(length, length + 5, 0.7);
        ulong[] bits = Enumerable.Repeat(ulong.MaxValue, Span.Prune.Masking.BitMaskLength(length) + 1).ToArray();
        Span.Prune.Masking.Pack(m, bits);

        for (int i = 0; i < length; i++) Assert.Equal(m[i] != 0, ((bits[i >> 6] >> (i & 63)) & 1) == 1);
        if (length % 64 != 0) Assert.Equal(0UL, bits[length >> 6] >> (length & 63)); // padding bits cleared
        Assert.Equal(ulong.MaxValue, bits[^1]); // word past the end untouched

        byte[] back = Enumerable.Repeat((byte)7, length).ToArray();
        Span.Prune.Masking.Unpack(bits, back);
        Assert.Equal(m.Select(x => x != 0 ? (byte)1 : (byte)0), back);

        int kept = m.Count(x => x != 0);
        Assert.Equal(kept, Span.Prune.Masking.CountKept(m));
        Assert.Equal(kept, Span.Prune.Masking.CountKept(bits, length));
    }

    public static IEnumerable<object[]> ShapesAndGranularities()
    {
        var linear = WeightShape.Linear(12, 20);
        var conv = WeightShape.Conv2D(6, 5, 3, 3);
        foreach (var (s, g) in new[]
        {
            (linear, Granularity.Element), (linear, Granularity.Row), (linear, Granularity.Column), (linear, Granularity.Kernel),
            (linear, Granularity.Block(4, 4)), (linear, Granularity.Block(1, 4)), (linear, Granularity.Block(4, 1)), (linear, Granularity.Block(3, 5)),
            (linear, Granularity.NM(2, 4)),
            (conv, Granularity.Element), (conv, Granularity.Row), (conv, Granularity.Column), (conv, Granularity.Kernel),
            (conv, Granularity.Block(2, 9)), (conv, Granularity.NM(1, 3)),
        })
        {
            yield return [s.Out, s.In, s.KernelHeight, s.KernelWidth, g.ToString()];
        }
    }

    [Theory]
    [MemberData(nameof(ShapesAndGranularities))]
    public void UnitMasks_ExpandAndApply_FollowUnitNumbering(int o, int i, int kh, int kw, string granularity)
    {
        var shape = WeightShape.Conv2D(o, i, kh, kw);
        var g = Granularity.Parse(granularity);
        byte[] units = RandomMask(g.UnitCount(shape), o * 31 + i);

        byte[] expanded = Enumerable.Repeat((byte)9, shape.ElementCount).ToArray();
        Span.Prune.Masking.ExpandUnitMask(units, shape, g, expanded);
        for (int e = 0; e < shape.ElementCount; e++)
            Assert.Equal(units[UnitOf(shape, g, e)] != 0 ? 1 : 0, expanded[e]);

        float[] w = TestData.Uniform(shape.ElementCount, 99);
        float[] expected = w.Select((x, e) => units[UnitOf(shape, g, e)] == 0 ? 0f : x).ToArray();
        Span.Prune.Masking.ApplyUnitMask(w, units, shape, g);
        Assert.Equal(expected, w);
    }

    [Fact]
    public void Reapply_AfterWeightUpdate_KeepsPrunedAtZero()
    {
        float[] w = [3f, -2f, 1f, -5f];
        byte[] mask = [1, 0, 0, 1];
        Span.Prune.Masking.Apply(w, mask);
        // A fine-tuning step moves every weight, including pruned ones.
        float[] grad = [0.5f, 0.25f, -0.75f, 1f];
        for (int j = 0; j < w.Length; j++) w[j] -= grad[j];
        Span.Prune.Masking.Apply(w, mask);
        Assert.Equal([2.5f, 0f, 0f, -6f], w);
    }

    [Fact]
    public void BadInput_Throws_WithParameterName_AndWritesNothing()
    {
        float[] w = [1f, 2f, 3f];
        Assert.Equal("mask", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.Apply(w, new byte[2])).ParamName);
        Assert.Equal("bits", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.Apply(new float[65], new ulong[1])).ParamName);
        Assert.Equal("bits", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.Pack(new byte[65], new ulong[1])).ParamName);
        Assert.Equal("bits", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.Unpack(new ulong[1], new byte[65])).ParamName);
        Assert.Equal([1f, 2f, 3f], w);

        var shape = WeightShape.Linear(4, 6);
        float[] weights = TestData.Uniform(24, 1);
        float[] copy = (float[])weights.Clone();
        Assert.Equal("unitMask", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.ApplyUnitMask(weights, new byte[3], shape, Granularity.Row)).ParamName);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.ApplyUnitMask(new float[23], new byte[4], shape, Granularity.Row)).ParamName);
        Assert.Equal("granularity", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.ApplyUnitMask(weights, new byte[6], shape, Granularity.Block(3, 4))).ParamName);
        Assert.Equal("elementMask", Assert.Throws<ArgumentException>(() => Span.Prune.Masking.ExpandUnitMask(new byte[4], shape, Granularity.Row, new byte[5])).ParamName);
        Assert.Equal(copy, weights);
    }

    [Fact]
    public void SteadyState_AllocatesNothing()
    {
        var shape = WeightShape.Conv2D(16, 8, 3, 3);
        float[] w = TestData.Uniform(shape.ElementCount, 5);
        byte[] m = RandomMask(w.Length, 6);
        ulong[] bits = new ulong[Span.Prune.Masking.BitMaskLength(w.Length)];
        byte[] units = RandomMask(shape.In, 7);
        byte[] expanded = new byte[w.Length];

        void Run()
        {
            Span.Prune.Masking.Apply(w, m);
            Span.Prune.Masking.Pack(m, bits);
            Span.Prune.Masking.Apply(w, bits);
            Span.Prune.Masking.Unpack(bits, expanded);
            _ = Span.Prune.Masking.CountKept(m) + Span.Prune.Masking.CountKept(bits, w.Length);
            Span.Prune.Masking.ExpandUnitMask(units, shape, Granularity.Column, expanded);
            Span.Prune.Masking.ApplyUnitMask(w, units, shape, Granularity.Column);
        }

        AllocationAssert.None(Run);
    }
}
