using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Regression;

/// <summary>
/// The NaN policy check for regression inputs: one vectorised pass before anything is written.
/// <c>x − x</c> is +0 for every finite <c>x</c> and NaN for NaN and ±∞, so OR-ing the bits of <c>x − x</c>
/// over the whole span is zero exactly when every element is finite. The OR is idempotent, so the tail may use an
/// overlapping last vector. Only when the OR is non-zero is the span scanned again to find the first bad index.
/// </summary>
internal static class FiniteCheck
{
    /// <summary>The index of the first NaN or ±∞ in <paramref name="x"/>, or −1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> x)
    {
        if (AllFinite(ref MemoryMarshal.GetReference(x), (nuint)x.Length)) return -1;
        for (int i = 0; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i])) return i;
        }
        return -1;
    }

    private static bool AllFinite(ref float x, nuint length)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<float>.Count)
        {
            nuint width = (nuint)Vector512<float>.Count;
            Vector512<uint> bits = Vector512<uint>.Zero;
            for (; i + width <= length; i += width)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, i);
                bits |= (v - v).AsUInt32();
            }
            if (i < length)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, length - width);
                bits |= (v - v).AsUInt32();
            }
            return bits == Vector512<uint>.Zero;
        }
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<float>.Count)
        {
            nuint width = (nuint)Vector256<float>.Count;
            Vector256<uint> bits = Vector256<uint>.Zero;
            for (; i + width <= length; i += width)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, i);
                bits |= (v - v).AsUInt32();
            }
            if (i < length)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, length - width);
                bits |= (v - v).AsUInt32();
            }
            return bits == Vector256<uint>.Zero;
        }
        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<float>.Count)
        {
            nuint width = (nuint)Vector128<float>.Count;
            Vector128<uint> bits = Vector128<uint>.Zero;
            for (; i + width <= length; i += width)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref x, i);
                bits |= (v - v).AsUInt32();
            }
            if (i < length)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref x, length - width);
                bits |= (v - v).AsUInt32();
            }
            return bits == Vector128<uint>.Zero;
        }
        uint scalarBits = 0;
        for (; i < length; i++)
        {
            float v = Unsafe.Add(ref x, i);
            scalarBits |= BitConverter.SingleToUInt32Bits(v - v);
        }
        return scalarBits == 0;
    }
}
