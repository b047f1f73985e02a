using System.Globalization;
using System.Text.Json;
using static Span.Prune.Cli.Commands.PruneCommand;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>The grouped mode's report: a markdown table on stdout, and <c>--report</c> JSON (Utf8JsonWriter, AOT-safe).</summary>
internal static class GroupReport
{
    public static void Print(TextWriter output, List<GroupSelection> selections, List<TensorChange> changes, long before, long after, bool shrink)
    {
        output.WriteLine("| group | units | target | pruned | kept | sparsity |");
        output.WriteLine("|---|---|---|---|---|---|");
        foreach (GroupSelection s in selections)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {s.Instance.Label} | {s.Instance.Units} | {s.Target} | {s.Pruned} | {s.Kept} | {100 * s.Sparsity:0.00}% |"));
        }
        output.WriteLine();
        output.WriteLine(shrink ? "| tensor | shape | new shape | parameters | after |" : "| tensor | shape | masked | parameters | kept |");
        output.WriteLine("|---|---|---|---|---|");
        foreach (TensorChange c in changes)
        {
            string shapeAfter = c.ShapeAfter is null ? "(folded, dropped)" : shrink ? FormatShape(c.ShapeAfter) : FormatShape(c.KeptShape!) + " live";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Name} | {(c.ShapeBefore is null ? "(added)" : FormatShape(c.ShapeBefore))} | {shapeAfter} | {c.ParamsBefore:N0} | {c.ParamsAfter:N0} |"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| **total** (all tensors of the file) | | | {before:N0} | {after:N0} ({100.0 * (before - after) / Math.Max(before, 1):0.00}% fewer) |"));
    }

    public static void WriteJson(Stream stream, string input, string output, double sparsity, GroupOptions g, List<GroupSelection> selections, List<TensorChange> changes, long before, long after)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("input", input);
        w.WriteString("output", output);
        w.WriteNumber("sparsity", sparsity);
        w.WriteBoolean("shrink", g.Shrink);
        w.WriteNumber("round_to", g.RoundTo);
        w.WriteBoolean("fold_bn", g.FoldBn);
        w.WriteString("group_norm", g.Normalizer);
        w.WriteStartArray("presets");
        foreach (string p in g.Presets) w.WriteStringValue(p);
        w.WriteEndArray();
        w.WriteStartArray("groups");
        foreach (GroupSelection s in selections)
        {
            w.WriteStartObject();
            w.WriteString("spec", s.Instance.Spec.Text);
            if (s.Instance.Spec.Name is { } name) w.WriteString("name", name);
            if (s.Instance.Index is { } i) w.WriteString("index", i);
            w.WriteStartArray("members");
            foreach (GroupMember m in s.Instance.Members) w.WriteStringValue(m.ToString());
            w.WriteEndArray();
            w.WriteNumber("units", s.Instance.Units);
            w.WriteNumber("target_pruned_units", s.Target);
            w.WriteNumber("pruned_units", s.Pruned);
            w.WriteNumber("kept_units", s.Kept);
            w.WriteNumber("achieved_sparsity", s.Sparsity);
            w.WriteStartArray("kept");
            for (int u = 0; u < s.Keep.Length; u++) if (s.Keep[u] != 0) w.WriteNumberValue(u);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("tensors");
        foreach (TensorChange c in changes)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            WriteShape(w, "shape_before", c.ShapeBefore);
            WriteShape(w, "shape_after", c.ShapeAfter);
            w.WriteNumber("params_before", c.ParamsBefore);
            w.WriteNumber("params_after", c.ParamsAfter);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNumber("params_before", before);
        w.WriteNumber("params_after", after);
        w.WriteEndObject();
    }

    private static void WriteShape(Utf8JsonWriter w, string name, long[]? shape)
    {
        if (shape is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartArray(name);
        foreach (long d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }
}
