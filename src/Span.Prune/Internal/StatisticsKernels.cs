using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// Small kernels shared by the accumulators and <see cref="BatchNormScaling"/>: the double-sum → float-mean
/// conversion of the <c>Copy…To</c> methods. (The NaN policy's pre-pass is <see cref="Internal.FiniteScan"/>.)
/// </summary>
internal static class StatisticsKernels
{
    /// <summary>
    /// <c>destination[i] = (float)(sums[i] / divisor)</c>, or <c>(float)|sums[i] / divisor|</c> when
    /// <paramref name="absolute"/>. The division is IEEE double division and the narrowing rounds to nearest, so
    /// every vector width gives the bit pattern of the scalar expression. Lengths are validated by the caller.
    /// </summary>
    public static void DivideToSingle(ReadOnlySpan<double> sums, double divisor, Span<float> destination, bool absolute)
    {
        ref double s = ref MemoryMarshal.GetReference(sums);
        ref float d = ref MemoryMarshal.GetReference(destination);
        nuint length = (nuint)sums.Length, i = 0;

        // An element-wise map: it could end with an overlapping vector, but the ladder below leaves at most
        // one scalar, so the simpler non-overlapping form costs nothing.
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<double> n = Vector512.Create(divisor);
            for (; i + 16 <= length; i += 16)
            {
                Vector512<double> lo = Vector512.LoadUnsafe(ref s, i) / n;
                Vector512<double> hi = Vector512.LoadUnsafe(ref s, i + 8) / n;
                if (absolute)
                {
                    lo = Vector512.Abs(lo);
                    hi = Vector512.Abs(hi);
                }
                Vector512.Narrow(lo, hi).StoreUnsafe(ref d, i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<double> n = Vector256.Create(divisor);
            for (; i + 8 <= length; i += 8)
            {
                Vector256<double> lo = Vector256.LoadUnsafe(ref s, i) / n;
                Vector256<double> hi = Vector256.LoadUnsafe(ref s, i + 4) / n;
                if (absolute)
                {
                    lo = Vector256.Abs(lo);
                    hi = Vector256.Abs(hi);
                }
                Vector256.Narrow(lo, hi).StoreUnsafe(ref d, i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<double> n = Vector128.Create(divisor);
            for (; i + 4 <= length; i += 4)
            {
                Vector128<double> lo = Vector128.LoadUnsafe(ref s, i) / n;
                Vector128<double> hi = Vector128.LoadUnsafe(ref s, i + 2) / n;
                if (absolute)
                {
                    lo = Vector128.Abs(lo);
                    hi = Vector128.Abs(hi);
                }
                Vector128.Narrow(lo, hi).StoreUnsafe(ref d, i);
            }
        }
        for (; i < length; i++)
        {
            double q = Unsafe.Add(ref s, i) / divisor;
            Unsafe.Add(ref d, i) = (float)(absolute ? Math.Abs(q) : q);
        }
    }
}
