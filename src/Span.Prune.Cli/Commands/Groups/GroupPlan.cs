using System.Globalization;
using System.Text;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>How a member's unit norms are scaled before they are summed into the group score.</summary>
internal enum GroupNormalizer
{
    /// <summary>Divide by the member's mean unit norm (default; Torch-Pruning's <c>normalizer="mean"</c>).</summary>
    Mean,

    /// <summary>Divide by the member's largest unit norm.</summary>
    Max,

    /// <summary>Raw L2 norms: large members (many weights per unit) dominate.</summary>
    None,
}

/// <summary>The selection of one group instance.</summary>
/// <param name="Instance">The group.</param>
/// <param name="Keep">One byte per unit, 1 = keep.</param>
/// <param name="Target">The exact-k count <c>Selection.PruneCount(units, s)</c>.</param>
/// <param name="Pruned">Units pruned after <c>--round-to</c> (≤ <paramref name="Target"/>).</param>
internal sealed record GroupSelection(GroupInstance Instance, byte[] Keep, int Target, int Pruned)
{
    public int Kept => Instance.Units - Pruned;

    public double Sparsity => Instance.Units == 0 ? 0 : (double)Pruned / Instance.Units;
}

/// <summary>The units one dimension of one tensor keeps, and the member (geometry) that owns it.</summary>
internal sealed record DimensionKeep(GroupMember Member, GroupSelection Selection)
{
    /// <summary>Entry <paramref name="index"/> of the dimension is kept.</summary>
    public bool Keeps(int index) => Selection.Keep[index / Member.Block] != 0;

    public int KeptLength => Selection.Kept * Member.Block;

    /// <summary>The kept entries of the dimension as ascending ranges: <c>0-3,5,7-9</c>.</summary>
    public string KeptRanges() => Ranges(Enumerable.Range(0, Member.Length).Where(Keeps).ToList());

    public static string Ranges(IReadOnlyList<int> sorted)
    {
        var text = new StringBuilder();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            if (text.Length > 0) text.Append(',');
            text.Append(sorted[i].ToString(CultureInfo.InvariantCulture));
            if (j > i) text.Append('-').Append(sorted[j].ToString(CultureInfo.InvariantCulture));
            i = j + 1;
        }
        return text.ToString();
    }

    /// <summary>Parses <see cref="Ranges"/>' format; null when the text is not in it.</summary>
    public static List<int>? ParseRanges(string text)
    {
        var values = new List<int>();
        if (text.Length == 0) return values;
        foreach (string part in text.Split(','))
        {
            string[] ends = part.Split('-');
            if (ends.Length is < 1 or > 2) return null;
            if (!int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int a)) return null;
            int b = a;
            if (ends.Length == 2 && !int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out b)) return null;
            if (b < a || (values.Count > 0 && a <= values[^1])) return null;
            for (int v = a; v <= b; v++) values.Add(v);
        }
        return values;
    }
}

/// <summary>Scores and selects the units of every group instance (before anything is written).</summary>
internal static class GroupPlan
{
    /// <summary>
    /// Score of unit u: <c>Σ_members ‖unit u of the member‖₂ / normaliser(member)</c>, the normaliser being the
    /// member's mean (or max, or 1) unit norm; a member whose units are all zero adds nothing. The lowest
    /// <c>Selection.PruneCount(units, s)</c> scores are pruned, ties to the lower index; <paramref name="roundTo"/> &gt; 1
    /// then rounds the kept count up to a multiple of it (prunes fewer, never more), and leaves the group whole
    /// when no such multiple fits.
    /// </summary>
    public static GroupSelection Select(GroupInstance g, double sparsity, int roundTo, GroupNormalizer normalizer)
    {
        int units = g.Units;
        var total = new double[units];
        var norms = new float[units];
        foreach (GroupMember m in g.Members)
        {
            var w = new float[m.Info.ElementCount];
            m.File.ReadAsFloat32(m.Info.Index, w);
            var (view, unit) = m.Geometry();
            try { Scoring.L2Norm(w, view, unit, norms); }
            catch (ArgumentException e) { throw new ArgumentException($"group '{g.Label}': tensor '{m.Info.Name}': {e.Message}"); }
            double scale = normalizer switch
            {
                GroupNormalizer.Mean => norms.Average(x => (double)x),
                GroupNormalizer.Max => norms.Max(),
                _ => 1.0,
            };
            if (scale == 0) continue;
            for (int u = 0; u < units; u++) total[u] += norms[u] / scale;
        }

        int target = Selection.PruneCount(units, sparsity);
        int pruned = RoundTo(units, target, roundTo);
        if (pruned == units && units > 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--sparsity {sparsity} removes all {units} units of group '{g.Label}'; a group keeps at least one unit"));
        }
        var scores = new float[units];
        for (int u = 0; u < units; u++) scores[u] = (float)total[u];
        var keep = new byte[units];
        Selection.LowestMask(scores, pruned, keep);
        return new GroupSelection(g, keep, target, pruned);
    }

    /// <summary>Torch-Pruning's <c>round_to</c>, counting down from the exact-k target: the largest count ≤ target
    /// that keeps a multiple of <paramref name="roundTo"/> units; 0 when none does.</summary>
    public static int RoundTo(int units, int target, int roundTo)
    {
        if (roundTo <= 1) return target;
        long kept = units - target;
        long rounded = (kept + roundTo - 1) / roundTo * roundTo;
        return rounded > units ? 0 : (int)(units - rounded);
    }
}
