using Span.Prune.SelectionKernels;

namespace Span.Prune.Tests.Selection;

/// <summary>Naive references for the selection kernels, and adversarial inputs.</summary>
internal static class SelectionReference
{
    /// <summary>The k-th smallest by a full sort (Array.Sort compares −0 and +0 as equal, like the kernels).</summary>
    public static float Kth(float[] values, int k)
    {
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        return sorted[k];
    }

    /// <summary>
    /// Units in the exact-k order: ascending score (IEEE compare, ±0 equal), then ascending index. This is a total order,
    /// so any sort gives the same permutation — the "stable sort of (score, index)" of the tie rule.
    /// </summary>
    public static int[] Order(float[] scores)
    {
        var idx = new int[scores.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        Array.Sort(idx, (a, b) => scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : a.CompareTo(b));
        return idx;
    }

    /// <summary>Mask that prunes the first k units of <see cref="Order"/>.</summary>
    public static byte[] Mask(float[] scores, int k)
    {
        var mask = new byte[scores.Length];
        Array.Fill(mask, (byte)1);
        int[] order = Order(scores);
        for (int r = 0; r < k; r++) mask[order[r]] = 0;
        return mask;
    }

    /// <summary>N:M reference: per group, sort (score, index) and prune the first m − n.</summary>
    public static byte[] NmMask(float[] scores, int n, int m)
    {
        var mask = new byte[scores.Length];
        for (int g = 0; g < scores.Length; g += m)
        {
            float[] group = scores.AsSpan(g, m).ToArray();
            byte[] gm = Mask(group, m - n);
            gm.CopyTo(mask, g);
        }
        return mask;
    }

    /// <summary>
    /// Global capped reference, the greedy definition: walk all units in (score, global index) order, prune each unless
    /// its segment already lost ⌊cap·n_s⌋, until k are pruned.
    /// </summary>
    public static byte[] GlobalMask(float[] scores, int[] lengths, int k, double cap, Func<int, int>? capOf = null)
    {
        int[] segOf = new int[scores.Length];
        int[] caps = new int[lengths.Length];
        for (int s = 0, at = 0; s < lengths.Length; s++)
        {
            caps[s] = capOf?.Invoke(lengths[s]) ?? (int)Math.Floor((decimal)cap * lengths[s]);
            for (int j = 0; j < lengths[s]; j++) segOf[at++] = s;
        }
        var mask = new byte[scores.Length];
        Array.Fill(mask, (byte)1);
        int[] lost = new int[lengths.Length];
        int pruned = 0;
        foreach (int u in Order(scores))
        {
            if (pruned == k) break;
            if (lost[segOf[u]] >= caps[segOf[u]]) continue;
            lost[segOf[u]]++;
            mask[u] = 0;
            pruned++;
        }
        return mask;
    }

    /// <summary>Named adversarial inputs of length n (seeded).</summary>
    public static IEnumerable<(string Name, float[] Values)> Adversarial(int n, int seed)
    {
        var rng = new Random(seed);
        float[] Make(Func<int, float> f)
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = f(i);
            return a;
        }
        yield return ("random", TestData.Uniform(n, seed));
        yield return ("allEqual", Make(_ => 0.25f));
        yield return ("sorted", Make(i => i * 0.5f - 7f));
        yield return ("reverse", Make(i => (n - i) * 0.5f));
        yield return ("organPipe", Make(i => Math.Min(i, n - 1 - i)));
        yield return ("sawtooth", Make(i => i % 17));
        yield return ("fewDistinct", Make(_ => rng.Next(3) - 1f));
        yield return ("manyDuplicates", Make(_ => rng.Next(Math.Max(1, n / 8)) * 0.125f));
        yield return ("signedZeros", Make(_ => rng.Next(4) switch { 0 => -0f, 1 => 0f, 2 => 1f, _ => -1f }));
        yield return ("denormals", Make(_ => BitConverter.Int32BitsToSingle(rng.Next(1, 200)) * (rng.Next(2) == 0 ? -1 : 1)));
        yield return ("medianOf3Killer", MedianOf3Killer(n));
        yield return ("extremes", Make(_ => rng.Next(3) switch { 0 => float.MaxValue, 1 => -float.MaxValue, _ => float.Epsilon }));
    }

    /// <summary>
    /// Musser's (1997) median-of-3 killer: drives a quicksort that takes the median of first, middle and last to
    /// quadratic time. Defined for even n; an odd n gets one extra element.
    /// </summary>
    public static float[] MedianOf3Killer(int n)
    {
        var a = new float[n];
        int k = n / 2;
        for (int i = 1; i <= k; i++)
        {
            a[i - 1] = i % 2 == 1 ? i : k + i - 1;
            a[k + i - 1] = 2 * i;
        }
        if ((n & 1) == 1) a[n - 1] = n;
        return a;
    }

    /// <summary>Runs <paramref name="body"/> with the selection path and partition kernel forced on this thread.</summary>
    public static T With<T>(SelectionPath path, PartitionVariant partition, Func<T> body)
    {
        SelectionCore.t_path = path;
        Introselect.t_partition = partition;
        try
        {
            return body();
        }
        finally
        {
            SelectionCore.t_path = SelectionPath.Auto;
            Introselect.t_partition = PartitionVariant.Auto;
        }
    }

    /// <summary>Every (path, partition) combination this machine can run.</summary>
    public static IEnumerable<(SelectionPath Path, PartitionVariant Partition)> Variants()
    {
        foreach (var path in new[] { SelectionPath.Introselect, SelectionPath.Radix, SelectionPath.SampleWindow })
            foreach (var partition in new[] { PartitionVariant.Scalar, PartitionVariant.Shuffle, PartitionVariant.Permute, PartitionVariant.Compress })
                yield return (path, partition);
    }
}
