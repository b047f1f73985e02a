using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>
/// <c>--preset NAME</c>: <c>--group</c> specs written from the tensor names and shapes of the file, so a common
/// architecture needs no hand-written spec. Each preset expands to ordinary specs (the report prints them).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>mlp-chain</c>: rank-2 tensors named <c>&lt;P&gt;&lt;K&gt;.weight</c> (K: digits; e.g. <c>fc1</c>, <c>fc2</c>,
/// <c>classifier.0</c>, <c>classifier.3</c>) form a chain per prefix P in numeric order of K; each consecutive pair whose
/// shapes chain (rows of one = columns of the next) is a group <c>A.weight:rows, A.bias?:rows, B.weight:cols</c>. The
/// last layer's outputs are never pruned.</item>
/// <item><c>conv-bn</c>: <c>&lt;P&gt;conv&lt;K&gt;.weight</c> (rank 4) → <c>&lt;P&gt;bn&lt;K&gt;</c> (weight, bias,
/// running_mean, running_var) → <c>&lt;P&gt;conv&lt;K+1&gt;.weight</c> with as many input channels: the output
/// channels of conv K with its bias and BatchNorm, and the input channels of conv K+1. The last conv of a prefix
/// (e.g. a ResNet block's conv2, whose output meets the residual) is not pruned.</item>
/// <item><c>llama-mlp</c>: per layer, the MLP neurons: <c>gate_proj</c> and <c>up_proj</c> rows (and their biases if
/// present), <c>down_proj</c> columns.</item>
/// <item><c>llama-attn</c>: per layer, whole kv groups: kv head j with the G = heads / kv_heads query heads that share it
/// (q_proj rows <c>[j·G·d, (j+1)·G·d)</c>, k_proj and v_proj rows <c>[j·d, (j+1)·d)</c>, biases if present) and the
/// matching o_proj columns. d is <c>--head-dim</c>, else <c>head_dim</c> (or <c>hidden_size / num_attention_heads</c>)
/// of the <c>config.json</c> next to the model; the head counts come from the shapes.</item>
/// </list>
/// </remarks>
internal static class GroupPresets
{
    public static readonly string[] Names = ["mlp-chain", "conv-bn", "llama-mlp", "llama-attn"];

    private static readonly Regex Numbered = new(@"^(.*?)([0-9]+)\.weight$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex Conv = new(@"^(.*)conv([0-9]+)\.weight$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex LlamaMlp = new(@"^(.*)layers\.[0-9]+\.mlp\.up_proj\.weight$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex LlamaAttn = new(@"^(.*)layers\.([0-9]+)\.self_attn\.q_proj\.weight$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Checks a preset name before the model is read.</summary>
    public static void Check(string name)
    {
        if (!Names.Contains(name)) throw new ArgumentException($"unknown --preset '{name}'; expected {string.Join(", ", Names)}");
    }

    public static List<GroupSpec> Expand(string name, ModelTensors model, int? headDim, string? configPath) => name switch
    {
        "mlp-chain" => MlpChain(model),
        "conv-bn" => ConvBn(model),
        "llama-mlp" => Llama(model, LlamaMlp, name, p =>
            $"{p}layers.{{i}}.mlp.gate_proj.weight:rows,{p}layers.{{i}}.mlp.gate_proj.bias?:rows,{p}layers.{{i}}.mlp.up_proj.weight:rows," +
            $"{p}layers.{{i}}.mlp.up_proj.bias?:rows,{p}layers.{{i}}.mlp.down_proj.weight:cols"),
        "llama-attn" => Llama(model, LlamaAttn, name, p => AttentionSpec(model, p, headDim, configPath)),
        _ => throw new ArgumentException($"unknown --preset '{name}'"),
    };

    private static List<GroupSpec> MlpChain(ModelTensors model)
    {
        var chains = new Dictionary<string, List<(long K, SafeTensorInfo T)>>(StringComparer.Ordinal);
        foreach (SafeTensorInfo t in model.Tensors)
        {
            Match m = Numbered.Match(t.Name);
            if (!m.Success || t.Shape.Length != 2 || !SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType) || m.Groups[2].Value.Length > 9) continue;
            string prefix = m.Groups[1].Value;
            if (!chains.TryGetValue(prefix, out var list)) chains.Add(prefix, list = []);
            list.Add((long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), t));
        }
        var specs = new List<GroupSpec>();
        foreach (var list in chains.Values)
        {
            list.Sort((a, b) => a.K.CompareTo(b.K));
            for (int i = 0; i + 1 < list.Count; i++)
            {
                SafeTensorInfo a = list[i].T, b = list[i + 1].T;
                if (a.Shape[0] != b.Shape[1]) continue;
                string baseA = a.Name[..^".weight".Length];
                specs.Add(GroupSpec.Parse($"{a.Name}:rows,{baseA}.bias?:rows,{b.Name}:cols") with { Name = $"mlp-chain {a.Name} -> {b.Name}" });
            }
        }
        if (specs.Count == 0)
            throw new ArgumentException("--preset mlp-chain: no chain of linear layers '<P><K>.weight' (rank 2, rows of one = columns of the next, e.g. fc1, fc2) in the file");
        return specs;
    }

    private static List<GroupSpec> ConvBn(ModelTensors model)
    {
        var specs = new List<GroupSpec>();
        foreach (SafeTensorInfo t in model.Tensors)
        {
            Match m = Conv.Match(t.Name);
            if (!m.Success || t.Shape.Length != 4 || m.Groups[2].Value.Length > 9) continue;
            string p = m.Groups[1].Value;
            long k = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            string bn = $"{p}bn{k.ToString(CultureInfo.InvariantCulture)}";
            string next = $"{p}conv{(k + 1).ToString(CultureInfo.InvariantCulture)}.weight";
            if (!model.TryGet(next, out SafeTensorInfo? consumer) || consumer.Shape.Length != 4 || consumer.Shape[1] != t.Shape[0]) continue;
            if (!model.TryGet(bn + ".running_mean", out _)) continue;
            specs.Add(GroupSpec.Parse($"{t.Name}:rows,{p}conv{k.ToString(CultureInfo.InvariantCulture)}.bias?:rows," +
                $"{bn}.weight:rows,{bn}.bias:rows,{bn}.running_mean:rows,{bn}.running_var:rows,{next}:cols") with { Name = $"conv-bn {t.Name} -> {next}" });
        }
        if (specs.Count == 0)
            throw new ArgumentException("--preset conv-bn: no '<P>conv<K>.weight' -> '<P>bn<K>' (with running_mean) -> '<P>conv<K+1>.weight' chain in the file");
        return specs;
    }

    private static List<GroupSpec> Llama(ModelTensors model, Regex anchor, string name, Func<string, string> spec)
    {
        var prefixes = new List<string>();
        foreach (SafeTensorInfo t in model.Tensors)
        {
            Match m = anchor.Match(t.Name);
            if (m.Success && !prefixes.Contains(m.Groups[1].Value)) prefixes.Add(m.Groups[1].Value);
        }
        if (prefixes.Count == 0)
        {
            string expected = name == "llama-mlp" ? "<P>layers.<i>.mlp.up_proj.weight" : "<P>layers.<i>.self_attn.q_proj.weight";
            throw new ArgumentException($"--preset {name}: no tensor named '{expected}' in the file");
        }
        return prefixes.Select(p => GroupSpec.Parse(spec(p)) with { Name = $"{name} {p}layers.{{i}}" }).ToList();
    }

    /// <summary>
    /// Whole kv groups (see the class remarks). Pruning kv groups rather than query heads inside each group keeps the
    /// GQA ratio heads / kv_heads an integer (what repeat_kv needs) and removes k_proj and v_proj rows as well.
    /// </summary>
    private static string AttentionSpec(ModelTensors model, string p, int? headDim, string? configPath)
    {
        (int d, string source) = headDim is { } h ? (h, "--head-dim") : HeadDimFromConfig(configPath);
        SafeTensorInfo q = model.Tensors.First(t => LlamaAttn.Match(t.Name) is { Success: true } m && m.Groups[1].Value == p);
        string layer = LlamaAttn.Match(q.Name).Groups[2].Value;
        string kName = $"{p}layers.{layer}.self_attn.k_proj.weight";
        if (!model.TryGet(kName, out SafeTensorInfo? k)) throw new ArgumentException($"--preset llama-attn: no tensor '{kName}'");
        long qRows = q.Shape[0], kRows = k.Shape[0];
        if (qRows % d != 0 || kRows % d != 0 || qRows / d % (kRows / d) != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--preset llama-attn: head dim {d} (from {source}) does not divide q_proj rows {qRows} and k_proj rows {kRows} into a whole number of heads per kv head"));
        }
        long perKv = qRows / kRows; // query heads per kv head
        string Layer(string proj) => $"{p}layers.{{i}}.self_attn.{proj}";
        string qb = (perKv * d).ToString(CultureInfo.InvariantCulture), kb = d.ToString(CultureInfo.InvariantCulture);
        return $"{Layer("q_proj.weight")}:rows/{qb},{Layer("q_proj.bias")}?:rows/{qb},{Layer("k_proj.weight")}:rows/{kb},{Layer("k_proj.bias")}?:rows/{kb}," +
            $"{Layer("v_proj.weight")}:rows/{kb},{Layer("v_proj.bias")}?:rows/{kb},{Layer("o_proj.weight")}:cols/{qb}";
    }

    /// <summary><c>head_dim</c>, else <c>hidden_size / num_attention_heads</c>, of a Hugging Face <c>config.json</c>.</summary>
    private static (int HeadDim, string Source) HeadDimFromConfig(string? configPath)
    {
        if (configPath is null || !File.Exists(configPath))
            throw new ArgumentException("--preset llama-attn needs the head dimension: give --head-dim N (or put the model's config.json next to it)");
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("head_dim", out JsonElement hd) && hd.TryGetInt32(out int d) && d > 0) return (d, configPath);
                if (root.TryGetProperty("hidden_size", out JsonElement hs) && hs.TryGetInt32(out int hidden) && hidden > 0 &&
                    root.TryGetProperty("num_attention_heads", out JsonElement nh) && nh.TryGetInt32(out int heads) && heads > 0 && hidden % heads == 0)
                    return (hidden / heads, configPath);
            }
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--preset llama-attn: '{configPath}' is not valid JSON: {e.Message}");
        }
        throw new ArgumentException($"--preset llama-attn: '{configPath}' has neither head_dim nor hidden_size / num_attention_heads; give --head-dim N");
    }
}
