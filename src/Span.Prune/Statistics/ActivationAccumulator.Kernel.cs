using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune;

public sealed partial class ActivationAccumulator
{
    // The NCHW plane sum is defined over 16 interleaved "virtual lanes": lane k sums the values at offsets
    // ≡ k (mod 16), in order; the lanes are then combined by the fixed tree
    //   s8[j] = L[j] + L[j+8], s4[j] = s8[j] + s8[j+4], s2[j] = s4[j] + s4[j+2], sum = s2[0] + s2[1].
    // A Vector512 path holds lanes 0-7 and 8-15 in two double vectors, the Vector256 path in four, the Vector128
    // path in eight and the scalar path in memory: all perform the same double additions in the same order,
    // so the mean does not depend on the ISA (DOTNET_EnableAVX512=0, EnableAVX2=0 or EnableHWIntrinsic=0 give
    // the same bits; on .NET 10 DOTNET_EnableAVX512F=0 no longer turns Vector512 off).
    // Why 16: a 32-lane variant (four 512-bit chains instead of two) measured 1.1-1.3x slower on AMD EPYC
    // (AVX-512): the loop is bound by the float→double conversions, not by the add latency, and the longer tail
    // costs more.
    private const int VirtualLanes = 16;

    /// <summary>
    /// NCHW: for every image n and channel c, reduce the contiguous plane of <paramref name="planeLength"/> values
    /// into <c>zeros[c] += #(a ≤ t)</c>, <c>sums[c] += Σa</c> and <c>squares[c] += Σa²</c> (images in order).
    /// </summary>
    private static void AccumulatePlanes(ReadOnlySpan<float> activations, int batch, int channels, int planeLength,
        float threshold, Span<int> zeros, Span<double> sums, Span<double> squares)
    {
        ref float x = ref MemoryMarshal.GetReference(activations);
        ref int z = ref MemoryMarshal.GetReference(zeros);
        ref double s = ref MemoryMarshal.GetReference(sums);
        ref double q = ref MemoryMarshal.GetReference(squares);
        Span<double> lanes = stackalloc double[2 * VirtualLanes];
        ref double l = ref MemoryMarshal.GetReference(lanes);
        nuint plane = 0;
        for (int n = 0; n < batch; n++)
        {
            for (nuint c = 0; c < (nuint)channels; c++, plane++)
            {
                double sum = ReducePlane(ref Unsafe.Add(ref x, plane * (nuint)planeLength), (nuint)planeLength, threshold, ref l, out int count, out double square);
                Unsafe.Add(ref z, c) += count;
                Unsafe.Add(ref s, c) += sum;
                Unsafe.Add(ref q, c) += square;
            }
        }
    }

    /// <summary>
    /// Zero count, virtual-lane sum and virtual-lane sum of squares of one contiguous plane. <paramref name="lanes"/> is
    /// 32 doubles of scratch: the sum's 16 lanes, then the squares' 16 (same lane rule and tree, <c>(double)a·(double)a</c>).
    /// </summary>
    private static double ReducePlane(ref float x, nuint length, float threshold, ref double lanes, out int zeros, out double squares)
    {
        ref double squareLanes = ref Unsafe.Add(ref lanes, VirtualLanes);
        nuint i = 0;
        int count = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> t = Vector512.Create(threshold);
            Vector512<int> c = Vector512<int>.Zero;
            Vector512<double> a0 = Vector512<double>.Zero, a1 = Vector512<double>.Zero;
            Vector512<double> q0 = Vector512<double>.Zero, q1 = Vector512<double>.Zero;
            for (; i + VirtualLanes <= length; i += VirtualLanes)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, i);
                c -= Vector512.LessThanOrEqual(v, t).AsInt32(); // a true lane is all ones = −1
                Vector512<double> lo = Vector512.WidenLower(v), hi = Vector512.WidenUpper(v);
                a0 += lo;
                a1 += hi;
                q0 += lo * lo;
                q1 += hi * hi;
            }
            count = Vector512.Sum(c);
            a0.StoreUnsafe(ref lanes, 0);
            a1.StoreUnsafe(ref lanes, 8);
            q0.StoreUnsafe(ref squareLanes, 0);
            q1.StoreUnsafe(ref squareLanes, 8);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> t = Vector256.Create(threshold);
            Vector256<int> c = Vector256<int>.Zero;
            Vector256<double> a0 = Vector256<double>.Zero, a1 = Vector256<double>.Zero;
            Vector256<double> a2 = Vector256<double>.Zero, a3 = Vector256<double>.Zero;
            Vector256<double> q0 = Vector256<double>.Zero, q1 = Vector256<double>.Zero;
            Vector256<double> q2 = Vector256<double>.Zero, q3 = Vector256<double>.Zero;
            for (; i + VirtualLanes <= length; i += VirtualLanes)
            {
                Vector256<float> v0 = Vector256.LoadUnsafe(ref x, i), v1 = Vector256.LoadUnsafe(ref x, i + 8);
                c -= Vector256.LessThanOrEqual(v0, t).AsInt32();
                c -= Vector256.LessThanOrEqual(v1, t).AsInt32();
                Vector256<double> w0 = Vector256.WidenLower(v0), w1 = Vector256.WidenUpper(v0);
                Vector256<double> w2 = Vector256.WidenLower(v1), w3 = Vector256.WidenUpper(v1);
                a0 += w0;
                a1 += w1;
                a2 += w2;
                a3 += w3;
                q0 += w0 * w0;
                q1 += w1 * w1;
                q2 += w2 * w2;
                q3 += w3 * w3;
            }
            count = Vector256.Sum(c);
            a0.StoreUnsafe(ref lanes, 0);
            a1.StoreUnsafe(ref lanes, 4);
            a2.StoreUnsafe(ref lanes, 8);
            a3.StoreUnsafe(ref lanes, 12);
            q0.StoreUnsafe(ref squareLanes, 0);
            q1.StoreUnsafe(ref squareLanes, 4);
            q2.StoreUnsafe(ref squareLanes, 8);
            q3.StoreUnsafe(ref squareLanes, 12);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> t = Vector128.Create(threshold);
            Vector128<int> c = Vector128<int>.Zero;
            Vector128<double> a0 = Vector128<double>.Zero, a1 = Vector128<double>.Zero, a2 = Vector128<double>.Zero, a3 = Vector128<double>.Zero;
            Vector128<double> a4 = Vector128<double>.Zero, a5 = Vector128<double>.Zero, a6 = Vector128<double>.Zero, a7 = Vector128<double>.Zero;
            Vector128<double> q0 = Vector128<double>.Zero, q1 = Vector128<double>.Zero, q2 = Vector128<double>.Zero, q3 = Vector128<double>.Zero;
            Vector128<double> q4 = Vector128<double>.Zero, q5 = Vector128<double>.Zero, q6 = Vector128<double>.Zero, q7 = Vector128<double>.Zero;
            for (; i + VirtualLanes <= length; i += VirtualLanes)
            {
                Vector128<float> v0 = Vector128.LoadUnsafe(ref x, i), v1 = Vector128.LoadUnsafe(ref x, i + 4);
                Vector128<float> v2 = Vector128.LoadUnsafe(ref x, i + 8), v3 = Vector128.LoadUnsafe(ref x, i + 12);
                c -= Vector128.LessThanOrEqual(v0, t).AsInt32();
                c -= Vector128.LessThanOrEqual(v1, t).AsInt32();
                c -= Vector128.LessThanOrEqual(v2, t).AsInt32();
                c -= Vector128.LessThanOrEqual(v3, t).AsInt32();
                Vector128<double> w0 = Vector128.WidenLower(v0), w1 = Vector128.WidenUpper(v0);
                Vector128<double> w2 = Vector128.WidenLower(v1), w3 = Vector128.WidenUpper(v1);
                Vector128<double> w4 = Vector128.WidenLower(v2), w5 = Vector128.WidenUpper(v2);
                Vector128<double> w6 = Vector128.WidenLower(v3), w7 = Vector128.WidenUpper(v3);
                a0 += w0;
                a1 += w1;
                a2 += w2;
                a3 += w3;
                a4 += w4;
                a5 += w5;
                a6 += w6;
                a7 += w7;
                q0 += w0 * w0;
                q1 += w1 * w1;
                q2 += w2 * w2;
                q3 += w3 * w3;
                q4 += w4 * w4;
                q5 += w5 * w5;
                q6 += w6 * w6;
                q7 += w7 * w7;
            }
            count = Vector128.Sum(c);
            a0.StoreUnsafe(ref lanes, 0);
            a1.StoreUnsafe(ref lanes, 2);
            a2.StoreUnsafe(ref lanes, 4);
            a3.StoreUnsafe(ref lanes, 6);
            a4.StoreUnsafe(ref lanes, 8);
            a5.StoreUnsafe(ref lanes, 10);
            a6.StoreUnsafe(ref lanes, 12);
            a7.StoreUnsafe(ref lanes, 14);
            q0.StoreUnsafe(ref squareLanes, 0);
            q1.StoreUnsafe(ref squareLanes, 2);
            q2.StoreUnsafe(ref squareLanes, 4);
            q3.StoreUnsafe(ref squareLanes, 6);
            q4.StoreUnsafe(ref squareLanes, 8);
            q5.StoreUnsafe(ref squareLanes, 10);
            q6.StoreUnsafe(ref squareLanes, 12);
            q7.StoreUnsafe(ref squareLanes, 14);
        }
        else
        {
            for (int k = 0; k < 2 * VirtualLanes; k++) Unsafe.Add(ref lanes, k) = 0;
        }

        // Tail (and the whole plane on the scalar path): i is a multiple of 16 here, so value i goes to lane i % 16.
        for (; i < length; i++)
        {
            float v = Unsafe.Add(ref x, i);
            double d = v;
            Unsafe.Add(ref lanes, i % VirtualLanes) += d;
            Unsafe.Add(ref squareLanes, i % VirtualLanes) += d * d;
            if (v <= threshold) count++;
        }

        zeros = count;
        squares = Tree(ref squareLanes);
        return Tree(ref lanes);

        static double Tree(ref double l)
        {
            for (int k = 0; k < 8; k++) Unsafe.Add(ref l, k) += Unsafe.Add(ref l, k + 8);
            for (int k = 0; k < 4; k++) Unsafe.Add(ref l, k) += Unsafe.Add(ref l, k + 4);
            for (int k = 0; k < 2; k++) Unsafe.Add(ref l, k) += Unsafe.Add(ref l, k + 2);
            return l + Unsafe.Add(ref l, 1);
        }
    }

    /// <summary>
    /// NHWC and NC: the input is <c>rows × channels</c> row-major; <c>zeros[c] += #(a ≤ t)</c>,
    /// <c>sums[c] += Σa</c> and <c>squares[c] += Σa²</c> down each column, vectorised across channels. Every
    /// channel's sums are the sequence of its values in row order, whatever the vector width.
    /// </summary>
    private static void AccumulateRows(ReadOnlySpan<float> activations, int channels, float threshold, Span<int> zeros, Span<double> sums, Span<double> squares)
    {
        ref float x = ref MemoryMarshal.GetReference(activations);
        ref int z = ref MemoryMarshal.GetReference(zeros);
        ref double s = ref MemoryMarshal.GetReference(sums);
        ref double q = ref MemoryMarshal.GetReference(squares);
        nuint c = (nuint)channels;
        nuint rows = (nuint)activations.Length / c;
        nuint r = 0;
        // Four rows per pass over the scratch: the per-channel counters and sums are loaded and stored once per
        // four input vectors instead of once per vector. Measured 1.6-1.8x faster on an L2-resident
        // [1, 14, 14, 256] batch, where the scratch loads/stores were the bottleneck; a DRAM-sized batch is bound
        // by reading the input either way. The four values are still added to each sum in row order.
        for (; r + 4 <= rows; r += 4)
        {
            AccumulateFourRows(ref Unsafe.Add(ref x, r * c), c, threshold, ref z, ref s, ref q);
        }
        for (; r < rows; r++)
        {
            AccumulateRow(ref Unsafe.Add(ref x, r * c), c, threshold, ref z, ref s, ref q);
        }
    }

    private static void AccumulateFourRows(ref float x0, nuint channels, float threshold, ref int zeros, ref double sums, ref double squares)
    {
        ref float x1 = ref Unsafe.Add(ref x0, channels);
        ref float x2 = ref Unsafe.Add(ref x1, channels);
        ref float x3 = ref Unsafe.Add(ref x2, channels);
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> t = Vector512.Create(threshold);
            for (; i + 16 <= channels; i += 16)
            {
                Vector512<float> v0 = Vector512.LoadUnsafe(ref x0, i), v1 = Vector512.LoadUnsafe(ref x1, i);
                Vector512<float> v2 = Vector512.LoadUnsafe(ref x2, i), v3 = Vector512.LoadUnsafe(ref x3, i);
                Vector512<int> m = (Vector512.LessThanOrEqual(v0, t).AsInt32() + Vector512.LessThanOrEqual(v1, t).AsInt32())
                    + (Vector512.LessThanOrEqual(v2, t).AsInt32() + Vector512.LessThanOrEqual(v3, t).AsInt32());
                (Vector512.LoadUnsafe(ref zeros, i) - m).StoreUnsafe(ref zeros, i);
                Vector512<double> l0 = Vector512.WidenLower(v0), h0 = Vector512.WidenUpper(v0), l1 = Vector512.WidenLower(v1), h1 = Vector512.WidenUpper(v1);
                Vector512<double> l2 = Vector512.WidenLower(v2), h2 = Vector512.WidenUpper(v2), l3 = Vector512.WidenLower(v3), h3 = Vector512.WidenUpper(v3);
                (Vector512.LoadUnsafe(ref sums, i) + l0 + l1 + l2 + l3).StoreUnsafe(ref sums, i);
                (Vector512.LoadUnsafe(ref sums, i + 8) + h0 + h1 + h2 + h3).StoreUnsafe(ref sums, i + 8);
                (Vector512.LoadUnsafe(ref squares, i) + l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3).StoreUnsafe(ref squares, i);
                (Vector512.LoadUnsafe(ref squares, i + 8) + h0 * h0 + h1 * h1 + h2 * h2 + h3 * h3).StoreUnsafe(ref squares, i + 8);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> t = Vector256.Create(threshold);
            for (; i + 8 <= channels; i += 8)
            {
                Vector256<float> v0 = Vector256.LoadUnsafe(ref x0, i), v1 = Vector256.LoadUnsafe(ref x1, i);
                Vector256<float> v2 = Vector256.LoadUnsafe(ref x2, i), v3 = Vector256.LoadUnsafe(ref x3, i);
                Vector256<int> m = (Vector256.LessThanOrEqual(v0, t).AsInt32() + Vector256.LessThanOrEqual(v1, t).AsInt32())
                    + (Vector256.LessThanOrEqual(v2, t).AsInt32() + Vector256.LessThanOrEqual(v3, t).AsInt32());
                (Vector256.LoadUnsafe(ref zeros, i) - m).StoreUnsafe(ref zeros, i);
                Vector256<double> l0 = Vector256.WidenLower(v0), h0 = Vector256.WidenUpper(v0), l1 = Vector256.WidenLower(v1), h1 = Vector256.WidenUpper(v1);
                Vector256<double> l2 = Vector256.WidenLower(v2), h2 = Vector256.WidenUpper(v2), l3 = Vector256.WidenLower(v3), h3 = Vector256.WidenUpper(v3);
                (Vector256.LoadUnsafe(ref sums, i) + l0 + l1 + l2 + l3).StoreUnsafe(ref sums, i);
                (Vector256.LoadUnsafe(ref sums, i + 4) + h0 + h1 + h2 + h3).StoreUnsafe(ref sums, i + 4);
                (Vector256.LoadUnsafe(ref squares, i) + l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3).StoreUnsafe(ref squares, i);
                (Vector256.LoadUnsafe(ref squares, i + 4) + h0 * h0 + h1 * h1 + h2 * h2 + h3 * h3).StoreUnsafe(ref squares, i + 4);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> t = Vector128.Create(threshold);
            for (; i + 4 <= channels; i += 4)
            {
                Vector128<float> v0 = Vector128.LoadUnsafe(ref x0, i), v1 = Vector128.LoadUnsafe(ref x1, i);
                Vector128<float> v2 = Vector128.LoadUnsafe(ref x2, i), v3 = Vector128.LoadUnsafe(ref x3, i);
                Vector128<int> m = (Vector128.LessThanOrEqual(v0, t).AsInt32() + Vector128.LessThanOrEqual(v1, t).AsInt32())
                    + (Vector128.LessThanOrEqual(v2, t).AsInt32() + Vector128.LessThanOrEqual(v3, t).AsInt32());
                (Vector128.LoadUnsafe(ref zeros, i) - m).StoreUnsafe(ref zeros, i);
                Vector128<double> l0 = Vector128.WidenLower(v0), h0 = Vector128.WidenUpper(v0), l1 = Vector128.WidenLower(v1), h1 = Vector128.WidenUpper(v1);
                Vector128<double> l2 = Vector128.WidenLower(v2), h2 = Vector128.WidenUpper(v2), l3 = Vector128.WidenLower(v3), h3 = Vector128.WidenUpper(v3);
                (Vector128.LoadUnsafe(ref sums, i) + l0 + l1 + l2 + l3).StoreUnsafe(ref sums, i);
                (Vector128.LoadUnsafe(ref sums, i + 2) + h0 + h1 + h2 + h3).StoreUnsafe(ref sums, i + 2);
                (Vector128.LoadUnsafe(ref squares, i) + l0 * l0 + l1 * l1 + l2 * l2 + l3 * l3).StoreUnsafe(ref squares, i);
                (Vector128.LoadUnsafe(ref squares, i + 2) + h0 * h0 + h1 * h1 + h2 * h2 + h3 * h3).StoreUnsafe(ref squares, i + 2);
            }
        }
        for (; i < channels; i++)
        {
            float a0 = Unsafe.Add(ref x0, i), a1 = Unsafe.Add(ref x1, i), a2 = Unsafe.Add(ref x2, i), a3 = Unsafe.Add(ref x3, i);
            Unsafe.Add(ref zeros, i) += (a0 <= threshold ? 1 : 0) + (a1 <= threshold ? 1 : 0) + (a2 <= threshold ? 1 : 0) + (a3 <= threshold ? 1 : 0);
            Unsafe.Add(ref sums, i) = (((Unsafe.Add(ref sums, i) + a0) + a1) + a2) + a3;
            double d0 = a0, d1 = a1, d2 = a2, d3 = a3;
            Unsafe.Add(ref squares, i) = (((Unsafe.Add(ref squares, i) + d0 * d0) + d1 * d1) + d2 * d2) + d3 * d3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateRow(ref float x, nuint channels, float threshold, ref int zeros, ref double sums, ref double squares)
    {
        // A read-modify-write of the per-channel scratch: the channel tail steps down the ladder (an overlapping
        // vector would count some channels twice).
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> t = Vector512.Create(threshold);
            for (; i + 16 <= channels; i += 16)
            {
                Vector512<float> v = Vector512.LoadUnsafe(ref x, i);
                (Vector512.LoadUnsafe(ref zeros, i) - Vector512.LessThanOrEqual(v, t).AsInt32()).StoreUnsafe(ref zeros, i);
                Vector512<double> lo = Vector512.WidenLower(v), hi = Vector512.WidenUpper(v);
                (Vector512.LoadUnsafe(ref sums, i) + lo).StoreUnsafe(ref sums, i);
                (Vector512.LoadUnsafe(ref sums, i + 8) + hi).StoreUnsafe(ref sums, i + 8);
                (Vector512.LoadUnsafe(ref squares, i) + lo * lo).StoreUnsafe(ref squares, i);
                (Vector512.LoadUnsafe(ref squares, i + 8) + hi * hi).StoreUnsafe(ref squares, i + 8);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> t = Vector256.Create(threshold);
            for (; i + 8 <= channels; i += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref x, i);
                (Vector256.LoadUnsafe(ref zeros, i) - Vector256.LessThanOrEqual(v, t).AsInt32()).StoreUnsafe(ref zeros, i);
                Vector256<double> lo = Vector256.WidenLower(v), hi = Vector256.WidenUpper(v);
                (Vector256.LoadUnsafe(ref sums, i) + lo).StoreUnsafe(ref sums, i);
                (Vector256.LoadUnsafe(ref sums, i + 4) + hi).StoreUnsafe(ref sums, i + 4);
                (Vector256.LoadUnsafe(ref squares, i) + lo * lo).StoreUnsafe(ref squares, i);
                (Vector256.LoadUnsafe(ref squares, i + 4) + hi * hi).StoreUnsafe(ref squares, i + 4);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> t = Vector128.Create(threshold);
            for (; i + 4 <= channels; i += 4)
            {
                Vector128<float> v = Vector128.LoadUnsafe(ref x, i);
                (Vector128.LoadUnsafe(ref zeros, i) - Vector128.LessThanOrEqual(v, t).AsInt32()).StoreUnsafe(ref zeros, i);
                Vector128<double> lo = Vector128.WidenLower(v), hi = Vector128.WidenUpper(v);
                (Vector128.LoadUnsafe(ref sums, i) + lo).StoreUnsafe(ref sums, i);
                (Vector128.LoadUnsafe(ref sums, i + 2) + hi).StoreUnsafe(ref sums, i + 2);
                (Vector128.LoadUnsafe(ref squares, i) + lo * lo).StoreUnsafe(ref squares, i);
                (Vector128.LoadUnsafe(ref squares, i + 2) + hi * hi).StoreUnsafe(ref squares, i + 2);
            }
        }
        for (; i < channels; i++)
        {
            float v = Unsafe.Add(ref x, i);
            if (v <= threshold) Unsafe.Add(ref zeros, i)++;
            double d = v;
            Unsafe.Add(ref sums, i) += d;
            Unsafe.Add(ref squares, i) += d * d;
        }
    }
}
