namespace Span.Prune.Lab.Bench;

/// <summary>
/// The textbook baseline the report compares against: a scalar Hoare quickselect with a median-of-3 pivot on a
/// copy (what <c>std::nth_element</c> and <c>np.partition</c> do, minus their introsort fallback).
/// </summary>
internal static class ScalarQuickselect
{
    public static float KthSmallest(ReadOnlySpan<float> values, int k, Span<float> scratch)
    {
        Span<float> a = scratch[..values.Length];
        values.CopyTo(a);
        int lo = 0, hi = a.Length - 1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[mid]) (a[hi], a[mid]) = (a[mid], a[hi]);
            float pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }

    /// <summary>Magnitude prune the way a straightforward implementation does it: |w|, select, then mask with ties by index.</summary>
    public static void PruneSmallestMagnitude(Span<float> weights, int pruneCount, Span<float> scores, Span<float> scratch)
    {
        if (pruneCount == 0) return;
        for (int i = 0; i < weights.Length; i++) scores[i] = MathF.Abs(weights[i]);
        float t = KthSmallest(scores[..weights.Length], pruneCount - 1, scratch);
        int below = 0;
        for (int i = 0; i < weights.Length; i++) if (scores[i] < t) below++;
        int ties = pruneCount - below;
        for (int i = 0; i < weights.Length; i++)
        {
            float s = scores[i];
            if (s < t || (s == t && ties-- > 0)) weights[i] = 0f;
        }
    }
}
