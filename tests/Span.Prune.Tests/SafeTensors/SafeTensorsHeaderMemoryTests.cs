using System.Text;
using Span.Prune.Internal;
using Xunit.Abstractions;

namespace Span.Prune.Tests.SafeTensors;

/// <summary>
/// Issue 11.2: the header of a hostile file (the reference's 100 MB maximum, filled with about 1.4 M one-element
/// tensors of alternating BF16 / F16) is parsed with managed allocations bounded by a small multiple of its size.
/// Measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/> around <c>SafeTensorsHeader.Parse</c>: every byte
/// the parse allocates, garbage included, so the peak it can need is at most that.
/// </summary>
public class SafeTensorsHeaderMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// The bound: allocated bytes per header byte. Each entry costs a fixed ≈ 460 bytes of parsed state (name, shape,
    /// <c>SafeTensorInfo</c>, the name index, list growth) whatever its length, and the shortest entry (a scalar with a
    /// one- or two-character name) is ≈ 50 header bytes; measured 6.5× for <c>[1]</c>-shaped entries with 8-character
    /// names, 7.5× for the shortest (62-byte) ones; the ratios are printed.
    /// </summary>
    private const double MaxBytesPerHeaderByte = 10.0;

    /// <summary>
    /// A header of <paramref name="count"/> entries like <c>"t0000001":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}</c>,
    /// or with <paramref name="shortest"/> like <c>"a":{"dtype":"F16","shape":[],"data_offsets":[2,4]}</c> (base-36 names).
    /// </summary>
    private static byte[] TinyTensorHeader(int count, bool shortest, out long dataLength)
    {
        var json = new StringBuilder(count * 72);
        json.Append('{');
        long offset = 0;
        for (int i = 0; i < count; i++)
        {
            if (i > 0) json.Append(',');
            json.Append('"').Append(shortest ? Base36(i) : "t" + i.ToString("D7")).Append("\":{\"dtype\":\"").Append(i % 2 == 0 ? "BF16" : "F16")
                .Append(shortest ? "\",\"shape\":[],\"data_offsets\":[" : "\",\"shape\":[1],\"data_offsets\":[").Append(offset).Append(',').Append(offset + 2).Append("]}");
            offset += 2;
        }
        json.Append('}');
        dataLength = offset;
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static string Base36(int i)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        string s = "";
        do { s = digits[i % 36] + s; i /= 36; } while (i > 0);
        return s;
    }

    [Theory]
    [InlineData(20_000, false)]
    [InlineData(20_000, true)]
    [InlineData(1_300_000, false)] // ≈ 93 MB: about the largest header the reference accepts (100 MB), of tiny tensors
    public void TinyTensorHeader_ParsesWithinABoundedMultipleOfItsSize(int count, bool shortest)
    {
        byte[] json = TinyTensorHeader(count, shortest, out long dataLength);
        Assert.True(json.Length <= SafeTensorsHeader.MaxHeaderLength);
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var header = SafeTensorsHeader.Parse(json, 8 + json.Length, dataLength);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(count, header.Tensors.Length);
        double ratio = (double)allocated / json.Length;
        output.WriteLine($"{count:N0} entries, header {json.Length:N0} B: parse allocated {allocated:N0} B = {ratio:F2} × the header ({(double)allocated / count:F0} B per tensor)");
        Assert.True(ratio <= MaxBytesPerHeaderByte, $"allocated {ratio:F2} × the header size");
    }
}
