using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// The NaN policy's pre-check, shared by every concern: finds a NaN or ±∞ before a kernel writes anything.
/// A float is finite iff its magnitude bits <c>bits &amp; 0x7FFFFFFF</c> are below <c>0x7F800000</c> (the ∞ pattern;
/// NaNs lie above it), so an integer max over the magnitude bits of a block decides it. Read-only and memory-bound:
/// about one extra read of the input when it is not in cache.
/// </summary>
internal static class FiniteScan
{
    private const int InfinityBits = 0x7F800000;

    /// <summary>Index of the first NaN or ±∞, or −1. Used on error paths and as a stand-alone pre-pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        ref int src = ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(values));
        nint n = values.Length, i = 0;
        // Check block by block; only the block that trips is rescanned scalar, so the answer is the first index.
        if (Vector512.IsHardwareAccelerated)
        {
            var mag = Vector512.Create(int.MaxValue);
            var inf = Vector512.Create(InfinityBits);
            for (; i + 64 <= n; i += 64)
            {
                var m = Vector512.Max(
                    Vector512.Max(Vector512.LoadUnsafe(ref src, (nuint)i) & mag, Vector512.LoadUnsafe(ref src, (nuint)(i + 16)) & mag),
                    Vector512.Max(Vector512.LoadUnsafe(ref src, (nuint)(i + 32)) & mag, Vector512.LoadUnsafe(ref src, (nuint)(i + 48)) & mag));
                if (Vector512.GreaterThanOrEqualAny(m, inf)) break;
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var mag = Vector256.Create(int.MaxValue);
            var inf = Vector256.Create(InfinityBits);
            for (; i + 32 <= n; i += 32)
            {
                var m = Vector256.Max(
                    Vector256.Max(Vector256.LoadUnsafe(ref src, (nuint)i) & mag, Vector256.LoadUnsafe(ref src, (nuint)(i + 8)) & mag),
                    Vector256.Max(Vector256.LoadUnsafe(ref src, (nuint)(i + 16)) & mag, Vector256.LoadUnsafe(ref src, (nuint)(i + 24)) & mag));
                if (Vector256.GreaterThanOrEqualAny(m, inf)) break;
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var mag = Vector128.Create(int.MaxValue);
            var inf = Vector128.Create(InfinityBits);
            for (; i + 16 <= n; i += 16)
            {
                var m = Vector128.Max(
                    Vector128.Max(Vector128.LoadUnsafe(ref src, (nuint)i) & mag, Vector128.LoadUnsafe(ref src, (nuint)(i + 4)) & mag),
                    Vector128.Max(Vector128.LoadUnsafe(ref src, (nuint)(i + 8)) & mag, Vector128.LoadUnsafe(ref src, (nuint)(i + 12)) & mag));
                if (Vector128.GreaterThanOrEqualAny(m, inf)) break;
            }
        }
        for (; i < n; i++)
        {
            if ((Unsafe.Add(ref src, i) & int.MaxValue) >= InfinityBits) return (int)i;
        }
        return -1;
    }
}
