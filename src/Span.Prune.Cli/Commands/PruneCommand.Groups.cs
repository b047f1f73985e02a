using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Span.Prune.Cli.Commands.Groups;
using Span.Prune.SafeTensors;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Coupled structured pruning: <c>--group SPEC</c> / <c>--preset NAME</c> name units (rows, columns, heads, channels)
/// that several tensors lose together; <c>--shrink</c> removes them physically (the output holds smaller dense
/// tensors and the kept indices in <c>__metadata__</c>), otherwise they are zeroed in place.
/// </summary>
/// <remarks>
/// <para>Everything is decided before the output exists: specs are parsed and expanded over the file (or every shard
/// of a sharded checkpoint, through <see cref="ModelTensors"/>: a group may span shards), shapes checked from the
/// header, every group scored (normalised L2 norms, <see cref="GroupPlan.Select"/>) and, for <c>--fold-bn</c>, the
/// folded layers computed. Writing then streams the tensors in file order, shard by shard.</para>
/// <para>Metadata: <c>sprune.kept.&lt;tensor&gt;.&lt;dim&gt;</c> = the kept indices of dimension 0 (rows) or 1 (cols) of the
/// original tensor as ascending ranges (<c>0-3,5,7-9</c>), for every dimension a group indexes, under
/// <c>--shrink</c>. Pruning a shrunk file again composes them with the entries already there, so they always index
/// the original model.</para>
/// </remarks>
internal static partial class PruneCommand
{
    internal sealed record GroupOptions(string[] Specs, string[] Presets, bool Shrink, int RoundTo, bool FoldBn, int? HeadDim, string Normalizer);

    /// <summary>The options of the grouped mode, added to the prune command.</summary>
    private sealed class GroupOptionSet
    {
        private readonly Option<string[]> _group = new("--group") { Description = "Units pruned together: NAME[?][:rows|:cols][/B],... ({i} = every layer index in the file; ? = optional member; B = entries per unit, e.g. a head). Repeatable.", HelpName = "SPEC" };
        private readonly Option<string[]> _preset = new("--preset") { Description = "Groups from the file's names and shapes: mlp-chain | conv-bn | llama-mlp | llama-attn. Repeatable.", HelpName = "NAME" };
        private readonly Option<bool> _shrink = new("--shrink") { Description = "With --group/--preset: remove the pruned units physically (smaller dense tensors; kept indices in __metadata__)." };
        private readonly Option<int> _roundTo = new("--round-to") { Description = "With --group/--preset: keep a multiple of N units per group (prunes fewer than the exact-k count, never more).", DefaultValueFactory = _ => 1, HelpName = "N" };
        private readonly Option<bool> _foldBn = new("--fold-bn") { Description = "With --shrink: fold each group's BatchNorm into the layer before it (the BatchNorm tensors are dropped; the layer gets a bias)." };
        private readonly Option<int?> _headDim = new("--head-dim") { Description = "llama-attn: the head dimension (default: config.json next to the model).", HelpName = "N" };
        private readonly Option<string> _normalizer = new("--group-norm") { Description = "Group score: each member's unit L2 norms divided by their mean | max | none, summed over members.", DefaultValueFactory = _ => "mean" };

        public GroupOptionSet(Command command)
        {
            foreach (Option option in new Option[] { _group, _preset, _shrink, _roundTo, _foldBn, _headDim, _normalizer }) command.Options.Add(option);
        }

        public GroupOptions Read(ParseResult p) => new(p.GetValue(_group) ?? [], p.GetValue(_preset) ?? [], p.GetValue(_shrink),
            p.GetValue(_roundTo), p.GetValue(_foldBn), p.GetValue(_headDim), p.GetValue(_normalizer)!.ToLowerInvariant());
    }

    /// <summary>Runs the grouped mode when a group option is given; otherwise the per-tensor modes (<see cref="Run(Options)"/>).</summary>
    private static int Run(Options o, GroupOptions g)
    {
        bool grouped = g.Specs.Length > 0 || g.Presets.Length > 0;
        if (!grouped)
        {
            if (g.Shrink) throw new ArgumentException("--shrink removes the units of --group or --preset; give one (element masks cannot shrink)");
            if (g.RoundTo != 1) throw new ArgumentException("--round-to applies to --group or --preset");
            if (g.FoldBn) throw new ArgumentException("--fold-bn applies to --group or --preset with --shrink");
            if (g.HeadDim is not null) throw new ArgumentException("--head-dim is read by --preset llama-attn");
            return Run(o);
        }
        return RunGroups(o, g);
    }

    private static int RunGroups(Options o, GroupOptions g)
    {
        // 1. The request alone.
        string? conflict = o.Granularity is not null ? "--granularity" : o.Scope != "layer" ? "--scope" : o.Include is not null ? "--include"
            : o.Exclude is not null ? "--exclude" : o.Stats is not null ? "--stats" : o.Pairs.Length > 0 ? "--pair" : o.SparseOut is not null ? "--sparse-out" : o.MaskOut is not null ? "--mask-out"
            : o.MaxLayerSparsity != 1.0 ? "--max-layer-sparsity" : o.Criterion is not ("magnitude" or "l2") ? $"--criterion {o.Criterion}" : null;
        if (conflict is not null) throw new ArgumentException($"{conflict} does not apply to --group/--preset (groups are scored by normalised L2 norms, see --group-norm)");
        if (!(o.Sparsity >= 0 && o.Sparsity <= 1)) throw new ArgumentException($"--sparsity {o.Sparsity.ToString(CultureInfo.InvariantCulture)} is outside [0, 1]");
        if (g.RoundTo < 1) throw new ArgumentException($"--round-to {g.RoundTo} must be a positive unit count");
        if (g.HeadDim is <= 0) throw new ArgumentException($"--head-dim {g.HeadDim} must be positive");
        if (g.FoldBn && !g.Shrink) throw new ArgumentException("--fold-bn needs --shrink (folding changes the layer; the masked output keeps the BatchNorm)");
        GroupNormalizer normalizer = g.Normalizer switch
        {
            "mean" => GroupNormalizer.Mean,
            "max" => GroupNormalizer.Max,
            "none" => GroupNormalizer.None,
            _ => throw new ArgumentException($"unknown --group-norm '{g.Normalizer}'; expected mean, max or none"),
        };
        foreach (string preset in g.Presets) GroupPresets.Check(preset);
        var specs = g.Specs.Select(GroupSpec.Parse).ToList();

        // 2. Paths: a directory holds one model file (model.safetensors, or its only .safetensors) or a sharded
        // checkpoint's index; every output is a file of its own, none the input (identity, see OutputFiles), and none is
        // touched until all are written.
        using var files = new OutputFiles(o.Fsync);
        var (resolved, isIndex) = ShardedCheckpoint.Resolve(o.Input);
        using ShardedCheckpoint? sharded = isIndex ? ShardedCheckpoint.Open(resolved, files) : null;
        string inputPath = sharded?.IndexPath ?? files.Input(ResolveModelPath(o.Input), "the input");
        string? outputPath = sharded is null ? files.Output(o.Output, "the output") : null;
        string? reportPath = o.Report is null ? null : files.Output(o.Report, "--report");
        if (sharded is not null)
        {
            if (reportPath is not null && OutputFolder.IsSameOrInside(Path.GetDirectoryName(reportPath)!, Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Output))))
                throw new ArgumentException($"--report '{o.Report}' is inside the output folder; write it elsewhere");
        }
        string config = Path.Combine(Path.GetDirectoryName(inputPath)!, "config.json");

        // 3. Groups from the headers (of every shard: a group may span shards), then every selection, before the output
        // is opened.
        using SafeTensorsFile? single = sharded is null ? SafeTensorsFile.Open(inputPath) : null;
        IReadOnlyList<SafeTensorsFile> modelFiles = sharded is null ? [single!] : sharded.Shards.Select(s => s.File).ToList();
        var model = new ModelTensors(modelFiles);
        foreach (string preset in g.Presets) specs.AddRange(GroupPresets.Expand(preset, model, g.HeadDim, config));
        var instances = specs.SelectMany(s => GroupInstance.Expand(s, model)).ToList();
        var dims = new Dictionary<(string Tensor, int Dim), DimensionKeep>();
        var selections = new List<GroupSelection>();
        var owners = new Dictionary<(string Tensor, int Dim), GroupInstance>();
        foreach (GroupInstance instance in instances)
        {
            foreach (GroupMember m in instance.Members)
            {
                if (!owners.TryAdd((m.Info.Name, m.Dim), instance))
                    throw new ArgumentException($"dimension {m.Dim} of '{m.Info.Name}' is in two groups: '{owners[(m.Info.Name, m.Dim)].Label}' and '{instance.Label}'");
            }
        }
        foreach (GroupInstance instance in instances)
        {
            GroupSelection selection = GroupPlan.Select(instance, o.Sparsity, g.RoundTo, normalizer);
            selections.Add(selection);
            foreach (GroupMember m in instance.Members) dims[(m.Info.Name, m.Dim)] = new DimensionKeep(m, selection);
        }
        Dictionary<string, BatchNormFold> folds = g.FoldBn ? GroupFolding.Plan(model, selections, dims) : [];
        if (g.FoldBn && folds.Count == 0)
            throw new ArgumentException("--fold-bn: no group has a BatchNorm (members X.weight, X.bias, X.running_mean, X.running_var)");

        // 4. Write: one file, or every shard (each holds its own members' kept indices) and an index whose total_size
        // is the staged shards' data size (--shrink makes it smaller) and whose weight_map drops the folded BatchNorms
        // and names the shard of each bias that folding adds (the shard of its layer).
        using OutputFolder? folder = sharded is null ? null : new OutputFolder(o.Output, Path.GetDirectoryName(sharded.IndexPath)!, o.Fsync);
        List<TensorChange> changes;
        if (sharded is null)
        {
            changes = GroupWriter.Write(single!, dims, folds, g.Shrink, files, outputPath!);
        }
        else
        {
            changes = [];
            long totalSize = 0;
            HashSet<string> dropped = GroupFolding.DroppedNames(folds);
            foreach (var (name, shard) in sharded.Shards)
            {
                // A shard that held only folded BatchNorms is not written: the index no longer names it, and a
                // tensor-less file beside the index would be a shard no loader asks for.
                if (shard.Tensors.Count > 0 && shard.Tensors.All(t => dropped.Contains(t.Name))) continue;
                string path = folder!.File(name);
                changes.AddRange(GroupWriter.Write(shard, dims, folds, g.Shrink, folder.Files, path));
                using SafeTensorsFile staged = SafeTensorsFile.Open(folder.Files.StagedPath(path));
                totalSize += staged.Tensors.Sum(t => t.ByteLength);
            }
            var weightMap = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (BatchNormFold fold in folds.Values)
            {
                foreach (string name in fold.Dropped) weightMap[name] = null;
                if (fold.ExistingBias is null) weightMap[fold.BiasName] = sharded.Shards.First(s => s.File.TryGetTensor(fold.Layer.Name, out _)).Name;
            }
            folder!.Files.Stage(folder.File(Path.GetFileName(sharded.IndexPath)), stream => sharded.WriteIndex(stream, totalSize, weightMap));
        }

        // 5. Report.
        long before = model.Tensors.Sum(t => t.ElementCount);
        long after = before + changes.Sum(c => c.ParamsAfter - c.ParamsBefore);
        if (reportPath is not null)
            files.Stage(reportPath, stream => GroupReport.WriteJson(stream, inputPath, o.Output, o.Sparsity, g, selections, changes, before, after));
        folder?.Commit();
        files.Commit();
        GroupReport.Print(Console.Out, selections, changes, before, after, g.Shrink);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sprune: {selections.Count} groups, {before - after:N0} of {before:N0} parameters {(g.Shrink ? "removed" : "zeroed")} ({100.0 * (before - after) / Math.Max(before, 1):0.00}%) -> {o.Output}"));
        return Program.Success;
    }

    /// <summary>A file, or a directory holding <c>model.safetensors</c> or exactly one <c>.safetensors</c> file.</summary>
    private static string ResolveModelPath(string input)
    {
        string full = Path.GetFullPath(input);
        if (File.Exists(full)) return full;
        if (!Directory.Exists(full)) throw new FileNotFoundException($"'{input}' does not exist", input);
        string model = Path.Combine(full, "model.safetensors");
        if (File.Exists(model)) return model;
        string[] files = Directory.GetFiles(full, "*.safetensors");
        if (files.Length == 1) return files[0];
        throw new ArgumentException(files.Length == 0
            ? $"directory '{input}' holds no .safetensors file"
            : $"directory '{input}' holds {files.Length} .safetensors files and no model.safetensors; give one file (or a sharded checkpoint with its index)");
    }

    /// <summary>
    /// A tensor a group touches, as written: its shape before and after (after: null when dropped by --fold-bn) and
    /// the shape of what it keeps (equal to the shape after under --shrink; the masked output keeps the shape).
    /// </summary>
    internal sealed record TensorChange(string Name, long[]? ShapeBefore, long[]? ShapeAfter, long[]? KeptShape)
    {
        public long ParamsBefore => Product(ShapeBefore);

        public long ParamsAfter => Product(KeptShape);

        private static long Product(long[]? shape) => shape is null ? 0 : shape.Aggregate(1L, (a, b) => a * b);
    }
}
