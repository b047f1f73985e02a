using System.Globalization;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>A member of one group instance: a tensor of the model, the dimension its units index, the unit geometry.</summary>
/// <param name="File">The file (of a sharded model: the shard) that holds the tensor.</param>
/// <param name="Info">The tensor.</param>
/// <param name="Axis">Dimension 0 (rows) or 1 (cols).</param>
/// <param name="Block">Entries of that dimension per unit.</param>
internal sealed record GroupMember(SafeTensorsFile File, SafeTensorInfo Info, GroupAxis Axis, int Block)
{
    public int Dim => Axis == GroupAxis.Rows ? 0 : 1;

    /// <summary>Length of the indexed dimension.</summary>
    public int Length => checked((int)Info.Shape[Dim]);

    public int Units => Length / Block;

    /// <summary>
    /// The 2-D view <c>[d0, d1·d2·…]</c> the scores and masks work on (a 1-D vector is <c>[1, n]</c>), and the
    /// library granularity whose units are this member's units: rows/B is a block of B whole rows, cols/B a block of
    /// all rows × B·K columns (K = the product of the dimensions after 1, a conv's kh·kw), an entry/B of a vector a 1×B block.
    /// </summary>
    public (WeightShape View, Granularity Unit) Geometry()
    {
        ReadOnlySpan<long> s = Info.Shape;
        int d0 = checked((int)s[0]);
        if (s.Length == 1) return (WeightShape.Linear(1, d0), Granularity.Block(1, Block));
        int rest = checked((int)(Info.ElementCount / d0));
        return Axis == GroupAxis.Rows
            ? (WeightShape.Linear(d0, rest), Granularity.Block(Block, rest))
            : (WeightShape.Linear(d0, rest), Granularity.Block(d0, Block * (rest / (int)s[1])));
    }

    public override string ToString() =>
        $"{Info.Name}:{(Axis == GroupAxis.Rows ? "rows" : "cols")}{(Block == 1 ? "" : "/" + Block.ToString(CultureInfo.InvariantCulture))}";
}

/// <summary>One expansion of a spec (one layer index, or the spec itself when it has no <c>{i}</c>).</summary>
/// <param name="Spec">The spec it came from.</param>
/// <param name="Index">The layer index <c>{i}</c> stood for, or null.</param>
/// <param name="Members">The members present in the file (optional ones that are missing are left out).</param>
internal sealed record GroupInstance(GroupSpec Spec, string? Index, IReadOnlyList<GroupMember> Members)
{
    public int Units => Members[0].Units;

    public string Label => Index is null ? Spec.Name ?? Spec.Text : $"{Spec.Name ?? Spec.Text} [i={Index}]";

    /// <summary>
    /// Expands a spec over the file: <c>{i}</c> takes every value for which some member's name exists (numeric
    /// order); each expansion must then have every required member. Shapes are checked from the header only.
    /// </summary>
    public static List<GroupInstance> Expand(GroupSpec spec, ModelTensors model)
    {
        var instances = new List<GroupInstance>();
        if (!spec.Members.Any(m => m.HasIndex))
        {
            instances.Add(Resolve(spec, null, model));
            return instances;
        }
        var indices = new SortedSet<long>();
        foreach (GroupMemberSpec m in spec.Members.Where(m => m.HasIndex))
        {
            // {i} is the same decimal integer everywhere it appears in a name (a backreference after the first).
            string[] pieces = m.Pattern.Split(GroupMemberSpec.Index);
            string pattern = "^" + Regex.Escape(pieces[0]) + @"(0|[1-9][0-9]{0,8})" + Regex.Escape(pieces[1])
                + string.Concat(pieces.Skip(2).Select(p => @"\1" + Regex.Escape(p))) + "$";
            var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            foreach (SafeTensorInfo t in model.Tensors)
            {
                Match match = regex.Match(t.Name);
                if (match.Success) indices.Add(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        }
        if (indices.Count == 0)
            throw new ArgumentException($"--group '{spec.Text}': {GroupMemberSpec.Index} matches no tensor of the file (no name fits '{spec.Members.First(m => m.HasIndex).Pattern}')");
        foreach (long i in indices) instances.Add(Resolve(spec, i.ToString(CultureInfo.InvariantCulture), model));
        return instances;
    }

    private static GroupInstance Resolve(GroupSpec spec, string? index, ModelTensors model)
    {
        string where = index is null ? $"--group '{spec.Text}'" : $"--group '{spec.Text}' (i={index})";
        var members = new List<GroupMember>();
        foreach (GroupMemberSpec m in spec.Members)
        {
            string name = m.Name(index);
            if (!model.TryGet(name, out SafeTensorsFile? holder, out SafeTensorInfo? t))
            {
                if (m.Optional) continue;
                throw new ArgumentException($"{where}: no tensor '{name}' in the file");
            }
            if (!SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType) || t.ElementCount == 0)
                throw new ArgumentException($"{where}: '{name}' is not a non-empty floating tensor");
            if (t.ElementCount > Array.MaxLength)
                throw new ArgumentException($"{where}: '{name}' has {t.ElementCount} elements; groups prune tensors of at most {Array.MaxLength}");
            if (m.Axis == GroupAxis.Cols && t.Shape.Length < 2)
                throw new ArgumentException($"{where}: '{name}' has rank {t.Shape.Length}; ':cols' needs a tensor of rank >= 2");
            var member = new GroupMember(holder, t, m.Axis, m.Block);
            if (member.Length % m.Block != 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{where}: dimension {member.Dim} of '{name}' ({member.Length}) is not a multiple of the block {m.Block}"));
            }
            if (members.Count > 0 && member.Units != members[0].Units)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{where}: members disagree in unit count: {members[0]} has {members[0].Units} units, {member} has {member.Units}"));
            }
            members.Add(member);
        }
        if (members.Count == 0) throw new ArgumentException($"{where}: no member exists in the file");
        return new GroupInstance(spec, index, members);
    }
}
