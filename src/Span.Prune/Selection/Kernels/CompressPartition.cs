using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// In-place three-way partition with AVX-512 <c>vcompressps</c> (register form).
/// </summary>
/// <remarks>
/// <para>Technique (after Bramas 2017 and vxsort): one vector from each end is loaded into registers first, which opens a
/// one-vector gap at both ends. Each step reads the next vector from the side whose gap is smaller, compresses its
/// <c>&lt; p</c> lanes to the low end of one register and its <c>&gt; p</c> lanes to the high end of another (compress,
/// then rotate with <c>vpermps</c>), and stores both registers whole: the low one at the left write head, the high one
/// ending at the right write head. The lanes past the real elements land in the gap and are overwritten later. Lanes
/// equal to <c>p</c> are not stored at all; the hole they leave between the heads is filled with <c>p</c> at the end,
/// which makes the partition three-way (duplicates never degrade it).</para>
/// <para>Gap invariant: before each read the two gaps sum to at least two vectors; reading from the smaller side leaves
/// both at least one vector wide, so both whole-register stores stay inside already-read memory. The two preloaded
/// vectors are written last with exact-width compress stores, because by then the gaps may be narrower than a vector.</para>
/// <para>The register form of <c>vcompressps</c> is used in the loop because the memory form is slow on AMD Zen 4/5.</para>
/// </remarks>
internal static class CompressPartition
{
    private const int V = 16;

    /// <summary>Ranges shorter than this go to the scalar partition.</summary>
    public const int MinLength = 4 * V;

    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// Partitions <c>d[0..len)</c> around <paramref name="pivot"/>: afterwards <c>d[0..lt)</c> &lt; p, the middle equals p,
    /// <c>d[len−gt..len)</c> &gt; p. Requires <c>len ≥ MinLength</c> and no NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Partition(ref float d, nint len, float pivot, out nint lt, out nint gt)
    {
        var p = Vector512.Create(pivot);
        var indices = Vector512<int>.Indices;

        Vector512<float> first = Vector512.LoadUnsafe(ref d);
        Vector512<float> last = Vector512.LoadUnsafe(ref d, (nuint)(len - V));
        nint readL = V, readR = len - V, writeL = 0, writeR = len;

        // Odd-sized remainder first: a whole vector is read but only its first `rem` lanes count; the others are read
        // again by the next step, so the middle that is left is a multiple of V.
        nint rem = (len - 2 * V) % V;
        if (rem != 0)
        {
            var v = Vector512.LoadUnsafe(ref d, (nuint)readL);
            var valid = Vector512.LessThan(indices, Vector512.Create((int)rem)).AsSingle();
            readL += rem;
            Step(ref d, v, Vector512.LessThan(v, p) & valid, Vector512.GreaterThan(v, p) & valid, indices, ref writeL, ref writeR);
        }

        while (readL < readR)
        {
            // Branch-free side choice: read from the left when its gap is not larger than the right one.
            nint takeLeft = (readL - writeL <= writeR - readR) ? -1 : 0;
            nint at = (readL & takeLeft) | ((readR - V) & ~takeLeft);
            var v = Vector512.LoadUnsafe(ref d, (nuint)at);
            readL += V & takeLeft;
            readR -= V & ~takeLeft;
            Step(ref d, v, Vector512.LessThan(v, p), Vector512.GreaterThan(v, p), indices, ref writeL, ref writeR);
        }

        fixed (float* basePtr = &d)
        {
            StepExact(basePtr, first, p, ref writeL, ref writeR);
            StepExact(basePtr, last, p, ref writeL, ref writeR);
        }

        // The hole between the heads is exactly the elements equal to the pivot.
        for (nint i = writeL; i < writeR; i++) Unsafe.Add(ref d, i) = pivot;
        lt = writeL;
        gt = len - writeR;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref float d, Vector512<float> v, Vector512<float> ltMask, Vector512<float> gtMask,
        Vector512<int> indices, ref nint writeL, ref nint writeR)
    {
        int ltCount = BitOperations.PopCount((uint)ltMask.ExtractMostSignificantBits());
        int gtCount = BitOperations.PopCount((uint)gtMask.ExtractMostSignificantBits());
        Vector512<float> low = Avx512F.Compress(v, ltMask, v);
        // Compress the > p lanes to the bottom, then rotate them to the top: lane i takes lane (i + gtCount) mod 16.
        Vector512<float> high = Avx512F.PermuteVar16x32(Avx512F.Compress(v, gtMask, v), indices + Vector512.Create(gtCount));
        low.StoreUnsafe(ref d, (nuint)writeL);
        high.StoreUnsafe(ref d, (nuint)(writeR - V));
        writeL += ltCount;
        writeR -= gtCount;
    }

    private static unsafe void StepExact(float* d, Vector512<float> v, Vector512<float> p, ref nint writeL, ref nint writeR)
    {
        var ltMask = Vector512.LessThan(v, p);
        var gtMask = Vector512.GreaterThan(v, p);
        int ltCount = BitOperations.PopCount((uint)ltMask.ExtractMostSignificantBits());
        int gtCount = BitOperations.PopCount((uint)gtMask.ExtractMostSignificantBits());
        Avx512F.CompressStore(d + writeL, ltMask, v);
        writeR -= gtCount;
        Avx512F.CompressStore(d + writeR, gtMask, v);
        writeL += ltCount;
    }
}
