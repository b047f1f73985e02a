using System.Globalization;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// A sharded input (<see cref="ShardedCheckpoint"/>): the index and every shard header are validated, the targets
/// selected and checked across all shards, and only then is the output folder staged (<see cref="OutputFolder"/>):
/// the same shard file names and an index whose <c>metadata.total_size</c> is the output's data size. Layer scope
/// prunes each shard's tensors as for one file (bn-scale with the BatchNorm pairs planned over every shard, since a
/// pair may span two); global scope runs one <see cref="GlobalSelection"/> over the targets of every shard, so the
/// threshold is the one of a single file holding the same tensors. <c>--sparse-out</c> and <c>--mask-out</c> are single
/// files read back from the staged shards (<see cref="StagedModel"/>), the same bytes as for that single file.
/// </summary>
internal static partial class PruneCommand
{
    private static int RunSharded(Options o, string indexPath, Granularity granularity, Regex? include, Regex? exclude)
    {

        using var files = new OutputFiles(o.Fsync);
        using ShardedCheckpoint model = ShardedCheckpoint.Open(indexPath, files);
        string? statsPath = o.Stats is null ? null : files.Input(o.Stats, "--stats");
        string? sparsePath = o.SparseOut is null ? null : files.Output(o.SparseOut, "--sparse-out");
        string? maskPath = o.MaskOut is null ? null : files.Output(o.MaskOut, "--mask-out");
        string? reportPath = o.Report is null ? null : files.Output(o.Report, "--report");

        // Targets from the headers of every shard, in index order, before the output folder exists.
        var targets = new List<(SafeTensorsFile File, SafeTensorInfo Info)>();
        foreach (var (_, shard) in model.Shards)
        {
            foreach (SafeTensorInfo t in shard.Tensors)
                if (IsTarget(t, include, exclude)) targets.Add((shard, CheckTarget(t, granularity)));
        }
        if (targets.Count == 0) throw new ArgumentException("no tensor matches: pruning targets are floating tensors of rank >= 2 (or those --include names)");
        // bn-scale pairs a weight with a BatchNorm that may sit in another shard: planned over the whole model.
        var bnPlans = o.Criterion == BnScale
            ? PlanBatchNorm(new ModelTensors(model.Shards.Select(s => s.File).ToList()), o, include, exclude, granularity)
            : null;

        // The report, the sparse form and the masks are single files written next to the folder, not into it: the
        // folder holds the checkpoint and nothing else.
        string outputFolder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(o.Output));
        foreach (var (path, shown, label) in new[] { (reportPath, o.Report, "--report"), (sparsePath, o.SparseOut, "--sparse-out"), (maskPath, o.MaskOut, "--mask-out") })
        {
            if (path is not null && OutputFolder.IsSameOrInside(Path.GetDirectoryName(path)!, outputFolder))
                throw new ArgumentException($"{label} '{shown}' is inside the output folder; write it elsewhere");
        }
        using var folder = new OutputFolder(o.Output, Path.GetDirectoryName(model.IndexPath)!, o.Fsync);
        string[] outputs = model.Shards.Select(s => folder.File(s.Name)).ToArray(); // the staged shards, in index order
        var (entries, pruned) = o.Scope == "global"
            ? RunGlobalSharded(model, targets, o, statsPath, folder, outputs)
            : RunLayerSharded(model, targets, o, granularity, include, exclude, statsPath, folder, outputs, bnPlans);
        WriteExports(outputs.Select((path, i) => (folder.Files.StagedPath(path), pruned[i])), files, sparsePath, maskPath, granularity);
        long totalSize = model.TotalSize; // every output tensor keeps its dtype and shape
        folder.Files.Stage(folder.File(Path.GetFileName(model.IndexPath)), stream => model.WriteIndex(stream, totalSize));
        if (reportPath is not null) files.Stage(reportPath, stream => WriteReport(stream, o, granularity, entries));
        folder.Commit();
        files.Commit();
        long total = entries.Sum(e => e.Info.ElementCount), zeros = entries.Sum(e => e.Zeros);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sprune: pruned {entries.Count} tensors in {model.Shards.Count} shards, {zeros:N0} of {total:N0} weights now zero ({100.0 * zeros / total:0.00}%) -> {DisplayText.Escape(o.Output)}"));
        return Program.Success;
    }

    /// <summary>Each shard as one file (<see cref="RunLayer"/>); a shard without targets is copied.</summary>
    /// <returns>The report entries, and per shard (index order) the weights pruned in it.</returns>
    private static (List<ReportEntry> Entries, IReadOnlyList<string>[] Pruned) RunLayerSharded(ShardedCheckpoint model,
        List<(SafeTensorsFile File, SafeTensorInfo Info)> targets, Options o, Granularity granularity, Regex? include, Regex? exclude,
        string? statsPath, OutputFolder folder, string[] outputs, List<(SafeTensorsFile File, SafeTensorInfo Target, BnPlan Plan)>? bnPlans)
    {
        var entries = new List<ReportEntry>();
        var pruned = new IReadOnlyList<string>[model.Shards.Count];
        for (int i = 0; i < model.Shards.Count; i++)
        {
            SafeTensorsFile shard = model.Shards[i].File;
            // bn-scale: every shard goes through RunLayer, which zeroes the BatchNorm tensors it holds (of any shard's weight).
            if (bnPlans is not null || targets.Exists(t => ReferenceEquals(t.File, shard)))
            {
                var (shardEntries, names) = RunLayer(shard, o, granularity, include, exclude, statsPath, folder.Files, outputs[i], bnPlans);
                entries.AddRange(shardEntries);
                pruned[i] = names;
            }
            else
            {
                var writer = new SafeTensorsWriter();
                foreach (var (key, value) in shard.Metadata) writer.AddMetadata(key, value);
                foreach (SafeTensorInfo t in shard.Tensors) AddCopy(writer, shard, t);
                folder.Files.Stage(outputs[i], writer.WriteTo);
                pruned[i] = [];
            }
        }
        return (entries, pruned);
    }

    /// <summary>One selection over the targets of every shard (<see cref="GlobalSelection"/>), written shard by shard.</summary>
    /// <returns>The report entries, and per shard (index order) the weights pruned in it.</returns>
    private static (List<ReportEntry> Entries, IReadOnlyList<string>[] Pruned) RunGlobalSharded(ShardedCheckpoint model,
        List<(SafeTensorsFile File, SafeTensorInfo Info)> targets, Options o, string? statsPath, OutputFolder folder, string[] outputs)
    {
        using var selection = new GlobalSelection(targets, o, statsPath);
        var targetIndex = new Dictionary<(SafeTensorsFile, int), int>();
        for (int j = 0; j < targets.Count; j++) targetIndex[(targets[j].File, targets[j].Info.Index)] = j;
        var pruned = new IReadOnlyList<string>[model.Shards.Count];
        for (int i = 0; i < model.Shards.Count; i++)
        {
            SafeTensorsFile shard = model.Shards[i].File;
            var writer = new SafeTensorsWriter();
            var names = new List<string>();
            foreach (var (key, value) in shard.Metadata) writer.AddMetadata(key, value);
            foreach (SafeTensorInfo t in shard.Tensors)
            {
                if (targetIndex.TryGetValue((shard, t.Index), out int j))
                {
                    writer.Add(t.Name, t.DType, t.Shape, stream => selection.Write(j, stream));
                    names.Add(t.Name);
                }
                else
                {
                    AddCopy(writer, shard, t);
                }
            }
            folder.Files.Stage(outputs[i], writer.WriteTo, TensorBytes(shard));
            pruned[i] = names;
        }
        return (selection.Entries(), pruned);
    }
}
