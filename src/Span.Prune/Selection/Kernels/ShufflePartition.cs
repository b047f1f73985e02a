using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// In-place three-way partition for 128-bit SIMD (SSSE3 <c>pshufb</c>, Arm64 <c>tbl</c>): the two-gap scheme of
/// <see cref="CompressPartition"/> with the compress done by a byte shuffle from a 16-entry table per side.
/// </summary>
internal static class ShufflePartition
{
    private const int V = 4;

    /// <summary>Ranges shorter than this go to the scalar partition.</summary>
    public const int MinLength = 4 * V;

    public static bool IsSupported => Ssse3.IsSupported || AdvSimd.Arm64.IsSupported;

    // 16 masks × 16 byte indices, for the low (compress to the bottom) and the high (to the top) side.
    private static readonly byte[] s_tables = BuildTables();

    private static byte[] BuildTables()
    {
        var t = new byte[2 * 16 * 16];
        for (int m = 0; m < 16; m++)
        {
            int count = BitOperations.PopCount((uint)m);
            int low = 0, high = V - count;
            for (int lane = 0; lane < V; lane++)
            {
                if ((m & (1 << lane)) == 0) continue;
                for (int b = 0; b < 4; b++)
                {
                    t[(m * 16) + (low * 4) + b] = (byte)((lane * 4) + b);
                    t[256 + (m * 16) + (high * 4) + b] = (byte)((lane * 4) + b);
                }
                low++;
                high++;
            }
        }
        return t;
    }

    /// <summary>Partitions <c>d[0..len)</c> around <paramref name="pivot"/>; see <see cref="CompressPartition.Partition"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Partition(ref float d, nint len, float pivot, out nint lt, out nint gt)
    {
        ref byte tables = ref MemoryMarshal.GetArrayDataReference(s_tables);
        var p = Vector128.Create(pivot);

        Vector128<float> first = Vector128.LoadUnsafe(ref d);
        Vector128<float> last = Vector128.LoadUnsafe(ref d, (nuint)(len - V));
        nint readL = V, readR = len - V, writeL = 0, writeR = len;

        nint rem = (len - 2 * V) % V;
        if (rem != 0)
        {
            var v = Vector128.LoadUnsafe(ref d, (nuint)readL);
            uint valid = (1u << (int)rem) - 1;
            readL += rem;
            Step(ref d, ref tables, v,
                Vector128.LessThan(v, p).ExtractMostSignificantBits() & valid,
                Vector128.GreaterThan(v, p).ExtractMostSignificantBits() & valid, ref writeL, ref writeR);
        }

        while (readL < readR)
        {
            nint takeLeft = (readL - writeL <= writeR - readR) ? -1 : 0;
            nint at = (readL & takeLeft) | ((readR - V) & ~takeLeft);
            var v = Vector128.LoadUnsafe(ref d, (nuint)at);
            readL += V & takeLeft;
            readR -= V & ~takeLeft;
            Step(ref d, ref tables, v, Vector128.LessThan(v, p).ExtractMostSignificantBits(),
                Vector128.GreaterThan(v, p).ExtractMostSignificantBits(), ref writeL, ref writeR);
        }

        StepExact(ref d, first, p, ref writeL, ref writeR);
        StepExact(ref d, last, p, ref writeL, ref writeR);

        for (nint i = writeL; i < writeR; i++) Unsafe.Add(ref d, i) = pivot;
        lt = writeL;
        gt = len - writeR;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Shuffle(Vector128<float> v, ref byte tables, nint offset)
    {
        var control = Vector128.LoadUnsafe(ref tables, (nuint)offset);
        return Ssse3.IsSupported
            ? Ssse3.Shuffle(v.AsByte(), control).AsSingle()
            : AdvSimd.Arm64.VectorTableLookup(v.AsByte(), control).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref float d, ref byte tables, Vector128<float> v, uint ltBits, uint gtBits, ref nint writeL, ref nint writeR)
    {
        Shuffle(v, ref tables, (nint)ltBits * 16).StoreUnsafe(ref d, (nuint)writeL);
        Shuffle(v, ref tables, 256 + ((nint)gtBits * 16)).StoreUnsafe(ref d, (nuint)(writeR - V));
        writeL += BitOperations.PopCount(ltBits);
        writeR -= BitOperations.PopCount(gtBits);
    }

    private static void StepExact(ref float d, Vector128<float> v, Vector128<float> p, ref nint writeL, ref nint writeR)
    {
        uint ltBits = Vector128.LessThan(v, p).ExtractMostSignificantBits();
        uint gtBits = Vector128.GreaterThan(v, p).ExtractMostSignificantBits();
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
