using System.Globalization;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>Which dimension of a member tensor a group's units index.</summary>
internal enum GroupAxis
{
    /// <summary>Dimension 0: output units of a linear layer, output channels (filters) of a conv, the entries of a 1-D vector.</summary>
    Rows,

    /// <summary>Dimension 1: input features of a linear layer, input channels of a conv (all kh·kw positions of each).</summary>
    Cols,
}

/// <summary>One member of a <c>--group</c> spec: <c>NAME[?][:rows|:cols][/B]</c>.</summary>
/// <param name="Pattern">Tensor name, possibly holding <c>{i}</c> (the layer index).</param>
/// <param name="Axis">The indexed dimension.</param>
/// <param name="Block">Consecutive entries of that dimension per unit (a head of dim B); 1 for single rows/columns.</param>
/// <param name="Optional">A trailing <c>?</c> on the name: a missing tensor is skipped instead of an error.</param>
internal sealed record GroupMemberSpec(string Pattern, GroupAxis Axis, int Block, bool Optional)
{
    public const string Index = "{i}";

    public bool HasIndex => Pattern.Contains(Index, StringComparison.Ordinal);

    public string Name(string? index) => index is null ? Pattern : Pattern.Replace(Index, index, StringComparison.Ordinal);

    public override string ToString() =>
        $"{Pattern}{(Optional ? "?" : "")}:{(Axis == GroupAxis.Rows ? "rows" : "cols")}{(Block == 1 ? "" : "/" + Block.ToString(CultureInfo.InvariantCulture))}";
}

/// <summary>
/// A parsed <c>--group</c> spec: comma-separated members that lose the same units together.
/// </summary>
/// <remarks>
/// <para>Grammar: <c>SPEC := MEMBER (',' MEMBER)*</c>, <c>MEMBER := NAME ['?'] [':' AXIS] ['/' B]</c>,
/// <c>AXIS := rows | cols</c> (default rows), B a positive integer (default 1). <c>NAME</c> is a tensor name in which
/// <c>{i}</c> stands for a layer index; no other braces, commas or colons. A member's unit u is entries
/// <c>[u·B, (u+1)·B)</c> of its dimension, so every member must have the same number of units.</para>
/// <para>Example (Llama MLP neurons): <c>model.layers.{i}.mlp.gate_proj.weight:rows,model.layers.{i}.mlp.up_proj.weight:rows,model.layers.{i}.mlp.down_proj.weight:cols</c>.</para>
/// </remarks>
internal sealed record GroupSpec(string Text, IReadOnlyList<GroupMemberSpec> Members)
{
    /// <summary>A short name for the report (a preset's), or null to show the spec.</summary>
    public string? Name { get; init; }

    /// <summary>Parses one spec; a malformed one throws an <see cref="ArgumentException"/> that quotes it.</summary>
    public static GroupSpec Parse(string text)
    {
        var members = new List<GroupMemberSpec>();
        if (string.IsNullOrWhiteSpace(text)) throw Bad(text, "it is empty");
        foreach (string raw in text.Split(','))
        {
            string part = raw.Trim();
            if (part.Length == 0) throw Bad(text, "a member is empty (two commas, or a comma at an end)");
            string name = part, axisText = "rows";
            int block = 1;
            int colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                name = part[..colon];
                axisText = part[(colon + 1)..];
                int slash = axisText.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0)
                {
                    if (!int.TryParse(axisText[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out block) || block <= 0)
                        throw Bad(text, $"member '{part}': the block after '/' must be a positive integer");
                    axisText = axisText[..slash];
                }
            }
            GroupAxis axis = axisText switch
            {
                "rows" => GroupAxis.Rows,
                "cols" => GroupAxis.Cols,
                _ => throw Bad(text, $"member '{part}': axis '{axisText}' is not rows or cols"),
            };
            bool optional = name.EndsWith('?');
            if (optional) name = name[..^1];
            if (name.Length == 0) throw Bad(text, $"member '{part}' has no tensor name");
            string withoutIndex = name.Replace(GroupMemberSpec.Index, "", StringComparison.Ordinal);
            if (withoutIndex.IndexOfAny(['{', '}', '?', '/']) >= 0)
                throw Bad(text, $"member '{part}': only '{{i}}' may appear in braces, and '?' only at the end of the name");
            var member = new GroupMemberSpec(name, axis, block, optional);
            if (members.Any(m => m.Pattern == name && m.Axis == axis)) throw Bad(text, $"member '{part}' is listed twice");
            members.Add(member);
        }
        if (members.All(m => m.Optional)) throw Bad(text, "every member is optional ('?'); at least one must be required");
        return new GroupSpec(text, members);
    }

    private static ArgumentException Bad(string text, string why) =>
        new($"bad --group '{text}': {why}; expected NAME[?][:rows|:cols][/B],... (see sprune prune --help)");

    public override string ToString() => string.Join(",", Members);
}
