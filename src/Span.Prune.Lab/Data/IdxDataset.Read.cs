using System.Buffers.Binary;
using System.IO.Compression;

namespace Span.Prune.Lab.Data;

// The stream-level IDX reader: gzip detection, header rules, and the bounded-memory payload read.
public static partial class IdxDataset
{
    private enum IdxKind
    {
        Images,
        Labels,
    }

    private const int ImagesMagic = 0x00000803; // unsigned-byte data, 3 dimensions
    private const int LabelsMagic = 0x00000801; // unsigned-byte data, 1 dimension
    private const int ImagesHeaderSize = 16;
    private const int LabelsHeaderSize = 8;

    /// <summary>Where a payload of unconfirmed size starts growing; large enough that the digit labels need no growth.</summary>
    private const int InitialGrowthChunk = 1 << 20;

    /// <summary>
    /// Deflate's largest expansion: a 258-byte match coded in as few as 2 bits gives 4·258 = 1032 output bytes per input byte, so a gzip
    /// file of n bytes cannot decompress to more than 1032·n (zlib's technical notes state the same bound).
    /// </summary>
    private const int DeflateMaxRatio = 1032;

    /// <summary>How far past the promised data a gzip stream is decoded to find out whether it is corrupt.</summary>
    private const long TrailingDrainLimit = 64L << 20;

    /// <summary>
    /// Reads one IDX file (header and data) from <paramref name="source"/> and returns its data bytes, after checking
    /// every rule; <paramref name="expectedCount"/> ≥ 0 is the labels' count an images file must match.
    /// </summary>
    private static byte[] ReadIdx(Stream source, string name, IdxKind kind, int expectedCount, string? countSourceName)
    {
        Stream? decoded = null;
        try
        {
            decoded = OpenDecoded(source, out long? rawLength, out long? gzipLength, out uint? gzipSizeHint);
            int headerSize = kind == IdxKind.Images ? ImagesHeaderSize : LabelsHeaderSize;
            Span<byte> header = stackalloc byte[ImagesHeaderSize];
            header = header[..headerSize];
            int got = decoded.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (got < headerSize)
            {
                throw new IdxFormatException(name, IdxProblem.Truncated, $"ends inside the {headerSize}-byte header after {got} bytes");
            }

            int count = CheckHeader(header, name, kind, expectedCount, countSourceName);
            long promised = kind == IdxKind.Images ? (long)count * ImageRows * ImageColumns : count;
            string what = kind == IdxKind.Images ? "pixel" : "label";

            // A raw stream of known length is held to the header before anything is allocated.
            if (rawLength is long length)
            {
                long available = length - headerSize;
                if (available < promised)
                {
                    throw new IdxFormatException(name, IdxProblem.Truncated,
                        $"the header promises {promised} {what} bytes ({count} items) but only {available} follow it");
                }

                if (available > promised)
                {
                    throw new IdxFormatException(name, IdxProblem.TrailingBytes,
                        $"{available - promised} bytes follow the {promised} {what} bytes the header promises ({count} items)");
                }
            }

            // A gzip file of known length caps what it can hold; a header beyond that cap is refused unread, and no
            // size hint from such a file is trusted for the allocation below.
            if (gzipLength is long compressed && headerSize + promised > compressed * DeflateMaxRatio)
            {
                throw new IdxFormatException(name, IdxProblem.Truncated,
                    $"the header promises {promised} {what} bytes ({count} items) but {compressed} gzipped bytes hold at most {compressed * DeflateMaxRatio}");
            }

            // The gzip trailer's ISIZE is the decompressed size mod 2^32; when it agrees with the header the exact
            // array is allocated at once. It is only a hint (a multi-member file states its last member's size), so
            // a disagreement just means reading without trusting either number.
            bool sizeConfirmed = rawLength is not null
                || (gzipSizeHint is uint isize && isize == unchecked((uint)(headerSize + promised)));
            byte[] data = ReadPayload(decoded, name, (int)promised, sizeConfirmed, what, count);

            if (kind == IdxKind.Labels)
            {
                int bad = IndexOfBadLabel(data);
                if (bad >= 0)
                {
                    throw new IdxFormatException(name, IdxProblem.LabelOutOfRange, $"label {data[bad]} at index {bad} is not < {ClassCount}", bad);
                }
            }

            return data;
        }
        catch (InvalidDataException e)
        {
            // The decompressor's own text is kept as the inner exception only: for a CRC mismatch it says
            // "unsupported compression method", which would mislead a reader of the one-line message.
            throw new IdxFormatException(name, IdxProblem.CorruptGzip, "corrupt gzip stream (bad header, deflate data or checksum)", innerException: e);
        }
        catch (EndOfStreamException e)
        {
            throw new IdxFormatException(name, IdxProblem.Truncated, "ends before the data the header promises", innerException: e);
        }
        finally
        {
            // The caller's stream stays open: only wrappers made here are disposed.
            if (decoded is not null && !ReferenceEquals(decoded, source))
            {
                decoded.Dispose();
            }
        }
    }

    /// <summary>
    /// Returns a stream of the IDX bytes: <paramref name="source"/> itself (rewound) for a raw seekable stream, a
    /// <see cref="GZipStream"/> when the content starts with the gzip magic 1f 8b. <paramref name="rawLength"/> is
    /// the raw IDX length when known; <paramref name="gzipLength"/> the compressed length and
    /// <paramref name="gzipSizeHint"/> the gzip trailer's ISIZE when the stream can seek.
    /// </summary>
    private static Stream OpenDecoded(Stream source, out long? rawLength, out long? gzipLength, out uint? gzipSizeHint)
    {
        rawLength = null;
        gzipLength = null;
        gzipSizeHint = null;
        bool seekable = source.CanSeek;
        long start = seekable ? source.Position : 0;

        Span<byte> magic = stackalloc byte[2];
        int got = source.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;

        Stream rewound;
        if (seekable)
        {
            source.Position = start;
            rewound = source;
        }
        else
        {
            rewound = new PrefixedReadStream(magic[..got].ToArray(), source);
        }

        if (!gzip)
        {
            if (seekable)
            {
                rawLength = source.Length - start;
            }

            return rewound;
        }

        if (seekable)
        {
            gzipLength = source.Length - start;
        }

        // A gzip member is at least 18 bytes (10 header, 8 trailer); the last 4 are ISIZE, little-endian.
        if (seekable && source.Length - start >= 18)
        {
            Span<byte> isize = stackalloc byte[4];
            source.Seek(-4, SeekOrigin.End);
            if (source.ReadAtLeast(isize, 4, throwOnEndOfStream: false) == 4)
            {
                gzipSizeHint = BinaryPrimitives.ReadUInt32LittleEndian(isize);
            }

            source.Position = start;
        }

        return new GZipStream(rewound, CompressionMode.Decompress, leaveOpen: true);
    }

    /// <summary>Checks the magic number, the dimensions and the count; returns the count.</summary>
    private static int CheckHeader(ReadOnlySpan<byte> header, string name, IdxKind kind, int expectedCount, string? countSourceName)
    {
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        int expectedMagic = kind == IdxKind.Images ? ImagesMagic : LabelsMagic;
        if (magic != expectedMagic)
        {
            string expected = kind == IdxKind.Images ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension";
            throw new IdxFormatException(name, IdxProblem.BadMagic, $"magic number 0x{magic:X8} is not 0x{expectedMagic:X8} ({expected})");
        }

        int count = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (kind == IdxKind.Images)
        {
            int rows = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
            int columns = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
            if (rows != ImageRows || columns != ImageColumns)
            {
                throw new IdxFormatException(name, IdxProblem.BadDimensions,
                    $"images are {rows}×{columns}, not {ImageRows}×{ImageColumns} (the reference networks take {ImageRows * ImageColumns} inputs)");
            }
        }

        if ((uint)count > MaxCount)
        {
            throw new IdxFormatException(name, IdxProblem.CountOutOfRange, $"count {count} is not in [0, {MaxCount}]");
        }

        if (kind == IdxKind.Images && (long)count * ImageRows * ImageColumns > Array.MaxLength)
        {
            throw new IdxFormatException(name, IdxProblem.CountOutOfRange,
                $"count {count} needs {(long)count * ImageRows * ImageColumns} pixel bytes, more than one array holds ({Array.MaxLength})");
        }

        if (expectedCount >= 0 && count != expectedCount)
        {
            throw new IdxFormatException(name, IdxProblem.CountMismatch, $"holds {count} images but {countSourceName} holds {expectedCount} labels");
        }

        return count;
    }

    /// <summary>
    /// Reads exactly <paramref name="promised"/> bytes and then requires the end of the stream. Unless the size is
    /// confirmed by the file itself, the buffer starts at <see cref="InitialGrowthChunk"/> and doubles as data
    /// arrives (never beyond the promise), so memory follows the data actually present, not the header's claim.
    /// </summary>
    private static byte[] ReadPayload(Stream decoded, string name, int promised, bool sizeConfirmed, string what, int count)
    {
        byte[] data = new byte[sizeConfirmed ? promised : Math.Min(promised, InitialGrowthChunk)];
        int filled = 0;
        while (true)
        {
            if (filled == data.Length)
            {
                if (filled == promised)
                {
                    break;
                }

                Array.Resize(ref data, (int)Math.Min(promised, 2L * data.Length));
            }

            int read = decoded.Read(data, filled, data.Length - filled);
            if (read == 0)
            {
                throw new IdxFormatException(name, IdxProblem.Truncated,
                    $"the header promises {promised} {what} bytes ({count} items) but the data end after {filled}");
            }

            filled += read;
        }

        // One more byte must not exist. For gzip this read also makes the decompressor reach and check the trailer.
        Span<byte> probe = stackalloc byte[1];
        if (decoded.Read(probe) != 0)
        {
            // Corrupt deflate data can decode to too many bytes before the CRC check fails at the end; the corrupt
            // stream, not the count, is then the real fault. Decoding on (bounded, into a small buffer) lets the
            // decompressor say so: it throws InvalidDataException, which the caller reports as CorruptGzip.
            if (decoded is GZipStream)
            {
                DrainAtMost(decoded, TrailingDrainLimit);
            }

            throw new IdxFormatException(name, IdxProblem.TrailingBytes,
                $"bytes follow the {promised} {what} bytes the header promises ({count} items)");
        }

        return data;
    }

    private static void DrainAtMost(Stream stream, long limit)
    {
        byte[] sink = new byte[64 * 1024];
        for (long total = 0; total < limit;)
        {
            int read = stream.Read(sink);
            if (read == 0)
            {
                return;
            }

            total += read;
        }
    }
}
