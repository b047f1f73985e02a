using System.Numerics;
using System.Runtime.InteropServices;
using Span.Prune.SelectionKernels;

namespace Span.Prune.Tests.Selection;

/// <summary>
/// Each key maker of the global magnitude engine against a scalar reference written here: the key of every element,
/// the first-level counts (4 sub-histograms and counted directly), the second-level counts, and masking with a tie
/// quota, over every length 0…257 plus a few large ones (every vector tail, and the 512-key stack buffer of the
/// converting key makers).
/// </summary>
public class MagnitudeKeyTests
{
    // Count buffers reused by every case (the cases of one class run one after another).
    private static readonly uint[] s_highRef = new uint[MagnitudeRadix.Bins], s_sub = new uint[MagnitudeHistograms.SubHistogramLength],
        s_merged = new uint[MagnitudeRadix.Bins], s_direct = new uint[MagnitudeRadix.Bins],
        s_lowRef = new uint[MagnitudeRadix.LowBins], s_low = new uint[MagnitudeRadix.LowBins];

    private static uint Key32(float x) => BitConverter.SingleToUInt32Bits(x) & 0x7FFFFFFFu;

    /// <summary>Finite values of every kind: normal, ties on a grid, ±0, subnormals, large, tiny.</summary>
    private static float[] Values(int n, int seed)
    {
        float[] normal = TestData.Normal(n, seed);
        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            switch (rng.Next(8))
            {
                case 0: normal[i] = MathF.Round(normal[i] * 4) / 4; break;                 // ties, zeros
                case 1: normal[i] = rng.Next(2) == 0 ? 0f : -0f; break;
                case 2: normal[i] *= 1e-39f; break;                                      // float32 subnormal
                case 3: normal[i] *= 1e-6f; break;                                       // F16 subnormal range
                case 4: normal[i] *= 3e4f; break;                                        // near the F16 maximum
                default: break;
            }
        }
        return normal;
    }

    public static IEnumerable<object[]> Lengths() => TestData.Lengths().Where(x => (int)x[0] <= 4099).Append([1500]);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Float32Key_MatchesReference(int n)
    {
        float[] v = Values(n, n);
        Check<Float32Key, float>(v, Key32);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BFloat16Key_IsTheFloat32KeyOfTheWidenedValue(int n)
    {
        ushort[] v = Values(n, n + 1).Select(x => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16)).ToArray();
        Check<BFloat16Key, ushort>(v, b => Key32(BitConverter.UInt32BitsToSingle((uint)b << 16)));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Float16Key_IsTheHalfsOwnMagnitudeBits(int n)
    {
        Half[] v = Values(n, n + 2).Select(x => (Half)x).ToArray();
        Check<Float16Key, Half>(v, h => (uint)(BitConverter.HalfToUInt16Bits(h) & 0x7FFF) << 16);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void WidenedFloat16Key_IsTheFloat32KeyOfTheWidening(int n)
    {
        Half[] v = Values(n, n + 3).Select(x => (Half)x).ToArray();
        Check<WidenedFloat16Key, Half>(v, h => Key32((float)h));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Float64Key_IsTheFloat32KeyOfTheNarrowing(int n)
    {
        var rng = new Random(n);
        double[] v = Values(n, n + 4).Select(x => x * (1 + rng.NextDouble() * 1e-9)).ToArray(); // bits below float32's
        Check<Float64Key, double>(v, d => Key32((float)d));
    }

    [Fact]
    public void Float16Key_OrdersLikeTheMagnitude_AndItsNonFiniteBinsAreF16s()
    {
        // Every finite F16: key order = |h| order; ∞ and NaN start at bin 0x7C00 (float32 keys: 0x7F80).
        Half[] all = Enumerable.Range(0, 0x10000).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).ToArray();
        Half[] finite = all.Where(Half.IsFinite).ToArray();
        Assert.Equal(finite.OrderBy(h => MathF.Abs((float)h)).Select(h => MathF.Abs((float)h)),
            finite.OrderBy(Float16Key.Key).Select(h => MathF.Abs((float)h)));
        Assert.All(all.Where(h => !Half.IsFinite(h)), h => Assert.True(Float16Key.Key(h) >> 16 >= FirstNonFiniteBin<Float16Key, Half>()));
        Assert.All(finite, h => Assert.True(Float16Key.Key(h) >> 16 < FirstNonFiniteBin<Float16Key, Half>()));
        Assert.Equal(0x7F80, FirstNonFiniteBin<Float32Key, float>());
        Assert.Equal(Key32(float.PositiveInfinity) >> 16, (uint)FirstNonFiniteBin<Float64Key, double>());
        Assert.Equal(Key32(float.PositiveInfinity), Float64Key.Key(1e300)); // beyond float32: ∞, rejected by the engine
    }

    private static int FirstNonFiniteBin<TKey, T>()
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T> => TKey.FirstNonFiniteBin;

    /// <summary>Keys, both counting levels and masking of <paramref name="values"/> against <paramref name="reference"/>.</summary>
    private static void Check<TKey, T>(T[] values, Func<T, uint> reference)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        int n = values.Length;
        uint[] expected = values.Select(reference).ToArray();

        // Keys, one by one and in bulk (the bulk output is pre-filled with a sentinel beyond the length too).
        Assert.Equal(expected, values.Select(TKey.Key).ToArray());
        uint[] keys = Enumerable.Repeat(0xDEADBEEFu, n + 3).ToArray();
        TKey.Keys(values, keys);
        Assert.Equal(expected, keys.Take(n).ToArray());
        Assert.All(keys.Skip(n), k => Assert.Equal(0xDEADBEEFu, k));

        // First level: 4 sub-histograms Bins apart, and counted directly (stride 0) on top of earlier counts.
        uint[] highRef = Cleared(s_highRef), sub = Cleared(s_sub), merged = Cleared(s_merged);
        foreach (uint k in expected) highRef[k >> 16]++;
        TKey.CountHigh(values, sub, MagnitudeRadix.Bins);
        for (int s = 0; s < MagnitudeRadix.SubHistograms; s++)
            for (int b = 0; b < MagnitudeRadix.Bins; b++) merged[b] += sub[s * MagnitudeRadix.Bins + b];
        Assert.True(highRef.AsSpan().SequenceEqual(merged), "4 sub-histograms");
        uint[] direct = s_direct;
        highRef.CopyTo(direct, 0);
        TKey.CountHigh(values, direct, 0);
        for (int b = 0; b < MagnitudeRadix.Bins; b++) Assert.True(2 * highRef[b] == direct[b], $"counted directly, bin {b}");

        // Second level inside the most populated bin (low bits 0 for 15-bit keys).
        uint bin = n == 0 ? 0 : (uint)Array.IndexOf(highRef, highRef.Max());
        uint[] lowRef = Cleared(s_lowRef), low = Cleared(s_low);
        foreach (uint k in expected) if (k >> 16 == bin) lowRef[k & 0xFFFF]++;
        TKey.CountLow(values, bin, low);
        Assert.True(lowRef.AsSpan().SequenceEqual(low), "second level");

        // Masking: cuts at a key of the data (every tie quota from none to all), between keys, and above all.
        uint[] cuts = n == 0 ? [0, 0x7F800000] : [expected[n / 2], expected[n / 3] | 0x8000, 0, 0x7F800000, expected.Max()];
        foreach (uint cut in cuts)
        {
            long equal = expected.LongCount(k => k == cut);
            // The engine never hands out more ties than there are keys equal to the cut (none when it has low bits
            // that a 15-bit key cannot have: a 16-bit masking loop rounds such a cut up to the next key).
            foreach (long ties in new[] { 0, equal / 3, equal }.Distinct())
            {
                long quota = ties, zeros = 0;
                bool[] prune = expected.Select(k => k < cut || (k == cut && quota-- > 0)).ToArray();
                long zerosRef = expected.Where((k, i) => prune[i] || k == 0).LongCount();
                long leftRef = 0;

                T sentinel = typeof(T) == typeof(ushort) ? (T)(object)(ushort)0x7FC0 : T.CreateTruncating(double.NaN); // NaN
                T[] output = Enumerable.Repeat(sentinel, n + 2).ToArray();
                long left = TKey.Apply(values, output, cut, ties, ref zeros);
                Assert.Equal(leftRef, left);
                Assert.Equal(zerosRef, zeros);
                for (int i = 0; i < n; i++)
                    Assert.True(Bits(prune[i] ? T.Zero : values[i]) == Bits(output[i]), $"{typeof(TKey).Name} n={n} cut={cut:X} ties={ties} element {i}");
                Assert.Equal(Bits(sentinel), Bits(output[n]));

                T[] inPlace = (T[])values.Clone();
                zeros = 0;
                Assert.Equal(leftRef, TKey.Apply(inPlace, inPlace, cut, ties, ref zeros));
                Assert.Equal(output.Take(n).Select(Bits), inPlace.Select(Bits));
            }
        }
    }

    private static uint[] Cleared(uint[] buffer)
    {
        Array.Clear(buffer);
        return buffer;
    }

    private static ulong Bits<T>(T value) where T : unmanaged
    {
        ulong bits = 0;
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).CopyTo(MemoryMarshal.AsBytes(new Span<ulong>(ref bits)));
        return bits;
    }
}
