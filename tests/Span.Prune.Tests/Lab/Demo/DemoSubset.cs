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
        return set.Select([.. Enumerable.Range(0, count).Select(i => i * step)]);
    }
}
