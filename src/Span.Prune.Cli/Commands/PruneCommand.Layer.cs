using CommunityToolkit.HighPerformance.Buffers;
using System.Numerics.Tensors;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Layer scope, streamed: targets, statistics and BatchNorm pairs are validated from the headers (and the statistics
/// read once for NaN/±∞) before the output exists; then each target is read, pruned and written inside its
/// <see cref="SafeTensorsWriter"/> callback, so peak memory is about one tensor plus its statistic. An error found
/// while pruning (e.g. a NaN weight) propagates out of the writer, and <see cref="OutputFiles"/> deletes the temporary file: nothing is left.
/// </summary>
internal static partial class PruneCommand
{
    /// <summary>One weight to prune with what it reads.</summary>
    private sealed record LayerJob(SafeTensorInfo Info, WeightShape Shape, TargetStats? Stats, BnPlan? Bn);

    /// <param name="bnPlans">bn-scale over the shards of a checkpoint: the plans of every shard (those of this file's
    /// weights and BatchNorm tensors are used); null plans this file alone.</param>
    private static (List<ReportEntry> Entries, List<string> Pruned) RunLayer(SafeTensorsFile file, Options o, Granularity granularity,
        Regex? include, Regex? exclude, string? statsPath, OutputFiles files, string outputPath,
        List<(SafeTensorsFile File, SafeTensorInfo Target, BnPlan Plan)>? bnPlans = null)
    {
        List<LayerJob> jobs = [];
        var weights = new ArrayPoolBufferWriter<float>();
        var statistic = new ArrayPoolBufferWriter<float>();
        var norms = new Dictionary<int, (string Weight, BnPlan Plan)>();
        using SafeTensorsFile? stats = statsPath is null ? null : SafeTensorsFile.Open(statsPath);
        if (o.Criterion == BnScale)
        {
            foreach (var (weightFile, t, plan) in bnPlans ?? PlanBatchNorm(new ModelTensors([file]), o, include, exclude, granularity))
            {
                if (weightFile == file) jobs.Add(new LayerJob(t, ShapeOf(t), null, plan));
                if (plan.GammaFile == file) norms.Add(plan.Gamma.Index, (t.Name, plan));
                if (plan.Beta is { } beta && plan.BetaFile == file) norms.Add(beta.Index, (t.Name, plan));
            }
        }
        else
        {
            foreach (SafeTensorInfo t in SelectTargets(file, include, exclude, granularity))
            {
                WeightShape shape = ShapeOf(t);
                jobs.Add(new LayerJob(t, shape, stats is null ? null : ResolveStats(stats, t, shape, o.Criterion, o.Sparsity, statistic), null));
            }
        }

        var entries = new List<ReportEntry>();
        var byIndex = jobs.ToDictionary(j => j.Info.Index);
        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.AddMetadata(key, value);
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (byIndex.TryGetValue(t.Index, out LayerJob? job) && StreamsMagnitude(o, granularity))
            {
                writer.Add(t.Name, t.DType, t.Shape, stream => entries.Add(PruneMagnitudeStreamed(file, t, o.Sparsity, stream)));
            }
            else if (job is not null)
            {
                writer.Add(t.Name, t.DType, t.Shape, stream =>
                {
                    Span<float> w = weights.Take(t.ElementCount);
                    file.ReadAsFloat32(t.Index, w);
                    ReportEntry entry;
                    try { entry = PruneTensor(job, w, stats, statistic, o, granularity); }
                    catch (ArgumentException e) { throw new ArgumentException($"tensor '{t.Name}': {e.Message}"); }
                    entry.Zeros = w.Count(0f);
                    entries.Add(entry);
                    WriteAs(w, t.DType, stream);
                });
            }
            else if (norms.TryGetValue(t.Index, out var norm))
            {
                writer.Add(t.Name, t.DType, t.Shape, stream => entries.Add(WriteZeroedChannels(file, t, norm.Weight, norm.Plan, stream)));
            }
            else
            {
                AddCopy(writer, file, t);
            }
        }
        files.Stage(outputPath, writer.WriteTo, TensorBytes(file));
        return (entries, jobs.Select(j => j.Info.Name).ToList());
    }

    /// <summary>
    /// Element-wise magnitude (l1 and l2 are the same there) is one tensor's global magnitude selection: the exact
    /// threshold comes from the radix histograms of <see cref="GlobalMagnitudePruning"/> over chunks, and the tensor
    /// is masked chunk by chunk in its own dtype while it is written. No tensor-sized buffer is touched, which is
    /// what a 64 MB float32 copy costs most (measured: the fresh pages of one cost more than the whole selection).
    /// The mask is the one <see cref="Pruning.Magnitude(Span{float}, double)"/> computes: lowest |w| first, ties by index.
    /// </summary>
    private static bool StreamsMagnitude(Options o, Granularity g) =>
        g.Kind == GranularityKind.Element && o.Criterion is "magnitude" or "l1" or "l2";

    private static ReportEntry PruneMagnitudeStreamed(SafeTensorsFile file, SafeTensorInfo t, double sparsity, Stream destination)
    {
        var engine = new GlobalMagnitudePruning([t.ElementType!.Value], [t.ElementCount], sparsity);
        List<(SafeTensorsFile, SafeTensorInfo)> one = [(file, t)];
        ScanTargets(one, engine, refine: false);
        while (!engine.Resolve()) ScanTargets(one, engine, refine: true);
        WriteMasked(file, t, 0, engine, destination);
        long n = t.ElementCount, pruned = engine.PrunedCount(0);
        return new ReportEntry(t) { Result = new PruneReport((int)n, (int)pruned, n, pruned, engine.Threshold), Zeros = engine.ZeroCount(0) };
    }

    /// <summary>Prunes one tensor in place with the library's operation for the criterion and granularity.</summary>
    private static ReportEntry PruneTensor(LayerJob job, Span<float> w, SafeTensorsFile? stats, ArrayPoolBufferWriter<float> statistic, Options o, Granularity g)
    {
        var entry = new ReportEntry(job.Info);
        WeightShape shape = job.Shape;
        ReadOnlySpan<float> stat = default;
        if (job.Stats is { } ts)
        {
            Span<float> s = statistic.Take(ts.Primary.ElementCount);
            stats!.ReadAsFloat32(ts.Primary.Index, s);
            stat = s;
        }
        switch (o.Criterion)
        {
            case "taylor" when job.Stats!.IsScore:
                entry.Result = WithStatistic<PrecomputedScore>(w, stat, shape, g, o.Sparsity);
                break;
            case "taylor":
                entry.Result = WithStatistic<TaylorCriterion>(w, stat, shape, g, o.Sparsity);
                break;
            case "obd":
                entry.Result = WithStatistic<ObdCriterion>(w, stat, shape, g, o.Sparsity);
                break;
            case "wanda":
                entry.Result = Wanda(w, stat, shape, g, o.Sparsity);
                break;
            case "apoz":
                entry.Result = Pruning.Apoz(w, shape, stat, o.Sparsity, new byte[shape.Out]);
                break;
            case "regression":
                entry.Result = Regression(w, stat, stats!, job, o.Sparsity, entry);
                break;
            case BnScale:
            {
                BnPlan plan = job.Bn!;
                Masking.ApplyUnitMask(w, plan.ChannelMask, shape, Granularity.Row);
                int pruned = plan.Selection.PrunedUnits;
                entry.Result = new PruneReport(shape.Out, pruned, w.Length, (long)pruned * shape.RowLength, plan.Selection.Threshold);
                entry.PairedWith = plan.Gamma.Name;
                break;
            }
            default:
                entry.Result = PruneLayer(w, shape, job.Info.Index, g, o);
                break;
        }
        return entry;
    }

    /// <summary>Taylor / OBD: per-element criterion, summed over a unit at group granularities, N:M within each group.</summary>
    private static PruneReport WithStatistic<TCriterion>(Span<float> w, ReadOnlySpan<float> stat, WeightShape shape, Granularity g, double sparsity)
        where TCriterion : struct, IElementCriterion =>
        g.Kind == GranularityKind.NM
            ? Pruning.NM<TCriterion>(w, stat, shape, g, new byte[w.Length])
            : Pruning.Layer<TCriterion, SumReduction>(w, stat, shape, g, sparsity, new byte[g.UnitCount(shape)]);

    /// <summary>Wanda: per output row at element granularity, within each M-group at N:M (norms were checked ≥ 0 up front).</summary>
    private static PruneReport Wanda(Span<float> w, ReadOnlySpan<float> inputNorms, WeightShape shape, Granularity g, double sparsity) =>
        g.Kind == GranularityKind.NM
            ? Pruning.WandaNM(w, shape, inputNorms, g, new byte[w.Length])
            : Pruning.Wanda(w, shape, inputNorms, sparsity, new byte[w.Length]);

    /// <summary>Channel pruning by regression (He et al. 2017): <see cref="Pruning.Regression"/> with the sampled targets, or the
    /// layer's own outputs when the stats file has none. The refit changes the kept weights.</summary>
    private static PruneReport Regression(Span<float> w, ReadOnlySpan<float> inputs, SafeTensorsFile stats, LayerJob job, double sparsity, ReportEntry entry)
    {
        WeightShape shape = job.Shape;
        int samples = (int)job.Stats!.Primary.Shape[0];
        float[] targets = [];
        if (job.Stats.Targets is { } y)
        {
            targets = new float[(long)samples * shape.Out];
            stats.ReadAsFloat32(y.Index, targets);
        }
        PruneReport report = Pruning.Regression(w, shape, inputs, targets, samples, sparsity, new byte[shape.In], out LassoSelection selection, out RefitResult refit);
        if (report.PrunedUnits > 0) entry.Regression = (selection, refit);
        return report;
    }

    /// <summary>The statistics-free criteria: magnitude (L1 at group granularities), l1, l2, random.</summary>
    private static PruneReport PruneLayer(Span<float> w, WeightShape shape, int tensorIndex, Granularity g, Options o)
    {
        if (g.Kind == GranularityKind.NM)
        {
            return o.Criterion == "random"
                ? RandomUnits(w, shape, tensorIndex, g, o.Sparsity, o.Seed, nm: true)
                : Pruning.NM<MagnitudeCriterion>(w, default, shape, g, new byte[w.Length]);
        }
        if (o.Criterion == "random") return RandomUnits(w, shape, tensorIndex, g, o.Sparsity, o.Seed, nm: false);
        var unitMask = new byte[g.UnitCount(shape)];
        return o.Criterion == "l2"
            ? Pruning.Layer<MagnitudeCriterion, L2Reduction>(w, default, shape, g, o.Sparsity, unitMask)
            : Pruning.Layer<MagnitudeCriterion, L1Reduction>(w, default, shape, g, o.Sparsity, unitMask);
        // magnitude at a group granularity is the L1 norm of the unit (documented on the class).
    }

    /// <summary>Random baseline: uniform scores per unit (per element for N:M), seeded per tensor by its index.</summary>
    private static PruneReport RandomUnits(Span<float> w, WeightShape shape, int tensorIndex, Granularity g, double sparsity, ulong seed, bool nm)
    {
        ulong tensorSeed = seed ^ (ulong)(tensorIndex + 1) * 0x9E3779B97F4A7C15UL;
        return nm
            ? Pruning.RandomNM(w, shape, g, tensorSeed, new byte[w.Length])
            : Pruning.Random(w, shape, g, sparsity, tensorSeed, new byte[g.UnitCount(shape)]);
    }
}
