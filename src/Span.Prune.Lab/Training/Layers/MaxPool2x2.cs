namespace Span.Prune.Lab.Training.Layers;

/// <summary>2×2 max-pooling with stride 2 over <c>[planes × H × W]</c> (H and W even), as <c>nn.MaxPool2d(2)</c>.</summary>
/// <remarks>
/// Each output keeps the position of its maximum (the first in row-major window order on ties, as PyTorch's CPU
/// kernel) so that the backward pass routes the gradient to it; every other input gets 0.
/// </remarks>
public sealed class MaxPool2x2
{
    private readonly byte[] _argmax;

    /// <summary>A pool for up to <paramref name="maxPlanes"/> planes of <paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or not even.</exception>
    public MaxPool2x2(int height, int width, int maxPlanes)
    {
        if (height <= 0 || width <= 0 || height % 2 != 0 || width % 2 != 0) throw new ArgumentOutOfRangeException(nameof(height), "Height and width must be positive and even.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPlanes);
        Height = height;
        Width = width;
        MaxPlanes = maxPlanes;
        _argmax = new byte[maxPlanes * height * width / 4];
    }

    /// <summary>Input height.</summary>
    public int Height { get; }

    /// <summary>Input width.</summary>
    public int Width { get; }

    /// <summary>Largest number of planes (channels × images).</summary>
    public int MaxPlanes { get; }

    /// <summary>Pools <paramref name="x"/> (<c>[planes × H × W]</c>) into <paramref name="y"/> (<c>[planes × H/2 × W/2]</c>).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int planes)
    {
        if (planes <= 0 || planes > MaxPlanes) throw new ArgumentOutOfRangeException(nameof(planes));
        int h2 = Height / 2, w2 = Width / 2, w = Width;
        x = x[..(planes * Height * Width)];
        y = y[..(planes * h2 * w2)];
        Span<byte> arg = _argmax.AsSpan(0, y.Length);
        int o = 0;
        for (int p = 0; p < planes; p++)
        {
            ReadOnlySpan<float> plane = x.Slice(p * Height * Width, Height * Width);
            for (int yy = 0; yy < h2; yy++)
            {
                ReadOnlySpan<float> r0 = plane.Slice(2 * yy * w, w), r1 = plane.Slice((2 * yy + 1) * w, w);
                for (int xx = 0; xx < w2; xx++, o++)
                {
                    float best = r0[2 * xx];
                    byte at = 0;
                    if (r0[2 * xx + 1] > best) { best = r0[2 * xx + 1]; at = 1; }
                    if (r1[2 * xx] > best) { best = r1[2 * xx]; at = 2; }
                    if (r1[2 * xx + 1] > best) { best = r1[2 * xx + 1]; at = 3; }
                    y[o] = best;
                    arg[o] = at;
                }
            }
        }
    }

    /// <summary>Routes <paramref name="dy"/> to the maxima of the last forward: overwrites <paramref name="dx"/> (<c>[planes × H × W]</c>).</summary>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx, int planes)
    {
        if (planes <= 0 || planes > MaxPlanes) throw new ArgumentOutOfRangeException(nameof(planes));
        int h2 = Height / 2, w2 = Width / 2, w = Width;
        dy = dy[..(planes * h2 * w2)];
        dx = dx[..(planes * Height * Width)];
        ReadOnlySpan<byte> arg = _argmax.AsSpan(0, dy.Length);
        int o = 0;
        for (int p = 0; p < planes; p++)
        {
            Span<float> plane = dx.Slice(p * Height * Width, Height * Width);
            for (int yy = 0; yy < h2; yy++)
            {
                Span<float> r0 = plane.Slice(2 * yy * w, w), r1 = plane.Slice((2 * yy + 1) * w, w);
                for (int xx = 0; xx < w2; xx++, o++)
                {
                    float g = dy[o];
                    byte at = arg[o];
                    r0[2 * xx] = at == 0 ? g : 0f;
                    r0[2 * xx + 1] = at == 1 ? g : 0f;
                    r1[2 * xx] = at == 2 ? g : 0f;
                    r1[2 * xx + 1] = at == 3 ? g : 0f;
                }
            }
        }
    }
}
