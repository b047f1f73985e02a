using Span.Prune.Lab.Data;

namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// The IDX image/label loader (<see cref="IdxDataset.Read"/>) on arbitrary bytes split into a labels file and an
/// images file, each raw or gzipped (the loader tells by content), from a seekable or a forward-only stream.
/// </summary>
/// <remarks>
/// Input layout: byte 0 bit 0 set reads through forward-only streams (the growth path for unconfirmed sizes) instead
/// of seekable ones; bytes 1–2 are the labels file's length L (little-endian, clamped to what is there); then L bytes
/// of labels file, then the images file. Expected: <see cref="IdxFormatException"/>. Checked beyond that: an accepted
/// pair has as many images as labels, 28×28 pixels each, and every label below <see cref="IdxDataset.ClassCount"/>.
/// </remarks>
public static class IdxTarget
{
    public static void Run(byte[] input)
    {
        if (input.Length < 3)
            return;
        bool forwardOnly = (input[0] & 1) != 0;
        int labelsLength = Math.Min(input[1] | input[2] << 8, input.Length - 3);
        var labels = new MemoryStream(input, 3, labelsLength, writable: false);
        var images = new MemoryStream(input, 3 + labelsLength, input.Length - 3 - labelsLength, writable: false);
        ImageSet set;
        try
        {
            set = forwardOnly
                ? IdxDataset.Read(new ForwardOnlyStream(images), "images", new ForwardOnlyStream(labels), "labels")
                : IdxDataset.Read(images, "images", labels, "labels");
        }
        catch (IdxFormatException)
        {
            return;
        }
        Check(set);
    }

    /// <summary>A labels file and an images file as one input, for writing seeds.</summary>
    public static byte[] Pack(bool forwardOnly, ReadOnlySpan<byte> labels, ReadOnlySpan<byte> images) =>
        [(byte)(forwardOnly ? 1 : 0), (byte)labels.Length, (byte)(labels.Length >> 8), .. labels, .. images];

    private static void Check(ImageSet set)
    {
        if (set.Rows != IdxDataset.ImageRows || set.Columns != IdxDataset.ImageColumns || set.Labels.Length != set.Count
            || set.Pixels.Length != (long)set.Count * IdxDataset.ImageRows * IdxDataset.ImageColumns)
            throw new FuzzInvariantException($"accepted a set of {set.Count} {set.Rows}x{set.Columns} images with {set.Labels.Length} labels and {set.Pixels.Length} pixels");
        ReadOnlySpan<byte> labels = set.Labels.Span;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] >= IdxDataset.ClassCount)
                throw new FuzzInvariantException($"accepted label {labels[i]} at index {i}");
        }
    }

    /// <summary>A stream that cannot seek and has no length, as a pipe or a network stream.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
