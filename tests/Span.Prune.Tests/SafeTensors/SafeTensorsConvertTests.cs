using System.Buffers.Binary;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

public class SafeTensorsConvertTests
{
    /// <summary>
    /// bfloat16 rounding reference that does not use the bias trick: pick the nearer of the two bfloat16 neighbours
    /// (truncation toward zero, and the next one away from zero, with overflow counted as 2^128) by exact double
    /// distances; on a tie pick the one whose last mantissa bit is 0.
    /// </summary>
    private static ushort Bf16Reference(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f))
            return (ushort)((bits >> 16) | 0x40);
        uint lo = bits >> 16;          // toward zero
        uint hi = lo + 1;              // away from zero (same sign)
        double vLo = BitConverter.UInt32BitsToSingle(lo << 16);
        double vHi = (hi & 0x7FFF) == 0x7F80 ? Math.CopySign(Math.Pow(2, 128), f) : BitConverter.UInt32BitsToSingle(hi << 16);
        if (float.IsInfinity(f))
            return (ushort)lo;
        double dLo = Math.Abs(f - vLo), dHi = Math.Abs(vHi - f);
        if (dLo < dHi) return (ushort)lo;
        if (dHi < dLo) return (ushort)hi;
        return (lo & 1) == 0 ? (ushort)lo : (ushort)hi;
    }

    private static float[] Interesting(int length, int seed)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (i % 8) switch
            {
                0 => BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)), // any bit pattern incl. NaN/Inf/subnormal
                1 => BitConverter.UInt32BitsToSingle(((uint)rng.Next(0, 1 << 16) << 16) | 0x8000u), // exact bf16 ties
                2 => 0f,
                3 => -0f,
                4 => float.MaxValue,
                _ => (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 30)),
            };
        }
        return a;
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void FromFloat32_BF16_MatchesBitLevelReference(int n)
    {
        var src = Interesting(n, n);
        var dst = new byte[2 * n + 2];
        dst.AsSpan().Fill(0xAB);
        SafeTensorsDTypeInfo.FromFloat32(src, SafeTensorsDType.BF16, dst);
        for (int i = 0; i < n; i++)
            Assert.Equal(Bf16Reference(src[i]), BinaryPrimitives.ReadUInt16LittleEndian(dst.AsSpan(2 * i)));
        Assert.Equal(0xAB, dst[2 * n]);
        Assert.Equal(0xAB, dst[2 * n + 1]);
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void FromFloat32_F16_MatchesHalfCast(int n)
    {
        var src = Interesting(n, n + 1000);
        var dst = new byte[2 * n];
        SafeTensorsDTypeInfo.FromFloat32(src, SafeTensorsDType.F16, dst);
        for (int i = 0; i < n; i++)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((Half)src[i]);
            ushort actual = BinaryPrimitives.ReadUInt16LittleEndian(dst.AsSpan(2 * i));
            if (float.IsNaN(src[i]))
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(actual)));
            else
                Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [MemberData(nameof(TestData.Lengths), MemberType = typeof(TestData))]
    public void ToFloat32_BF16_F16_AreExactWidening(int n)
    {
        var rng = new Random(n);
        var raw = new byte[2 * n];
        rng.NextBytes(raw);
        var bf = TestData.NaNs(n + 1);
        var hf = TestData.NaNs(n + 1);
        SafeTensorsDTypeInfo.ToFloat32(raw, SafeTensorsDType.BF16, bf);
        SafeTensorsDTypeInfo.ToFloat32(raw, SafeTensorsDType.F16, hf);
        for (int i = 0; i < n; i++)
        {
            ushort u = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2 * i));
            Assert.Equal((uint)u << 16, BitConverter.SingleToUInt32Bits(bf[i]));
            float h = (float)BitConverter.UInt16BitsToHalf(u);
            if (float.IsNaN(h))
                Assert.True(float.IsNaN(hf[i]));
            else
                Assert.Equal(BitConverter.SingleToUInt32Bits(h), BitConverter.SingleToUInt32Bits(hf[i]));
        }
        Assert.True(float.IsNaN(bf[n]));
        Assert.True(float.IsNaN(hf[n]));
    }

    [Fact]
    public void EveryBF16AndF16Pattern_RoundTripsBitExactly()
    {
        var raw = new byte[2 * 65536];
        for (int i = 0; i < 65536; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(2 * i), (ushort)i);
        var f = new float[65536];
        var back = new byte[raw.Length];

        SafeTensorsDTypeInfo.ToFloat32(raw, SafeTensorsDType.BF16, f);
        SafeTensorsDTypeInfo.FromFloat32(f, SafeTensorsDType.BF16, back);
        for (int i = 0; i < 65536; i++)
        {
            ushort got = BinaryPrimitives.ReadUInt16LittleEndian(back.AsSpan(2 * i));
            // NaNs come back as NaN with the quiet bit set and the same sign; everything else bit-exact.
            ushort want = (i & 0x7FFF) > 0x7F80 ? (ushort)(i | 0x40) : (ushort)i;
            Assert.Equal(want, got);
        }

        SafeTensorsDTypeInfo.ToFloat32(raw, SafeTensorsDType.F16, f);
        SafeTensorsDTypeInfo.FromFloat32(f, SafeTensorsDType.F16, back);
        for (int i = 0; i < 65536; i++)
        {
            ushort got = BinaryPrimitives.ReadUInt16LittleEndian(back.AsSpan(2 * i));
            if (Half.IsNaN(BitConverter.UInt16BitsToHalf((ushort)i)))
                Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(got)));
            else
                Assert.Equal((ushort)i, got);
        }
    }

    [Theory]
    [InlineData(SafeTensorsDType.F32)]
    [InlineData(SafeTensorsDType.F64)]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    public void ZerosStayExactZeros(SafeTensorsDType dtype)
    {
        float[] src = [0f, -0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, -0f];
        var bytes = new byte[src.Length * SafeTensorsDTypeInfo.SizeOf(dtype)];
        bytes.AsSpan().Fill(0xFF);
        SafeTensorsDTypeInfo.FromFloat32(src, dtype, bytes);
        var back = TestData.NaNs(src.Length);
        SafeTensorsDTypeInfo.ToFloat32(bytes, dtype, back);
        for (int i = 0; i < src.Length; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(src[i]), BitConverter.SingleToUInt32Bits(back[i]));
    }

    [Fact]
    public void F64_ReadRoundsToNearestAndWritesExactly()
    {
        // -1e300 and 1e300 are refused (F64_BeyondFloatRange_IsRefused); 1e-300 underflows to zero, which is rounding.
        double[] d = [0.1, -3.4e38, 1e-300, Math.PI, double.NegativeInfinity, double.NaN, -0.0];
        var raw = new byte[8 * d.Length];
        for (int i = 0; i < d.Length; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(raw.AsSpan(8 * i), d[i]);
        var f = new float[d.Length];
        SafeTensorsDTypeInfo.ToFloat32(raw, SafeTensorsDType.F64, f);
        Assert.Equal(d.Select(x => (float)x), f);
        Assert.True(float.IsNegative(f[^1]) && f[^1] == 0);
        var back = new byte[raw.Length];
        SafeTensorsDTypeInfo.FromFloat32(f, SafeTensorsDType.F64, back);
        for (int i = 0; i < d.Length; i++)
            Assert.Equal((double)f[i], BinaryPrimitives.ReadDoubleLittleEndian(back.AsSpan(8 * i)));
    }

    [Fact]
    public void Throws_OnBadArguments()
    {
        Assert.Equal("dtype", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.ToFloat32(new byte[8], SafeTensorsDType.I64, new float[1])).ParamName);
        Assert.Equal("dtype", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.FromFloat32(new float[1], SafeTensorsDType.U8, new byte[8])).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.ToFloat32(new byte[3], SafeTensorsDType.BF16, new float[2])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.ToFloat32(new byte[8], SafeTensorsDType.BF16, new float[3])).ParamName);
        var dst = new byte[3];
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.FromFloat32(new float[2], SafeTensorsDType.BF16, dst)).ParamName);
        Assert.All(dst, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ConversionsAndZeroCopyReads_DoNotAllocate()
    {
        var floats = TestData.Normal(1000, 1);
        var bytes = new byte[8 * 1000];
        var back = new float[1000];
        using var f = SafeTensorsFile.Parse(new SafeTensorsWriter().Add("w", SafeTensorsDType.F32, [10, 100], SafeTensorsFixture.Bytes(floats)).ToArray());
        foreach (var dt in new[] { SafeTensorsDType.F16, SafeTensorsDType.BF16, SafeTensorsDType.F32, SafeTensorsDType.F64 })
        {
            int len = 1000 * SafeTensorsDTypeInfo.SizeOf(dt);
            AllocationAssert.None(() =>
            {
                SafeTensorsDTypeInfo.FromFloat32(floats, dt, bytes);
                SafeTensorsDTypeInfo.ToFloat32(bytes.AsSpan(0, len), dt, back);
            });
        }
        float sum = 0;
        AllocationAssert.None(() =>
        {
            sum += f.GetFloat32(0)[999];
            f.ReadAsFloat32(0, back);
        });
        Assert.Equal(floats, back);
    }

    [Fact]
    public void DTypeInfo_NamesParseBackAndSizes()
    {
        foreach (var dt in Enum.GetValues<SafeTensorsDType>())
        {
            Assert.True(SafeTensorsDTypeInfo.TryParse(SafeTensorsDTypeInfo.GetName(dt), out var parsed));
            Assert.Equal(dt, parsed);
            int bits = SafeTensorsDTypeInfo.BitSizeOf(dt);
            Assert.Contains(bits, new[] { 4, 6, 8, 16, 32, 64 });
            if (bits % 8 == 0)
                Assert.Equal(bits / 8, SafeTensorsDTypeInfo.SizeOf(dt));
            else
                Assert.Equal("dtype", Assert.Throws<ArgumentException>(() => SafeTensorsDTypeInfo.SizeOf(dt)).ParamName);
        }
        // The reference's list (huggingface/safetensors Dtype), spelled as in headers, with sizes in bits.
        (string Name, int Bits)[] reference =
        [
            ("BOOL", 8), ("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6), ("U8", 8), ("I8", 8), ("F8_E5M2", 8), ("F8_E4M3", 8),
            ("F8_E8M0", 8), ("F8_E4M3FNUZ", 8), ("F8_E5M2FNUZ", 8), ("I16", 16), ("U16", 16), ("F16", 16), ("BF16", 16),
            ("I32", 32), ("U32", 32), ("F32", 32), ("C64", 64), ("F64", 64), ("I64", 64), ("U64", 64),
        ];
        Assert.Equal(reference.Length, Enum.GetValues<SafeTensorsDType>().Length);
        foreach (var (name, bits) in reference)
        {
            Assert.True(SafeTensorsDTypeInfo.TryParse(name, out var dt), name);
            Assert.Equal(bits, SafeTensorsDTypeInfo.BitSizeOf(dt));
        }
        Assert.Equal(2, SafeTensorsDTypeInfo.SizeOf(SafeTensorsDType.BF16));
        Assert.Equal(8, SafeTensorsDTypeInfo.SizeOf(SafeTensorsDType.I64));
        Assert.False(SafeTensorsDTypeInfo.TryParse("bf16", out _));
        Assert.False(SafeTensorsDTypeInfo.TryParse(null, out _));
    }
}
