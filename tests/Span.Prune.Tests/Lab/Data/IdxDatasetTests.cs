using Span.Prune.Lab.Data;
using static Span.Prune.Tests.Lab.Data.IdxTestFiles;

namespace Span.Prune.Tests.Lab.Data;

/// <summary>Good inputs: generated IDX files, raw and gzipped, as files and as streams, up to Fashion-MNIST's size.</summary>
public class IdxDatasetTests
{
    private static void WriteSet(TempDirectory dir, string prefix, byte[] pixels, byte[] labels, bool gzip)
    {
        dir.Write(prefix + "-images-idx3-ubyte", Images(pixels, labels.Length), gzip);
        dir.Write(prefix + "-labels-idx1-ubyte", Labels(labels, labels.Length), gzip);
    }

    private static void AssertSet(ImageSet set, byte[] pixels, byte[] labels)
    {
        Assert.Equal(labels.Length, set.Count);
        Assert.Equal(28, set.Rows);
        Assert.Equal(28, set.Columns);
        Assert.Equal(784, set.ImageSize);
        Assert.True(set.Pixels.Span.SequenceEqual(pixels), "pixels differ");
        Assert.True(set.Labels.Span.SequenceEqual(labels), "labels differ");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadDirectory_RoundTrips(bool gzip)
    {
        using var dir = new TempDirectory();
        byte[] trainPixels = Pixels(100, seed: 1), trainLabels = LabelValues(100);
        byte[] testPixels = Pixels(37, seed: 2), testLabels = LabelValues(37, start: 3);
        WriteSet(dir, "train", trainPixels, trainLabels, gzip);
        WriteSet(dir, "t10k", testPixels, testLabels, gzip);

        DigitData data = IdxDataset.LoadDirectory(dir.Path);

        AssertSet(data.Train, trainPixels, trainLabels);
        AssertSet(data.Test, testPixels, testLabels);
    }

    [Fact]
    public void LoadDirectory_EmptySets_Load()
    {
        using var dir = new TempDirectory();
        WriteSet(dir, "train", [], [], gzip: false);
        WriteSet(dir, "t10k", [], [], gzip: true);

        DigitData data = IdxDataset.LoadDirectory(dir.Path);

        Assert.Equal(0, data.Train.Count);
        Assert.Equal(0, data.Test.Count);
    }

    [Fact]
    public void LoadDirectory_TellsGzipByContent_AndMixesRawAndGzip()
    {
        using var dir = new TempDirectory();
        byte[] trainPixels = Pixels(20, seed: 3), trainLabels = LabelValues(20);
        byte[] testPixels = Pixels(10, seed: 4), testLabels = LabelValues(10);
        // Gzipped content under the raw name, raw labels next to it, and a .gz pair for the test set.
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte"), Gzip(Images(trainPixels, 20)));
        dir.Write("train-labels-idx1-ubyte", Labels(trainLabels, 20), gzip: false);
        WriteSet(dir, "t10k", testPixels, testLabels, gzip: true);

        DigitData data = IdxDataset.LoadDirectory(dir.Path);

        AssertSet(data.Train, trainPixels, trainLabels);
        AssertSet(data.Test, testPixels, testLabels);
    }

    [Fact]
    public void LoadDirectory_BothNamesPresent_ReadsTheRawFile()
    {
        using var dir = new TempDirectory();
        byte[] rawPixels = Pixels(5, seed: 5), gzPixels = Pixels(5, seed: 6), labels = LabelValues(5);
        WriteSet(dir, "train", rawPixels, labels, gzip: false);
        dir.Write("train-images-idx3-ubyte", Images(gzPixels, 5), gzip: true);
        WriteSet(dir, "t10k", rawPixels, labels, gzip: false);

        AssertSet(IdxDataset.LoadDirectory(dir.Path).Train, rawPixels, labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadDirectory_FashionMnistSize_60000And10000(bool gzip)
    {
        using var dir = new TempDirectory();
        byte[] trainPixels = Pixels(60_000, seed: 7, compressible: true), trainLabels = LabelValues(60_000);
        byte[] testPixels = Pixels(10_000, seed: 8, compressible: true), testLabels = LabelValues(10_000, start: 1);
        WriteSet(dir, "train", trainPixels, trainLabels, gzip);
        WriteSet(dir, "t10k", testPixels, testLabels, gzip);

        DigitData data = IdxDataset.LoadDirectory(dir.Path);

        AssertSet(data.Train, trainPixels, trainLabels);
        AssertSet(data.Test, testPixels, testLabels);
        Assert.True(data.Train.GetImage(59_999).SequenceEqual(trainPixels.AsSpan(59_999 * 784, 784)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_NonSeekableStreams_WithShortReads(bool gzip)
    {
        // 3,000 images = 2.35 MB, past the reader's 1 MB first chunk, so the growing path is exercised too.
        byte[] pixels = Pixels(3_000, seed: 9), labels = LabelValues(3_000);
        byte[] imagesFile = Images(pixels, 3_000), labelsFile = Labels(labels, 3_000);
        using var images = new NonSeekableStream(gzip ? Gzip(imagesFile) : imagesFile);
        using var labelsStream = new NonSeekableStream(gzip ? Gzip(labelsFile) : labelsFile);

        ImageSet set = IdxDataset.Read(images, "images", labelsStream, "labels");

        AssertSet(set, pixels, labels);
        Assert.False(images.Disposed);
        Assert.False(labelsStream.Disposed);
    }

    [Fact]
    public void Read_SeekableStreamsNotAtTheStart_ReadFromTheirPosition()
    {
        byte[] pixels = Pixels(4, seed: 10), labels = LabelValues(4);
        var images = new MemoryStream([0xEE, 0xEE, .. Gzip(Images(pixels, 4))]) { Position = 2 };
        var labelsStream = new MemoryStream([0xEE, .. Labels(labels, 4)]) { Position = 1 };

        AssertSet(IdxDataset.Read(images, "images", labelsStream, "labels"), pixels, labels);
    }

    [Fact]
    public void Read_GzipWithoutASizeHint_StillReadsExactly()
    {
        // A second, empty gzip member makes the trailer's ISIZE 0, so the reader cannot trust it and grows its buffer.
        byte[] pixels = Pixels(1_500, seed: 11), labels = LabelValues(1_500);
        byte[] images = [.. Gzip(Images(pixels, 1_500)), .. Gzip([])];

        AssertSet(IdxDataset.Read(new MemoryStream(images), "images", new MemoryStream(Labels(labels, 1_500)), "labels"), pixels, labels);
    }

    [Fact]
    public void Read_NullArguments_Throw()
    {
        var s = new MemoryStream();
        Assert.Throws<ArgumentNullException>(() => IdxDataset.Read(null!, "i", s, "l"));
        Assert.Throws<ArgumentNullException>(() => IdxDataset.Read(s, null!, s, "l"));
        Assert.Throws<ArgumentNullException>(() => IdxDataset.Read(s, "i", null!, "l"));
        Assert.Throws<ArgumentNullException>(() => IdxDataset.Read(s, "i", s, null!));
        var closed = new MemoryStream();
        closed.Dispose();
        Assert.Equal("images", Assert.Throws<ArgumentException>(() => IdxDataset.Read(closed, "i", s, "l")).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => IdxDataset.Read(s, "i", closed, "l")).ParamName);
        Assert.ThrowsAny<ArgumentException>(() => IdxDataset.LoadDirectory(""));
        Assert.ThrowsAny<ArgumentException>(() => IdxDataset.LoadDirectory(null!));
    }

    [Fact]
    public void ImageSet_Constructor_Copies_AndValidates()
    {
        byte[] pixels = Pixels(3, seed: 12, imageSize: 6), labels = [9, 0, 4];
        var set = new ImageSet(2, 3, pixels, labels);
        pixels[0] ^= 0xFF;
        labels[0] = 1;

        Assert.Equal(3, set.Count);
        Assert.Equal(6, set.ImageSize);
        Assert.NotEqual(pixels[0], set.Pixels.Span[0]);
        Assert.Equal(9, set.Labels.Span[0]);
        Assert.True(set.GetImage(2).SequenceEqual(pixels.AsSpan(12, 6)));

        Assert.Throws<ArgumentOutOfRangeException>(() => set.GetImage(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.GetImage(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageSet(0, 3, [], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageSet(2, -1, [], []));
        var length = Assert.Throws<ArgumentException>(() => new ImageSet(2, 3, pixels.AsSpan(1), labels));
        Assert.Equal("pixels", length.ParamName);
        var label = Assert.Throws<ArgumentException>(() => new ImageSet(2, 3, pixels, [1, 10, 2]));
        Assert.Equal("labels", label.ParamName);
        Assert.Contains("Label 10 at index 1", label.Message);
    }

    [Fact]
    public void Select_CopiesTheNamedImagesAndLabelsInOrder()
    {
        byte[] pixels = [.. Enumerable.Range(0, 4 * 6).Select(i => (byte)i)];
        var set = new ImageSet(2, 3, pixels, [3, 1, 4, 1]);
        ImageSet picked = set.Select([2, 0, 2]);
        Assert.Equal(3, picked.Count);
        Assert.Equal((2, 3), (picked.Rows, picked.Columns));
        Assert.Equal(pixels[12..18].Concat(pixels[0..6]).Concat(pixels[12..18]), picked.Pixels.ToArray());
        Assert.Equal(new byte[] { 4, 3, 4 }, picked.Labels.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Select([4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Select([-1]));
    }
}
