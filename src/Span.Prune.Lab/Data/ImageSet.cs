namespace Span.Prune.Lab.Data;

/// <summary>
/// A set of labelled greyscale images, immutable: <see cref="Count"/> images of <see cref="Rows"/>×<see cref="Columns"/>
/// bytes each and one class label per image.
/// </summary>
/// <remarks>
/// <para>Layout: <see cref="Pixels"/> is image-major and row-major inside an image, exactly the IDX data section:
/// pixel (r, c) of image i is <c>Pixels.Span[i·ImageSize + r·Columns + c]</c>, 0 = background, 255 = full ink.
/// Networks that want [0, 1] inputs divide by 255.</para>
/// <para>The set owns its arrays; the public constructor copies, so no caller can change a set after it is made.</para>
/// </remarks>
public sealed class ImageSet
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    /// <summary>Creates a set from copies of <paramref name="pixels"/> and <paramref name="labels"/>.</summary>
    /// <param name="rows">Rows per image, &gt; 0.</param>
    /// <param name="columns">Columns per image, &gt; 0.</param>
    /// <param name="pixels">labels.Length · rows · columns bytes, image-major.</param>
    /// <param name="labels">One class per image, each &lt; <see cref="IdxDataset.ClassCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The pixel count is not labels · rows · columns, or a label is ≥ 10.</exception>
    public ImageSet(int rows, int columns, ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (pixels.Length != (long)labels.Length * rows * columns)
        {
            throw new ArgumentException(
                $"Length {pixels.Length} does not match {labels.Length} images of {rows}×{columns} = {(long)labels.Length * rows * columns}.",
                nameof(pixels));
        }

        int bad = IdxDataset.IndexOfBadLabel(labels);
        if (bad >= 0)
        {
            throw new ArgumentException($"Label {labels[bad]} at index {bad} is not < {IdxDataset.ClassCount}.", nameof(labels));
        }

        _pixels = pixels.ToArray();
        _labels = labels.ToArray();
        Rows = rows;
        Columns = columns;
    }

    private ImageSet(byte[] pixels, byte[] labels, int rows, int columns)
    {
        _pixels = pixels;
        _labels = labels;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>
    /// Wraps arrays the caller has validated and gives up, without copying: the loader's path, which must not hold a
    /// 47 MB Fashion-MNIST training set twice.
    /// </summary>
    internal static ImageSet TakeOwnership(byte[] pixels, byte[] labels, int rows, int columns)
    {
        System.Diagnostics.Debug.Assert(pixels.LongLength == (long)labels.Length * rows * columns);
        System.Diagnostics.Debug.Assert(IdxDataset.IndexOfBadLabel(labels) < 0);
        return new ImageSet(pixels, labels, rows, columns);
    }

    /// <summary>The number of images (and labels).</summary>
    public int Count => _labels.Length;

    /// <summary>Rows per image (28 for the digit sets).</summary>
    public int Rows { get; }

    /// <summary>Columns per image (28 for the digit sets).</summary>
    public int Columns { get; }

    /// <summary>Bytes per image, <see cref="Rows"/> · <see cref="Columns"/> (784 for the digit sets).</summary>
    public int ImageSize => Rows * Columns;

    /// <summary><see cref="Count"/> · <see cref="ImageSize"/> pixel bytes, image-major, row-major inside an image.</summary>
    public ReadOnlyMemory<byte> Pixels => _pixels;

    /// <summary><see cref="Count"/> class labels, each &lt; <see cref="IdxDataset.ClassCount"/>.</summary>
    public ReadOnlyMemory<byte> Labels => _labels;

    /// <summary>A new set of the images at <paramref name="indices"/>, in that order, with their labels.</summary>
    /// <param name="indices">Indices into this set (repeats allowed).</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in [0, <see cref="Count"/>).</exception>
    public ImageSet Select(ReadOnlySpan<int> indices)
    {
        int size = ImageSize;
        byte[] pixels = new byte[indices.Length * size], labels = new byte[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            GetImage(indices[i]).CopyTo(pixels.AsSpan(i * size, size));
            labels[i] = _labels[indices[i]];
        }
        return new ImageSet(pixels, labels, Rows, Columns);
    }

    /// <summary>The <see cref="ImageSize"/> pixels of image <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public ReadOnlySpan<byte> GetImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ReadOnlySpan<byte>(_pixels, index * ImageSize, ImageSize);
    }
}
