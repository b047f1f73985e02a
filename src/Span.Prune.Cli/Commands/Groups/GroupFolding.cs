using Span.Prune.SafeTensors;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>A layer with its BatchNorm folded in (after shrinking): what is written instead of the layer, its bias and the BatchNorm.</summary>
/// <param name="Layer">The weight the BatchNorm follows (the group's one rank ≥ 2 rows member).</param>
/// <param name="Weight">The shrunk, folded weight.</param>
/// <param name="WeightShape">Its shape.</param>
/// <param name="Bias">The folded bias, one entry per kept output unit.</param>
/// <param name="BiasName"><c>&lt;layer&gt;.bias</c>.</param>
/// <param name="ExistingBias">The layer's bias tensor in the input, or null (the folded bias is then added after the weight).</param>
/// <param name="Dropped">The names of the BatchNorm tensors (weight, bias, running_mean, running_var, num_batches_tracked
/// if present); of a sharded model they may sit in other shards than the layer.</param>
internal sealed record BatchNormFold(SafeTensorInfo Layer, float[] Weight, long[] WeightShape, float[] Bias, string BiasName,
    SafeTensorInfo? ExistingBias, IReadOnlyList<string> Dropped);

/// <summary>
/// <c>--fold-bn</c>: a group with a BatchNorm among its members (1-D members <c>X.weight</c>, <c>X.bias</c>,
/// <c>X.running_mean</c>, <c>X.running_var</c>) and exactly one rank ≥ 2 rows member (the layer in front of it) is
/// folded with <see cref="BatchNormScaling.Fold"/>, ε = 1e-5 (PyTorch's default), after both are shrunk (folding
/// is per output unit, so folding the kept units equals shrinking the folded layer).
/// </summary>
internal static class GroupFolding
{
    public const float Epsilon = 1e-5f;

    /// <summary>The names of every BatchNorm tensor the folds remove (not written to any output).</summary>
    public static HashSet<string> DroppedNames(Dictionary<string, BatchNormFold> folds) =>
        folds.Values.SelectMany(f => f.Dropped).ToHashSet(StringComparer.Ordinal);

    /// <returns>The folds by layer name.</returns>
    public static Dictionary<string, BatchNormFold> Plan(ModelTensors model, List<GroupSelection> selections, Dictionary<(string Tensor, int Dim), DimensionKeep> dims)
    {
        var folds = new Dictionary<string, BatchNormFold>(StringComparer.Ordinal);
        foreach (GroupSelection selection in selections)
        {
            GroupInstance g = selection.Instance;
            GroupMember? mean = g.Members.FirstOrDefault(m => m.Info.Shape.Length == 1 && m.Info.Name.EndsWith(".running_mean", StringComparison.Ordinal));
            if (mean is null) continue;
            string bn = mean.Info.Name[..^".running_mean".Length];
            GroupMember Vector(string suffix) =>
                g.Members.FirstOrDefault(m => m.Info.Name == bn + suffix && m.Info.Shape.Length == 1)
                ?? throw new ArgumentException($"--fold-bn: group '{g.Label}' has '{mean.Info.Name}' but not '{bn}{suffix}' as a member");
            GroupMember gamma = Vector(".weight"), beta = Vector(".bias"), variance = Vector(".running_var");
            var layers = g.Members.Where(m => m.Axis == GroupAxis.Rows && m.Info.Shape.Length >= 2).ToList();
            if (layers.Count != 1)
                throw new ArgumentException($"--fold-bn: group '{g.Label}' has {layers.Count} layers whose rows it prunes; folding needs exactly one (the layer the BatchNorm follows)");
            SafeTensorInfo layer = layers[0].Info;
            SafeTensorsFile file = layers[0].File;
            if (!layer.Name.EndsWith(".weight", StringComparison.Ordinal))
                throw new ArgumentException($"--fold-bn: '{layer.Name}' does not end in '.weight', so its bias has no name");
            if (folds.ContainsKey(layer.Name)) throw new ArgumentException($"--fold-bn: '{layer.Name}' is followed by two BatchNorms");

            dims.TryGetValue((layer.Name, 0), out DimensionKeep? d0);
            dims.TryGetValue((layer.Name, 1), out DimensionKeep? d1);
            float[] weight = GroupWriter.Shrink(Read(file, layer), layer, d0, d1);
            long[] shape = GroupWriter.KeptShape(layer, d0, d1);
            float[] Kept(SafeTensorsFile f, SafeTensorInfo t) => GroupWriter.Shrink(Read(f, t), t, d0, null);
            string biasName = layer.Name[..^".weight".Length] + ".bias";
            SafeTensorInfo? existing = model.TryGet(biasName, out SafeTensorsFile? biasFile, out SafeTensorInfo? b) ? b : null;
            if (existing is not null && (existing.Shape.Length != 1 || existing.Shape[0] != layer.Shape[0] || !SafeTensorsDTypeInfo.IsConvertibleFloat(existing.DType)))
                throw new ArgumentException($"--fold-bn: '{biasName}' is not a floating vector of {layer.Shape[0]} entries");
            float[] bias = existing is null ? new float[shape[0]] : Kept(biasFile!, existing);
            try
            {
                BatchNormScaling.Fold(weight, bias, WeightShape.Linear((int)shape[0], (int)(weight.Length / shape[0])),
                    Kept(gamma.File, gamma.Info), Kept(beta.File, beta.Info), Kept(mean.File, mean.Info), Kept(variance.File, variance.Info), Epsilon);
            }
            catch (ArgumentException e) { throw new ArgumentException($"--fold-bn: '{bn}' into '{layer.Name}': {e.Message}"); }
            var dropped = new List<string> { gamma.Info.Name, beta.Info.Name, mean.Info.Name, variance.Info.Name };
            if (model.TryGet(bn + ".num_batches_tracked", out SafeTensorInfo? tracked)) dropped.Add(tracked.Name);
            folds.Add(layer.Name, new BatchNormFold(layer, weight, shape, bias, biasName, existing, dropped));
        }
        return folds;
    }

    private static float[] Read(SafeTensorsFile file, SafeTensorInfo t)
    {
        var values = new float[t.ElementCount];
        file.ReadAsFloat32(t.Index, values);
        return values;
    }
}
