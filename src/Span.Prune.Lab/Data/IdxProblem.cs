namespace Span.Prune.Lab.Data;

/// <summary>Which rule of the IDX format (or of the digit data sets) a file breaks; see <see cref="IdxFormatException.Problem"/>.</summary>
public enum IdxProblem
{
    /// <summary>The file does not exist (neither the raw nor the <c>.gz</c> name).</summary>
    FileMissing,

    /// <summary>The stream ends inside the header or before the data the header promises.</summary>
    Truncated,

    /// <summary>Bytes follow the data the header promises (the header's count is too small).</summary>
    TrailingBytes,

    /// <summary>The first four bytes are not the magic number of the expected IDX file (0x00000803 for images, 0x00000801 for labels).</summary>
    BadMagic,

    /// <summary>The images are not 28×28, the input size of the reference networks.</summary>
    BadDimensions,

    /// <summary>The header's count is negative or larger than the loader accepts (see <see cref="IdxDataset.MaxCount"/>).</summary>
    CountOutOfRange,

    /// <summary>The images file and the labels file hold different numbers of items.</summary>
    CountMismatch,

    /// <summary>A label is not a digit class, i.e. not &lt; <see cref="IdxDataset.ClassCount"/>; <see cref="IdxFormatException.Index"/> says which.</summary>
    LabelOutOfRange,

    /// <summary>The gzip stream is corrupt (bad header, bad deflate data or a CRC mismatch).</summary>
    CorruptGzip,
}
