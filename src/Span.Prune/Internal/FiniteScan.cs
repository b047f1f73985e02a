using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// The NaN policy's pre-check: finds a NaN or ±∞ before a kernel writes anything. A float is non-finite
/// exactly when its exponent bits are all ones, <c>(bits &amp; 0x7F80_0000) == 0x7F80_0000</c>, so the scan is an
/// AND and a compare per lane, ORed into a flag vector that is tested once per iteration of four vectors.
/// </summary>
/// <remarks>
/// Read-only and memory-bound: on data that is not in cache it costs about one extra read of the input
/// (see ScoringBenchmarks for the measured share). The index is only searched for on the error path.
/// </remarks>
internal static class FiniteScan
{
    private const uint ExponentMask = 0x7F80_0000;

    /// <summary>Index of the first NaN or ±∞ in <paramref name="values"/>, or −1 when all are finite.</summary>
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (AllFinite(ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(values)), (nuint)values.Length))
            return -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
        return -1;
    }

    private static bool AllFinite(ref uint x, nuint length)
    {
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<uint>.Count)
        {
            Vector512<uint> mask = Vector512.Create(ExponentMask);
            nuint n = (nuint)Vector512<uint>.Count;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector512<uint> bad =
                    Vector512.Equals(Vector512.LoadUnsafe(ref x, i) & mask, mask)
                    | Vector512.Equals(Vector512.LoadUnsafe(ref x, i + n) & mask, mask)
                    | Vector512.Equals(Vector512.LoadUnsafe(ref x, i + 2 * n) & mask, mask)
                    | Vector512.Equals(Vector512.LoadUnsafe(ref x, i + 3 * n) & mask, mask);
                if (bad != Vector512<uint>.Zero) return false;
            }
            for (; i + n <= length; i += n)
            {
                if (Vector512.EqualsAny(Vector512.LoadUnsafe(ref x, i) & mask, mask)) return false;
            }
            // Rechecking an overlapping last vector is harmless for a read-only test.
            return i == length || !Vector512.EqualsAny(Vector512.LoadUnsafe(ref x, length - n) & mask, mask);
        }
        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<uint>.Count)
        {
            Vector256<uint> mask = Vector256.Create(ExponentMask);
            nuint n = (nuint)Vector256<uint>.Count;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector256<uint> bad =
                    Vector256.Equals(Vector256.LoadUnsafe(ref x, i) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref x, i + n) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref x, i + 2 * n) & mask, mask)
                    | Vector256.Equals(Vector256.LoadUnsafe(ref x, i + 3 * n) & mask, mask);
                if (bad != Vector256<uint>.Zero) return false;
            }
            for (; i + n <= length; i += n)
            {
                if (Vector256.EqualsAny(Vector256.LoadUnsafe(ref x, i) & mask, mask)) return false;
            }
            return i == length || !Vector256.EqualsAny(Vector256.LoadUnsafe(ref x, length - n) & mask, mask);
        }
        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<uint>.Count)
        {
            Vector128<uint> mask = Vector128.Create(ExponentMask);
            nuint n = (nuint)Vector128<uint>.Count;
            for (; i + 4 * n <= length; i += 4 * n)
            {
                Vector128<uint> bad =
                    Vector128.Equals(Vector128.LoadUnsafe(ref x, i) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref x, i + n) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref x, i + 2 * n) & mask, mask)
                    | Vector128.Equals(Vector128.LoadUnsafe(ref x, i + 3 * n) & mask, mask);
                if (bad != Vector128<uint>.Zero) return false;
            }
            for (; i + n <= length; i += n)
            {
                if (Vector128.EqualsAny(Vector128.LoadUnsafe(ref x, i) & mask, mask)) return false;
            }
            return i == length || !Vector128.EqualsAny(Vector128.LoadUnsafe(ref x, length - n) & mask, mask);
        }
        for (; i < length; i++)
        {
            if ((Unsafe.Add(ref x, i) & ExponentMask) == ExponentMask) return false;
        }
        return true;
    }
}
