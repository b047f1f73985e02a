namespace Span.Prune.Tests.Lab.Training;

/// <summary>Generated digit-like images: class k lights a 6×6 block at a class-specific place, plus noise.</summary>
internal static class Synthetic
{
    public sealed record Set(byte[] Pixels, byte[] Labels, int Count);

    public static Set Images(int count, int seed)
    {
        var rng = new Random(seed);
        byte[] pixels = new byte[count * 784], labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int k = i % 10;
            labels[i] = (byte)k;
            int top = 2 + (k / 5) * 12 + rng.Next(3), left = 2 + (k % 5) * 5 + rng.Next(2) - 1;
            Span<byte> image = pixels.AsSpan(i * 784, 784);
            for (int p = 0; p < 784; p++) image[p] = (byte)rng.Next(0, 60);
            for (int y = top; y < Math.Min(28, top + 6); y++)
                for (int x = Math.Max(0, left); x < Math.Min(28, left + 6); x++) image[y * 28 + x] = (byte)rng.Next(160, 256);
        }
        return new Set(pixels, labels, count);
    }
}
