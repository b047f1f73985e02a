using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune;

public sealed partial class FisherAccumulator
{
    /// <summary><c>sums[i] += (double)g[i] · (double)g[i]</c>; lengths are equal (validated by the caller).</summary>
    /// <remarks>
    /// Widen 16 floats to two double vectors, square, add. The square of a widened float is exact, so a plain
    /// multiply-then-add rounds exactly like a fused multiply-add would; the plain form is used because it is
    /// a native instruction on every target (FMA is emulated in software where the hardware lacks it).
    /// This is a read-modify-write, so the tail steps down the ladder instead of overlapping the last vector
    /// (an overlap would add some squares twice).
    /// </remarks>
    private static void AccumulateSquares(ReadOnlySpan<float> gradients, Span<double> sums)
    {
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref double s = ref MemoryMarshal.GetReference(sums);
        nuint length = (nuint)gradients.Length, i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref g, i);
                Vector512<double> lo = Vector512.WidenLower(v), hi = Vector512.WidenUpper(v);
                (Vector512.LoadUnsafe(ref s, i) + lo * lo).StoreUnsafe(ref s, i);
                (Vector512.LoadUnsafe(ref s, i + 8) + hi * hi).StoreUnsafe(ref s, i + 8);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref g, i);
                Vector256<double> lo = Vector256.WidenLower(v), hi = Vector256.WidenUpper(v);
                (Vector256.LoadUnsafe(ref s, i) + lo * lo).StoreUnsafe(ref s, i);
                (Vector256.LoadUnsafe(ref s, i + 4) + hi * hi).StoreUnsafe(ref s, i + 4);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref g, i);
                Vector128<double> lo = Vector128.WidenLower(v), hi = Vector128.WidenUpper(v);
                (Vector128.LoadUnsafe(ref s, i) + lo * lo).StoreUnsafe(ref s, i);
                (Vector128.LoadUnsafe(ref s, i + 2) + hi * hi).StoreUnsafe(ref s, i + 2);
            }
        }
        for (; i < length; i++)
        {
            double x = Unsafe.Add(ref g, i);
            Unsafe.Add(ref s, i) += x * x;
        }
    }
}
