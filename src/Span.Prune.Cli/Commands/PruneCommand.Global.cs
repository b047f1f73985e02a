using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>--scope global</c>: streaming global pruning with <see cref="GlobalMagnitudePruning"/>, over the targets of one
/// file or of every shard of a checkpoint (<see cref="GlobalSelection"/>). For magnitude the targets are scanned in
/// 1 MiB chunks (both cores, one tensor per worker), the exact threshold is resolved from the histograms (a second
/// pass for F32/F64 tensors whose cut lies inside a first-level bin), and the output is written tensor by tensor, each
/// chunk masked in place in its own dtype. Chunks come from positioned reads, not from the mapping: from the page cache
/// that is one copy, where touching a 2 GB mapping cost about a second of page faults and put the whole file in the
/// resident set. Managed memory: the engine's histograms (one per target up to 2,048 targets, shared beyond; the budget
/// is in <see cref="GlobalMagnitudePruning"/>'s remarks), 512 KiB of sub-histograms per worker and one chunk buffer per
/// worker, whatever the model size.
/// </summary>
/// <remarks>
/// <para>The other global criteria (<c>lamp</c>, <c>taylor</c>, <c>obd</c>) rank an element score <c>s ≥ 0</c>
/// instead of <c>|w|</c>: the engine ranks magnitudes, and for non-negative values the magnitude is the value, so
/// streaming the scores through it selects exactly the global lowest-k of the scores with its documented tie order
/// (score, tensor, index) and cap rule. A tensor's scores are computed whole (LAMP normalises per tensor, so it needs
/// the whole tensor and nothing else), one tensor per worker, recomputed in each pass rather than kept: memory is a
/// few tensors, not the model. The scores are negated before the engine sees them (same magnitude, same rank): a kept
/// element then keeps its sign bit through <c>Apply</c> and a pruned one becomes +0, so the applied scores are the
/// mask, and the weight's own bytes are zeroed by it chunk by chunk in their dtype.</para>
/// </remarks>
internal static partial class PruneCommand
{
    /// <summary>Bytes per scanned or written chunk: large enough to amortise a call, small enough to stay in L2/L3.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Criteria with a global ranking: magnitude (= l1 = l2 per element), LAMP, and the element-wise data-driven ones.
    /// Wanda globally ranks its element scores <c>|w|·‖X_j‖₂</c> across tensors: a variant of the paper's rule, which
    /// compares within each output row (Sun et al. 2023 study the comparison group and find per-output best on LLMs;
    /// <c>--scope layer</c> is that rule, see <see cref="Scoring.Wanda"/>).
    /// </summary>
    private static readonly string[] GlobalCriteria = ["magnitude", "l1", "l2", "lamp", "taylor", "obd", "wanda"];

    private static List<ReportEntry> RunGlobal(SafeTensorsFile file, List<SafeTensorInfo> targets, Options o, string? statsPath, OutputFiles files, string outputPath)
    {
        using var selection = new GlobalSelection(targets.Select(t => (file, t)).ToList(), o, statsPath);
        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in file.Metadata) writer.AddMetadata(key, value);
        var targetIndex = new Dictionary<int, int>();
        for (int j = 0; j < targets.Count; j++) targetIndex[targets[j].Index] = j;
        foreach (SafeTensorInfo t in file.Tensors)
        {
            if (targetIndex.TryGetValue(t.Index, out int j))
                writer.Add(t.Name, t.DType, t.Shape, stream => selection.Write(j, stream));
            else
                AddCopy(writer, file, t);
        }
        files.Stage(outputPath, writer.WriteTo, TensorBytes(file));
        return selection.Entries();
    }

    /// <summary>
    /// One global selection over targets of one or several files: constructed, it has scanned every target and resolved
    /// the exact threshold; <see cref="Write"/> then writes each target masked, in target order.
    /// </summary>
    private sealed class GlobalSelection : IDisposable
    {
        private readonly List<(SafeTensorsFile File, SafeTensorInfo Info)> _targets;
        private readonly GlobalMagnitudePruning _engine;
        private readonly string _criterion;
        private readonly SafeTensorsFile? _stats;
        private readonly TargetStats?[] _targetStats;
        private readonly long[] _zeros;

        public GlobalSelection(List<(SafeTensorsFile File, SafeTensorInfo Info)> targets, Options o, string? statsPath)
        {
            _targets = targets;
            _criterion = o.Criterion is "l1" or "l2" ? "magnitude" : o.Criterion;
            _zeros = new long[targets.Count];
            _targetStats = new TargetStats?[targets.Count];
            _stats = statsPath is null ? null : SafeTensorsFile.Open(statsPath);
            try
            {
                if (_stats is not null)
                {
                    // Validated up front, as at layer scope; an OBD statistic must be ≥ 0 here so that every score is.
                    using var buffer = new CommunityToolkit.HighPerformance.Buffers.ArrayPoolBufferWriter<float>();
                    for (int j = 0; j < targets.Count; j++)
                        _targetStats[j] = ResolveStats(_stats, targets[j].Info, ShapeOf(targets[j].Info), _criterion, o.Sparsity, buffer, nonNegative: true);
                }
                // Scores are float32 whatever the weights' dtype; magnitude ranks the weights in their own.
                ElementType[] types = targets.Select(t => _criterion == "magnitude" ? t.Info.ElementType!.Value : ElementType.Float32).ToArray();
                _engine = new GlobalMagnitudePruning(types, targets.Select(t => t.Info.ElementCount).ToArray(), o.Sparsity, o.MaxLayerSparsity);
                ScanAll(refine: false);
                while (!_engine.Resolve()) ScanAll(refine: true);
            }
            catch
            {
                _stats?.Dispose();
                throw;
            }
        }

        public void Dispose() => _stats?.Dispose();

        /// <summary>Writes target <paramref name="j"/> masked in its own dtype (targets in order: ties go in that order).</summary>
        public void Write(int j, Stream destination)
        {
            var (file, t) = _targets[j];
            if (_criterion == "magnitude")
            {
                WriteMasked(file, t, j, _engine, destination);
                _zeros[j] = _engine.ZeroCount(j);
                return;
            }
            float[] scores = ArrayPool<float>.Shared.Rent((int)t.ElementCount);
            try
            {
                Span<float> s = scores.AsSpan(0, (int)t.ElementCount);
                NegatedScores(j, s);
                _engine.Apply(j, s, s);
                int size = SafeTensorsDTypeInfo.SizeOf(t.DType);
                long element = 0;
                ForEachChunk(file, t, chunk =>
                {
                    int count = chunk.Length / size;
                    _zeros[j] += ZeroPruned(chunk, size, scores.AsSpan((int)element, count));
                    element += count;
                    destination.Write(chunk);
                });
            }
            finally
            {
                ArrayPool<float>.Shared.Return(scores);
            }
        }

        /// <summary>Per target its exact pruned count, its zeros after pruning, and the one global threshold (a score).</summary>
        public List<ReportEntry> Entries()
        {
            var entries = new List<ReportEntry>(_targets.Count);
            for (int j = 0; j < _targets.Count; j++)
            {
                long n = _targets[j].Info.ElementCount, pruned = _engine.PrunedCount(j);
                entries.Add(new ReportEntry(_targets[j].Info) { Result = new PruneReport((int)n, (int)pruned, n, pruned, _engine.Threshold), Zeros = _zeros[j] });
            }
            return entries;
        }

        /// <summary>
        /// One pass over the targets (or, when refining, those that need it), a tensor per worker. Counts do not depend
        /// on the order, so the result is deterministic; the first failing tensor in target order is reported.
        /// </summary>
        private void ScanAll(bool refine) =>
            ForEachTarget(_targets, j => !refine || _engine.NeedsRefinement(j), j =>
            {
                if (_criterion == "magnitude")
                {
                    ScanTensor(_targets[j].File, _targets[j].Info, j, _engine);
                    return;
                }
                float[] scores = ArrayPool<float>.Shared.Rent((int)_targets[j].Info.ElementCount);
                try
                {
                    Span<float> s = scores.AsSpan(0, (int)_targets[j].Info.ElementCount);
                    NegatedScores(j, s);
                    _engine.Scan(j, s);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(scores);
                }
            });

        /// <summary>−score of every element of target <paramref name="j"/> (see the class remarks for the sign).</summary>
        private void NegatedScores(int j, Span<float> scores)
        {
            var (file, t) = _targets[j];
            file.ReadAsFloat32(t.Index, scores);
            int bad = IndexOfNonFinite(scores);
            if (bad >= 0) throw new ArgumentException($"holds {Describe(scores[bad])} at index {bad}");
            if (_criterion == "lamp")
            {
                Scoring.Lamp(scores, scores);
            }
            else
            {
                TargetStats ts = _targetStats[j]!;
                float[] stat = ArrayPool<float>.Shared.Rent((int)ts.Primary.ElementCount);
                try
                {
                    Span<float> a = stat.AsSpan(0, (int)ts.Primary.ElementCount);
                    _stats!.ReadAsFloat32(ts.Primary.Index, a);
                    if (ts.IsScore) a.CopyTo(scores);
                    else if (_criterion == "taylor") Scoring.Taylor(scores, a, scores);
                    else if (_criterion == "wanda") Scoring.Wanda(scores, ShapeOf(t), a, scores);
                    else Scoring.Obd(scores, a, scores);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(stat);
                }
            }
            TensorPrimitives.Negate(scores, scores);
        }
    }

    /// <summary>
    /// Zeroes (all bytes: +0 in every float dtype) the elements of <paramref name="chunk"/> whose applied negated score
    /// is +0, i.e. pruned; returns the chunk's zeros afterwards (±0, pruned or already zero).
    /// </summary>
    private static long ZeroPruned(Span<byte> chunk, int size, ReadOnlySpan<float> applied) => size switch
    {
        2 => ZeroPruned(MemoryMarshal.Cast<byte, ushort>(chunk), applied, (ushort)0x7FFF),
        4 => ZeroPruned(MemoryMarshal.Cast<byte, uint>(chunk), applied, 0x7FFF_FFFFu),
        _ => ZeroPruned(MemoryMarshal.Cast<byte, ulong>(chunk), applied, 0x7FFF_FFFF_FFFF_FFFFUL),
    };

    private static long ZeroPruned<T>(Span<T> values, ReadOnlySpan<float> applied, T magnitudeBits) where T : unmanaged, IBinaryInteger<T>
    {
        long zeros = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (BitConverter.SingleToUInt32Bits(applied[i]) == 0) values[i] = T.Zero;
            if ((values[i] & magnitudeBits) == T.Zero) zeros++;
        }
        return zeros;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on each target that <paramref name="include"/> selects, a target per worker; an
    /// error is reported for the first failing target in order, named (the engine names a tensor by its index).
    /// </summary>
    private static void ForEachTarget(List<(SafeTensorsFile File, SafeTensorInfo Info)> targets, Func<int, bool> include, Action<int> action)
    {
        var errors = new Exception?[targets.Count];
        Parallel.For(0, targets.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, j =>
        {
            if (!include(j)) return;
            try { action(j); }
            catch (Exception e) { errors[j] = e; }
        });
        for (int j = 0; j < errors.Length; j++)
        {
            if (errors[j] is TensorArgumentException t) throw new ArgumentException($"tensor '{targets[t.TensorIndex].Info.Name}': {t.Message}", t);
            if (errors[j] is ArgumentException a) throw new ArgumentException($"tensor '{targets[j].Info.Name}': {a.Message}", a);
            if (errors[j] is { } e) throw new InvalidOperationException($"tensor '{targets[j].Info.Name}': {e.Message}", e);
        }
    }

    /// <summary>Magnitude: one pass of the weights themselves (all, or those that need refining).</summary>
    private static void ScanTargets(List<(SafeTensorsFile File, SafeTensorInfo Info)> targets, GlobalMagnitudePruning engine, bool refine) =>
        ForEachTarget(targets, j => !refine || engine.NeedsRefinement(j), j => ScanTensor(targets[j].File, targets[j].Info, j, engine));

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
