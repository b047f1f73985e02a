namespace Span.Prune.Lab.Demo;

/// <summary>The points no other point beats in both coordinates (larger is better in both).</summary>
internal static class ParetoFront
{
    /// <summary>
    /// Marks the non-dominated points: p is dominated when some q has q.x ≥ p.x and q.y ≥ p.y, one of them strictly.
    /// Equal points do not dominate each other, so duplicates on the front are all marked.
    /// </summary>
    /// <remarks>
    /// Sweep in O(n log n): visit the points by x descending; a point survives when no point of strictly larger x
    /// reached its y (<c>bestBeyond</c>) and no point of the same x has a larger y.
    /// </remarks>
    public static bool[] NonDominated(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Length {y.Length} does not match the x length {x.Length}.", nameof(y));
        }

        int n = x.Length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        double[] xs = x.ToArray(), ys = y.ToArray();
        Array.Sort(order, (a, b) => xs[a] != xs[b] ? xs[b].CompareTo(xs[a]) : ys[b].CompareTo(ys[a]));

        var front = new bool[n];
        double bestBeyond = double.NegativeInfinity;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end < n && xs[order[end]] == xs[order[start]])
            {
                end++;
            }

            double groupBest = ys[order[start]]; // the group is sorted by y descending
            for (int k = start; k < end; k++)
            {
                double yk = ys[order[k]];
                front[order[k]] = yk > bestBeyond && yk == groupBest;
            }

            bestBeyond = Math.Max(bestBeyond, groupBest);
            start = end;
        }

        return front;
    }
}
