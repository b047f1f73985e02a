using Span.Prune.SafeTensors;
using Span.Prune.Sparse;
using static Span.Prune.Cli.Commands.PruneCommand;

namespace Span.Prune.Cli.Commands.Groups;

/// <summary>
/// Writes the grouped output in file order: untouched tensors byte for byte, group members masked (pruned entries
/// +0) or shrunk (<see cref="ShrunkDense"/> for matrices, <see cref="UnitRemoval.RemoveEntries"/> for vectors),
/// folded layers from their <see cref="BatchNormFold"/> plans. Values go back in each tensor's own dtype; a kept
/// value round-trips through float32 exactly. The file is staged through <see cref="OutputFiles"/> (committed by the caller).
/// </summary>
internal static class GroupWriter
{
    public const string KeptKey = "sprune.kept.";

    public static List<TensorChange> Write(SafeTensorsFile file, Dictionary<(string Tensor, int Dim), DimensionKeep> dims,
        Dictionary<string, BatchNormFold> folds, bool shrink, OutputFiles files, string outputPath)
    {
        var changes = new List<TensorChange>();
        var writer = new SafeTensorsWriter();
        HashSet<string> dropped = GroupFolding.DroppedNames(folds);
        var byBias = folds.Values.Where(f => f.ExistingBias is not null).ToDictionary(f => f.ExistingBias!.Name, StringComparer.Ordinal);
        var kept = new List<KeyValuePair<string, string>>();

        foreach (SafeTensorInfo t in file.Tensors)
        {
            long[] shape = t.Shape.ToArray();
            if (dropped.Contains(t.Name))
            {
                changes.Add(new TensorChange(t.Name, shape, null, null));
                continue;
            }
            if (folds.TryGetValue(t.Name, out BatchNormFold? fold))
            {
                writer.Add(t.Name, t.DType, fold.WeightShape, s => WriteAs(fold.Weight, t.DType, s));
                changes.Add(new TensorChange(t.Name, shape, fold.WeightShape, fold.WeightShape));
                if (fold.ExistingBias is null)
                {
                    long[] biasShape = [fold.Bias.Length];
                    writer.Add(fold.BiasName, t.DType, biasShape, s => WriteAs(fold.Bias, t.DType, s));
                    changes.Add(new TensorChange(fold.BiasName, null, biasShape, biasShape));
                    kept.Add(new(KeptKey + fold.BiasName + ".0", dims[(t.Name, 0)].KeptRanges()));
                }
                AddKept(kept, t, dims);
                continue;
            }
            if (byBias.TryGetValue(t.Name, out fold))
            {
                long[] biasShape = [fold.Bias.Length];
                writer.Add(t.Name, t.DType, biasShape, s => WriteAs(fold.Bias, t.DType, s));
                changes.Add(new TensorChange(t.Name, shape, biasShape, biasShape));
                AddKept(kept, t, dims);
                continue;
            }
            dims.TryGetValue((t.Name, 0), out DimensionKeep? d0);
            dims.TryGetValue((t.Name, 1), out DimensionKeep? d1);
            if (d0 is null && d1 is null)
            {
                writer.Add(t.Name, t.DType, shape, s => CopyBytes(file, t, s));
                continue;
            }
            long[] keptShape = KeptShape(t, d0, d1);
            writer.Add(t.Name, t.DType, shrink ? keptShape : shape, s =>
            {
                var w = new float[t.ElementCount];
                file.ReadAsFloat32(t.Index, w);
                if (shrink) WriteAs(Shrink(w, t, d0, d1), t.DType, s);
                else
                {
                    foreach (DimensionKeep? d in new[] { d0, d1 })
                    {
                        if (d is null) continue;
                        var (view, unit) = d.Member.Geometry();
                        Masking.ApplyUnitMask(w, d.Selection.Keep, view, unit);
                    }
                    WriteAs(w, t.DType, s);
                }
            });
            changes.Add(new TensorChange(t.Name, shape, shrink ? keptShape : shape, keptShape));
            AddKept(kept, t, dims);
        }

        // Metadata: the input's entries, then the kept indices (composed with those of an earlier shrink).
        var existing = file.Metadata.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var mine = shrink ? kept.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal) : [];
        foreach (var (key, value) in file.Metadata)
        {
            if (!mine.ContainsKey(key)) writer.AddMetadata(key, value);
        }
        foreach (var (key, value) in mine)
        {
            writer.AddMetadata(key, existing.TryGetValue(key, out string? earlier) ? Compose(earlier, value) : value);
        }
        files.Stage(outputPath, writer.WriteTo);
        return changes;
    }

    private static void AddKept(List<KeyValuePair<string, string>> kept, SafeTensorInfo t, Dictionary<(string Tensor, int Dim), DimensionKeep> dims)
    {
        for (int dim = 0; dim < 2; dim++)
        {
            if (dims.TryGetValue((t.Name, dim), out DimensionKeep? d)) kept.Add(new($"{KeptKey}{t.Name}.{dim}", d.KeptRanges()));
        }
    }

    /// <summary>Indices into an already shrunk dimension, mapped through its earlier kept list (left as is when that does not parse).</summary>
    private static string Compose(string earlier, string now)
    {
        List<int>? original = DimensionKeep.ParseRanges(earlier), current = DimensionKeep.ParseRanges(now);
        if (original is null || current is null || current.Count == 0 || current[^1] >= original.Count) return now;
        return DimensionKeep.Ranges(current.Select(i => original[i]).ToList());
    }

    public static long[] KeptShape(SafeTensorInfo t, DimensionKeep? d0, DimensionKeep? d1)
    {
        long[] shape = t.Shape.ToArray();
        if (d0 is not null) shape[0] = d0.KeptLength;
        if (d1 is not null) shape[1] = d1.KeptLength;
        return shape;
    }

    /// <summary>The kept sub-tensor: rows (dim 0) and input channels (dim 1, with all their trailing positions) removed.</summary>
    public static float[] Shrink(float[] w, SafeTensorInfo t, DimensionKeep? d0, DimensionKeep? d1)
    {
        ReadOnlySpan<long> s = t.Shape;
        int rows = checked((int)s[0]);
        if (s.Length == 1)
        {
            if (d0 is null) return w;
            var entries = new byte[rows];
            for (int i = 0; i < rows; i++) entries[i] = d0.Keeps(i) ? (byte)1 : (byte)0;
            var kept = new float[Masking.CountKept(entries)];
            UnitRemoval.RemoveEntries(w, entries, kept);
            return kept;
        }
        int rest = checked((int)(t.ElementCount / rows));
        byte[] rowMask = [], columnMask = [];
        if (d0 is not null)
        {
            rowMask = new byte[rows];
            for (int r = 0; r < rows; r++) rowMask[r] = d0.Keeps(r) ? (byte)1 : (byte)0;
        }
        if (d1 is not null)
        {
            int k = rest / (int)s[1]; // kh·kw of a conv, 1 for a linear layer
            columnMask = new byte[rest];
            for (int j = 0; j < rest; j++) columnMask[j] = d1.Keeps(j / k) ? (byte)1 : (byte)0;
        }
        return ShrunkDense.FromDense(w, rows, rest, rowMask, columnMask).Weights.ToArray();
    }

    /// <summary>An untouched tensor, copied in 4 MiB positioned reads (the mapping is not faulted in).</summary>
    private static void CopyBytes(SafeTensorsFile file, SafeTensorInfo t, Stream destination)
    {
        var buffer = new byte[(int)Math.Min(t.ByteLength, 4 << 20)];
        for (long offset = 0; offset < t.ByteLength; offset += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, t.ByteLength - offset);
            file.ReadByteRange(t.Index, offset, buffer.AsSpan(0, n));
            destination.Write(buffer, 0, n);
        }
    }
}
