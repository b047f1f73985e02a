using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// In-place three-way partition for AVX2 (no compress instruction): the same two-gap scheme as
/// <see cref="CompressPartition"/>, with the compress done by <c>vpermps</c> and a lookup table indexed by the 8-bit lane mask.
/// </summary>
/// <remarks>
/// Two tables of 256 × 8 byte lane indices (4 KiB together, built once): <c>Low[m]</c> gathers the set lanes of
/// <c>m</c> into the bottom of the register in lane order, <c>High[m]</c> into the top. The indices are widened with
/// <c>vpmovzxbd</c> on load.
/// </remarks>
internal static class PermutePartition
{
    private const int V = 8;

    /// <summary>Ranges shorter than this go to the scalar partition.</summary>
    public const int MinLength = 4 * V;

    public static bool IsSupported => Avx2.IsSupported;

    private static readonly byte[] s_tables = BuildTables();

    private static byte[] BuildTables()
    {
        var t = new byte[2 * 256 * V];
        for (int m = 0; m < 256; m++)
        {
            int count = BitOperations.PopCount((uint)m);
            int low = 0, high = V - count;
            for (int lane = 0; lane < V; lane++)
            {
                if ((m & (1 << lane)) == 0) continue;
                t[(m * V) + low++] = (byte)lane;
                t[(256 * V) + (m * V) + high++] = (byte)lane;
            }
        }
        return t;
    }

    /// <summary>Partitions <c>d[0..len)</c> around <paramref name="pivot"/>; see <see cref="CompressPartition.Partition"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Partition(ref float d, nint len, float pivot, out nint lt, out nint gt)
    {
        ref byte tables = ref MemoryMarshal.GetArrayDataReference(s_tables);
        var p = Vector256.Create(pivot);

        Vector256<float> first = Vector256.LoadUnsafe(ref d);
        Vector256<float> last = Vector256.LoadUnsafe(ref d, (nuint)(len - V));
        nint readL = V, readR = len - V, writeL = 0, writeR = len;

        nint rem = (len - 2 * V) % V;
        if (rem != 0)
        {
            var v = Vector256.LoadUnsafe(ref d, (nuint)readL);
            uint valid = (1u << (int)rem) - 1;
            readL += rem;
            Step(ref d, ref tables, v,
                Vector256.LessThan(v, p).ExtractMostSignificantBits() & valid,
                Vector256.GreaterThan(v, p).ExtractMostSignificantBits() & valid, ref writeL, ref writeR);
        }

        while (readL < readR)
        {
            nint takeLeft = (readL - writeL <= writeR - readR) ? -1 : 0;
            nint at = (readL & takeLeft) | ((readR - V) & ~takeLeft);
            var v = Vector256.LoadUnsafe(ref d, (nuint)at);
            readL += V & takeLeft;
            readR -= V & ~takeLeft;
            Step(ref d, ref tables, v, Vector256.LessThan(v, p).ExtractMostSignificantBits(),
                Vector256.GreaterThan(v, p).ExtractMostSignificantBits(), ref writeL, ref writeR);
        }

        StepExact(ref d, first, p, ref writeL, ref writeR);
        StepExact(ref d, last, p, ref writeL, ref writeR);

        for (nint i = writeL; i < writeR; i++) Unsafe.Add(ref d, i) = pivot;
        lt = writeL;
        gt = len - writeR;
    }

    /// <summary>The set lanes of <paramref name="lanes"/> moved to the bottom of the register, in lane order (AVX2 compress).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CompressLow(Vector256<float> v, uint lanes) =>
        Avx2.PermuteVar8x32(v, Lanes(ref MemoryMarshal.GetArrayDataReference(s_tables), (nint)lanes * V));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(ref byte tables, nint offset) =>
        Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref tables, offset))).AsByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref float d, ref byte tables, Vector256<float> v, uint ltBits, uint gtBits, ref nint writeL, ref nint writeR)
    {
        Vector256<float> low = Avx2.PermuteVar8x32(v, Lanes(ref tables, (nint)ltBits * V));
        Vector256<float> high = Avx2.PermuteVar8x32(v, Lanes(ref tables, (256 * V) + ((nint)gtBits * V)));
        low.StoreUnsafe(ref d, (nuint)writeL);
        high.StoreUnsafe(ref d, (nuint)(writeR - V));
        writeL += BitOperations.PopCount(ltBits);
        writeR -= BitOperations.PopCount(gtBits);
    }

    private static void StepExact(ref float d, Vector256<float> v, Vector256<float> p, ref nint writeL, ref nint writeR)
    {
        // Exact-width writes: scalar, twice per partition.
        uint ltBits = Vector256.LessThan(v, p).ExtractMostSignificantBits();
        uint gtBits = Vector256.GreaterThan(v, p).ExtractMostSignificantBits();
        for (int lane = 0; lane < V; lane++)
        {
            if ((ltBits & (1u << lane)) != 0) Unsafe.Add(ref d, writeL++) = v.GetElement(lane);
        }
        for (int lane = V - 1; lane >= 0; lane--)
        {
            if ((gtBits & (1u << lane)) != 0) Unsafe.Add(ref d, --writeR) = v.GetElement(lane);
        }
    }
}
