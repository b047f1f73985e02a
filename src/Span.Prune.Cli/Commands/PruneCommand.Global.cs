using System.Buffers;
using System.Runtime.InteropServices;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>--scope global</c>: streaming global magnitude pruning with <see cref="GlobalMagnitudePruning"/>. The targets
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

    private static List<ReportEntry> RunGlobal(SafeTensorsFile file, List<SafeTensorInfo> targets, Options o, OutputFiles files, string outputPath)
    {
        var engine = new GlobalMagnitudePruning(
            targets.Select(t => t.ElementType!.Value).ToArray(), targets.Select(t => t.ElementCount).ToArray(), o.Sparsity, o.MaxLayerSparsity);
        // Scan everything, then (F32/F64 only) the tensors whose threshold lies inside a first-level bin once more.
        ScanTargets(file, targets, engine, refine: false);
        while (!engine.Resolve()) ScanTargets(file, targets, engine, refine: true);

        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.AddMetadata(key, value);
        var targetIndex = new Dictionary<int, int>();
        for (int j = 0; j < targets.Count; j++) targetIndex[targets[j].Index] = j;
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (targetIndex.TryGetValue(t.Index, out int j))
                writer.Add(t.Name, t.DType, t.Shape, stream => WriteMasked(file, t, j, engine, stream));
            else
                AddCopy(writer, file, t);
        }
        files.Stage(outputPath, writer.WriteTo, TensorBytes(file));

        // Per tensor the exact pruned count, its zeros after pruning, and the one global threshold.
        var entries = new List<ReportEntry>(targets.Count);
        for (int j = 0; j < targets.Count; j++)
        {
            long n = targets[j].ElementCount, pruned = engine.PrunedCount(j);
            entries.Add(new ReportEntry(targets[j])
            {
                Result = new PruneReport((int)n, (int)pruned, n, pruned, engine.Threshold),
                Zeros = engine.ZeroCount(j),
            });
        }
        return entries;
    }

    /// <summary>
    /// One pass over the targets (or, when refining, those that need it), a tensor per worker. Counts do not depend on
    /// the order, so the result is deterministic; the first failing tensor in file order is reported.
    /// </summary>
    private static void ScanTargets(SafeTensorsFile file, List<SafeTensorInfo> targets, GlobalMagnitudePruning engine, bool refine)
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
            // The engine names a failing tensor by its index; the message names it by its name.
            if (errors[j] is TensorArgumentException t) throw new ArgumentException($"tensor '{targets[t.TensorIndex].Name}': {t.Message}", t);
            if (errors[j] is { } e) throw new InvalidOperationException($"tensor '{targets[j].Name}': {e.Message}", e);
        }
    }

    private static void ScanTensor(SafeTensorsFile file, SafeTensorInfo t, int j, GlobalMagnitudePruning engine) =>
        ForEachChunk(file, t, chunk => ScanChunk(engine, j, t.ElementType!.Value, chunk));

    private static void ScanChunk(GlobalMagnitudePruning engine, int j, ElementType type, ReadOnlySpan<byte> bytes)
    {
        switch (type)
        {
            case ElementType.BFloat16: engine.ScanBFloat16(j, MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case ElementType.Float16: engine.Scan(j, MemoryMarshal.Cast<byte, Half>(bytes)); break;
            case ElementType.Float32: engine.Scan(j, MemoryMarshal.Cast<byte, float>(bytes)); break;
            default: engine.Scan(j, MemoryMarshal.Cast<byte, double>(bytes)); break;
        }
    }

    /// <summary>Reads a target a chunk at a time, masks the chunk in place in its own dtype, and writes it.</summary>
    private static void WriteMasked(SafeTensorsFile file, SafeTensorInfo t, int j, GlobalMagnitudePruning engine, Stream destination) =>
        ForEachChunk(file, t, chunk =>
        {
            switch (t.ElementType)
            {
                case ElementType.BFloat16: engine.ApplyBFloat16(j, MemoryMarshal.Cast<byte, ushort>(chunk), MemoryMarshal.Cast<byte, ushort>(chunk)); break;
                case ElementType.Float16: engine.Apply(j, MemoryMarshal.Cast<byte, Half>(chunk), MemoryMarshal.Cast<byte, Half>(chunk)); break;
                case ElementType.Float32: engine.Apply(j, MemoryMarshal.Cast<byte, float>(chunk), MemoryMarshal.Cast<byte, float>(chunk)); break;
                default: engine.Apply(j, MemoryMarshal.Cast<byte, double>(chunk), MemoryMarshal.Cast<byte, double>(chunk)); break;
            }
            destination.Write(chunk);
        });

    /// <summary>A tensor copied unchanged, a chunk at a time.</summary>
    private static void CopyTensor(SafeTensorsFile file, SafeTensorInfo t, Stream destination) =>
        ForEachChunk(file, t, chunk => destination.Write(chunk));

    private delegate void ChunkAction(Span<byte> chunk);

    /// <summary>
    /// Reads <paramref name="t"/> in <see cref="ChunkBytes"/> chunks into one pooled buffer with positioned reads and hands
    /// each to <paramref name="action"/>: one copy from the page cache, where reading the mapping would fault every page
    /// in and keep the whole file resident.
    /// </summary>
    private static void ForEachChunk(SafeTensorsFile file, SafeTensorInfo t, ChunkAction action)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long offset = 0; offset < t.ByteLength; offset += ChunkBytes)
            {
                Span<byte> chunk = buffer.AsSpan(0, (int)Math.Min(ChunkBytes, t.ByteLength - offset));
                file.ReadByteRange(t.Index, offset, chunk);
                action(chunk);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
