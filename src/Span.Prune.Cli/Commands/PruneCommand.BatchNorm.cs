using System.Globalization;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>bn-scale</c> (Network Slimming, Liu et al. 2017): the output channels of a conv/linear weight are ranked by
/// <c>|γ|</c> of the BatchNorm that follows it, a tensor of the model (not of <c>--stats</c>).
/// </summary>
/// <remarks>
/// <para>Pairing: <c>--pair CONV=BN</c> (repeatable) names the weight and the BatchNorm γ. Without a pair, the
/// convention pairs <c>&lt;P&gt;conv&lt;K&gt;.weight</c> with <c>&lt;P&gt;bn&lt;K&gt;.weight</c> (K: optional digits; e.g.
/// <c>layer1.0.conv1.weight</c> ↔ <c>layer1.0.bn1.weight</c>, <c>stem.conv.weight</c> ↔ <c>stem.bn.weight</c>).
/// Targets are the paired weights plus the usual targets whose conventional BatchNorm exists; without
/// <c>--include</c> a weight with no BatchNorm (e.g. the classifier) is left alone, and with <c>--include</c> it is
/// an error naming it.</para>
/// <para>The channel selection needs only γ, so it is done before writing: <c>round-half-even(s·Out)</c> channels of
/// smallest <c>|γ|</c> (ties: lowest index). Their weight rows are zeroed and, as Network Slimming removes the whole
/// channel, so are γ and β (<c>BN.bias</c> when γ is named <c>….weight</c> and the bias exists): the channel then
/// outputs nothing at all. The running statistics are left as they are (with γ = β = 0 they do not matter). The
/// BatchNorm bytes are zeroed in their own dtype, so kept entries are copied bit for bit.</para>
/// </remarks>
internal static partial class PruneCommand
{
    private static readonly Regex ConvWeight = new(@"^(.*)conv(\d*)\.weight$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The channel selection of one weight and the BatchNorm tensors it zeroes.</summary>
    /// <remarks>The BatchNorm tensors may sit in another shard than the weight: each is named with its file.</remarks>
    private sealed record BnPlan(SafeTensorsFile GammaFile, SafeTensorInfo Gamma, SafeTensorsFile? BetaFile, SafeTensorInfo? Beta, byte[] ChannelMask, PruneReport Selection);

    /// <summary>
    /// The bn-scale targets in file order (shard order, then file order) with their plans; every pair is checked
    /// (tensors exist, shapes, finite γ, no BatchNorm shared or pruned itself) before anything is written. A pair may
    /// span shards.
    /// </summary>
    private static List<(SafeTensorsFile File, SafeTensorInfo Target, BnPlan Plan)> PlanBatchNorm(ModelTensors model, Options o, Regex? include, Regex? exclude, Granularity granularity)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string p in o.Pairs)
        {
            int eq = p.IndexOf('=');
            if (eq <= 0 || eq == p.Length - 1 || p.IndexOf('=', eq + 1) >= 0) throw new ArgumentException($"bad --pair '{p}': expected CONV=BN (two tensor names)");
            string conv = p[..eq], bn = p[(eq + 1)..];
            if (!model.TryGet(conv, out _, out SafeTensorInfo? c)) throw new ArgumentException($"bad --pair '{p}': no tensor '{conv}' in the model");
            if (!model.TryGet(bn, out _, out _)) throw new ArgumentException($"bad --pair '{p}': no tensor '{bn}' in the model");
            if (!SafeTensorsDTypeInfo.IsConvertibleFloat(c.DType) || c.ElementCount == 0)
                throw new ArgumentException($"bad --pair '{p}': '{conv}' is not a non-empty floating tensor");
            if (exclude is not null && exclude.IsMatch(conv)) throw new ArgumentException($"bad --pair '{p}': '{conv}' is excluded by --exclude");
            if (!pairs.TryAdd(conv, bn)) throw new ArgumentException($"bad --pair '{p}': '{conv}' is paired twice");
        }

        var plans = new List<(SafeTensorsFile, SafeTensorInfo, BnPlan)>();
        var usedNorms = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (file, t) in model.All)
        {
            if (!pairs.TryGetValue(t.Name, out string? bn))
            {
                if (!IsTarget(t, include, exclude)) continue;
                Match m = ConvWeight.Match(t.Name);
                string? conventional = m.Success ? $"{m.Groups[1].Value}bn{m.Groups[2].Value}.weight" : null;
                if (conventional is not null && model.TryGet(conventional, out _, out _)) bn = conventional;
                else if (include is null) continue; // not a bn-scale target (no BatchNorm follows it)
                else
                {
                    throw new ArgumentException(conventional is null
                        ? $"bn-scale: no BatchNorm for '{t.Name}': the convention pairs '<P>conv<K>.weight' with '<P>bn<K>.weight'; give --pair {t.Name}=BN"
                        : $"bn-scale: missing BatchNorm '{conventional}' for '{t.Name}'; give --pair {t.Name}=BN");
                }
            }
            if (usedNorms.TryGetValue(bn, out string? other)) throw new ArgumentException($"bn-scale: BatchNorm '{bn}' is paired with both '{other}' and '{t.Name}'");
            usedNorms.Add(bn, t.Name);
            plans.Add((file, CheckTarget(t, granularity), PlanChannels(model, t, bn, o.Sparsity)));
        }
        if (plans.Count == 0)
            throw new ArgumentException("bn-scale: no weight has a BatchNorm: give --pair CONV=BN (the convention pairs '<P>conv<K>.weight' with '<P>bn<K>.weight')");
        foreach (var (_, t, plan) in plans)
        {
            if (usedNorms.ContainsKey(t.Name) || (plan.Beta is { } beta && usedNorms.ContainsKey(beta.Name)))
                throw new ArgumentException($"bn-scale: '{t.Name}' is both a pruned weight and a BatchNorm tensor");
        }
        var targets = plans.Select(p => p.Item2.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (_, t, plan) in plans)
        {
            if (plan.Beta is { } beta && targets.Contains(beta.Name))
                throw new ArgumentException($"bn-scale: BatchNorm bias '{beta.Name}' (of '{t.Name}') is also a pruning target");
        }
        return plans;
    }

    private static BnPlan PlanChannels(ModelTensors model, SafeTensorInfo t, string bnName, double sparsity)
    {
        int channels = ShapeOf(t).Out;
        model.TryGet(bnName, out SafeTensorsFile? gammaFile, out SafeTensorInfo? gamma);
        CheckNorm(gamma!, t, channels);
        SafeTensorsFile? betaFile = null;
        SafeTensorInfo? beta = null;
        if (bnName.EndsWith(".weight", StringComparison.Ordinal) && model.TryGet(bnName[..^".weight".Length] + ".bias", out betaFile, out beta))
            CheckNorm(beta, t, channels);

        var g = new float[channels];
        gammaFile!.ReadAsFloat32(gamma!.Index, g);
        int bad = IndexOfNonFinite(g);
        if (bad >= 0) throw new ArgumentException($"bn-scale: BatchNorm '{gamma.Name}' holds {Describe(g[bad])} at index {bad}");
        var scores = new float[channels];
        Scoring.Magnitude(g, scores);
        var mask = new byte[channels];
        PruneReport r = Selection.LowestMask(scores, Selection.PruneCount(channels, sparsity), mask);
        return new BnPlan(gammaFile, gamma, betaFile, beta, mask, r);
    }

    private static void CheckNorm(SafeTensorInfo norm, SafeTensorInfo weight, int channels)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(norm.DType))
            throw new ArgumentException($"bn-scale: BatchNorm '{norm.Name}' has dtype {SafeTensorsDTypeInfo.GetName(norm.DType)}; expected a floating dtype");
        if (norm.Shape.Length != 1 || norm.Shape[0] != channels)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"bn-scale: BatchNorm '{norm.Name}' has shape {FormatShape(norm.Shape)}; expected [{channels}] (the output channels of '{weight.Name}')"));
        }
    }

    /// <summary>Copies a BatchNorm tensor with the pruned channels' entries set to +0 (all-zero bytes in every float dtype).</summary>
    private static ReportEntry WriteZeroedChannels(SafeTensorsFile file, SafeTensorInfo norm, string weightName, BnPlan plan, Stream destination)
    {
        int size = SafeTensorsDTypeInfo.SizeOf(norm.DType);
        byte[] bytes = file.GetBytes(norm.Index).ToArray();
        for (int c = 0; c < plan.ChannelMask.Length; c++)
        {
            if (plan.ChannelMask[c] == 0) bytes.AsSpan(c * size, size).Clear();
        }
        destination.Write(bytes);

        var values = new float[norm.ElementCount];
        SafeTensorsDTypeInfo.ToFloat32(bytes, norm.DType, values);
        int channels = plan.ChannelMask.Length;
        return new ReportEntry(norm)
        {
            Result = new PruneReport(channels, plan.Selection.PrunedUnits, channels, plan.Selection.PrunedUnits, plan.Selection.Threshold),
            Zeros = values.AsSpan().Count(0f),
            PairedWith = weightName,
        };
    }
}
