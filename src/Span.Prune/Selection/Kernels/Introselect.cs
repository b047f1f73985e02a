using System.Numerics;
using System.Runtime.CompilerServices;

namespace Span.Prune.SelectionKernels;

/// <summary>Which partition kernel <see cref="Introselect"/> uses; tests force each one on one machine.</summary>
internal enum PartitionVariant
{
    Auto,
    Scalar,
    Shuffle,
    Permute,
    Compress,
}

/// <summary>
/// Introselect (Musser 1997): quickselect with a median-of-3 (ninther for long ranges) pivot and three-way partitioning
/// (<see cref="CompressPartition"/> on AVX-512, <see cref="PermutePartition"/> on AVX2, <see cref="ShufflePartition"/>
/// on SSSE3/Arm64, else <see cref="ScalarPartition"/>),
/// switching to median-of-medians pivots (Blum–Floyd–Pratt–Rivest–Tarjan 1973, groups of 5) when the depth budget of
/// <c>2·⌊log2 n⌋</c> partitions is spent or three partitions in a row keep more than 7/8 of the range. Median-of-medians
/// guarantees each step discards at least 3/10 of the range, so the worst case is linear.
/// </summary>
/// <remarks>
/// <para>Works in place on scratch. NaN must be excluded by the caller (every comparison here assumes a total order).
/// <c>−0</c> and <c>+0</c> compare equal.</para>
/// <para>Three-way partitioning keeps an invariant that yields the rank information the exact-k masks need for free:
/// everything left of the live range is strictly smaller than the answer, everything right of it strictly larger. So
/// when the answer is found, the number of values strictly below it is known without another pass.</para>
/// </remarks>
internal static class Introselect
{
    private const int SmallRange = 16;
    private const int NintherRange = 1024;

    /// <summary>Test hook: median-of-medians pivots chosen on this thread (fallbacks and forced ones).</summary>
    [ThreadStatic] internal static int t_medianOfMediansPivots;

    /// <summary>Test hook: replaces the depth budget on this thread (0 forces median-of-medians from the first step).</summary>
    [ThreadStatic] internal static int? t_depthBudget;

    /// <summary>Test hook: forces a partition kernel on this thread (falls back to scalar when unsupported).</summary>
    [ThreadStatic] internal static PartitionVariant t_partition;

    /// <summary>
    /// Test hook: every sampled pivot becomes the minimum of its range — the effect a median-of-3 killer input has on
    /// plain quickselect (each partition splits off one value, O(n²) in total).
    /// </summary>
    [ThreadStatic] internal static bool t_worstPivots;

    /// <summary>Test hook: values partitioned on this thread (the work; linear when the fallback does its job).</summary>
    [ThreadStatic] internal static long t_partitionedValues;

    /// <summary>
    /// Puts the <paramref name="k"/>-th smallest (zero-based) of <c>d[0..n)</c> at index k and returns it, with the count
    /// of values strictly smaller. Reorders <c>d</c>.
    /// </summary>
    public static float Select(ref float d, nint n, nint k, out nint countLess)
    {
        int budget = t_depthBudget ?? 2 * BitOperations.Log2((ulong)n);
        return SelectCore(ref d, n, k, budget, out countLess);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SelectCore(ref float d, nint n, nint k, int budget, out nint countLess)
    {
        nint lo = 0, hi = n;
        int badInARow = 0;
        while (hi - lo > SmallRange)
        {
            nint len = hi - lo;
            float pivot;
            if (budget <= 0 || badInARow >= 3)
            {
                pivot = MedianOfMediansPivot(ref d, lo, hi);
                badInARow = 0;
            }
            else
            {
                pivot = t_worstPivots ? RangeMinimum(ref d, lo, hi) : SamplePivot(ref d, lo, hi);
            }
            budget--;
            t_partitionedValues += len;

            Partition(ref d, lo, hi, pivot, out nint ltEnd, out nint gtStart);
            if (k < ltEnd)
            {
                hi = ltEnd;
            }
            else if (k >= gtStart)
            {
                lo = gtStart;
            }
            else
            {
                // k fell among the values equal to the pivot; everything before ltEnd is strictly smaller.
                countLess = ltEnd;
                return pivot;
            }
            badInARow = (hi - lo) > len - (len >> 3) ? badInARow + 1 : 0;
        }

        InsertionSort(ref d, lo, hi);
        float value = Unsafe.Add(ref d, k);
        nint less = lo;
        while (less < k && Unsafe.Add(ref d, less) < value) less++;
        countLess = less;
        return value;
    }

    /// <summary>Median of 3 (lo, mid, hi−1), or Tukey's ninther over 9 evenly spread samples for long ranges.</summary>
    private static float SamplePivot(ref float d, nint lo, nint hi)
    {
        nint len = hi - lo;
        nint mid = lo + (len >> 1);
        if (len < NintherRange)
        {
            return Median3(Unsafe.Add(ref d, lo), Unsafe.Add(ref d, mid), Unsafe.Add(ref d, hi - 1));
        }
        nint step = len >> 3;
        return Median3(
            Median3(Unsafe.Add(ref d, lo), Unsafe.Add(ref d, lo + step), Unsafe.Add(ref d, lo + (2 * step))),
            Median3(Unsafe.Add(ref d, mid - step), Unsafe.Add(ref d, mid), Unsafe.Add(ref d, mid + step)),
            Median3(Unsafe.Add(ref d, hi - 1 - (2 * step)), Unsafe.Add(ref d, hi - 1 - step), Unsafe.Add(ref d, hi - 1)));
    }

    private static float RangeMinimum(ref float d, nint lo, nint hi)
    {
        float min = Unsafe.Add(ref d, lo);
        for (nint i = lo + 1; i < hi; i++) min = Math.Min(min, Unsafe.Add(ref d, i));
        return min;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Median3(float a, float b, float c) =>
        Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));

    /// <summary>
    /// Median-of-medians pivot of <c>d[lo..hi)</c>: medians of groups of 5 are moved to the front of the range, and their
    /// median is selected recursively (always with median-of-medians pivots, so the recursion is linear).
    /// </summary>
    private static float MedianOfMediansPivot(ref float d, nint lo, nint hi)
    {
        t_medianOfMediansPivots++;
        nint groups = (hi - lo) / 5;
        for (nint g = 0; g < groups; g++)
        {
            nint at = lo + (5 * g);
            InsertionSort(ref d, at, at + 5);
            (Unsafe.Add(ref d, lo + g), Unsafe.Add(ref d, at + 2)) = (Unsafe.Add(ref d, at + 2), Unsafe.Add(ref d, lo + g));
        }
        return SelectCore(ref Unsafe.Add(ref d, lo), groups, groups >> 1, budget: 0, out _);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Partition(ref float d, nint lo, nint hi, float pivot, out nint ltEnd, out nint gtStart)
    {
        nint len = hi - lo;
        ref float b = ref Unsafe.Add(ref d, lo);
        nint lt, gt;
        PartitionVariant variant = t_partition;
        if (CompressPartition.IsSupported && len >= CompressPartition.MinLength
            && (variant == PartitionVariant.Auto || variant == PartitionVariant.Compress))
        {
            CompressPartition.Partition(ref b, len, pivot, out lt, out gt);
        }
        else if (PermutePartition.IsSupported && len >= PermutePartition.MinLength
            && (variant == PartitionVariant.Auto || variant == PartitionVariant.Permute))
        {
            PermutePartition.Partition(ref b, len, pivot, out lt, out gt);
        }
        else if (ShufflePartition.IsSupported && len >= ShufflePartition.MinLength
            && (variant == PartitionVariant.Auto || variant == PartitionVariant.Shuffle))
        {
            ShufflePartition.Partition(ref b, len, pivot, out lt, out gt);
        }
        else
        {
            ScalarPartition(ref b, len, pivot, out lt, out gt);
        }
        ltEnd = lo + lt;
        gtStart = hi - gt;
    }

    /// <summary>Dijkstra's three-way partition (the fallback without SIMD, and for short ranges).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ScalarPartition(ref float d, nint len, float pivot, out nint lt, out nint gt)
    {
        nint l = 0, i = 0, g = len;
        while (i < g)
        {
            float x = Unsafe.Add(ref d, i);
            if (x < pivot)
            {
                Unsafe.Add(ref d, i) = Unsafe.Add(ref d, l);
                Unsafe.Add(ref d, l) = x;
                l++;
                i++;
            }
            else if (x > pivot)
            {
                g--;
                Unsafe.Add(ref d, i) = Unsafe.Add(ref d, g);
                Unsafe.Add(ref d, g) = x;
            }
            else
            {
                i++;
            }
        }
        lt = l;
        gt = len - g;
    }

    private static void InsertionSort(ref float d, nint lo, nint hi)
    {
        for (nint i = lo + 1; i < hi; i++)
        {
            float x = Unsafe.Add(ref d, i);
            nint j = i - 1;
            while (j >= lo && Unsafe.Add(ref d, j) > x)
            {
                Unsafe.Add(ref d, j + 1) = Unsafe.Add(ref d, j);
                j--;
            }
            Unsafe.Add(ref d, j + 1) = x;
        }
    }
}
