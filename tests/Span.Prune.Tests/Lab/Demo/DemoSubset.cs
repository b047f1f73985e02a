using Span.Prune.Lab.Data;

namespace Span.Prune.Tests.Lab.Demo;

/// <summary>Small strided subsets of the embedded digits (every label is represented, since the files are sorted by label).</summary>
internal static class DemoSubset
{
    private static readonly Lazy<DigitData> s_all = new(IdxDataset.LoadEmbedded);

    public static DigitData Take(int train, int test) => new(Stride(s_all.Value.Train, train), Stride(s_all.Value.Test, test));

    private static ImageSet Stride(ImageSet set, int count)
    {
        int step = set.Count / count;
        byte[] pixels = new byte[count * set.ImageSize], labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            set.GetImage(i * step).CopyTo(pixels.AsSpan(i * set.ImageSize));
            labels[i] = set.Labels.Span[i * step];
        }
        return new ImageSet(set.Rows, set.Columns, pixels, labels);
    }
}
