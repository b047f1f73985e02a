using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune;

public sealed partial class TaylorAccumulator
{
    /// <summary>
    /// <c>signed[i] += w[i]·g[i]</c>, <c>absolute[i] += |w[i]·g[i]|</c>, products formed in double (exact for
    /// float operands). All lengths are equal (validated by the caller). Read-modify-write, so the tail steps
    /// down the ladder rather than overlapping.
    /// </summary>
    private static void AccumulateProducts(ReadOnlySpan<float> weights, ReadOnlySpan<float> gradients, Span<double> signed, Span<double> absolute)
    {
        ref float w = ref MemoryMarshal.GetReference(weights);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref double s = ref MemoryMarshal.GetReference(signed);
        ref double a = ref MemoryMarshal.GetReference(absolute);
        nuint length = (nuint)weights.Length, i = 0;

        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= length; i += 16)
            {
                Vector512<float> wv = Vector512.LoadUnsafe(ref w, i), gv = Vector512.LoadUnsafe(ref g, i);
                Vector512<double> lo = Vector512.WidenLower(wv) * Vector512.WidenLower(gv);
                Vector512<double> hi = Vector512.WidenUpper(wv) * Vector512.WidenUpper(gv);
                (Vector512.LoadUnsafe(ref s, i) + lo).StoreUnsafe(ref s, i);
                (Vector512.LoadUnsafe(ref s, i + 8) + hi).StoreUnsafe(ref s, i + 8);
                (Vector512.LoadUnsafe(ref a, i) + Vector512.Abs(lo)).StoreUnsafe(ref a, i);
                (Vector512.LoadUnsafe(ref a, i + 8) + Vector512.Abs(hi)).StoreUnsafe(ref a, i + 8);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= length; i += 8)
            {
                Vector256<float> wv = Vector256.LoadUnsafe(ref w, i), gv = Vector256.LoadUnsafe(ref g, i);
                Vector256<double> lo = Vector256.WidenLower(wv) * Vector256.WidenLower(gv);
                Vector256<double> hi = Vector256.WidenUpper(wv) * Vector256.WidenUpper(gv);
                (Vector256.LoadUnsafe(ref s, i) + lo).StoreUnsafe(ref s, i);
                (Vector256.LoadUnsafe(ref s, i + 4) + hi).StoreUnsafe(ref s, i + 4);
                (Vector256.LoadUnsafe(ref a, i) + Vector256.Abs(lo)).StoreUnsafe(ref a, i);
                (Vector256.LoadUnsafe(ref a, i + 4) + Vector256.Abs(hi)).StoreUnsafe(ref a, i + 4);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= length; i += 4)
            {
                Vector128<float> wv = Vector128.LoadUnsafe(ref w, i), gv = Vector128.LoadUnsafe(ref g, i);
                Vector128<double> lo = Vector128.WidenLower(wv) * Vector128.WidenLower(gv);
                Vector128<double> hi = Vector128.WidenUpper(wv) * Vector128.WidenUpper(gv);
                (Vector128.LoadUnsafe(ref s, i) + lo).StoreUnsafe(ref s, i);
                (Vector128.LoadUnsafe(ref s, i + 2) + hi).StoreUnsafe(ref s, i + 2);
                (Vector128.LoadUnsafe(ref a, i) + Vector128.Abs(lo)).StoreUnsafe(ref a, i);
                (Vector128.LoadUnsafe(ref a, i + 2) + Vector128.Abs(hi)).StoreUnsafe(ref a, i + 2);
            }
        }
        for (; i < length; i++)
        {
            double p = (double)Unsafe.Add(ref w, i) * Unsafe.Add(ref g, i);
            Unsafe.Add(ref s, i) += p;
            Unsafe.Add(ref a, i) += Math.Abs(p);
        }
    }
}
