using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune prune IN -o OUT --criterion C --sparsity S [options]</c>: prunes the floating tensors of rank ≥ 2 (or
/// those <c>--include</c> names) and writes every input tensor, dtype and metadata entry to OUT with the pruned
/// entries set to zero. Everything that can be checked without pruning (request, shapes, statistics, BatchNorm pairs,
/// paths) is validated before the output is opened. Every output (OUT, <c>--sparse-out</c>, <c>--mask-out</c>, <c>--report</c>) is staged
/// in a temporary file and all are renamed into place at the end, so a failure leaves none of them changed; each must
/// be a different file from the inputs and from each other (<see cref="OutputFiles"/>).
/// </summary>
/// <remarks>
/// <para>Layer scope streams: each tensor is read, pruned and written inside its writer callback
/// (<see cref="RunLayer"/>), so peak memory is about one tensor plus its statistic. Global scope streams too: one
/// selection over all targets, whose scores are computed a tensor at a time (<see cref="RunGlobal"/>).</para>
/// <para>Criteria: <c>magnitude</c> (|w|; at a group granularity the L1 norm), <c>l1</c>, <c>l2</c> (group norms,
/// = magnitude at element granularity), <c>random</c> (seeded), and the data-driven ones, whose statistics come from
/// <c>--stats</c> by naming convention (see PruneCommand.Stats.cs) or, for <c>bn-scale</c>, from BatchNorm tensors of
/// the model (PruneCommand.BatchNorm.cs). Shapes: rank 2 is <c>[out, in]</c>, rank 4 is OIHW, rank 3
/// <c>[O, I, K]</c> is read as OI1K, higher ranks as <c>[d0, rest]</c>, and an included rank-1 tensor as <c>[1, n]</c>.
/// <c>lamp</c> (Lee et al. 2021) ranks across tensors, so it needs <c>--scope global</c>.</para>
/// </remarks>
internal static partial class PruneCommand
{
    private static readonly string[] Plain = ["magnitude", "l1", "l2", "random", Lamp];
    private static readonly string[] StatsCriteria = ["taylor", "obd", "wanda", "apoz", "regression"];
    private const string BnScale = "bn-scale";
    private const string Lamp = "lamp";

    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "Input .safetensors file, or a sharded checkpoint's *.safetensors.index.json or its folder (never modified)." };
        var output = new Option<string>("--output", "-o") { Description = "Output .safetensors file (for a sharded input: a new or empty folder).", Required = true, HelpName = "OUT" };
        var criterion = new Option<string>("--criterion") { Description = "magnitude | l1 | l2 | random | lamp (--scope global) | taylor | obd | wanda | apoz | regression (these five need --stats) | bn-scale.", DefaultValueFactory = _ => "magnitude" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of units to prune, in [0, 1]; exactly round-half-even(s·n). Required unless --mask-in." };
        var granularity = new Option<string?>("--granularity") { Description = "element | row | column | kernel | block:RxC | nm:N:M (default element; row for apoz and bn-scale, column for regression)." };
        var scope = new Option<string>("--scope") { Description = "layer (each tensor on its own) | global (one threshold over all targets; magnitude, lamp, taylor, obd or wanda, element granularity).", DefaultValueFactory = _ => "layer" };
        var include = new Option<string?>("--include") { Description = "Only tensors whose name matches this regular expression.", HelpName = "REGEX" };
        var exclude = new Option<string?>("--exclude") { Description = "Skip tensors whose name matches this regular expression.", HelpName = "REGEX" };
        var stats = new Option<string?>("--stats") { Description = "Statistics .safetensors file: <tensor>.grad | .fisher | .hess_diag | .input_norm | .apoz | .inputs [+ .targets].", HelpName = "FILE" };
        var pair = new Option<string[]>("--pair") { Description = "bn-scale: prune CONV's output channels by the BatchNorm scale BN (a tensor of the model); repeatable.", HelpName = "CONV=BN" };
        var sparseOut = new Option<string?>("--sparse-out") { Description = "Also write the pruned tensors in sparse form (CSR, BSR, N:M or shrunk, by granularity) to this .safetensors file.", HelpName = "FILE" };
        var maskOut = new Option<string?>("--mask-out") { Description = "Also write the pruning masks (one bit-packed U8 tensor per pruned weight, LSB first, 1 = keep) to this .safetensors file.", HelpName = "FILE" };
        var maskIn = new Option<string?>("--mask-in") { Description = "Re-apply the masks of a --mask-out file to IN: masked weights become +0, nothing else changes. Takes no pruning options.", HelpName = "FILE" };
        var maxLayer = new Option<double>("--max-layer-sparsity") { Description = "Global scope: no tensor loses more than this fraction.", DefaultValueFactory = _ => 1.0 };
        var report = new Option<string?>("--report") { Description = "Write a JSON report: per tensor achieved sparsity, pruned count, threshold.", HelpName = "REPORT.json" };
        var fsync = new Option<bool>("--fsync") { Description = "Flush the output to disk before renaming it into place (survives a power loss; about 1 s per GB written on the machine we measured)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random criterion.", DefaultValueFactory = _ => 0UL };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress line (shown only when stderr is a terminal and the work takes more than about a second)." };
        var progressDelay = ProgressMeter.DelayOption();
        var command = new Command("prune", "Prune a safetensors model and write the pruned copy.")
        {
            input, output, criterion, sparsity, granularity, scope, include, exclude, stats, pair, sparseOut, maskOut, maskIn, maxLayer, report, seed, fsync, quiet, progressDelay,
        };
        var groups = new GroupOptionSet(command); // --group, --preset, --shrink, --round-to, --fold-bn, --head-dim, --group-norm (PruneCommand.Groups.cs)
        // --mask-in replaces the pruning: it takes IN, -o and --fsync only. Without it --sparsity is required.
        command.Validators.Add(result =>
        {
            if (result.GetResult(maskIn) is not { Implicit: false })
            {
                if (result.GetResult(sparsity) is not { Implicit: false }) result.AddError("Option '--sparsity' is required (or --mask-in FILE).");
                return;
            }
            foreach (Option option in command.Options)
            {
                if (option == maskIn || option == output || option == fsync || option == quiet || option == progressDelay || option.Name is "--help" or "-h") continue;
                if (result.GetResult(option) is { Implicit: false }) { result.AddError($"{option.Name} does not apply to --mask-in (the masks say what is pruned)"); return; }
            }
        });
        command.SetAction(p => p.GetValue(maskIn) is { } masks ? RunMaskIn(p.GetValue(input)!, p.GetValue(output)!, masks, p.GetValue(fsync)) : Run(new Options(
            p.GetValue(input)!, p.GetValue(output)!, p.GetValue(criterion)!.ToLowerInvariant(), p.GetValue(sparsity),
            p.GetValue(granularity), p.GetValue(scope)!.ToLowerInvariant(), p.GetValue(include), p.GetValue(exclude),
            p.GetValue(maxLayer), p.GetValue(report), p.GetValue(seed), p.GetValue(stats), p.GetValue(pair) ?? [], p.GetValue(sparseOut), p.GetValue(maskOut), p.GetValue(fsync),
            p.GetValue(quiet) ? null : TimeSpan.FromSeconds(p.GetValue(progressDelay))), groups.Read(p)));
        return command;
    }

    private sealed record Options(string Input, string Output, string Criterion, double Sparsity, string? Granularity, string Scope,
        string? Include, string? Exclude, double MaxLayerSparsity, string? Report, ulong Seed, string? Stats, string[] Pairs, string? SparseOut, string? MaskOut, bool Fsync, TimeSpan? ProgressDelay);

    /// <summary>One line of the report: a pruned weight, or a BatchNorm tensor zeroed by bn-scale.</summary>
    private sealed class ReportEntry(SafeTensorInfo info)
    {
        public SafeTensorInfo Info { get; } = info;
        public PruneReport Result { get; set; }
        public long Zeros { get; set; }

        /// <summary>bn-scale: the weight of a BatchNorm tensor, or the BatchNorm γ of a weight.</summary>
        public string? PairedWith { get; set; }

        /// <summary>Regression: the LASSO selection and the refit's reconstruction errors.</summary>
        public (LassoSelection Selection, RefitResult Refit)? Regression { get; set; }
    }

    private static int Run(Options o)
    {
        // 1. Everything that can be wrong with the request, before reading the model.
        bool usesStats = StatsCriteria.Contains(o.Criterion);
        if (!Plain.Contains(o.Criterion) && !usesStats && o.Criterion != BnScale)
            throw new ArgumentException($"unknown criterion '{o.Criterion}'; expected {string.Join(", ", Plain.Concat(StatsCriteria).Append(BnScale))}");
        if (!(o.Sparsity >= 0 && o.Sparsity <= 1)) throw new ArgumentException($"--sparsity {o.Sparsity.ToString(CultureInfo.InvariantCulture)} is outside [0, 1]");
        if (!(o.MaxLayerSparsity >= 0 && o.MaxLayerSparsity <= 1)) throw new ArgumentException("--max-layer-sparsity is outside [0, 1]");
        Granularity granularity = ResolveGranularity(o);
        if (o.Scope is not ("layer" or "global")) throw new ArgumentException($"unknown scope '{o.Scope}'; expected layer or global");
        if (o.Scope == "global" && granularity.Kind != GranularityKind.Element)
            throw new ArgumentException("--scope global supports --granularity element (global_unstructured)");
        if (o.Scope == "global" && o.Criterion == "random")
            throw new ArgumentException("--scope global ranks scores across tensors; random has none to rank (use --scope layer)");
        if (o.Scope == "global" && !GlobalCriteria.Contains(o.Criterion))
            throw new ArgumentException($"--scope global ranks {string.Join(", ", GlobalCriteria)}; criterion {o.Criterion} prunes with --scope layer");
        if (o.Criterion == Lamp && o.Scope != "global")
            throw new ArgumentException("criterion lamp ranks weights across tensors: use --scope global (within one tensor it orders like magnitude)");
        if (usesStats && o.Stats is null) throw new ArgumentException($"criterion {o.Criterion} needs --stats FILE (see sprune prune --help)");
        if (!usesStats && o.Stats is not null) throw new ArgumentException($"--stats is not read by criterion {o.Criterion}");
        if (o.Criterion != BnScale && o.Pairs.Length > 0) throw new ArgumentException($"--pair is only used by criterion {BnScale}");
        Regex? include = Compile(o.Include, "--include"), exclude = Compile(o.Exclude, "--exclude");
        var (input, isIndex) = ShardedCheckpoint.Resolve(o.Input);
        if (isIndex) return RunSharded(o, input, granularity, include, exclude); // PruneCommand.Sharded.cs

        // Every input and output, registered before anything is read: each output must be a file of its own (identity,
        // not spelling: links and hard links count), and none is touched until all are written (see OutputFiles).
        using ProgressMeter? progress = ProgressMeter.ForStandardError(o.ProgressDelay);
        using var files = new OutputFiles(o.Fsync) { Progress = progress };
        string inputPath = files.Input(input, "the input");
        string? statsPath = o.Stats is null ? null : files.Input(o.Stats, "--stats");
        string outputPath = files.Output(o.Output, "the output");
        string? sparsePath = o.SparseOut is null ? null : files.Output(o.SparseOut, "--sparse-out");
        string? maskPath = o.MaskOut is null ? null : files.Output(o.MaskOut, "--mask-out");
        string? reportPath = o.Report is null ? null : files.Output(o.Report, "--report");

        // 2. Targets from the header only; then either scope. The pruned model is staged, not yet in place.
        using SafeTensorsFile file = SafeTensorsFile.Open(inputPath);
        List<ReportEntry> entries;
        List<string> pruned;
        if (o.Scope == "global")
        {
            List<SafeTensorInfo> targets = SelectTargets(file, include, exclude, granularity);
            entries = RunGlobal(file, targets, o, statsPath, files, outputPath);
            pruned = targets.Select(t => t.Name).ToList();
        }
        else
        {
            (entries, pruned) = RunLayer(file, o, granularity, include, exclude, statsPath, files, outputPath);
        }

        // 3. The sparse form (its header needs every tensor's entry count) and the masks are built from the staged OUT,
        // one tensor at a time.
        WriteExports([(files.StagedPath(outputPath), pruned)], files, sparsePath, maskPath, granularity);
        if (reportPath is not null) files.Stage(reportPath, stream => WriteReport(stream, o, granularity, entries));
        files.Commit();
        progress?.Dispose(); // erases the progress line before the summary
        long total = entries.Sum(e => e.Info.ElementCount), zeros = entries.Sum(e => e.Zeros);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sprune: pruned {entries.Count} tensors, {zeros:N0} of {total:N0} weights now zero ({100.0 * zeros / total:0.00}%) -> {DisplayText.Escape(o.Output)}"));
        return Program.Success;
    }

    /// <summary><c>--sparse-out</c> and <c>--mask-out</c>, read back from the staged output (one file, or every shard).</summary>
    private static void WriteExports(IEnumerable<(string StagedPath, IReadOnlyList<string> Names)> parts, OutputFiles files,
        string? sparsePath, string? maskPath, Granularity granularity)
    {
        if (sparsePath is null && maskPath is null) return;
        // The pruning phase's tensor-sized buffers are garbage by now; collecting them before the export allocates its
        // own keeps the process's peak at one phase (measured: 236 → 170 MB for 4 × 64 MB tensors).
        if (sparsePath is not null) GC.Collect();
        using var staged = new StagedModel(parts);
        if (sparsePath is not null) SparseExport.Write(staged, files, sparsePath, granularity);
        if (maskPath is not null) WriteMasks(staged, files, maskPath);
    }

    /// <summary>
    /// The default granularity follows the criterion's unit (apoz and bn-scale score output units, regression input
    /// channels); a granularity the criterion cannot score is refused with the reason.
    /// </summary>
    private static Granularity ResolveGranularity(Options o)
    {
        Granularity g = o.Granularity is null
            ? o.Criterion switch
            {
                "apoz" or BnScale => Granularity.Row,
                "regression" => Granularity.Column,
                _ => Granularity.Element,
            }
            : Granularity.Parse(o.Granularity);
        string? problem = o.Criterion switch
        {
            "apoz" when g.Kind != GranularityKind.Row => "scores output units (one APoZ per output): use --granularity row",
            BnScale when g.Kind != GranularityKind.Row => "scores output channels (one BatchNorm scale per channel): use --granularity row",
            "regression" when g.Kind != GranularityKind.Column => "selects input channels (He et al. 2017): use --granularity column",
            "wanda" when g.Kind is not (GranularityKind.Element or GranularityKind.NM) =>
                "compares weights within each output row: use --granularity element or nm:N:M",
            _ => null,
        };
        if (problem is not null) throw new ArgumentException($"criterion {o.Criterion} {problem}, not {g}");
        return g;
    }

    /// <summary>The targets in file order, each checked against the granularity (from the header; nothing is read).</summary>
    private static List<SafeTensorInfo> SelectTargets(SafeTensorsFile file, Regex? include, Regex? exclude, Granularity granularity)
    {
        var targets = new List<SafeTensorInfo>();
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (IsTarget(t, include, exclude)) targets.Add(CheckTarget(t, granularity));
        }
        if (targets.Count == 0) throw new ArgumentException("no tensor matches: pruning targets are floating tensors of rank >= 2 (or those --include names)");
        return targets;
    }

    private static SafeTensorInfo CheckTarget(SafeTensorInfo t, Granularity granularity)
    {
        if (t.ElementCount > Array.MaxLength) throw new ArgumentException($"tensor '{t.Name}' has {t.ElementCount} elements; this version prunes tensors of at most {Array.MaxLength}");
        try { granularity.Validate(ShapeOf(t)); }
        catch (ArgumentException e) { throw new ArgumentException($"tensor '{t.Name}': {e.Message}"); }
        return t;
    }

    /// <summary>The byte length of every tensor of <paramref name="file"/>, in file order: what a pruned copy writes.</summary>
    private static IEnumerable<long> TensorBytes(SafeTensorsFile file) => file.Tensors.Select(t => t.ByteLength);

    /// <summary>A tensor that is not pruned goes to the output unchanged, copied in chunks (see <see cref="CopyTensor"/>).</summary>
    private static void AddCopy(SafeTensorsWriter writer, SafeTensorsFile file, SafeTensorInfo t) =>
        writer.Add(t.Name, t.DType, t.Shape, stream => CopyTensor(file, t, stream));

    /// <summary>Pruned float32 weights back in the tensor's own dtype: F32 as is, others converted 1 MiB at a time.</summary>
    internal static void WriteAs(ReadOnlySpan<float> weights, SafeTensorsDType dtype, Stream destination)
    {
        if (dtype == SafeTensorsDType.F32)
        {
            destination.Write(MemoryMarshal.AsBytes(weights));
            return;
        }
        int size = SafeTensorsDTypeInfo.SizeOf(dtype);
        const int ChunkElements = 1 << 18;
        var buffer = new byte[Math.Min(ChunkElements, weights.Length) * size];
        for (int i = 0; i < weights.Length; i += ChunkElements)
        {
            int n = Math.Min(ChunkElements, weights.Length - i);
            SafeTensorsDTypeInfo.FromFloat32(weights.Slice(i, n), dtype, buffer.AsSpan(0, n * size));
            destination.Write(buffer, 0, n * size);
        }
    }

    /// <summary>
    /// A pattern from the user runs on the linear-time engine (<see cref="RegexOptions.NonBacktracking"/>): no pattern
    /// can backtrack exponentially on a name the model's author chose. It lacks backreferences, lookarounds and atomic
    /// groups; such a pattern is refused with the reason. The timeout stays as a bound on what remains.
    /// </summary>
    private static Regex? Compile(string? pattern, string option)
    {
        if (pattern is null) return null;
        try { return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, RegexTimeout); }
        catch (ArgumentException e) { throw new ArgumentException($"{option}: invalid regular expression: {e.Message}"); }
        catch (NotSupportedException e) { throw new ArgumentException($"{option}: unsupported regular expression: {e.Message}"); }
    }

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    private static bool IsTarget(SafeTensorInfo t, Regex? include, Regex? exclude)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType) || t.ElementCount == 0) return false;
        if (exclude is not null && Matches(exclude, t.Name, "--exclude")) return false;
        if (include is not null) return Matches(include, t.Name, "--include") && t.Shape.Length >= 1;
        return t.Shape.Length >= 2; // biases and norms (rank 1) only when included
    }

    private static bool Matches(Regex pattern, string name, string option)
    {
        try { return pattern.IsMatch(name); }
        catch (RegexMatchTimeoutException) { throw new ArgumentException($"{option}: matching tensor '{name}' took longer than {RegexTimeout.TotalSeconds:0} s"); }
    }

    /// <summary>The 2-D view <c>[Out, RowLength]</c> of a tensor (see the class remarks); also the sparse export's matrix.</summary>
    internal static WeightShape ShapeOf(SafeTensorInfo t)
    {
        ReadOnlySpan<long> s = t.Shape;
        checked
        {
            return s.Length switch
            {
                1 => WeightShape.Linear(1, (int)s[0]),
                2 => WeightShape.Linear((int)s[0], (int)s[1]),
                3 => WeightShape.Conv2D((int)s[0], (int)s[1], 1, (int)s[2]),
                4 => WeightShape.Conv2D((int)s[0], (int)s[1], (int)s[2], (int)s[3]),
                _ => WeightShape.Linear((int)s[0], (int)(t.ElementCount / s[0])),
            };
        }
    }

    private static void WriteReport(Stream stream, Options o, Granularity g, List<ReportEntry> entries)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("input", o.Input);
        w.WriteString("output", o.Output);
        w.WriteString("criterion", o.Criterion);
        w.WriteString("granularity", g.ToString());
        w.WriteString("scope", o.Scope);
        w.WriteNumber("sparsity", o.Sparsity);
        if (o.Scope == "global") w.WriteNumber("max_layer_sparsity", o.MaxLayerSparsity);
        if (o.Stats is not null) w.WriteString("stats", o.Stats);
        if (o.SparseOut is not null) w.WriteString("sparse_out", o.SparseOut);
        if (o.MaskOut is not null) w.WriteString("mask_out", o.MaskOut);
        w.WriteStartArray("tensors");
        foreach (ReportEntry e in entries)
        {
            long elements = e.Info.ElementCount;
            w.WriteStartObject();
            w.WriteString("name", e.Info.Name);
            w.WriteString("dtype", SafeTensorsDTypeInfo.GetName(e.Info.DType));
            w.WriteNumber("units", e.Result.UnitCount);
            w.WriteNumber("pruned_units", e.Result.PrunedUnits);
            w.WriteNumber("pruned_elements", e.Result.PrunedElements);
            w.WriteNumber("elements", elements);
            w.WriteNumber("zeros", e.Zeros);
            w.WriteNumber("achieved_sparsity", (double)e.Zeros / elements);
            if (float.IsFinite(e.Result.Threshold)) w.WriteNumber("threshold", e.Result.Threshold);
            else w.WriteNull("threshold");
            if (e.PairedWith is not null) w.WriteString("paired_with", e.PairedWith);
            if (e.Regression is { } r)
            {
                w.WriteNumber("lasso_lambda", r.Selection.Lambda);
                w.WriteNumber("lasso_filled_channels", r.Selection.FilledCount);
                WriteFiniteOrNull(w, "relative_error_before", r.Refit.RelativeErrorBefore);
                WriteFiniteOrNull(w, "relative_error_after", r.Refit.RelativeErrorAfter);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteFiniteOrNull(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
