using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune;

/// <summary>
/// Small kernels shared by the accumulators and <see cref="BatchNormScaling"/>: the finiteness pre-pass of the
/// NaN policy, and the double-sum → float-mean conversion of the <c>Copy…To</c> methods.
/// </summary>
internal static class StatisticsKernels
{
    private const int AbsMask = 0x7FFF_FFFF;

    // Bits of +Inf. A float is NaN or ±Inf exactly when its exponent field is all ones, i.e. when its bits
    // with the sign cleared are >= 0x7F800000 as a signed int.
    private const int InfinityBits = 0x7F80_0000;

    /// <summary>The index of the first NaN or ±Inf in <paramref name="values"/>, or -1 when all are finite.</summary>
    /// <remarks>
    /// The vector pass keeps a running integer maximum of the sign-cleared bit patterns (two instructions per
    /// vector, two accumulators); only when that maximum reaches the infinity pattern does a scalar scan look
    /// for the first offending index, which the error message reports. The tail is scalar, not an overlapping
    /// vector, as for every reduction in this library.
    /// </remarks>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (!AnyNonFinite(ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(values)), (nuint)values.Length))
            return -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }

    private static bool AnyNonFinite(ref int bits, nuint length)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<int>.Count)
        {
            Vector512<int> mask = Vector512.Create(AbsMask);
            Vector512<int> max0 = Vector512<int>.Zero, max1 = Vector512<int>.Zero;
            for (; i + (nuint)(2 * Vector512<int>.Count) <= length; i += (nuint)(2 * Vector512<int>.Count))
            {
                max0 = Vector512.Max(max0, Vector512.LoadUnsafe(ref bits, i) & mask);
                max1 = Vector512.Max(max1, Vector512.LoadUnsafe(ref bits, i + (nuint)Vector512<int>.Count) & mask);
            }
            if (i + (nuint)Vector512<int>.Count <= length)
            {
                max0 = Vector512.Max(max0, Vector512.LoadUnsafe(ref bits, i) & mask);
                i += (nuint)Vector512<int>.Count;
            }
            if (Vector512.GreaterThanOrEqualAny(Vector512.Max(max0, max1), Vector512.Create(InfinityBits))) return true;
        }
        if (Vector256.IsHardwareAccelerated && length - i >= (nuint)Vector256<int>.Count)
        {
            Vector256<int> mask = Vector256.Create(AbsMask);
            Vector256<int> max0 = Vector256<int>.Zero, max1 = Vector256<int>.Zero;
            for (; i + (nuint)(2 * Vector256<int>.Count) <= length; i += (nuint)(2 * Vector256<int>.Count))
            {
                max0 = Vector256.Max(max0, Vector256.LoadUnsafe(ref bits, i) & mask);
                max1 = Vector256.Max(max1, Vector256.LoadUnsafe(ref bits, i + (nuint)Vector256<int>.Count) & mask);
            }
            if (i + (nuint)Vector256<int>.Count <= length)
            {
                max0 = Vector256.Max(max0, Vector256.LoadUnsafe(ref bits, i) & mask);
                i += (nuint)Vector256<int>.Count;
            }
            if (Vector256.GreaterThanOrEqualAny(Vector256.Max(max0, max1), Vector256.Create(InfinityBits))) return true;
        }
        if (Vector128.IsHardwareAccelerated && length - i >= (nuint)Vector128<int>.Count)
        {
            Vector128<int> mask = Vector128.Create(AbsMask);
            Vector128<int> max0 = Vector128<int>.Zero, max1 = Vector128<int>.Zero;
            for (; i + (nuint)(2 * Vector128<int>.Count) <= length; i += (nuint)(2 * Vector128<int>.Count))
            {
                max0 = Vector128.Max(max0, Vector128.LoadUnsafe(ref bits, i) & mask);
                max1 = Vector128.Max(max1, Vector128.LoadUnsafe(ref bits, i + (nuint)Vector128<int>.Count) & mask);
            }
            if (i + (nuint)Vector128<int>.Count <= length)
            {
                max0 = Vector128.Max(max0, Vector128.LoadUnsafe(ref bits, i) & mask);
                i += (nuint)Vector128<int>.Count;
            }
            if (Vector128.GreaterThanOrEqualAny(Vector128.Max(max0, max1), Vector128.Create(InfinityBits))) return true;
        }
        for (; i < length; i++)
        {
            if ((Unsafe.Add(ref bits, i) & AbsMask) >= InfinityBits) return true;
        }
        return false;
    }

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
