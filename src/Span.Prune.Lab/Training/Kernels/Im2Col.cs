using System.Numerics.Tensors;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// Lowering of a stride-1 convolution to a GEMM (im2col) and its adjoint (col2im), on the engine's
/// channel-major layout.
/// </summary>
/// <remarks>
/// <para>Input layout <c>[C × B × H × W]</c> (each channel holds the whole batch, image after image). The column matrix
/// is <c>[(C·K·K) × (B·Ho·Wo)]</c>: row <c>(c·K + ky)·K + kx</c> (the OIHW weight order, so <c>W·col</c> is the
/// convolution), column <c>(b·Ho + y)·Wo + x</c>, value <c>input[c, b, y + ky − pad, x + kx − pad]</c> or 0 outside
/// the image. <c>Ho = H + 2·pad − K + 1</c>.</para>
/// <para>Each (row, image, output line) is one shifted copy of an input line with zeroed edges, so the loops copy
/// runs rather than single elements. col2im adds the runs back in a fixed order, so it is deterministic.</para>
/// </remarks>
internal static class Im2Col
{
    /// <summary>Output height or width of a stride-1 convolution.</summary>
    public static int OutputSize(int size, int kernel, int pad) => size + 2 * pad - kernel + 1;

    /// <summary>Fills <paramref name="columns"/> (<c>[(C·K·K) × (B·Ho·Wo)]</c>) from <paramref name="input"/> (<c>[C × B × H × W]</c>).</summary>
    public static void Lower(ReadOnlySpan<float> input, int channels, int batch, int height, int width, int kernel, int pad, Span<float> columns) =>
        Lower(input, channels, batch * height * width, batch, height, width, kernel, pad, columns);

    /// <summary>
    /// As <see cref="Lower(ReadOnlySpan{float}, int, int, int, int, int, int, Span{float})"/> for <paramref name="batch"/>
    /// images of a larger batch: channel <c>c</c>'s images start at <c>c·channelStride</c> (a chunk of images of a
    /// <c>[C × B × H × W]</c> tensor has <c>channelStride = B·H·W</c>).
    /// </summary>
    public static void Lower(ReadOnlySpan<float> input, int channels, int channelStride, int batch, int height, int width, int kernel, int pad, Span<float> columns)
    {
        int ho = OutputSize(height, kernel, pad), wo = OutputSize(width, kernel, pad);
        int n = batch * ho * wo, plane = height * width;
        if (channelStride < batch * plane || input.Length < (channels - 1) * channelStride + batch * plane) throw new ArgumentException("Input is too short.", nameof(input));
        if (columns.Length < channels * kernel * kernel * n) throw new ArgumentException("Columns is too short.", nameof(columns));
        if (ho == height && wo == width)
        {
            LowerSame(input, channels, channelStride, batch, height, width, kernel, pad, columns);
            return;
        }
        for (int c = 0; c < channels; c++)
        {
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    Span<float> row = columns.Slice(((c * kernel + ky) * kernel + kx) * n, n);
                    // Output x reads input x + kx − pad: valid for x in [x0, x1).
                    int dx = kx - pad;
                    int x0 = Math.Max(0, -dx), x1 = Math.Min(wo, width - dx);
                    for (int b = 0; b < batch; b++)
                    {
                        ReadOnlySpan<float> image = input.Slice(c * channelStride + b * plane, plane);
                        for (int y = 0; y < ho; y++)
                        {
                            Span<float> dst = row.Slice((b * ho + y) * wo, wo);
                            int sy = y + ky - pad;
                            if ((uint)sy >= (uint)height || x1 <= x0)
                            {
                                dst.Clear();
                                continue;
                            }
                            if (x0 > 0) dst[..x0].Clear();
                            image.Slice(sy * width + x0 + dx, x1 - x0).CopyTo(dst[x0..x1]);
                            if (x1 < wo) dst[x1..].Clear();
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Lower(ReadOnlySpan{float}, int, int, int, int, int, int, Span{float})"/>: overwrites <paramref name="input"/> (<c>[C × B × H × W]</c>) with the sum of
    /// every column entry that was read from each input element.
    /// </summary>
    public static void Raise(ReadOnlySpan<float> columns, int channels, int batch, int height, int width, int kernel, int pad, Span<float> input)
    {
        int ho = OutputSize(height, kernel, pad), wo = OutputSize(width, kernel, pad);
        int n = batch * ho * wo, plane = height * width;
        if (input.Length < channels * batch * plane) throw new ArgumentException("Input is too short.", nameof(input));
        if (columns.Length < channels * kernel * kernel * n) throw new ArgumentException("Columns is too short.", nameof(columns));
        input[..(channels * batch * plane)].Clear();
        int channelStride = batch * plane;
        for (int c = 0; c < channels; c++)
        {
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    ReadOnlySpan<float> row = columns.Slice(((c * kernel + ky) * kernel + kx) * n, n);
                    int dx = kx - pad;
                    int x0 = Math.Max(0, -dx), x1 = Math.Min(wo, width - dx);
                    if (x1 <= x0) continue;
                    for (int b = 0; b < batch; b++)
                    {
                        Span<float> image = input.Slice(c * channelStride + b * plane, plane);
                        for (int y = 0; y < ho; y++)
                        {
                            int sy = y + ky - pad;
                            if ((uint)sy >= (uint)height) continue;
                            Span<float> dst = image.Slice(sy * width + x0 + dx, x1 - x0);
                            TensorPrimitives.Add(dst, row.Slice((b * ho + y) * wo + x0, x1 - x0), dst);
                        }
                    }
                }
            }
        }
    }

    // "Same" padding (Ho = H, Wo = W): the row of kernel offset (dy, dx) is the whole channel [B·H·W] shifted by
    // s = dy·W + dx, so one contiguous copy per row does most of the work. The copy also drags in values that wrapped
    // around an edge: the first/last |dy| lines of every image (they read a neighbouring image or nothing) and the
    // first/last |dx| columns of every line (they read the neighbouring line); those are then cleared.
    private static void LowerSame(ReadOnlySpan<float> input, int channels, int channelStride, int batch, int height, int width, int kernel, int pad, Span<float> columns)
    {
        int plane = height * width, n = batch * plane;
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> channel = input.Slice(c * channelStride, n);
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    Span<float> row = columns.Slice(((c * kernel + ky) * kernel + kx) * n, n);
                    int dy = ky - pad, dx = kx - pad, shift = dy * width + dx;
                    // row[i] = channel[i + shift] where the source exists.
                    if (shift >= 0)
                    {
                        channel[shift..].CopyTo(row);
                        row[(n - shift)..].Clear();
                    }
                    else
                    {
                        channel[..(n + shift)].CopyTo(row[(-shift)..]);
                        row[..(-shift)].Clear();
                    }
                    ClearOutside(row, batch, height, width, dy, dx);
                }
            }
        }
    }

    /// <summary>Zeroes the entries of a shifted row whose source lies outside its own image.</summary>
    private static void ClearOutside(Span<float> row, int batch, int height, int width, int dy, int dx)
    {
        int plane = height * width;
        int y0 = Math.Max(0, -dy), y1 = Math.Min(height, height - dy);
        int x0 = Math.Max(0, -dx), x1 = Math.Min(width, width - dx);
        for (int b = 0; b < batch; b++)
        {
            Span<float> image = row.Slice(b * plane, plane);
            if (y0 > 0) image[..(y0 * width)].Clear();
            if (y1 < height) image[(y1 * width)..].Clear();
            if (x0 == 0 && x1 == width) continue;
            for (int y = y0; y < y1; y++)
            {
                Span<float> line = image.Slice(y * width, width);
                for (int x = 0; x < x0; x++) line[x] = 0f;
                for (int x = x1; x < width; x++) line[x] = 0f;
            }
        }
    }

    /// <summary>
    /// "Same" padding adjoint of <see cref="LowerSame"/>, destroying <paramref name="columns"/>: the out-of-image entries
    /// are cleared first, then each row is added back, shifted, in one contiguous pass.
    /// </summary>
    public static void RaiseSameInPlace(Span<float> columns, int channels, int batch, int height, int width, int kernel, int pad, Span<float> input) =>
        RaiseSameInPlace(columns, channels, batch * height * width, batch, height, width, kernel, pad, input);

    /// <summary>As <see cref="RaiseSameInPlace(Span{float}, int, int, int, int, int, int, Span{float})"/> into a chunk of images (see <see cref="Lower(ReadOnlySpan{float}, int, int, int, int, int, int, int, Span{float})"/>); only the chunk's runs are written.</summary>
    public static void RaiseSameInPlace(Span<float> columns, int channels, int channelStride, int batch, int height, int width, int kernel, int pad, Span<float> input)
    {
        int plane = height * width, n = batch * plane;
        if (channelStride < n || input.Length < (channels - 1) * channelStride + n) throw new ArgumentException("Input is too short.", nameof(input));
        if (columns.Length < channels * kernel * kernel * n) throw new ArgumentException("Columns is too short.", nameof(columns));
        if (2 * pad != kernel - 1) throw new ArgumentException("Only same padding (kernel = 2·pad + 1) is supported.", nameof(pad));
        for (int c = 0; c < channels; c++)
        {
            Span<float> channel = input.Slice(c * channelStride, n);
            channel.Clear();
            for (int ky = 0; ky < kernel; ky++)
            {
                for (int kx = 0; kx < kernel; kx++)
                {
                    Span<float> row = columns.Slice(((c * kernel + ky) * kernel + kx) * n, n);
                    int dy = ky - pad, dx = kx - pad, shift = dy * width + dx;
                    ClearOutside(row, batch, height, width, dy, dx);
                    // channel[i + shift] += row[i], rows in ascending order (deterministic).
                    if (shift >= 0)
                    {
                        Span<float> dst = channel[shift..];
                        TensorPrimitives.Add(dst, row[..(n - shift)], dst);
                    }
                    else
                    {
                        Span<float> dst = channel[..(n + shift)];
                        TensorPrimitives.Add(dst, row[(-shift)..], dst);
                    }
                }
            }
        }
    }
}
