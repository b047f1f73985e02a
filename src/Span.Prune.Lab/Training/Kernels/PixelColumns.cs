using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.Lab.Training.Kernels;

/// <summary>
/// Writes images straight into the feature-major input of the first layer, <c>X[p, i] = pixel p of image i / 255</c>,
/// reading the bytes of the whole data set where they lie (the mlp's fused step).
/// </summary>
/// <remarks>
/// <para>Why: the unfused path converts the gathered batch image by image (image-major Xᵀ) and then transposes it; the
/// transpose is a scalar strided copy of 50,176 floats per step. Here one 32-bit gather reads 4 consecutive pixels of
/// each of 8 images, so 32 values cost one gather and four shifts, conversions and divisions.</para>
/// <para>Bits: the byte converts to float exactly and the division is correctly rounded, so every value equals the
/// unfused path's <c>(float)b / 255f</c>.</para>
/// </remarks>
internal static unsafe class PixelColumns
{
    private const int ImageSize = ReferenceNetwork.InputSize;

    /// <summary>Rows <c>[p0, p1)</c> of X <c>[784 × batch]</c> (pixels p0 to p1 − 1 of every image of the batch).</summary>
    /// <param name="pixels">The data set, image-major, 784 bytes per image; the caller checked every index.</param>
    /// <param name="images">Image index of each batch column.</param>
    /// <param name="batch">Columns of X.</param>
    /// <param name="p0">First pixel, a multiple of 4.</param>
    /// <param name="p1">End pixel, a multiple of 4 (or 784).</param>
    /// <param name="x">X, <c>784·batch</c> floats.</param>
    /// <remarks>Split by pixels rather than by images, so that threads writing different ranges never share a cache
    /// line of X but at the range ends.</remarks>
    public static void Write(byte* pixels, int* images, int batch, int p0, int p1, float* x)
    {
        int i = 0;
        if (Avx2.IsSupported && p0 % 4 == 0 && p1 % 4 == 0)
        {
            var mask = Vector256.Create(0xFF);
            var scale = Vector256.Create(255f);
            for (; i + 8 <= batch; i += 8)
            {
                // Byte offsets of the 8 images: below 2³¹, since the data set is one span.
                Vector256<int> offsets = Vector256.Create(
                    images[i] * ImageSize, images[i + 1] * ImageSize, images[i + 2] * ImageSize, images[i + 3] * ImageSize,
                    images[i + 4] * ImageSize, images[i + 5] * ImageSize, images[i + 6] * ImageSize, images[i + 7] * ImageSize);
                float* column = x + i;
                for (int p = p0; p < p1; p += 4)
                {
                    Vector256<int> four = Avx2.GatherVector256((int*)(pixels + p), offsets, 1);
                    // Little-endian: byte j of each lane is pixel p + j.
                    (Vector256.ConvertToSingle(four & mask) / scale).Store(column + (nint)p * batch);
                    (Vector256.ConvertToSingle(Vector256.ShiftRightLogical(four, 8) & mask) / scale).Store(column + (nint)(p + 1) * batch);
                    (Vector256.ConvertToSingle(Vector256.ShiftRightLogical(four, 16) & mask) / scale).Store(column + (nint)(p + 2) * batch);
                    (Vector256.ConvertToSingle(Vector256.ShiftRightLogical(four, 24)) / scale).Store(column + (nint)(p + 3) * batch);
                }
            }
        }
        for (; i < batch; i++)
        {
            byte* image = pixels + (nint)images[i] * ImageSize;
            for (int p = p0; p < p1; p++) x[(nint)p * batch + i] = image[p] / 255f;
        }
    }
}
