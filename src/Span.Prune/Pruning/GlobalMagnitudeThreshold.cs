using Span.Prune.Internal;
using Span.Prune.SelectionKernels;
using Span.Prune.SafeTensors;

namespace Span.Prune;

/// <summary>
/// Streaming global magnitude pruning of many tensors (a whole model) without holding their scores: counting passes
/// over the raw weights find the exact global threshold, then an apply pass masks each tensor chunk by chunk. The
/// masks are identical to <see cref="Pruning.Global"/> with <see cref="GlobalScore.Magnitude"/>, for models of any size.
/// </summary>
/// <remarks>
/// <para><b>Use.</b> Declare the tensors (dtype, element count), the sparsity and the optional per-tensor cap; feed every
/// tensor's elements to <c>Scan</c> in chunks; call <see cref="Resolve"/>. When it returns <see langword="false"/>, scan
/// the tensors with <see cref="NeedsRefinement"/> once more (the others may be scanned too; they are skipped) and call
/// <see cref="Resolve"/> again. Then write each tensor through <c>Apply</c>, chunks in element order. F16 and F32 use
/// <see cref="Half"/> and <see cref="float"/> spans, BF16 its raw bits as <see cref="ushort"/>, F64
/// <see cref="double"/>.</para>
/// <para><b>Rule</b> (that of <see cref="Selection.GlobalLowestMask(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{byte}, double)"/>
/// on <c>|w|</c> as float32): exactly <c>k = round-half-even(s·N)</c> of the <c>N</c> weights are pruned. Uncapped,
/// they are the <c>k</c> smallest <c>(|w|, tensor, index)</c>: everything below the threshold <c>t</c> and the first
/// weights equal to it in tensor order, then index order. With a cap, tensor <c>j</c> of <c>n_j</c> weights loses at most
/// <c>c_j = ⌊cap·n_j⌋</c> (floor of the decimal product); the result is the greedy walk over ascending
/// <c>(|w|, tensor, index)</c> that skips weights of tensors already at their cap.</para>
/// <para><b>Method.</b> <c>|w|</c> orders like the integer <c>bits &amp; ~sign</c>. Scanning builds one histogram per
/// tensor of the top 15 key bits: for BF16 and for an all-F16 model that is the whole key, so one pass decides exactly
/// (ties included). F32 keys have 31 bits: the histograms locate the bin of the threshold, and a second pass counts the
/// low 16 bits of the elements in that bin (per tensor: its own bin when its cap binds earlier). Per-tensor histograms
/// make the capped count exact. F16 mixed with wider dtypes is ranked by its exact float32 widening, F64 by
/// <c>|(float)w|</c> (as float32 scoring would), so both take the two-pass path.</para>
/// <para><b>Memory</b> (allocated by the constructor and <see cref="Resolve"/>, none per chunk): 128 KiB of first-level
/// counts per histogram, 256 KiB of second-level counts per refined histogram, and 512 KiB of sub-histograms per thread
/// that calls <c>Scan</c> (allocated on its first call). Each tensor has its own histogram up to
/// <see cref="MaxHistograms"/> tensors (256 MB). Beyond that, without a cap, consecutive tensors of one dtype share a
/// histogram: uncapped, the rule orders by <c>(|w|, tensor, index)</c>, which within such a run is the order of the
/// run's concatenation, so a shared histogram selects exactly the same weights. (With a cap every tensor keeps its own:
/// each tensor's count is capped separately.) Tensors that share a histogram must be applied in tensor order, each
/// completely before the next, because the ties at the threshold are handed out in that order.</para>
/// <para><b>Threads.</b> <c>Scan</c> and <c>Apply</c> only touch the state of the tensor they are given (and its shared
/// histogram, under a lock), so different tensors may be scanned concurrently, and applied concurrently when they do
/// not share a histogram; calls for one tensor must not overlap. The result does not depend on the
/// chunking or the order tensors are scanned in.</para>
/// <para><b>NaN policy.</b> A NaN or ±∞ weight makes <c>Scan</c> throw an <see cref="ArgumentException"/> naming the
/// tensor index (after counting the chunk, before anything can be written).</para>
/// <para>Output: a pruned weight becomes +0 in its own dtype; a kept weight keeps its bits.</para>
/// </remarks>
public sealed class GlobalMagnitudeThreshold
{
    private enum Phase { Counting, Refining, Applying }

    private const int SubHistogramLength = MagnitudeRadix.SubHistograms * MagnitudeRadix.Bins;
    private const int KeyChunk = 512; // converted keys (F16 among wider dtypes, F64) per stack buffer

    /// <summary>Tensors with a histogram each (128 KiB apiece, 256 MB in all); more share histograms when uncapped.</summary>
    public const int MaxHistograms = 2048;

    // Per tensor.
    private readonly SafeTensorsDType[] _dtypes;
    private readonly long[] _lengths;
    private readonly long[] _seen;             // elements given in the current pass
    private readonly long[] _zeros;            // zero outputs written by Apply
    private readonly long[] _tiesTaken;        // ties at the cut spent in this tensor's Apply calls
    private readonly int[] _slot;              // the histogram ("slot") the tensor counts into
    private readonly bool _halfKeys;           // every tensor is F16: keys are the 15-bit F16 magnitudes, one level

    // Per slot: one tensor, or (uncapped, more than MaxHistograms tensors) a run of consecutive tensors of one dtype,
    // selected as their concatenation. Full keys are 31-bit: first-level bin << 16 | low 16 bits (low 0 for 15-bit keys).
    private readonly int[] _slotFirst;         // first tensor of the slot; the next slot's first ends it
    private readonly long[] _caps;
    private readonly uint[][] _histograms;     // first level
    private readonly uint[]?[] _low;           // second-level counts of the slots being refined
    private readonly uint[] _lowBin;           // the first-level bin refined
    private readonly long[] _lowBase;          // the slot's elements below that bin
    private readonly long[] _below;            // elements below the global bin B
    private readonly uint[] _cut;              // prune key < cut ...
    private readonly long[] _ties;             // ... and the first _ties[s] with key == cut
    private readonly long[] _pruned;
    private readonly long[] _tiesLeft;         // apply state
    private uint _globalBin;
    private long _prunedBelowGlobalBin;
    private float _threshold = float.NegativeInfinity;
    private Phase _phase;

    /// <summary>Declares the tensors and the target.</summary>
    /// <param name="dtypes">Per tensor: <see cref="SafeTensorsDType.F16"/>, <see cref="SafeTensorsDType.BF16"/>,
    /// <see cref="SafeTensorsDType.F32"/> or <see cref="SafeTensorsDType.F64"/>.</param>
    /// <param name="lengths">Per tensor: its element count, in <c>[0, 2³² − 1]</c>; not all zero.</param>
    /// <param name="sparsity">Fraction of all weights to prune, finite in <c>[0, 1]</c>.</param>
    /// <param name="maxLayerSparsity">Per-tensor cap <c>⌊cap·n_j⌋</c>, finite in <c>[0, 1]</c>; 1 = none.</param>
    /// <exception cref="ArgumentException">The spans differ in length or are empty, a dtype is not a float dtype, all
    /// lengths are zero, or the caps cannot reach the target (<paramref name="maxLayerSparsity"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A length is negative or too large, or a sparsity is outside [0, 1].</exception>
    public GlobalMagnitudeThreshold(ReadOnlySpan<SafeTensorsDType> dtypes, ReadOnlySpan<long> lengths, double sparsity, double maxLayerSparsity = 1.0)
        : this(dtypes, lengths, sparsity, maxLayerSparsity, MaxHistograms)
    {
    }

    /// <summary>As the public constructor, with the histogram budget as a parameter (tests use small ones).</summary>
    internal GlobalMagnitudeThreshold(ReadOnlySpan<SafeTensorsDType> dtypes, ReadOnlySpan<long> lengths, double sparsity, double maxLayerSparsity, int maxHistograms)
    {
        if (lengths.Length != dtypes.Length) ThrowHelper.ThrowLengthMismatch(nameof(lengths), lengths.Length, dtypes.Length);
        if (dtypes.IsEmpty) ThrowHelper.ThrowEmpty(nameof(dtypes));
        long total = 0;
        bool allHalf = true;
        for (int j = 0; j < dtypes.Length; j++)
        {
            if (!SafeTensorsDTypeInfo.IsConvertibleFloat(dtypes[j]))
                ThrowHelper.ThrowArgument(nameof(dtypes), $"Tensor {j} is {SafeTensorsDTypeInfo.GetName(dtypes[j])}; only F16, BF16, F32 and F64 are ranked by magnitude.");
            if ((ulong)lengths[j] > uint.MaxValue)
                ThrowHelper.ThrowArgumentOutOfRange(nameof(lengths), $"Tensor {j} has length {lengths[j]}; lengths must be in [0, {uint.MaxValue}].");
            total += lengths[j];
            allHalf &= dtypes[j] == SafeTensorsDType.F16;
        }
        if (total == 0) ThrowHelper.ThrowEmpty(nameof(lengths));
        if (!(sparsity >= 0.0 && sparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(sparsity), sparsity);
        if (!(maxLayerSparsity >= 0.0 && maxLayerSparsity <= 1.0)) ThrowHelper.ThrowSparsity(nameof(maxLayerSparsity), maxLayerSparsity);

        // round-half-even(s·N) on the double product, as Selection.PruneCount and torch.
        PruneCount = (long)Math.Round(sparsity * total, MidpointRounding.ToEven);
        TotalCount = total;
        int count = dtypes.Length;
        _dtypes = dtypes.ToArray();
        _lengths = lengths.ToArray();
        long capacity = 0;
        decimal cap = (decimal)maxLayerSparsity; // 15 significant digits: 0.29·100 floors to 29, as Selection does
        var tensorCaps = new long[count];
        for (int j = 0; j < count; j++)
        {
            tensorCaps[j] = (long)decimal.Floor(cap * _lengths[j]);
            capacity += tensorCaps[j];
        }
        if (capacity < PruneCount) ThrowHelper.ThrowGlobalCapsInfeasible(nameof(maxLayerSparsity), capacity, PruneCount);

        _halfKeys = allHalf;
        _seen = new long[count];
        _zeros = new long[count];
        _tiesTaken = new long[count];
        _slot = new int[count];
        _slotFirst = AssignSlots(_dtypes, _lengths, total, maxLayerSparsity >= 1.0 ? maxHistograms : int.MaxValue, _slot);
        int slots = _slotFirst.Length;
        _caps = new long[slots];
        for (int j = 0; j < count; j++) _caps[_slot[j]] += tensorCaps[j]; // uncapped when shared: c = Σ n_j
        _histograms = new uint[slots][];
        for (int s = 0; s < slots; s++) _histograms[s] = new uint[MagnitudeRadix.Bins];
        _low = new uint[slots][];
        _lowBin = new uint[slots];
        _lowBase = new long[slots];
        _below = new long[slots];
        _cut = new uint[slots];
        _ties = new long[slots];
        _pruned = new long[slots];
        _tiesLeft = new long[slots];
    }

    /// <summary>
    /// One slot per tensor when they fit the budget; otherwise runs of consecutive tensors of one dtype of at least
    /// <c>⌈total / budget⌉</c> elements. Returns each slot's first tensor.
    /// </summary>
    private static int[] AssignSlots(SafeTensorsDType[] dtypes, long[] lengths, long total, int budget, int[] slotOf)
    {
        int count = dtypes.Length;
        var first = new List<int>();
        long target = count <= budget ? 0 : Math.Min(uint.MaxValue, Math.Max(1, (total + budget - 1) / budget));
        long filled = 0;
        for (int j = 0; j < count; j++)
        {
            // A slot closes once it holds the target (so there are at most ⌈total / target⌉ of them, plus dtype changes),
            // and never grows past 2³² − 1 elements, so that a bin count cannot overflow.
            bool start = j == 0 || target == 0 || dtypes[j] != dtypes[j - 1] || filled >= target || filled + lengths[j] > uint.MaxValue;
            if (start)
            {
                first.Add(j);
                filled = 0;
            }
            filled += lengths[j];
            slotOf[j] = first.Count - 1;
        }
        return first.ToArray();
    }

    /// <summary>Whether tensor <paramref name="tensor"/> shares its histogram with other tensors.</summary>
    private bool Shared(int tensor)
    {
        int s = _slot[tensor];
        int end = s + 1 < _slotFirst.Length ? _slotFirst[s + 1] : _dtypes.Length;
        return end - _slotFirst[s] > 1;
    }

    /// <summary>Number of tensors.</summary>
    public int TensorCount => _dtypes.Length;

    /// <summary>All weights, <c>N = Σ n_j</c>.</summary>
    public long TotalCount { get; }

    /// <summary>Weights to prune, <c>k = round-half-even(sparsity·N)</c>.</summary>
    public long PruneCount { get; }

    /// <summary>
    /// The largest pruned magnitude (the global threshold), or <see cref="float.NegativeInfinity"/> when nothing is
    /// pruned. Valid after <see cref="Resolve"/> returned <see langword="true"/>.
    /// </summary>
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
        if (!Shared(tensor)) return _pruned[_slot[tensor]];
        if (_seen[tensor] != _lengths[tensor]) ThrowHelper.ThrowGlobalPhase("PrunedCount of a tensor that shares a histogram", "before it has been applied");
        // Cut above 0: kept weights have |w| ≥ cut > 0, so the zeros written are exactly the pruned weights. Cut 0: only
        // zeros can be pruned, as ties, so the ties spent here are the pruned weights.
        return _cut[_slot[tensor]] > 0 ? _zeros[tensor] : _tiesTaken[tensor];
    }

    /// <summary>Elements of magnitude 0 (pruned, or zero and kept) among those <c>Apply</c> wrote for <paramref name="tensor"/> so far.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <returns>The zero count of the output so far.</returns>
    public long ZeroCount(int tensor)
    {
        CheckIndex(tensor);
        return _zeros[tensor];
    }

    /// <summary>Whether <paramref name="tensor"/> must be scanned again before the next <see cref="Resolve"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <returns><see langword="true"/> between a <see cref="Resolve"/> that returned <see langword="false"/> and the
    /// next one, for the tensors whose threshold lies inside a first-level bin.</returns>
    public bool NeedsRefinement(int tensor)
    {
        CheckIndex(tensor);
        return _phase == Phase.Refining && _low[_slot[tensor]] is not null;
    }

    /// <summary>Counts a chunk of F32 tensor <paramref name="tensor"/> (the next elements of this pass).</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements; a pass gives each tensor all its elements exactly once, in any chunking.</param>
    /// <exception cref="ArgumentException">The tensor is not F32, the chunk runs past the tensor's length, or it holds a
    /// NaN or ±∞ (<paramref name="chunk"/>).</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<float> chunk)
    {
        uint[]? low = BeginScan(tensor, SafeTensorsDType.F32, "float32", chunk.Length);
        if (_phase == Phase.Counting) Count(tensor, chunk, static (c, h) => MagnitudeRadix.Count(c, h));
        else if (low is not null)
        {
            if (!Shared(tensor)) MagnitudeRadix.CountLow(chunk, _lowBin[_slot[tensor]], low);
            else lock (low) MagnitudeRadix.CountLow(chunk, _lowBin[_slot[tensor]], low);
        }
    }

    /// <summary>Counts a chunk of BF16 tensor <paramref name="tensor"/>, given as its raw bits.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements (bfloat16 bit patterns).</param>
    /// <exception cref="ArgumentException">The tensor is not BF16, the chunk runs past its length, or it holds NaN/±∞.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void ScanBFloat16(int tensor, ReadOnlySpan<ushort> chunk)
    {
        // BF16 keys are complete in the first level: the refinement pass never needs them.
        BeginScan(tensor, SafeTensorsDType.BF16, "bfloat16", chunk.Length);
        if (_phase == Phase.Counting) Count(tensor, chunk, static (c, h) => MagnitudeRadix.Count16(c, h));
    }

    /// <summary>Counts a chunk of F16 tensor <paramref name="tensor"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements.</param>
    /// <exception cref="ArgumentException">The tensor is not F16, the chunk runs past its length, or it holds NaN/±∞.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<Half> chunk)
    {
        uint[]? low = BeginScan(tensor, SafeTensorsDType.F16, "Half", chunk.Length);
        if (_halfKeys)
        {
            if (_phase == Phase.Counting) Count(tensor, chunk, static (c, h) => MagnitudeRadix.Count(c, h));
            return;
        }
        ScanByKeys(tensor, chunk, low, static (c, k) => MagnitudeRadix.FloatKeys(c, k));
    }

    /// <summary>Counts a chunk of F64 tensor <paramref name="tensor"/> (ranked by <c>|(float)w|</c>).</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="chunk">The next elements.</param>
    /// <exception cref="ArgumentException">The tensor is not F64, the chunk runs past its length, or a weight is NaN or
    /// beyond the float32 range.</exception>
    /// <exception cref="InvalidOperationException">The selection is already resolved.</exception>
    public void Scan(int tensor, ReadOnlySpan<double> chunk)
    {
        uint[]? low = BeginScan(tensor, SafeTensorsDType.F64, "double", chunk.Length);
        ScanByKeys(tensor, chunk, low, static (c, k) => MagnitudeRadix.FloatKeys(c, k));
    }

    /// <summary>
    /// Resolves the per-tensor cut points from the counts of the pass just completed.
    /// </summary>
    /// <returns><see langword="true"/> when the selection is complete (<c>Apply</c> may start); <see langword="false"/>
    /// when the tensors with <see cref="NeedsRefinement"/> must be scanned once more first.</returns>
    /// <exception cref="InvalidOperationException">A tensor was not given all its elements in this pass.</exception>
    public bool Resolve()
    {
        if (_phase == Phase.Applying) return true;
        for (int j = 0; j < _seen.Length; j++)
        {
            bool expected = _phase == Phase.Counting || _low[_slot[j]] is not null;
            if (expected && _seen[j] != _lengths[j]) ThrowHelper.ThrowGlobalIncomplete(j, _seen[j], _lengths[j]);
        }
        if (_phase == Phase.Counting)
        {
            if (PruneCount == 0)
            {
                Array.Clear(_seen);
                _phase = Phase.Applying; // cut 0, no ties: nothing is pruned
                return true;
            }
            if (LocateGlobalBin())
            {
                Array.Clear(_seen);
                _phase = Phase.Refining;
                return false;
            }
        }
        Finish();
        Array.Clear(_seen); // now counts the elements applied
        _phase = Phase.Applying;
        return true;
    }

    /// <summary>Masks the next chunk of F32 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them with the pruned ones set to +0; at least as long; may be exactly
    /// <paramref name="source"/> (in place).</param>
    /// <exception cref="ArgumentException">Wrong dtype, destination too short or partly overlapping, or the chunk runs past the tensor.</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet.</exception>
    public void Apply(int tensor, ReadOnlySpan<float> source, Span<float> destination)
    {
        int s = BeginApply(tensor, SafeTensorsDType.F32, "float32", source, destination);
        SpendTies(tensor, s, MagnitudeRadix.Apply(source, destination, _cut[s], _tiesLeft[s], ref _zeros[tensor]));
    }

    /// <summary>Masks the next chunk of BF16 tensor <paramref name="tensor"/> (raw bits) into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">Wrong dtype, destination too short or partly overlapping, or the chunk runs past the tensor.</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet.</exception>
    public void ApplyBFloat16(int tensor, ReadOnlySpan<ushort> source, Span<ushort> destination)
    {
        int s = BeginApply(tensor, SafeTensorsDType.BF16, "bfloat16", source, destination);
        // A cut with non-zero low bits lies strictly between two BF16 values (and has no ties): round it up.
        uint cut = _cut[s];
        ushort cut16 = (ushort)((cut >> 16) + ((cut & 0xFFFF) != 0 ? 1u : 0u));
        SpendTies(tensor, s, MagnitudeRadix.Apply16(source, destination, cut16, _tiesLeft[s], ref _zeros[tensor]));
    }

    /// <summary>Masks the next chunk of F16 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">Wrong dtype, destination too short or partly overlapping, or the chunk runs past the tensor.</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet.</exception>
    public void Apply(int tensor, ReadOnlySpan<Half> source, Span<Half> destination)
    {
        int s = BeginApply(tensor, SafeTensorsDType.F16, "Half", source, destination);
        if (_halfKeys)
            SpendTies(tensor, s, MagnitudeRadix.Apply(source, destination, (ushort)(_cut[s] >> 16), _tiesLeft[s], ref _zeros[tensor]));
        else
            ApplyByKeys(tensor, source, destination, static (c, k) => MagnitudeRadix.FloatKeys(c, k));
    }

    /// <summary>Masks the next chunk of F64 tensor <paramref name="tensor"/> into <paramref name="destination"/>.</summary>
    /// <param name="tensor">Tensor index.</param>
    /// <param name="source">The next elements, in order.</param>
    /// <param name="destination">Receives them, pruned ones +0; at least as long; may be exactly <paramref name="source"/>.</param>
    /// <exception cref="ArgumentException">Wrong dtype, destination too short or partly overlapping, or the chunk runs past the tensor.</exception>
    /// <exception cref="InvalidOperationException">Not resolved yet.</exception>
    public void Apply(int tensor, ReadOnlySpan<double> source, Span<double> destination)
    {
        BeginApply(tensor, SafeTensorsDType.F64, "double", source, destination);
        ApplyByKeys(tensor, source, destination, static (c, k) => MagnitudeRadix.FloatKeys(c, k));
    }

    private void CheckIndex(int tensor)
    {
        if ((uint)tensor >= (uint)_dtypes.Length)
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tensor), $"Tensor index {tensor} is not in [0, {_dtypes.Length}).");
    }

    private void RequireResolved()
    {
        if (_phase != Phase.Applying) ThrowHelper.ThrowGlobalPhase("Reading the result", "before Resolve() returned true");
    }

    /// <summary>Validates a scan call and books its elements; returns the tensor's second-level counts when refining.</summary>
    private uint[]? BeginScan(int tensor, SafeTensorsDType dtype, string given, int length)
    {
        CheckIndex(tensor);
        if (_dtypes[tensor] != dtype) ThrowHelper.ThrowGlobalDType("chunk", tensor, _dtypes[tensor], given);
        if (_phase == Phase.Applying) ThrowHelper.ThrowGlobalPhase("Scan", "after Resolve() returned true");
        uint[]? low = _phase == Phase.Refining ? _low[_slot[tensor]] : null;
        if (_phase == Phase.Refining && low is null) return null; // not refined: nothing to count
        if (length > _lengths[tensor] - _seen[tensor]) ThrowHelper.ThrowGlobalTooMany("chunk", tensor, _seen[tensor], _lengths[tensor]);
        _seen[tensor] += length;
        return low;
    }

    private delegate void Counter<T>(ReadOnlySpan<T> chunk, Span<uint> subHistograms);

    private delegate void KeyMaker<T>(ReadOnlySpan<T> chunk, Span<uint> keys);

    /// <summary>
    /// Per-thread sub-histograms of the first level, allocated once per thread and kept all zero between calls
    /// (<see cref="MagnitudeRadix.MergeAndClear"/> zeroes them while merging), so a call neither allocates nor clears.
    /// </summary>
    [ThreadStatic]
    private static uint[]? t_subHistograms;

    private static Span<uint> SubHistograms() => t_subHistograms ??= new uint[SubHistogramLength];

    /// <summary>First level: count into the sub-histograms, then merge them into the tensor's counts; NaN/∞ keys throw.</summary>
    private void Count<T>(int tensor, ReadOnlySpan<T> chunk, Counter<T> counter)
    {
        Span<uint> sub = SubHistograms();
        counter(chunk, sub);
        Merge(tensor, sub);
    }

    private void Merge(int tensor, Span<uint> sub)
    {
        // The keys of ∞ and NaN fill the bins from the ∞ pattern up (F16 0x7C00, float32 bins 0x7F80).
        uint[] histogram = _histograms[_slot[tensor]];
        uint nonFinite;
        if (!Shared(tensor)) nonFinite = MagnitudeRadix.MergeAndClear(sub, histogram, _halfKeys ? 0x7C00 : 0x7F80);
        else lock (histogram) nonFinite = MagnitudeRadix.MergeAndClear(sub, histogram, _halfKeys ? 0x7C00 : 0x7F80);
        if (nonFinite != 0) ThrowHelper.ThrowGlobalNonFinite("chunk", tensor);
    }

    /// <summary>Dtypes ranked by converted float32 keys: convert a stack buffer at a time, then count either level.</summary>
    private void ScanByKeys<T>(int tensor, ReadOnlySpan<T> chunk, uint[]? low, KeyMaker<T> keyMaker)
    {
        if (_phase == Phase.Refining && low is null) return;
        Span<uint> keys = stackalloc uint[KeyChunk];
        Span<uint> sub = _phase == Phase.Counting ? SubHistograms() : default;
        for (int start = 0; start < chunk.Length; start += KeyChunk)
        {
            int n = Math.Min(KeyChunk, chunk.Length - start);
            keyMaker(chunk.Slice(start, n), keys);
            if (low is null) MagnitudeRadix.Count32(keys[..n], sub);
            else if (!Shared(tensor)) MagnitudeRadix.CountLow(keys[..n], _lowBin[_slot[tensor]], low);
            else lock (low) MagnitudeRadix.CountLow(keys[..n], _lowBin[_slot[tensor]], low);
        }
        if (low is null) Merge(tensor, sub);
    }

    /// <summary>Validates an apply call and books its elements; returns the tensor's slot.</summary>
    private int BeginApply<T>(int tensor, SafeTensorsDType dtype, string given, ReadOnlySpan<T> source, Span<T> destination)
    {
        CheckIndex(tensor);
        if (_dtypes[tensor] != dtype) ThrowHelper.ThrowGlobalDType(nameof(source), tensor, _dtypes[tensor], given);
        if (destination.Length < source.Length) ThrowHelper.ThrowDestinationTooShort(nameof(destination), destination.Length, source.Length);
        if (source.Overlaps(destination, out int offset) && offset != 0) ThrowHelper.ThrowOverlap(nameof(destination));
        if (_phase != Phase.Applying) ThrowHelper.ThrowGlobalPhase("Apply", "before Resolve() returned true");
        if (source.Length > _lengths[tensor] - _seen[tensor]) ThrowHelper.ThrowGlobalTooMany(nameof(source), tensor, _seen[tensor], _lengths[tensor]);
        int s = _slot[tensor];
        // A shared slot hands its ties out in tensor order: the tensors before this one must be complete.
        for (int j = _slotFirst[s]; j < tensor; j++)
        {
            if (_seen[j] != _lengths[j]) ThrowHelper.ThrowGlobalPhase($"Apply of tensor {tensor}", $"before tensor {j}, which shares its histogram, has been applied completely");
        }
        _seen[tensor] += source.Length;
        return s;
    }

    /// <summary>Books the slot's tie quota left after an apply call, and the ties this tensor spent.</summary>
    private void SpendTies(int tensor, int s, long tiesLeft)
    {
        _tiesTaken[tensor] += _tiesLeft[s] - tiesLeft;
        _tiesLeft[s] = tiesLeft;
    }

    private void ApplyByKeys<T>(int tensor, ReadOnlySpan<T> source, Span<T> destination, KeyMaker<T> keyMaker)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        int s = _slot[tensor];
        Span<uint> keys = stackalloc uint[KeyChunk];
        for (int start = 0; start < source.Length; start += KeyChunk)
        {
            int n = Math.Min(KeyChunk, source.Length - start);
            keyMaker(source.Slice(start, n), keys);
            SpendTies(tensor, s, MagnitudeRadix.ApplyByKeys(keys[..n], source.Slice(start, n), destination.Slice(start, n),
                _cut[s], _tiesLeft[s], ref _zeros[tensor]));
        }
    }

    /// <summary>Whether slot <paramref name="s"/>'s first-level bins hold one key each (BF16, or F16 in an all-F16 model).</summary>
    private bool ExactBins(int s) => _halfKeys || _dtypes[_slotFirst[s]] == SafeTensorsDType.BF16;

    /// <summary>
    /// First level. Finds the global bin B: the smallest with <c>F(end of B) ≥ k</c>, where
    /// <c>F(v) = Σ_j min(c_j, #{key ≤ v in j})</c> counts what the greedy walk has pruned once it passed key v. Tensors
    /// at their cap before B get their own cut (their c_j smallest); the rest are resolved inside B by <see cref="Finish"/>.
    /// Returns whether a second-level pass is needed.
    /// </summary>
    private bool LocateGlobalBin()
    {
        int count = _slotFirst.Length; // slots: in this and Finish, j is a slot
        long k = PruneCount, pruned = 0;
        Array.Clear(_below);
        uint bin = 0;
        for (; bin < MagnitudeRadix.Bins; bin++)
        {
            long next = pruned;
            for (int j = 0; j < count; j++)
            {
                uint h = _histograms[j][bin];
                if (h != 0) next += Math.Min(_caps[j], _below[j] + h) - Math.Min(_caps[j], _below[j]);
            }
            if (next >= k) break;
            for (int j = 0; j < count; j++) _below[j] += _histograms[j][bin];
            pruned = next;
        }
        // k ≤ Σ c_j (checked by the constructor), so some finite bin reaches k.
        _globalBin = bin;
        _prunedBelowGlobalBin = pruned;

        bool refine = false;
        for (int j = 0; j < count; j++)
        {
            uint[] h = _histograms[j];
            if (_below[j] >= _caps[j])
            {
                // At its cap before B: its own c_j smallest, located in its own bin.
                if (_caps[j] == 0) continue; // cut 0, no ties
                long acc = 0;
                uint b = 0;
                while (acc + h[b] < _caps[j]) acc += h[b++];
                long need = _caps[j] - acc;
                if (ExactBins(j)) SetCut(j, b << 16, need, _caps[j]);
                else if (need == h[b]) SetCut(j, (b + 1) << 16, 0, _caps[j]);
                else
                {
                    _lowBin[j] = b;
                    _lowBase[j] = acc;
                    _low[j] = new uint[MagnitudeRadix.LowBins];
                    refine = true;
                }
            }
            else if (h[bin] != 0 && !ExactBins(j))
            {
                _lowBin[j] = bin;
                _lowBase[j] = _below[j];
                _low[j] = new uint[MagnitudeRadix.LowBins];
                refine = true;
            }
        }
        return refine;
    }

    private void SetCut(int j, uint cut, long ties, long pruned)
    {
        _cut[j] = cut;
        _ties[j] = ties;
        _tiesLeft[j] = ties;
        _pruned[j] = pruned;
    }

    /// <summary>Count of tensor j's keys in the global bin with low bits == <paramref name="low"/> (an exact bin holds only low 0).</summary>
    private long LowCount(int j, int low) =>
        _low[j] is { } counts ? counts[low] : (low == 0 ? _histograms[j][_globalBin] : 0);

    /// <summary>
    /// Second level. Inside the global bin B, finds the full key v* where the greedy walk stops, then hands out each
    /// tensor's cut: tensors at their cap before v* prune their own c_j smallest; the others prune every key below v*,
    /// and the remaining r = k − F(below v*) weights equal to v* go to them in tensor order, each up to its cap.
    /// </summary>
    private void Finish()
    {
        int count = _slotFirst.Length;
        uint bin = _globalBin;
        long k = PruneCount;
        long needed = k - _prunedBelowGlobalBin; // > 0 inside B

        // Own cuts of tensors at their cap before B whose cut needed the second level.
        for (int j = 0; j < count; j++)
        {
            if (_below[j] < _caps[j] || _low[j] is not { } low) continue;
            long target = _caps[j] - _lowBase[j], acc = 0;
            int u = 0;
            while (acc + low[u] < target) acc += low[u++];
            SetCut(j, _lowBin[j] << 16 | (uint)u, target - acc, _caps[j]);
        }

        // G(low) = Σ over tensors still active in B of min(room_j, #{low bits ≤ low}); v* = B << 16 | smallest low with G ≥ needed.
        long[] lowBelow = new long[count];
        long g = 0;
        int vLow = 0;
        for (; vLow < MagnitudeRadix.LowBins; vLow++)
        {
            long next = g;
            for (int j = 0; j < count; j++)
            {
                if (_below[j] >= _caps[j] || _histograms[j][bin] == 0) continue;
                long h = LowCount(j, vLow);
                if (h == 0) continue;
                long room = _caps[j] - _below[j];
                next += Math.Min(room, lowBelow[j] + h) - Math.Min(room, lowBelow[j]);
            }
            if (next >= needed) break;
            for (int j = 0; j < count; j++)
            {
                if (_below[j] < _caps[j] && _histograms[j][bin] != 0) lowBelow[j] += LowCount(j, vLow);
            }
            g = next;
        }
        uint vStar = bin << 16 | (uint)vLow;
        long remaining = needed - g; // weights equal to v* still to prune, > 0

        for (int j = 0; j < count; j++)
        {
            if (_below[j] >= _caps[j]) continue; // own cut set above or in LocateGlobalBin
            long below = _below[j] + lowBelow[j];
            if (below >= _caps[j])
            {
                // Reached its cap inside B, below v*: its own c_j smallest, within B.
                long target = _caps[j] - _below[j], acc = 0;
                int u = 0;
                while (acc + LowCount(j, u) < target) acc += LowCount(j, u++);
                SetCut(j, bin << 16 | (uint)u, target - acc, _caps[j]);
                continue;
            }
            long equal = _histograms[j][bin] == 0 ? 0 : LowCount(j, vLow);
            long take = Math.Min(Math.Min(equal, _caps[j] - below), remaining);
            remaining -= take;
            SetCut(j, vStar, take, below + take);
        }
        _threshold = _halfKeys
            ? (float)BitConverter.UInt16BitsToHalf((ushort)(vStar >> 16))
            : BitConverter.UInt32BitsToSingle(vStar);
    }
}
