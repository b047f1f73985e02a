using System.Buffers.Binary;
using Span.Prune.Lab.Data;
using static Span.Prune.Tests.Lab.Data.IdxTestFiles;

namespace Span.Prune.Tests.Lab.Data;

/// <summary>
/// Every broken input throws <see cref="IdxFormatException"/> with a one-line message that starts with the file's
/// name, the right <see cref="IdxProblem"/>, and nothing else escapes. Each case runs in four containers: raw and
/// gzipped files in a directory (where a raw file's length is known up front), and raw and gzipped non-seekable
/// streams (where the reader learns the length only by reading).
/// </summary>
public class IdxBadInputTests
{
    public enum Container
    {
        RawFile,
        GzipFile,
        RawPipe,
        GzipPipe,
    }

    public static TheoryData<Container> Containers() => [Container.RawFile, Container.GzipFile, Container.RawPipe, Container.GzipPipe];

    private const int N = 100;

    private static readonly byte[] GoodPixels = Pixels(N, seed: 42);
    private static readonly byte[] GoodLabels = LabelValues(N);

    private static byte[] GoodImagesFile() => Images(GoodPixels, N);

    private static byte[] GoodLabelsFile() => Labels(GoodLabels, N);

    private static bool IsGzip(Container c) => c is Container.GzipFile or Container.GzipPipe;

    /// <summary>The name the exception must carry for the training images / labels in this container.</summary>
    private static string ImagesName(Container c) => c switch
    {
        Container.RawFile => "train-images-idx3-ubyte",
        Container.GzipFile => "train-images-idx3-ubyte.gz",
        _ => "images-stream",
    };

    private static string LabelsName(Container c) => c switch
    {
        Container.RawFile => "train-labels-idx1-ubyte",
        Container.GzipFile => "train-labels-idx1-ubyte.gz",
        _ => "labels-stream",
    };

    /// <summary>Loads the given raw IDX contents (gzipped first for the gzip containers) as the training set.</summary>
    private static void Load(Container c, byte[] imagesFile, byte[] labelsFile)
    {
        if (c is Container.RawPipe or Container.GzipPipe)
        {
            using var images = new NonSeekableStream(IsGzip(c) ? Gzip(imagesFile) : imagesFile);
            using var labels = new NonSeekableStream(IsGzip(c) ? Gzip(labelsFile) : labelsFile);
            IdxDataset.Read(images, "images-stream", labels, "labels-stream");
            return;
        }

        using var dir = new TempDirectory();
        dir.Write("train-images-idx3-ubyte", imagesFile, IsGzip(c));
        dir.Write("train-labels-idx1-ubyte", labelsFile, IsGzip(c));
        dir.Write("t10k-images-idx3-ubyte", GoodImagesFile(), gzip: false);
        dir.Write("t10k-labels-idx1-ubyte", GoodLabelsFile(), gzip: false);
        IdxDataset.LoadDirectory(dir.Path);
    }

    private static IdxFormatException AssertRefused(Action load, string fileName, IdxProblem problem, params string[] messageParts)
    {
        var e = Assert.Throws<IdxFormatException>(load);
        Assert.Equal(fileName, e.FileName);
        Assert.Equal(problem, e.Problem);
        Assert.StartsWith(fileName + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        foreach (string part in messageParts) Assert.Contains(part, e.Message);
        return e;
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void GoodFiles_Load(Container c) => Load(c, GoodImagesFile(), GoodLabelsFile());

    [Theory]
    [MemberData(nameof(Containers))]
    public void TruncatedImages_AreRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile()[..^100], GoodLabelsFile()), ImagesName(c), IdxProblem.Truncated, "78400");

    [Theory]
    [MemberData(nameof(Containers))]
    public void TruncatedImagesHeader_IsRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile()[..10], GoodLabelsFile()), ImagesName(c), IdxProblem.Truncated, "header");

    [Theory]
    [MemberData(nameof(Containers))]
    public void EmptyImagesFile_IsRefused(Container c) =>
        AssertRefused(() => Load(c, [], GoodLabelsFile()), ImagesName(c), IdxProblem.Truncated, "header");

    [Theory]
    [MemberData(nameof(Containers))]
    public void TruncatedLabels_AreRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile(), GoodLabelsFile()[..^1]), LabelsName(c), IdxProblem.Truncated);

    [Theory]
    [MemberData(nameof(Containers))]
    public void ImagesCountLargerThanData_IsRefused(Container c)
    {
        // The header says 101 images (and 101 labels exist), but the data hold only 100.
        byte[] labels = Labels(LabelValues(N + 1), N + 1);
        AssertRefused(() => Load(c, Images(GoodPixels, N + 1), labels), ImagesName(c), IdxProblem.Truncated, "79184");
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void ImagesCountSmallerThanData_IsRefused(Container c)
    {
        byte[] labels = Labels(LabelValues(N - 1), N - 1);
        AssertRefused(() => Load(c, Images(GoodPixels, N - 1), labels), ImagesName(c), IdxProblem.TrailingBytes);
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void LabelsCountLargerThanData_IsRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile(), Labels(GoodLabels, N + 1)), LabelsName(c), IdxProblem.Truncated);

    [Theory]
    [MemberData(nameof(Containers))]
    public void LabelsCountSmallerThanData_IsRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile(), Labels(GoodLabels, N - 1)), LabelsName(c), IdxProblem.TrailingBytes);

    [Theory]
    [MemberData(nameof(Containers))]
    public void TrailingBytesAfterImages_AreRefused(Container c) =>
        AssertRefused(() => Load(c, [.. GoodImagesFile(), 0], GoodLabelsFile()), ImagesName(c), IdxProblem.TrailingBytes);

    [Theory]
    [MemberData(nameof(Containers))]
    public void TrailingBytesAfterLabels_AreRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile(), [.. GoodLabelsFile(), 1, 2, 3]), LabelsName(c), IdxProblem.TrailingBytes);

    [Theory]
    [MemberData(nameof(Containers))]
    public void BadImagesMagic_IsRefused(Container c) =>
        AssertRefused(() => Load(c, Images(GoodPixels, N, magic: 0x00000801), GoodLabelsFile()), ImagesName(c), IdxProblem.BadMagic, "0x00000801", "0x00000803");

    [Theory]
    [MemberData(nameof(Containers))]
    public void BadLabelsMagic_IsRefused(Container c) =>
        AssertRefused(() => Load(c, GoodImagesFile(), Labels(GoodLabels, N, magic: 0x08030000)), LabelsName(c), IdxProblem.BadMagic, "0x08030000", "0x00000801");

    [Theory]
    [MemberData(nameof(Containers))]
    public void SwappedImagesAndLabels_AreRefused(Container c) =>
        AssertRefused(() => Load(c, GoodLabelsFile(), GoodImagesFile()), LabelsName(c), IdxProblem.BadMagic);

    [Theory]
    [InlineData(32, 32)]
    [InlineData(28, 27)]
    [InlineData(1, 784)]
    public void WrongDimensions_AreRefused(int rows, int columns)
    {
        foreach (Container c in Containers())
        {
            byte[] images = Images(Pixels(N, seed: 1, imageSize: rows * columns), N, rows, columns);
            AssertRefused(() => Load(c, images, GoodLabelsFile()), ImagesName(c), IdxProblem.BadDimensions, $"{rows}×{columns}", "28×28");
        }
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void ImageAndLabelCountsDiffer_AreRefused(Container c)
    {
        // Both files are consistent on their own: 100 images, 99 labels.
        byte[] labels = Labels(LabelValues(N - 1), N - 1);
        AssertRefused(() => Load(c, GoodImagesFile(), labels), ImagesName(c), IdxProblem.CountMismatch, "100 images", LabelsName(c), "99 labels");
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void LabelNotBelowTen_IsRefused(Container c)
    {
        byte[] labels = LabelValues(N);
        labels[45] = 12;
        labels[80] = 10;
        var e = AssertRefused(() => Load(c, GoodImagesFile(), Labels(labels, N)), LabelsName(c), IdxProblem.LabelOutOfRange);
        Assert.Equal($"{LabelsName(c)}: label 12 at index 45 is not < 10", e.Message);
        Assert.Equal(45, e.Index);
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void Label255_IsRefused(Container c)
    {
        byte[] labels = LabelValues(N);
        labels[^1] = 255;
        Assert.Equal(N - 1, AssertRefused(() => Load(c, GoodImagesFile(), Labels(labels, N)), LabelsName(c), IdxProblem.LabelOutOfRange).Index);
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void NegativeOrHugeCounts_AreRefused(Container c)
    {
        foreach (int count in new[] { -1, int.MinValue, IdxDataset.MaxCount + 1, int.MaxValue })
        {
            AssertRefused(() => Load(c, GoodImagesFile(), Labels(GoodLabels, count)), LabelsName(c), IdxProblem.CountOutOfRange, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void ImageCountBeyondOneArray_IsRefused(Container c)
    {
        // 3,000,000 images are under MaxCount but need 2.35 GB of pixels, more than one array holds. The matching
        // labels make the images header the first thing to fail.
        const int count = 3_000_000;
        byte[] labels = Labels(new byte[count], count);
        AssertRefused(() => Load(c, Images([], count), labels), ImagesName(c), IdxProblem.CountOutOfRange, "2352000000");
    }

    [Theory]
    [MemberData(nameof(Containers))]
    public void LyingHeader_AllocatesLittleBeforeItIsRefused(Container c)
    {
        // A 16-byte images file claims 2,000,000 images (1.57 GB). 2 MB of genuine labels let the header through to
        // the payload read, which must refuse it without allocating anywhere near what it claims.
        const int count = 2_000_000;
        byte[] labels = Labels(new byte[count], count), images = Images([], count);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertRefused(() => Load(c, images, labels), ImagesName(c), IdxProblem.Truncated, "1568000000");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 32L << 20, $"allocated {allocated} bytes");
    }

    [Fact]
    public void GzipWithForgedSizeTrailer_IsRefusedBeforeAllocating()
    {
        // The trailer's ISIZE agrees with the lying header, so only deflate's 1032:1 bound can tell it is impossible:
        // about 100 KB of incompressible gzip cannot hold the 1.57 GB that 2,000,000 images need. The random bytes
        // keep the decompressor from reaching (and rejecting) the forged trailer while the header is read.
        const int count = 2_000_000;
        byte[] images = Gzip(Images(Pixels(128, seed: 3), count));
        BinaryPrimitives.WriteUInt32LittleEndian(images.AsSpan(images.Length - 4), unchecked((uint)(16 + count * 784L)));
        byte[] labels = Labels(new byte[count], count);
        var labelsStream = new MemoryStream(labels);
        var imagesStream = new MemoryStream(images);
        long before = GC.GetAllocatedBytesForCurrentThread();
        AssertRefused(() => IdxDataset.Read(imagesStream, "forged.gz", labelsStream, "labels"), "forged.gz", IdxProblem.Truncated, "at most");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < count + (1L << 20), $"allocated {allocated} bytes");
    }

    [Fact]
    public void MissingFile_IsRefused_NamingIt()
    {
        using var dir = new TempDirectory();
        dir.Write("train-images-idx3-ubyte", GoodImagesFile(), gzip: true);
        dir.Write("t10k-images-idx3-ubyte", GoodImagesFile(), gzip: false);
        dir.Write("t10k-labels-idx1-ubyte", GoodLabelsFile(), gzip: false);

        AssertRefused(() => IdxDataset.LoadDirectory(dir.Path), "train-labels-idx1-ubyte", IdxProblem.FileMissing,
            "train-labels-idx1-ubyte.gz", dir.Path);
    }

    [Fact]
    public void MissingDirectory_IsRefused()
    {
        string missing = Path.Combine(Path.GetTempPath(), "spanprune-idx-missing-" + Guid.NewGuid().ToString("N"));
        AssertRefused(() => IdxDataset.LoadDirectory(missing), "train-images-idx3-ubyte", IdxProblem.FileMissing, missing);
    }

    public static TheoryData<string> GzipCorruptions() => ["flipped deflate data", "bad crc", "bad method", "bad flags"];

    [Theory]
    [MemberData(nameof(GzipCorruptions))]
    public void CorruptGzip_IsRefused(string corruption)
    {
        foreach (bool pipe in new[] { false, true })
        {
            byte[] images = Gzip(GoodImagesFile());
            switch (corruption)
            {
                case "flipped deflate data":
                    for (int i = images.Length / 3; i < images.Length / 3 + 16; i++) images[i] ^= 0xA5;
                    break;
                case "bad crc":
                    images[^8] ^= 0x01; // first byte of the CRC-32 in the trailer
                    break;
                case "bad method":
                    images[2] = 7; // compression method must be 8 (deflate)
                    break;
                case "bad flags":
                    images[3] = 0xE0; // reserved flag bits must be zero
                    break;
            }

            Stream imagesStream = pipe ? new NonSeekableStream(images) : new MemoryStream(images);
            var e = AssertRefused(() => IdxDataset.Read(imagesStream, "corrupt.gz", new MemoryStream(GoodLabelsFile()), "labels"),
                "corrupt.gz", IdxProblem.CorruptGzip, "gzip");
            Assert.IsType<InvalidDataException>(e.InnerException);
        }
    }

    [Fact]
    public void CorruptGzip_InADirectory_NamesTheFile()
    {
        using var dir = new TempDirectory();
        byte[] labels = Gzip(GoodLabelsFile());
        labels[^8] ^= 0xFF;
        File.WriteAllBytes(dir.File("t10k-labels-idx1-ubyte.gz"), labels);
        dir.Write("t10k-images-idx3-ubyte", GoodImagesFile(), gzip: true);
        dir.Write("train-images-idx3-ubyte", GoodImagesFile(), gzip: false);
        dir.Write("train-labels-idx1-ubyte", GoodLabelsFile(), gzip: false);

        AssertRefused(() => IdxDataset.LoadDirectory(dir.Path), "t10k-labels-idx1-ubyte.gz", IdxProblem.CorruptGzip);
    }

    [Fact]
    public void RandomCorruptions_OnlyEverThrowIdxFormatException()
    {
        // A small fuzz: flip, cut and extend a gzipped and a raw file at random; every outcome is success or an
        // IdxFormatException naming the file, never another exception type.
        var rng = new Random(2024);
        byte[] gzImages = Gzip(GoodImagesFile()), rawLabels = GoodLabelsFile();
        for (int round = 0; round < 300; round++)
        {
            byte[] images = (byte[])gzImages.Clone(), labels = (byte[])rawLabels.Clone();
            byte[] target = round % 2 == 0 ? images : labels;
            switch (rng.Next(3))
            {
                case 0:
                    for (int k = rng.Next(1, 4); k > 0; k--) target[rng.Next(target.Length)] ^= (byte)rng.Next(1, 256);
                    break;
                case 1:
                    Array.Resize(ref target, rng.Next(target.Length));
                    break;
                default:
                    Array.Resize(ref target, target.Length + rng.Next(1, 50));
                    break;
            }
            if (round % 2 == 0) images = target; else labels = target;

            foreach (bool pipe in new[] { false, true })
            {
                Stream i = pipe ? new NonSeekableStream(images) : new MemoryStream(images);
                Stream l = pipe ? new NonSeekableStream(labels) : new MemoryStream(labels);
                try
                {
                    IdxDataset.Read(i, "i.gz", l, "l");
                }
                catch (IdxFormatException e)
                {
                    Assert.Contains(e.FileName, new[] { "i.gz", "l" });
                }
            }
        }
    }
}
