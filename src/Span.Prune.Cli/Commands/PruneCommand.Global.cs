using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>--scope global</c>: streaming global magnitude pruning with <see cref="GlobalMagnitudeThreshold"/>. The targets
/// are scanned in 1 MiB chunks (both cores, one tensor per worker), the exact threshold is resolved from the
/// histograms (a second pass for F32/F64 tensors whose cut lies inside a first-level bin), and the output is written
/// tensor by tensor, each chunk masked in place in its own dtype. Chunks come from positioned reads, not from the
/// mapping: from the page cache that is one copy, where touching a 2 GB mapping cost about a second of page faults and
/// put the whole file in the resident set. Managed memory: the histograms (128 KiB per target), 512 KiB of
/// sub-histograms per worker and one chunk buffer per worker, whatever the model size.
/// </summary>
internal static partial class PruneCommand
{
    /// <summary>Bytes per scanned or written chunk: large enough to amortise a call, small enough to stay in L2/L3.</summary>
    private const int ChunkBytes = 1 << 20;

    private static int RunGlobal(Options o, string inputPath, string outputPath, Regex? include, Regex? exclude)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(inputPath);
        var targets = new List<SafeTensorInfo>();
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (IsTarget(t, include, exclude)) targets.Add(t);
        }
        if (targets.Count == 0) throw new ArgumentException("no tensor matches: pruning targets are floating tensors of rank >= 2 (or those --include names)");
        foreach (SafeTensorInfo t in targets)
        {
            if (t.ElementCount > uint.MaxValue) throw new ArgumentException($"tensor '{t.Name}' has {t.ElementCount} elements; global pruning handles tensors of at most {uint.MaxValue}");
        }

        var engine = new GlobalMagnitudeThreshold(
            targets.Select(t => t.DType).ToArray(), targets.Select(t => t.ElementCount).ToArray(), o.Sparsity, o.MaxLayerSparsity);
        // Scan everything, then (F32/F64 only) the tensors whose threshold lies inside a first-level bin once more.
        ScanTargets(file, targets, engine, refine: false);
        while (!engine.Resolve()) ScanTargets(file, targets, engine, refine: true);

        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.AddMetadata(key, value);
        var targetIndex = new Dictionary<int, int>();
        for (int j = 0; j < targets.Count; j++) targetIndex[targets[j].Index] = j;
        foreach (SafeTensorInfo t in file.Tensors)
        {
            int index = t.Index;
            if (targetIndex.TryGetValue(index, out int j))
                writer.Add(t.Name, t.DType, t.Shape, stream => WriteMasked(file, t, j, engine, stream));
            else
                writer.Add(t.Name, t.DType, t.Shape, stream => CopyTensor(file, t, stream));
        }
        writer.WriteFile(outputPath, [inputPath]);

        if (o.Report is not null) WriteGlobalReport(o, targets, engine);
        long total = targets.Sum(t => t.ElementCount), zeros = Enumerable.Range(0, targets.Count).Sum(engine.ZeroCount);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sprune: pruned {targets.Count} tensors, {zeros:N0} of {total:N0} weights now zero ({100.0 * zeros / total:0.00}%) -> {o.Output}"));
        return Program.Success;
    }

    /// <summary>
    /// One pass over the targets (or, when refining, those that need it), a tensor per worker. Counts do not depend on
    /// the order, so the result is deterministic; the first failing tensor in file order is reported.
    /// </summary>
    private static void ScanTargets(SafeTensorsFile file, List<SafeTensorInfo> targets, GlobalMagnitudeThreshold engine, bool refine)
    {
        var errors = new Exception?[targets.Count];
        Parallel.For(0, targets.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, j =>
        {
            if (refine && !engine.NeedsRefinement(j)) return;
            try { ScanTensor(file, targets[j], j, engine); }
            catch (Exception e) { errors[j] = e; }
        });
        for (int j = 0; j < errors.Length; j++)
        {
            if (errors[j] is ArgumentException a) throw new ArgumentException($"tensor '{targets[j].Name}': {a.Message}");
            if (errors[j] is { } e) throw new InvalidOperationException($"tensor '{targets[j].Name}': {e.Message}", e);
        }
    }

    private static void ScanTensor(SafeTensorsFile file, SafeTensorInfo t, int j, GlobalMagnitudeThreshold engine)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long offset = 0; offset < t.ByteLength; offset += ChunkBytes)
            {
                Span<byte> bytes = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, t.ByteLength - offset));
                file.ReadByteRange(t.Index, offset, bytes);
                ScanChunk(engine, j, t.DType, bytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ScanChunk(GlobalMagnitudeThreshold engine, int j, SafeTensorsDType dtype, ReadOnlySpan<byte> bytes)
    {
        switch (dtype)
        {
            case SafeTensorsDType.BF16: engine.ScanBFloat16(j, MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case SafeTensorsDType.F16: engine.Scan(j, MemoryMarshal.Cast<byte, Half>(bytes)); break;
            case SafeTensorsDType.F32: engine.Scan(j, MemoryMarshal.Cast<byte, float>(bytes)); break;
            default: engine.Scan(j, MemoryMarshal.Cast<byte, double>(bytes)); break;
        }
    }

    /// <summary>Reads a target a chunk at a time, masks the chunk in place in its own dtype, and writes it.</summary>
    private static void WriteMasked(SafeTensorsFile file, SafeTensorInfo t, int j, GlobalMagnitudeThreshold engine, Stream destination)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long offset = 0; offset < t.ByteLength; offset += ChunkBytes)
                destination.Write(buffer, 0, ReadMasked(file, t, j, engine, offset, buffer));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the chunk of <paramref name="t"/> at <paramref name="offset"/> into <paramref name="buffer"/> and masks it in place.</summary>
    private static int ReadMasked(SafeTensorsFile file, SafeTensorInfo t, int j, GlobalMagnitudeThreshold engine, long offset, byte[] buffer)
    {
        Span<byte> chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, t.ByteLength - offset));
        file.ReadByteRange(t.Index, offset, chunk);
        switch (t.DType)
        {
            case SafeTensorsDType.BF16: engine.ApplyBFloat16(j, MemoryMarshal.Cast<byte, ushort>(chunk), MemoryMarshal.Cast<byte, ushort>(chunk)); break;
            case SafeTensorsDType.F16: engine.Apply(j, MemoryMarshal.Cast<byte, Half>(chunk), MemoryMarshal.Cast<byte, Half>(chunk)); break;
            case SafeTensorsDType.F32: engine.Apply(j, MemoryMarshal.Cast<byte, float>(chunk), MemoryMarshal.Cast<byte, float>(chunk)); break;
            default: engine.Apply(j, MemoryMarshal.Cast<byte, double>(chunk), MemoryMarshal.Cast<byte, double>(chunk)); break;
        }
        return chunk.Length;
    }

    /// <summary>A tensor that is not a target, copied from the mapping in windows (any size).</summary>
    private static void CopyTensor(SafeTensorsFile file, SafeTensorInfo t, Stream destination)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long offset = 0; offset < t.ByteLength; offset += ChunkBytes)
            {
                Span<byte> chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, t.ByteLength - offset));
                file.ReadByteRange(t.Index, offset, chunk);
                destination.Write(chunk);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Opens the report object: the request (both scopes), then the <c>tensors</c> array.</summary>
    private static void WriteReportHeader(Utf8JsonWriter w, Options o, Granularity g)
    {
        w.WriteStartObject();
        w.WriteString("input", o.Input);
        w.WriteString("output", o.Output);
        w.WriteString("criterion", o.Criterion);
        w.WriteString("granularity", g.ToString());
        w.WriteString("scope", o.Scope);
        w.WriteNumber("sparsity", o.Sparsity);
        if (o.Scope == "global") w.WriteNumber("max_layer_sparsity", o.MaxLayerSparsity);
        w.WriteStartArray("tensors");
    }

    /// <summary>The global report from the streaming counts: per tensor the exact pruned count, its zeros, the one global threshold.</summary>
    private static void WriteGlobalReport(Options o, List<SafeTensorInfo> targets, GlobalMagnitudeThreshold engine)
    {
        using var stream = File.Create(o.Report!);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        WriteReportHeader(w, o, Granularity.Element);
        for (int j = 0; j < targets.Count; j++)
        {
            SafeTensorInfo t = targets[j];
            long pruned = engine.PrunedCount(j), zeros = engine.ZeroCount(j);
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("dtype", SafeTensorsDTypeInfo.GetName(t.DType));
            w.WriteNumber("units", t.ElementCount);
            w.WriteNumber("pruned_units", pruned);
            w.WriteNumber("pruned_elements", pruned);
            w.WriteNumber("elements", t.ElementCount);
            w.WriteNumber("zeros", zeros);
            w.WriteNumber("achieved_sparsity", (double)zeros / t.ElementCount);
            if (float.IsFinite(engine.Threshold)) w.WriteNumber("threshold", engine.Threshold);
            else w.WriteNull("threshold");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
