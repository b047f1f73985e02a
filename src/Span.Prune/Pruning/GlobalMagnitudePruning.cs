using System.Buffers;
using System.Numerics;
using CommunityToolkit.HighPerformance.Buffers;
using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune;

/// <summary>
/// Global magnitude pruning of many tensors (a whole model) streamed chunk by chunk, for data larger than memory: a
/// session that counts every tensor's weights, resolves the exact global threshold, then masks each tensor. The masks
/// are those of <see cref="Pruning.Global"/> with <see cref="GlobalScore.Magnitude"/>, which runs the same engine.
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> Construct with every tensor's <see cref="ElementType"/> and length, the sparsity and the
/// optional per-tensor cap; feed each tensor's elements to <c>Scan</c> (<see cref="Scan(int, ReadOnlySpan{float})"/>,
/// <see cref="ScanBFloat16"/>, ...) in chunks of any size; call <see cref="Resolve"/>. While it returns
/// <see langword="false"/>, scan the tensors with <see cref="NeedsRefinement"/> once more (others may be scanned too;
/// they are skipped) and call it again. Then write each tensor through <c>Apply</c>, chunks in element order. Float32,
/// Float16 and Float64 use <see cref="float"/>, <see cref="Half"/> and <see cref="double"/> spans, BFloat16 its raw
/// bits as <see cref="ushort"/>.</para>
/// <para><b>Rule</b> (that of <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>
/// on <c>|w|</c> as float32): exactly <c>k = round-half-even(s·N)</c> of the <c>N</c> weights are pruned. Uncapped,
/// they are the <c>k</c> smallest <c>(|w|, tensor, index)</c>: everything below the threshold <c>t</c> and the first
/// weights equal to it in tensor order, then index order. With a cap, tensor <c>j</c> of <c>n_j</c> weights loses at
/// most <c>c_j = ⌊cap·n_j⌋</c> (floor of the decimal product); the result is the greedy walk over ascending
/// <c>(|w|, tensor, index)</c> that skips weights of tensors already at their cap.</para>
/// <para><b>Method.</b> <c>|w|</c> orders like the integer <c>bits &amp; ~sign</c>. Scanning builds a histogram of
/// the top 15 key bits per tensor: for BFloat16, and for a model that is all Float16, that is the whole key, so one
/// pass decides exactly (ties included). Float32 keys have 31 bits: the histograms locate the bin of the threshold, and
/// a second pass counts the low 16 bits of the elements in that bin (per tensor: its own bin when its cap binds
/// earlier). Float16 among wider types is ranked by its exact float32 widening, Float64 by <c>|(float)w|</c> (as
/// float32 scoring would), so both take the two-pass path.</para>
/// <para><b>Memory</b> (allocated by the constructor and <see cref="Resolve"/>, none per chunk in steady state), bounded
/// whatever the tensor count: about 96 bytes per tensor; 128 KiB of first-level counts per histogram and 256 KiB more
/// per refined one; 512 KiB of sub-histograms per thread scanning a chunk of 16,384 elements or more at the same time
/// (kept by the session for its next chunks, released with it). Each tensor has its own histogram up to 2,048 tensors.
/// Beyond that, runs of consecutive tensors share a histogram, whatever their element types (outside the all-Float16
/// case every type is ranked in the float32 key space, so keys compare across types exactly as in-memory float32
/// scoring compares them), each run holding at least <c>max(⌈N / 2048⌉, 65,536)</c> weights: at most
/// <c>min(2048, ⌈N / 65,536⌉) + 1</c> histograms. Uncapped, the rule orders by <c>(|w|, tensor, index)</c>, which within
/// a run is the order of the run's concatenation, so a shared histogram selects exactly the same weights. With a cap,
/// tensors of at most 65,536 elements share too: each one's keys are kept (4 bytes per element, from its first chunk to
/// its last, then handed back) and sorted, and it enters the histogram already capped (its keys below its
/// <c>c_j</c>-th smallest <c>t_j</c>, and as many equal to <c>t_j</c> as its cap allows), so that the uncapped walk over
/// the shared histogram is the capped walk; it then prunes its own <c>c_j</c> smallest when <c>t_j</c> lies below the
/// threshold, and otherwise as its neighbours do, taking ties at <c>t_j</c> only up to its cap. Larger capped tensors keep
/// a histogram each (at most 2 bytes per weight of such a tensor), and each may end a run early. Tensors that share a
/// histogram must be applied in tensor order, each completely before the next, because the ties at the threshold are
/// handed out in that order.</para>
/// <para><b>Threads.</b> <c>Scan</c> and <c>Apply</c> only touch the state of the tensor they are given (and its shared
/// histogram, under a lock), so different tensors may be scanned concurrently, and applied concurrently when they do
/// not share a histogram; calls for one tensor must not overlap. The result does not depend on the chunking or the
/// order tensors are scanned in.</para>
/// <para><b>NaN policy.</b> A NaN or ±∞ weight makes <c>Scan</c> throw a <see cref="TensorArgumentException"/> whose
/// <see cref="TensorArgumentException.TensorIndex"/> is the tensor (after counting the chunk, before anything can be
/// written); the session is then unusable.</para>
/// <para>Output: a pruned weight becomes +0 in its own type; a kept weight keeps its bits.</para>
/// </remarks>
public sealed class GlobalMagnitudePruning
{
    private enum Phase { Counting, Refining, Applying }

    /// <summary>Tensors with a histogram each (128 KiB apiece, 256 MB in all); beyond it tensors share histograms.</summary>
    internal const int MaxHistograms = 2048;

    /// <summary>
    /// Capped tensors of at most this many elements share histograms beyond <see cref="MaxHistograms"/> tensors, their
    /// cap applied from their own sorted keys (4 bytes per element while the tensor is being scanned); larger ones
    /// keep a histogram each (128 KiB, at most 2 bytes per element).
    /// </summary>
    internal const int SmallTensorLimit = 1 << 16;

    private readonly TensorState[] _tensors;
    private readonly long[] _tiesLeft;               // per histogram: ties at the cut still to hand out while applying
    private readonly bool _halfKeys;                 // every tensor is Float16: keys are the 15-bit F16 magnitudes
    private readonly ArrayPool<uint> _zeroedScratch; // sub-histograms, all zero whenever they are in the pool
    private readonly int[] _applyNext;               // per histogram: its first tensor not applied completely yet
    private readonly double _maxLayerSparsity;
    private MagnitudeHistograms _histograms;
    private GlobalThresholdSolver _solver;
    private float _threshold = float.NegativeInfinity;
    private Phase _phase;

    private struct TensorState
    {
        public ElementType Type;
        public long Length;
        public long Seen;      // elements given in the current pass
        public long Zeros;     // zero outputs written by Apply
        public long TiesTaken; // ties at the cut spent in this tensor's Apply calls
        // A capped tensor in a shared histogram ("pooled"): its c_j-th smallest key and how many keys equal to it its
        // cap allows (0 when c_j = 0), known once its first pass is complete; its keys until then.
        public bool Pooled;
        public uint CapKey;
        public long CapTies;
        public uint[]? Keys;
    }

    /// <summary>Declares the tensors and the target.</summary>
    /// <param name="types">Per tensor: its element type.</param>
    /// <param name="lengths">Per tensor: its element count, in <c>[0, 2³² − 1]</c>; not all zero.</param>
    /// <param name="sparsity">Fraction of all weights to prune, finite in <c>[0, 1]</c>.</param>
    /// <param name="maxLayerSparsity">Per-tensor cap <c>⌊cap·n_j⌋</c>, finite in <c>[0, 1]</c>; 1 = none.</param>
    /// <exception cref="ArgumentException">The spans differ in length or are empty, all lengths are zero, or the caps
    /// cannot reach the target (<paramref name="maxLayerSparsity"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A type is not defined, a length is negative or too large, or a
    /// sparsity is outside [0, 1].</exception>
    public GlobalMagnitudePruning(ReadOnlySpan<ElementType> types, ReadOnlySpan<long> lengths, double sparsity, double maxLayerSparsity = 1.0)
        : this(types, lengths, sparsity, maxLayerSparsity, MaxHistograms)
    {
    }

    /// <summary>As the public constructor, with the histogram budget as a parameter (tests use small ones).</summary>
    internal GlobalMagnitudePruning(ReadOnlySpan<ElementType> types, ReadOnlySpan<long> lengths, double sparsity, double maxLayerSparsity, int maxHistograms)
    {
        if (lengths.Length != types.Length) ThrowHelper.ThrowLengthMismatch(nameof(lengths), lengths.Length, types.Length);
        if (types.IsEmpty) ThrowHelper.ThrowEmpty(nameof(types));
        long total = 0;
        bool allHalf = true;
        for (int j = 0; j < types.Length; j++)
        {
            if ((uint)types[j] > (uint)ElementType.Float64)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(types), $"Tensor {j} has the undefined element type {(int)types[j]}.");
            if ((ulong)lengths[j] > uint.MaxValue)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(lengths), $"Tensor {j} has length {lengths[j]}; lengths must be in [0, {uint.MaxValue}].");
            total += lengths[j];
            allHalf &= types[j] == ElementType.Float16;
        }
        if (total == 0) ThrowHelper.ThrowEmpty(nameof(lengths));
        if (!(sparsity >= 0.0 && sparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(sparsity), sparsity);
        if (!(maxLayerSparsity >= 0.0 && maxLayerSparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(maxLayerSparsity), maxLayerSparsity);
        PruneCount = PruneRules.PruneCount(total, sparsity);
        TotalCount = total;
        long capacity = 0;
        foreach (long length in lengths) capacity += PruneRules.LayerCap(maxLayerSparsity, length);
        if (capacity < PruneCount) ThrowHelper.ThrowGlobalCapsInfeasible(nameof(maxLayerSparsity), capacity, PruneCount);

        _tensors = new TensorState[types.Length];
        for (int j = 0; j < types.Length; j++) _tensors[j] = new TensorState { Type = types[j], Length = lengths[j] };
        _halfKeys = allHalf;
        _maxLayerSparsity = maxLayerSparsity;
        var arrays = new StateArrays(pooled: false);
        bool capped = maxLayerSparsity < 1.0;
        bool[] shareable = new bool[types.Length];
        for (int j = 0; j < types.Length; j++) shareable[j] = !capped || lengths[j] <= SmallTensorLimit;
        _histograms = new MagnitudeHistograms(types, lengths, total, maxHistograms, arrays, MagnitudeHistograms.SlotSharing.Bounded, shareable);
        _solver = new GlobalThresholdSolver(_histograms.SlotCount, PruneCount, arrays);
        for (int j = 0; j < types.Length; j++)
        {
            int slot = _histograms.SlotOf(j);
            _tensors[j].Pooled = capped && _histograms.IsShared(slot);
            // A pooled tensor enters its histogram already capped (at most c_j keys), so the histogram itself needs no cap.
            _solver.AddCap(slot, _tensors[j].Pooled ? lengths[j] : PruneRules.LayerCap(maxLayerSparsity, lengths[j]));
        }
        _tiesLeft = new long[_histograms.SlotCount];
        _applyNext = new int[_histograms.SlotCount];
        _zeroedScratch = ArrayPool<uint>.Create(MagnitudeHistograms.SubHistogramLength, Environment.ProcessorCount);
    }

    /// <summary>Number of tensors.</summary>
    public int TensorCount => _tensors.Length;

    /// <summary>Histograms (slots) of this session; at most <see cref="MaxHistogramCount"/>.</summary>
    internal int HistogramCount => _histograms.SlotCount;

    /// <summary>Managed bytes a session keeps per tensor (its state, slot index and shareable flag), rounded up.</summary>
    internal const int BytesPerTensor = 96;

    /// <summary>Bytes of one histogram: 128 KiB of first-level counts, and 256 KiB of second-level counts when refined.</summary>
    internal const int BytesPerHistogram = 384 << 10;

    /// <summary>
    /// The most histograms a session of <paramref name="tensorCount"/> tensors over <paramref name="totalWeights"/>
    /// weights, <paramref name="largeCapped"/> of the tensors capped and over <see cref="SmallTensorLimit"/> elements,
    /// can have: one per tensor up to <see cref="MaxHistograms"/> tensors; beyond, shared runs close once they hold
    /// <c>max(⌈N / 2048⌉, 65,536)</c> weights, so at most <c>min(2048, ⌈N / 65,536⌉)</c> of them plus the last, and
    /// each large capped tensor has its own and may end one run early (valid for <c>N &lt; 2048·2³²</c>).
    /// </summary>
    internal static long MaxHistogramCount(int tensorCount, long totalWeights, int largeCapped) =>
        tensorCount <= MaxHistograms ? tensorCount
            : Math.Min(tensorCount, Math.Min(MaxHistograms, (totalWeights + MagnitudeHistograms.MinSharedElements - 1) / MagnitudeHistograms.MinSharedElements) + 1 + 2L * largeCapped);

    /// <summary>
    /// The documented memory budget of a session (see the remarks): per tensor, per histogram, and the scratch of
    /// <paramref name="scanningThreads"/> threads scanning at once (sub-histograms, and the keys of one small capped
    /// tensor being scanned in parts).
    /// </summary>
    internal static long MemoryBudget(int tensorCount, long totalWeights, int largeCapped, int scanningThreads) =>
        (long)BytesPerTensor * tensorCount + BytesPerHistogram * MaxHistogramCount(tensorCount, totalWeights, largeCapped)
        + scanningThreads * ((long)MagnitudeHistograms.SubHistogramLength * sizeof(uint) + SmallTensorLimit * sizeof(uint));

    /// <summary>All weights, <c>N = Σ n_j</c>.</summary>
    public long TotalCount { get; }

    /// <summary>Weights to prune, <c>k = round-half-even(sparsity·N)</c>.</summary>
    public long PruneCount { get; }

    /// <summary>
    /// The largest pruned magnitude (the global threshold), or <see cref="float.NegativeInfinity"/> when nothing is
    /// pruned. Valid after <see cref="Resolve"/> returned <see langword="true"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not resolved yet.</exception>
    public float Threshold
    {
        get
        {
            RequireResolved();
            return _threshold;
        }
    }

    /// <summary>Weights of tensor <paramref name="tensor"/> that are pruned (valid once resolved; for a tensor that shares
    /// a histogram, once it has been applied completely).</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <returns>The count; the counts of all tensors sum to <see cref="PruneCount"/>.</returns>
    /// <exception cref="InvalidOperationException">Not resolved, or a tensor sharing a histogram not yet applied.</exception>
    public long PrunedCount(int tensor)
    {
        CheckIndex(tensor);
        RequireResolved();
        int slot = _histograms.SlotOf(tensor);
        if (!_histograms.IsShared(slot)) return _solver.Pruned(slot);
        ref TensorState t = ref _tensors[tensor];
        if (t.Seen != t.Length) ThrowHelper.ThrowGlobalPhase("PrunedCount of a tensor that shares a histogram", "before it has been applied");
        // Cut above 0: kept weights have |w| ≥ cut > 0, so the zeros written are exactly the pruned weights. Cut 0: only
        // zeros can be pruned, as ties, so the ties spent here are the pruned weights.
        return CutOf(tensor, out _, out _) > 0 ? t.Zeros : t.TiesTaken;
    }

    /// <summary>Elements of magnitude 0 (pruned, or zero and kept) among those <c>Apply</c> wrote for <paramref name="tensor"/> so far.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <returns>The zero count of the output so far.</returns>
    public long ZeroCount(int tensor)
    {
        CheckIndex(tensor);
        return _tensors[tensor].Zeros;
    }

    /// <summary>Whether <paramref name="tensor"/> must be scanned again before the next <see cref="Resolve"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <returns><see langword="true"/> between a <see cref="Resolve"/> that returned <see langword="false"/> and the
    /// next one, for the tensors whose threshold lies inside a first-level bin.</returns>
    public bool NeedsRefinement(int tensor)
    {
        CheckIndex(tensor);
        return _phase == Phase.Refining && _histograms.IsRefined(_histograms.SlotOf(tensor));
    }

    /// <summary>Counts a chunk of Float32 tensor <paramref name="tensor"/> (the next elements of this pass).</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements; a pass gives each tensor all its elements exactly once, in any chunking.</param>
    /// <exception cref="TensorArgumentException">The tensor is not Float32, the chunk runs past the tensor's length, or
    /// it holds a NaN or ±∞ (<paramref name="chunk"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensor"/> is not a tensor index.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<float> chunk)
    {
        if (BeginScan(tensor, ElementType.Float32, chunk.Length)) Count<Float32Key, float>(tensor, chunk);
    }

    /// <summary>Counts a chunk of BFloat16 tensor <paramref name="tensor"/>, given as its raw bits.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements (bfloat16 bit patterns).</param>
    /// <exception cref="TensorArgumentException">The tensor is not BFloat16, the chunk runs past its length, or it holds NaN/±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensor"/> is not a tensor index.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void ScanBFloat16(int tensor, ReadOnlySpan<ushort> chunk)
    {
        if (BeginScan(tensor, ElementType.BFloat16, chunk.Length)) Count<BFloat16Key, ushort>(tensor, chunk);
    }

    /// <summary>Counts a chunk of Float16 tensor <paramref name="tensor"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements.</param>
    /// <exception cref="TensorArgumentException">The tensor is not Float16, the chunk runs past its length, or it holds NaN/±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensor"/> is not a tensor index.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<Half> chunk)
    {
        if (!BeginScan(tensor, ElementType.Float16, chunk.Length)) return;
        if (_halfKeys) Count<Float16Key, Half>(tensor, chunk);
        else Count<WidenedFloat16Key, Half>(tensor, chunk);
    }

    /// <summary>Counts a chunk of Float64 tensor <paramref name="tensor"/> (ranked by <c>|(float)w|</c>).</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements.</param>
    /// <exception cref="TensorArgumentException">The tensor is not Float64, the chunk runs past its length, or a weight
    /// is NaN or beyond the float32 range.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tensor"/> is not a tensor index.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<double> chunk)
    {
        if (BeginScan(tensor, ElementType.Float64, chunk.Length)) Count<Float64Key, double>(tensor, chunk);
    }

    /// <summary>Resolves the per-tensor cut points from the counts of the pass just completed.</summary>
    /// <returns><see langword="true"/> when the selection is complete (<c>Apply</c> may start); <see langword="false"/>
    /// when the tensors with <see cref="NeedsRefinement"/> must be scanned once more first.</returns>
    /// <exception cref="InvalidOperationException">A tensor was not given all its elements in this pass.</exception>
    public bool Resolve()
    {
        if (_phase == Phase.Applying) return true;
        for (int j = 0; j < _tensors.Length; j++)
        {
            ref TensorState t = ref _tensors[j];
            bool expected = _phase == Phase.Counting || _histograms.IsRefined(_histograms.SlotOf(j));
            if (expected && t.Seen != t.Length) ThrowHelper.ThrowGlobalIncomplete(j, t.Seen, t.Length);
        }
        // k = 0 leaves every cut at 0 with no ties: nothing is pruned.
        if (PruneCount > 0)
        {
            if (_phase == Phase.Counting && _solver.Locate(ref _histograms))
            {
                StartPass(Phase.Refining);
                return false;
            }
            _solver.Finish(_histograms);
            uint key = _solver.ThresholdKey;
            _threshold = _halfKeys ? (float)BitConverter.UInt16BitsToHalf((ushort)(key >> 16)) : BitConverter.UInt32BitsToSingle(key);
        }
        for (int s = 0; s < _tiesLeft.Length; s++)
        {
            _tiesLeft[s] = _solver.Ties(s);
            _applyNext[s] = _histograms.FirstTensor(s);
        }
        StartPass(Phase.Applying); // Seen now counts the elements applied
        return true;
    }

    /// <summary>Masks the next chunk of Float32 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them with the pruned ones set to +0; at least as long; may be exactly
    /// <paramref name="source"/> (in place).</param>
    /// <exception cref="ArgumentException">The destination is too short or partly overlaps.</exception>
    /// <exception cref="TensorArgumentException">Wrong element type, or the chunk runs past the tensor (<paramref name="source"/>).</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet, or a tensor before it in a shared histogram is not complete.</exception>
    public void Apply(int tensor, ReadOnlySpan<float> source, Span<float> destination) =>
        Apply<Float32Key, float>(tensor, ElementType.Float32, source, destination);

    /// <summary>Masks the next chunk of BFloat16 tensor <paramref name="tensor"/> (raw bits) into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">The destination is too short or partly overlaps.</exception>
    /// <exception cref="TensorArgumentException">Wrong element type, or the chunk runs past the tensor (<paramref name="source"/>).</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet, or a tensor before it in a shared histogram is not complete.</exception>
    public void ApplyBFloat16(int tensor, ReadOnlySpan<ushort> source, Span<ushort> destination) =>
        Apply<BFloat16Key, ushort>(tensor, ElementType.BFloat16, source, destination);

    /// <summary>Masks the next chunk of Float16 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">The destination is too short or partly overlaps.</exception>
    /// <exception cref="TensorArgumentException">Wrong element type, or the chunk runs past the tensor (<paramref name="source"/>).</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet, or a tensor before it in a shared histogram is not complete.</exception>
    public void Apply(int tensor, ReadOnlySpan<Half> source, Span<Half> destination)
    {
        if (_halfKeys) Apply<Float16Key, Half>(tensor, ElementType.Float16, source, destination);
        else Apply<WidenedFloat16Key, Half>(tensor, ElementType.Float16, source, destination);
    }

    /// <summary>Masks the next chunk of Float64 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">The destination is too short or partly overlaps.</exception>
    /// <exception cref="TensorArgumentException">Wrong element type, or the chunk runs past the tensor (<paramref name="source"/>).</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet, or a tensor before it in a shared histogram is not complete.</exception>
    public void Apply(int tensor, ReadOnlySpan<double> source, Span<double> destination) =>
        Apply<Float64Key, double>(tensor, ElementType.Float64, source, destination);

    private void CheckIndex(int tensor)
    {
        if ((uint)tensor >= (uint)_tensors.Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tensor), $"Tensor index {tensor} is not in [0, {_tensors.Length}).");
    }

    private void RequireResolved()
    {
        if (_phase != Phase.Applying) ThrowHelper.ThrowGlobalPhase("Reading the result", "before Resolve() returned true");
    }

    private void StartPass(Phase phase)
    {
        for (int j = 0; j < _tensors.Length; j++) _tensors[j].Seen = 0;
        _phase = phase;
    }

    /// <summary>Validates a scan call and books its elements; returns whether there is anything to count.</summary>
    private bool BeginScan(int tensor, ElementType type, int length)
    {
        CheckIndex(tensor);
        ref TensorState t = ref _tensors[tensor];
        if (t.Type != type) ThrowHelper.ThrowTensorElementType("chunk", tensor, t.Type, type);
        if (_phase == Phase.Applying) ThrowHelper.ThrowGlobalPhase("Scan", "after Resolve() returned true");
        if (_phase == Phase.Refining && !_histograms.IsRefined(_histograms.SlotOf(tensor))) return false; // decided already
        if (length > t.Length - t.Seen) ThrowHelper.ThrowTensorTooMany("chunk", tensor, t.Seen, t.Length);
        t.Seen += length;
        return true;
    }

    /// <summary>Counts either level; a first-level chunk long enough takes zeroed sub-histograms from the session's pool.</summary>
    private void Count<TKey, T>(int tensor, ReadOnlySpan<T> chunk)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        if (_tensors[tensor].Pooled)
        {
            CountPooled<TKey, T>(tensor, chunk);
            return;
        }
        if (_phase == Phase.Refining)
        {
            _histograms.CountLow<TKey, T>(tensor, chunk);
            return;
        }
        bool finite;
        if (MagnitudeHistograms.CountsDirectly(chunk.Length))
        {
            finite = _histograms.CountHigh<TKey, T>(tensor, chunk, default);
        }
        else
        {
            // Counting leaves the sub-histograms zeroed (MergeAndClear), so they go back to the pool ready for reuse.
            using SpanOwner<uint> scratch = SpanOwner<uint>.Allocate(MagnitudeHistograms.SubHistogramLength, _zeroedScratch);
            finite = _histograms.CountHigh<TKey, T>(tensor, chunk, scratch.Span);
        }
        if (!finite) ThrowHelper.ThrowTensorNonFinite(nameof(chunk), tensor);
    }

    /// <summary>
    /// Counts a chunk of a pooled tensor. First pass: its keys are kept until the last chunk, then sorted; its cap key
    /// <c>t</c> is the <c>c_j</c>-th smallest, and the histogram receives its keys below <c>t</c> and the
    /// <c>c_j − #{key &lt; t}</c> keys equal to <c>t</c> its cap allows, so that the histogram's uncapped walk gives
    /// every key the tensor's <c>min(c_j, ·)</c> would. Second pass: the same keys, in the refined bin only.
    /// </summary>
    private void CountPooled<TKey, T>(int tensor, ReadOnlySpan<T> chunk)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        ref TensorState t = ref _tensors[tensor];
        if (_phase == Phase.Refining)
        {
            if (t.CapTies == 0) return; // c_j = 0: nothing of it is in the histogram
            Span<uint> buffer = stackalloc uint[256];
            for (int start = 0; start < chunk.Length; start += buffer.Length)
            {
                int n = Math.Min(buffer.Length, chunk.Length - start);
                TKey.Keys(chunk.Slice(start, n), buffer);
                // The cap key's share is added with the tensor's first chunk of the pass.
                _histograms.CountCappedLow(tensor, buffer[..n], t.CapKey, t.Seen == chunk.Length && start == 0 ? t.CapTies : 0);
            }
            return;
        }
        uint[] keys = t.Keys ??= ArrayPool<uint>.Shared.Rent((int)t.Length);
        Span<uint> given = keys.AsSpan((int)(t.Seen - chunk.Length), chunk.Length);
        TKey.Keys(chunk, given);
        if (given.ContainsAnyInRange((uint)TKey.FirstNonFiniteBin << 16, uint.MaxValue)) ThrowHelper.ThrowTensorNonFinite(nameof(chunk), tensor);
        if (t.Seen != t.Length) return;

        t.Keys = null;
        Span<uint> all = keys.AsSpan(0, (int)t.Length);
        long cap = PruneRules.LayerCap(_maxLayerSparsity, t.Length);
        if (cap > 0)
        {
            all.Sort();
            t.CapKey = all[(int)cap - 1];
            int below = all.IndexOf(t.CapKey);
            t.CapTies = cap - below;
            _histograms.CountCapped(tensor, all[..below], t.CapKey, t.CapTies);
        }
        ArrayPool<uint>.Shared.Return(keys);
    }

    /// <summary>
    /// Tensor <paramref name="tensor"/>'s cut, the ties it may take (<paramref name="tieLimit"/>), and whether they come
    /// from its own cap (<paramref name="own"/>) rather than from its histogram's quota. A pooled tensor whose cap key
    /// lies below the histogram's cut reached its cap: it prunes its own <c>c_j</c> smallest. One whose cap key is the
    /// cut takes the histogram's ties at most up to its cap.
    /// </summary>
    private uint CutOf(int tensor, out long tieLimit, out bool own)
    {
        ref TensorState t = ref _tensors[tensor];
        uint cut = _solver.Cut(_histograms.SlotOf(tensor));
        tieLimit = long.MaxValue;
        own = false;
        if (!t.Pooled || PruneCount == 0 || t.CapKey > cut) return cut;
        tieLimit = t.CapTies - t.TiesTaken;
        own = t.CapKey < cut || t.CapTies == 0;
        return t.CapTies == 0 ? 0 : t.CapKey;
    }

    /// <summary>Validates an apply call, books its elements, masks the chunk and spends the histogram's ties.</summary>
    private void Apply<TKey, T>(int tensor, ElementType type, ReadOnlySpan<T> source, Span<T> destination)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        CheckIndex(tensor);
        ref TensorState t = ref _tensors[tensor];
        if (t.Type != type) ThrowHelper.ThrowTensorElementType(nameof(source), tensor, t.Type, type);
        if (destination.Length < source.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, source.Length);
        if (source.Overlaps(destination, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(nameof(destination));
        if (_phase != Phase.Applying) ThrowHelper.ThrowGlobalPhase("Apply", "before Resolve() returned true");
        if (source.Length > t.Length - t.Seen) ThrowHelper.ThrowTensorTooMany(nameof(source), tensor, t.Seen, t.Length);
        int s = _histograms.SlotOf(tensor);
        // A shared histogram hands its ties out in tensor order: the tensors before this one must be complete. (The
        // first incomplete one is kept per histogram, so that a check costs O(1) amortised however many share it.)
        ref int next = ref _applyNext[s];
        while (next < tensor && _tensors[next].Seen == _tensors[next].Length) next++;
        if (next < tensor)
            ThrowHelper.ThrowGlobalPhase($"Apply of tensor {tensor}", $"before tensor {next}, which shares its histogram, has been applied completely");
        t.Seen += source.Length;

        uint cut = CutOf(tensor, out long tieLimit, out bool own);
        long ties = own ? tieLimit : Math.Min(_tiesLeft[s], tieLimit);
        // A 16-bit key never equals a cut with low bits (the kernel rounds such a cut up): the quota is for wider keys.
        if (TKey.WholeKeyInFirstLevel && (cut & 0xFFFF) != 0) ties = 0;
        long used = ties - TKey.Apply(source, destination, cut, ties, ref t.Zeros);
        t.TiesTaken += used;
        if (!own) _tiesLeft[s] -= used;
    }
}
