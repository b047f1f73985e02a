using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune prune IN -o OUT --criterion C --sparsity S [options]</c>: prunes the floating tensors of rank ≥ 2 (or
/// those <c>--include</c> names) and writes every input tensor, dtype and metadata entry to OUT with the pruned
/// entries set to zero. Everything is validated before the output is opened; OUT is written to a temporary file and
/// renamed, and writing over IN is refused.
/// </summary>
/// <remarks>
/// Criteria without statistics are supported here: <c>magnitude</c> (|w|; at a group granularity the L1 norm),
/// <c>l1</c>, <c>l2</c> (group norms, = magnitude at element granularity) and <c>random</c> (seeded). The data-driven
/// criteria (taylor, obd, wanda, apoz, bn-scale, regression) need <c>--stats</c>, not read by this version: they exit 2
/// with that message. Shapes: rank 2 is <c>[out, in]</c>, rank 4 is OIHW, rank 3 <c>[O, I, K]</c> is read as OI1K,
/// higher ranks as <c>[d0, rest]</c>, and an included rank-1 tensor as <c>[1, n]</c>.
/// </remarks>
internal static partial class PruneCommand
{
    private static readonly string[] Supported = ["magnitude", "l1", "l2", "random"];
    private static readonly string[] NeedStats = ["taylor", "obd", "wanda", "apoz", "bn-scale", "regression"];

    public static Command Create()
    {
        var input = new Argument<string>("IN") { Description = "Input .safetensors file (never modified)." };
        var output = new Option<string>("--output", "-o") { Description = "Output .safetensors file.", Required = true, HelpName = "OUT" };
        var criterion = new Option<string>("--criterion") { Description = "magnitude | l1 | l2 | random (taylor, obd, wanda, apoz, bn-scale, regression need --stats).", DefaultValueFactory = _ => "magnitude" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of units to prune, in [0, 1]; exactly round-half-even(s·n).", Required = true };
        var granularity = new Option<string>("--granularity") { Description = "element | row | column | kernel | block:RxC | nm:N:M.", DefaultValueFactory = _ => "element" };
        var scope = new Option<string>("--scope") { Description = "layer (each tensor on its own) | global (one threshold; element granularity).", DefaultValueFactory = _ => "layer" };
        var include = new Option<string?>("--include") { Description = "Only tensors whose name matches this regular expression.", HelpName = "REGEX" };
        var exclude = new Option<string?>("--exclude") { Description = "Skip tensors whose name matches this regular expression.", HelpName = "REGEX" };
        var maxLayer = new Option<double>("--max-layer-sparsity") { Description = "Global scope: no tensor loses more than this fraction.", DefaultValueFactory = _ => 1.0 };
        var report = new Option<string?>("--report") { Description = "Write a JSON report: per tensor achieved sparsity, pruned count, threshold.", HelpName = "REPORT.json" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random criterion.", DefaultValueFactory = _ => 0UL };
        var command = new Command("prune", "Prune a safetensors model and write the pruned copy.")
        {
            input, output, criterion, sparsity, granularity, scope, include, exclude, maxLayer, report, seed,
        };
        command.SetAction(p => Run(new Options(
            p.GetValue(input)!, p.GetValue(output)!, p.GetValue(criterion)!.ToLowerInvariant(), p.GetValue(sparsity),
            p.GetValue(granularity)!, p.GetValue(scope)!.ToLowerInvariant(), p.GetValue(include), p.GetValue(exclude),
            p.GetValue(maxLayer), p.GetValue(report), p.GetValue(seed))));
        return command;
    }

    private sealed record Options(string Input, string Output, string Criterion, double Sparsity, string Granularity, string Scope,
        string? Include, string? Exclude, double MaxLayerSparsity, string? Report, ulong Seed);

    private sealed record Target(SafeTensorInfo Info, WeightShape Shape, float[] Weights, long ZerosBefore)
    {
        public PruneReport Result { get; set; }

        /// <summary>Zeros after pruning (pruned entries may have been zero already, so not ZerosBefore + pruned).</summary>
        public long ZerosAfter { get; set; }
    }

    private static int Run(Options o)
    {
        // 1. Everything that can be wrong with the request, before reading the model.
        if (NeedStats.Contains(o.Criterion))
            throw new ArgumentException($"criterion '{o.Criterion}' needs statistics (--stats), which this version does not read yet; use {string.Join(", ", Supported)}");
        if (!Supported.Contains(o.Criterion))
            throw new ArgumentException($"unknown criterion '{o.Criterion}'; expected {string.Join(", ", Supported.Concat(NeedStats))}");
        if (!(o.Sparsity >= 0 && o.Sparsity <= 1)) throw new ArgumentException($"--sparsity {o.Sparsity.ToString(CultureInfo.InvariantCulture)} is outside [0, 1]");
        if (!(o.MaxLayerSparsity >= 0 && o.MaxLayerSparsity <= 1)) throw new ArgumentException("--max-layer-sparsity is outside [0, 1]");
        Granularity granularity = Granularity.Parse(o.Granularity);
        if (o.Scope is not ("layer" or "global")) throw new ArgumentException($"unknown scope '{o.Scope}'; expected layer or global");
        if (o.Scope == "global" && granularity.Kind != GranularityKind.Element)
            throw new ArgumentException("--scope global supports --granularity element (global_unstructured)");
        if (o.Scope == "global" && o.Criterion == "random")
            throw new ArgumentException("--scope global ranks by magnitude; use --criterion magnitude (l1 and l2 are the same at element granularity)");
        Regex? include = Compile(o.Include, "--include"), exclude = Compile(o.Exclude, "--exclude");
        string inputPath = Path.GetFullPath(o.Input), outputPath = Path.GetFullPath(o.Output);
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"'{o.Input}' does not exist", o.Input);
        if (string.Equals(inputPath, outputPath, StringComparison.Ordinal)) throw new ArgumentException("the output path is the input path; the input is never overwritten");
        if (!Directory.Exists(Path.GetDirectoryName(outputPath))) throw new DirectoryNotFoundException($"the directory of '{o.Output}' does not exist");
        if (o.Report is not null && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(o.Report))))
            throw new DirectoryNotFoundException($"the directory of '{o.Report}' does not exist");

        // Global scope streams the model (PruneCommand.Global.cs): memory stays bounded whatever its size.
        if (o.Scope == "global") return RunGlobal(o, inputPath, outputPath, include, exclude);

        // 2. Read, select targets, prune in float32.
        using SafeTensorsFile file = SafeTensorsFile.Open(inputPath);
        var targets = new List<Target>();
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (!IsTarget(t, include, exclude)) continue;
            if (t.ElementCount > Array.MaxLength) throw new ArgumentException($"tensor '{t.Name}' has {t.ElementCount} elements; this version prunes tensors of at most {Array.MaxLength}");
            var weights = new float[t.ElementCount];
            file.ReadAsFloat32(t.Index, weights);
            targets.Add(new Target(t, ShapeOf(t), weights, weights.AsSpan().Count(0f)));
        }
        if (targets.Count == 0) throw new ArgumentException("no tensor matches: pruning targets are floating tensors of rank >= 2 (or those --include names)");
        foreach (Target t in targets)
        {
            try { granularity.Validate(t.Shape); }
            catch (ArgumentException e) { throw new ArgumentException($"tensor '{t.Info.Name}': {e.Message}"); }
        }
        // The library rejects NaN/±∞ before writing anything; the message gains the tensor's name here.
        foreach (Target t in targets)
        {
            try { t.Result = PruneLayer(t, granularity, o); }
            catch (ArgumentException e) { throw new ArgumentException($"tensor '{t.Info.Name}': {e.Message}"); }
            t.ZerosAfter = t.Weights.AsSpan().Count(0f);
        }

        // 3. Write every tensor in input order; untouched ones straight from the mapping.
        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.AddMetadata(key, value);
        var pruned = targets.ToDictionary(t => t.Info.Index);
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (pruned.TryGetValue(t.Index, out Target? target))
                writer.Add(t.Name, t.DType, t.Shape, stream => WriteAs(target.Weights, target.Info.DType, stream));
            else
            {
                int index = t.Index;
                writer.Add(t.Name, t.DType, t.Shape, stream => stream.Write(file.GetBytes(index)));
            }
        }
        writer.WriteFile(outputPath, [inputPath]);
        if (o.Report is not null) WriteReport(o, granularity, targets);
        long total = targets.Sum(t => t.Weights.LongLength), zeros = targets.Sum(t => t.ZerosAfter);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sprune: pruned {targets.Count} tensors, {zeros:N0} of {total:N0} weights now zero ({100.0 * zeros / total:0.00}%) -> {o.Output}"));
        return Program.Success;
    }

    /// <summary>Pruned float32 weights back in the tensor's own dtype: F32 as is, others converted 1 MiB at a time.</summary>
    private static void WriteAs(float[] weights, SafeTensorsDType dtype, Stream destination)
    {
        if (dtype == SafeTensorsDType.F32)
        {
            destination.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()));
            return;
        }
        int size = SafeTensorsDTypeInfo.SizeOf(dtype);
        const int ChunkElements = 1 << 18;
        var buffer = new byte[ChunkElements * size];
        for (int i = 0; i < weights.Length; i += ChunkElements)
        {
            int n = Math.Min(ChunkElements, weights.Length - i);
            SafeTensorsConvert.FromFloat32(weights.AsSpan(i, n), dtype, buffer.AsSpan(0, n * size));
            destination.Write(buffer, 0, n * size);
        }
    }

    private static Regex? Compile(string? pattern, string option)
    {
        if (pattern is null) return null;
        try { return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new ArgumentException($"{option}: invalid regular expression: {e.Message}"); }
    }

    private static bool IsTarget(SafeTensorInfo t, Regex? include, Regex? exclude)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType) || t.ElementCount == 0) return false;
        if (exclude is not null && exclude.IsMatch(t.Name)) return false;
        if (include is not null) return include.IsMatch(t.Name) && t.Shape.Length >= 1;
        return t.Shape.Length >= 2; // biases and norms (rank 1) only when included
    }

    private static WeightShape ShapeOf(SafeTensorInfo t)
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

    private static PruneReport PruneLayer(Target t, Granularity g, Options o)
    {
        float[] w = t.Weights;
        if (g.Kind == GranularityKind.NM)
        {
            return o.Criterion == "random"
                ? RandomUnits(t, g, o.Sparsity, o.Seed, nm: true)
                : Pruning.NM<MagnitudeCriterion>(w, default, t.Shape, g, new byte[w.Length]);
        }
        if (o.Criterion == "random") return RandomUnits(t, g, o.Sparsity, o.Seed, nm: false);
        if (g.Kind == GranularityKind.Element) return Pruning.Magnitude(w, o.Sparsity);
        var unitMask = new byte[g.UnitCount(t.Shape)];
        return o.Criterion == "l2"
            ? Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, t.Shape, g, o.Sparsity, unitMask)
            : Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, default, t.Shape, g, o.Sparsity, unitMask);
        // magnitude at a group granularity is the L1 norm of the unit (documented above).
    }

    /// <summary>Random baseline: uniform scores per unit (per element for N:M), seeded per tensor by its index.</summary>
    private static PruneReport RandomUnits(Target t, Granularity g, double sparsity, ulong seed, bool nm)
    {
        ulong tensorSeed = seed ^ (ulong)(t.Info.Index + 1) * 0x9E3779B97F4A7C15UL;
        if (nm)
        {
            var scores = new float[t.Weights.Length];
            var mask = new byte[t.Weights.Length];
            Scoring.Random(scores, tensorSeed);
            Selection.NmMask(scores, t.Shape, g, mask);
            Masking.Apply(t.Weights, mask);
            long prunedElements = t.Weights.Length - Masking.CountKept(mask);
            return new PruneReport(t.Weights.Length, (int)prunedElements, t.Weights.Length, prunedElements, float.NaN);
        }
        int units = g.UnitCount(t.Shape);
        var unitScores = new float[units];
        var unitMask = new byte[units];
        Scoring.Random(unitScores, tensorSeed);
        SelectionResult r = Selection.LowestMask(unitScores, Selection.PruneCount(units, sparsity), unitMask);
        Masking.ApplyUnitMask(t.Weights, unitMask, t.Shape, g);
        return new PruneReport(units, r.Pruned, t.Weights.Length, (long)r.Pruned * g.UnitSize(t.Shape), r.Threshold);
    }

    private static void WriteReport(Options o, Granularity g, List<Target> targets)
    {
        using var stream = File.Create(o.Report!);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        WriteReportHeader(w, o, g);
        foreach (Target t in targets)
        {
            long zeros = t.ZerosAfter;
            w.WriteStartObject();
            w.WriteString("name", t.Info.Name);
            w.WriteString("dtype", SafeTensorsDTypeInfo.GetName(t.Info.DType));
            w.WriteNumber("units", t.Result.UnitCount);
            w.WriteNumber("pruned_units", t.Result.PrunedUnits);
            w.WriteNumber("pruned_elements", t.Result.PrunedElements);
            w.WriteNumber("elements", t.Weights.LongLength);
            w.WriteNumber("zeros", zeros);
            w.WriteNumber("achieved_sparsity", (double)zeros / t.Weights.LongLength);
            if (float.IsFinite(t.Result.Threshold)) w.WriteNumber("threshold", t.Result.Threshold);
            else w.WriteNull("threshold");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
