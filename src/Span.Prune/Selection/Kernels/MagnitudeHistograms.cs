using System.Diagnostics;
using System.Numerics;
using Span.Prune.Internal;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The counting state of the global magnitude engine: which histogram ("slot") each tensor counts into, per slot a
/// first-level histogram of the high 15 key bits, and for the slots being refined a second-level histogram of the low
/// 16 key bits inside one first-level bin. <see cref="GlobalThresholdSolver"/> reads it; the key makers
/// (<see cref="IMagnitudeKey{TSelf, T}"/>) fill it.
/// </summary>
/// <remarks>
/// <para><b>Slots.</b> One per tensor while the tensors fit the budget. Beyond it, runs of consecutive tensors share a
/// slot (<see cref="SlotSharing"/>: of one element type, or any marked shareable), each run closing once it holds
/// <c>⌈N / budget⌉</c> elements (and never growing past <c>2³² − 1</c>, so a count cannot overflow). Sharing is exact
/// for an uncapped selection: it orders by <c>(|w|, tensor, index)</c>, which within a run is the order of the run's
/// concatenation. A capped tensor needs its own counts unless its cap is applied before it is counted
/// (<see cref="CountCapped"/>, as <see cref="GlobalMagnitudePruning"/> does for small tensors).</para>
/// <para><b>Memory.</b> 128 KiB of first-level counts per slot (contiguous, slot-major), 256 KiB of second-level
/// counts per refined slot, a few words per tensor; GC-owned or pooled as <see cref="StateArrays"/> says. Counting a
/// chunk of at least <see cref="DirectCountLimit"/> elements takes 512 KiB of zeroed sub-histograms from the caller
/// (<see cref="SubHistogramLength"/>); shorter chunks are counted straight into the slot, where merging 4
/// sub-histograms (640 KiB of traffic) would cost more than the store-forwarding stalls they avoid.</para>
/// <para><b>Threads.</b> Counting into different slots may run concurrently; a shared slot is updated under a lock.</para>
/// </remarks>
internal struct MagnitudeHistograms
{
    /// <summary>Which tensors may share a slot once there are more tensors than the budget.</summary>
    public enum SlotSharing
    {
        /// <summary>Consecutive tensors of one element type (the in-memory selection; the solver's tests).</summary>
        SameType,

        /// <summary>
        /// Consecutive tensors marked shareable, whatever their element type (every key maker outside the all-F16
        /// case ranks in the float32 key space), each slot holding at least <see cref="MinSharedElements"/>: the slot
        /// count stays within the budget plus the tensors that may not share (twice).
        /// </summary>
        Bounded,
    }

    /// <summary>Sub-histogram scratch of one counting call: 4 × 2¹⁵ counts (512 KiB).</summary>
    public const int SubHistogramLength = MagnitudeRadix.SubHistograms * MagnitudeRadix.Bins;

    /// <summary>Chunks shorter than this are counted straight into their slot's histogram.</summary>
    public const int DirectCountLimit = 1 << 14;

    /// <summary>Most slots one contiguous array of first-level counts holds (65,535).</summary>
    public const int MaxSlots = int.MaxValue / MagnitudeRadix.Bins;

    private const int MaxRefinedSlots = int.MaxValue / MagnitudeRadix.LowBins;

    /// <summary>Under <see cref="SlotSharing.Bounded"/>, the fewest elements a shared slot is filled with before it closes.</summary>
    public const int MinSharedElements = 1 << 16;

    private readonly StateArrays _arrays;
    private readonly int[] _slotOf;      // per tensor
    private readonly int[] _slotFirst;   // per slot, its first tensor; then the tensor count
    private readonly bool[] _wholeKey;   // per slot: counted by a key maker with 15-bit keys
    private readonly uint[] _high;       // SlotCount × Bins; also the lock of shared slots
    private readonly int[] _lowRow;      // per slot: its row of _low, or −1
    private readonly uint[] _lowBin;     // per slot: the first-level bin its second level refines
    private uint[]? _low;                // refined slots × LowBins
    private int _lowRows;

    /// <summary>Assigns the slots and allocates the first level.</summary>
    /// <param name="types">Per tensor, its element type (tensors of different types never share).</param>
    /// <param name="lengths">Per tensor, its element count in <c>[0, 2³² − 1]</c>.</param>
    /// <param name="total">The sum of <paramref name="lengths"/>.</param>
    /// <param name="budget">Slots before tensors share (<see cref="int.MaxValue"/> when capped).</param>
    /// <param name="arrays">Where the state lives.</param>
    /// <param name="sharing">How tensors may share beyond the budget (<see cref="SlotSharing.SameType"/> unless given).</param>
    /// <param name="shareable">With <see cref="SlotSharing.Bounded"/>: per tensor, whether it may share a slot.</param>
    public MagnitudeHistograms(ReadOnlySpan<ElementType> types, ReadOnlySpan<long> lengths, long total, int budget, StateArrays arrays,
        SlotSharing sharing = SlotSharing.SameType, ReadOnlySpan<bool> shareable = default)
    {
        int count = types.Length;
        Debug.Assert(sharing == SlotSharing.SameType || shareable.Length == count);
        _arrays = arrays;
        _slotOf = arrays.Take<int>(count);
        _slotFirst = arrays.Take<int>(count + 1);
        SlotCount = AssignSlots(types, lengths, total, budget, sharing, shareable, _slotOf, _slotFirst);
        if (SlotCount > MaxSlots) ThrowHelper.ThrowGlobalTooManyHistograms(nameof(lengths), SlotCount, MaxSlots);
        _wholeKey = arrays.Take<bool>(SlotCount);
        // A slot's bins are whole keys when all its tensors have 15-bit keys: BF16, and F16 when every tensor is F16 (its
        // own key space); F16 among other types is ranked by its float32 widening (31-bit keys).
        bool allHalf = !types.ContainsAnyExcept(ElementType.Float16);
        _wholeKey.AsSpan(0, SlotCount).Fill(true);
        for (int j = 0; j < count; j++)
            _wholeKey[_slotOf[j]] &= types[j] == ElementType.BFloat16 || (allHalf && types[j] == ElementType.Float16);
        _high = arrays.Take<uint>(SlotCount * MagnitudeRadix.Bins);
        _lowRow = arrays.Take<int>(SlotCount);
        _lowRow.AsSpan(0, SlotCount).Fill(-1);
        _lowBin = arrays.Take<uint>(SlotCount);
    }

    /// <summary>Number of slots (histograms).</summary>
    public int SlotCount { get; }

    /// <summary>The slot tensor <paramref name="tensor"/> counts into.</summary>
    public readonly int SlotOf(int tensor) => _slotOf[tensor];

    /// <summary>The first tensor of slot <paramref name="slot"/> (its tensors are consecutive).</summary>
    public readonly int FirstTensor(int slot) => _slotFirst[slot];

    /// <summary>Whether slot <paramref name="slot"/> holds more than one tensor.</summary>
    public readonly bool IsShared(int slot) => _slotFirst[slot + 1] - _slotFirst[slot] > 1;

    /// <summary>Whether slot <paramref name="slot"/>'s first-level bins are whole keys (one pass decides).</summary>
    public readonly bool WholeKey(int slot) => _wholeKey[slot];

    /// <summary>All first-level counts, slot after slot (<see cref="MagnitudeRadix.Bins"/> each).</summary>
    public readonly ReadOnlySpan<uint> HighCounts => _high.AsSpan(0, SlotCount * MagnitudeRadix.Bins);

    /// <summary>Slot <paramref name="slot"/>'s first-level counts.</summary>
    public readonly ReadOnlySpan<uint> High(int slot) => _high.AsSpan(slot * MagnitudeRadix.Bins, MagnitudeRadix.Bins);

    /// <summary>All second-level counts, refined slot after refined slot (<see cref="MagnitudeRadix.LowBins"/> each).</summary>
    public readonly ReadOnlySpan<uint> LowCounts => _low.AsSpan(0, _lowRows * MagnitudeRadix.LowBins);

    /// <summary>Whether slot <paramref name="slot"/> has a second level.</summary>
    public readonly bool IsRefined(int slot) => _lowRow[slot] >= 0;

    /// <summary>The row of slot <paramref name="slot"/> in <see cref="LowCounts"/> (it must be refined).</summary>
    public readonly int LowRow(int slot) => _lowRow[slot];

    /// <summary>The first-level bin slot <paramref name="slot"/>'s second level refines.</summary>
    public readonly uint RefinedBin(int slot) => _lowBin[slot];

    /// <summary>Slot <paramref name="slot"/>'s second-level counts (it must be refined).</summary>
    public readonly ReadOnlySpan<uint> Low(int slot) => _low.AsSpan(_lowRow[slot] * MagnitudeRadix.LowBins, MagnitudeRadix.LowBins);

    /// <summary>Whether a chunk of <paramref name="length"/> elements is counted without sub-histogram scratch.</summary>
    public static bool CountsDirectly(int length) => length < DirectCountLimit;

    /// <summary>
    /// First level: counts <paramref name="chunk"/> of tensor <paramref name="tensor"/> into its slot. Returns
    /// <see langword="false"/> when a key is that of ±∞ or NaN (counted all the same: the caller throws).
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="chunk">Its next elements.</param>
    /// <param name="zeroedScratch"><see cref="SubHistogramLength"/> zeroed counts, left zeroed; may be empty when
    /// <see cref="CountsDirectly"/> holds.</param>
    public readonly bool CountHigh<TKey, T>(int tensor, ReadOnlySpan<T> chunk, Span<uint> zeroedScratch)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        int slot = _slotOf[tensor];
        Debug.Assert(!_wholeKey[slot] || TKey.WholeKeyInFirstLevel);
        Span<uint> histogram = _high.AsSpan(slot * MagnitudeRadix.Bins, MagnitudeRadix.Bins);
        bool direct = CountsDirectly(chunk.Length) || zeroedScratch.IsEmpty;
        Debug.Assert(direct || zeroedScratch.Length >= SubHistogramLength);
        if (direct && !IsShared(slot)) return CountDirectly<TKey, T>(chunk, histogram);
        if (direct) lock (_high) return CountDirectly<TKey, T>(chunk, histogram);

        // The keys of ∞ and NaN fill the bins from the ∞ pattern up.
        TKey.CountHigh(chunk, zeroedScratch, MagnitudeRadix.Bins);
        if (!IsShared(slot)) return MagnitudeRadix.MergeAndClear(zeroedScratch, histogram, TKey.FirstNonFiniteBin) == 0;
        lock (_high) return MagnitudeRadix.MergeAndClear(zeroedScratch, histogram, TKey.FirstNonFiniteBin) == 0;
    }

    private static bool CountDirectly<TKey, T>(ReadOnlySpan<T> chunk, Span<uint> histogram)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        TKey.CountHigh(chunk, histogram, 0);
        // A finite slot has no counts from the ∞ bin up, so any there came from this chunk.
        return !histogram[TKey.FirstNonFiniteBin..].ContainsAnyExcept(0u);
    }

    /// <summary>Gives slot <paramref name="slot"/> a second level refining first-level bin <paramref name="bin"/>.</summary>
    public void MarkRefinement(int slot, uint bin)
    {
        Debug.Assert(_low is null && _lowRow[slot] < 0);
        _lowRow[slot] = _lowRows++;
        _lowBin[slot] = bin;
    }

    /// <summary>Allocates the second levels marked by <see cref="MarkRefinement"/>.</summary>
    public void AllocateRefinement()
    {
        if (_lowRows > MaxRefinedSlots) ThrowHelper.ThrowGlobalTooManyHistograms("lengths", _lowRows, MaxRefinedSlots);
        _low = _arrays.Take<uint>(_lowRows * MagnitudeRadix.LowBins);
    }

    /// <summary>Second level: counts the low key bits of the elements of <paramref name="chunk"/> in the refined bin.</summary>
    public readonly void CountLow<TKey, T>(int tensor, ReadOnlySpan<T> chunk)
        where TKey : IMagnitudeKey<TKey, T>
        where T : unmanaged, INumberBase<T>
    {
        int slot = _slotOf[tensor];
        Span<uint> low = _low.AsSpan(_lowRow[slot] * MagnitudeRadix.LowBins, MagnitudeRadix.LowBins);
        if (!IsShared(slot)) TKey.CountLow(chunk, _lowBin[slot], low);
        else lock (_high) TKey.CountLow(chunk, _lowBin[slot], low);
    }

    /// <summary>
    /// First level for a tensor whose cap is applied before it enters a shared slot (see
    /// <see cref="GlobalMagnitudePruning"/>): counts <paramref name="keysBelow"/> (its keys below its cap key) and
    /// <paramref name="capTies"/> more at <paramref name="capKey"/>.
    /// </summary>
    public readonly void CountCapped(int tensor, ReadOnlySpan<uint> keysBelow, uint capKey, long capTies)
    {
        Span<uint> histogram = _high.AsSpan(_slotOf[tensor] * MagnitudeRadix.Bins, MagnitudeRadix.Bins);
        lock (_high)
        {
            foreach (uint key in keysBelow) histogram[(int)(key >> 16)]++;
            histogram[(int)(capKey >> 16)] += (uint)capTies;
        }
    }

    /// <summary>
    /// Second level for such a tensor: counts the low bits of <paramref name="keys"/> below <paramref name="limit"/> (its
    /// cap key) in the refined bin, and when <paramref name="capTies"/> is non-zero that many at <paramref name="limit"/>.
    /// </summary>
    public readonly void CountCappedLow(int tensor, ReadOnlySpan<uint> keys, uint limit, long capTies)
    {
        int slot = _slotOf[tensor];
        uint bin = _lowBin[slot];
        Span<uint> low = _low.AsSpan(_lowRow[slot] * MagnitudeRadix.LowBins, MagnitudeRadix.LowBins);
        lock (_high)
        {
            foreach (uint key in keys)
            {
                if (key < limit && key >> 16 == bin) low[(int)(key & 0xFFFF)]++;
            }
            if (limit >> 16 == bin) low[(int)(limit & 0xFFFF)] += (uint)capTies;
        }
    }

    /// <summary>Hands pooled arrays back.</summary>
    public readonly void Return()
    {
        _arrays.Return(_low);
        _arrays.Return(_lowBin);
        _arrays.Return(_lowRow);
        _arrays.Return(_high);
        _arrays.Return(_wholeKey);
        _arrays.Return(_slotFirst);
        _arrays.Return(_slotOf);
    }

    /// <summary>
    /// Fills <paramref name="slotOf"/> and <paramref name="slotFirst"/> (each slot's first tensor, then the tensor
    /// count); returns the slot count.
    /// </summary>
    private static int AssignSlots(ReadOnlySpan<ElementType> types, ReadOnlySpan<long> lengths, long total, int budget,
        SlotSharing sharing, ReadOnlySpan<bool> shareable, Span<int> slotOf, Span<int> slotFirst)
    {
        int count = types.Length, slots = 0;
        long target = count <= budget ? 0 : Math.Min(uint.MaxValue, Math.Max(1, (total + budget - 1) / budget));
        // Bounded: a shared slot also holds at least as many elements as its histogram has bins (tiny tensors by the
        // million would otherwise still fill the whole budget).
        if (sharing == SlotSharing.Bounded && target != 0) target = Math.Max(target, MinSharedElements);
        long filled = 0;
        for (int j = 0; j < count; j++)
        {
            // A slot closes once it holds the target (so there are at most ⌈total / target⌉ of them, plus type changes
            // under SameType, plus the tensors that may not share and the runs they end under Bounded), and never grows
            // past 2³² − 1 elements, so that a bin count cannot overflow.
            bool split = sharing == SlotSharing.SameType
                ? types[j] != types[j - Math.Min(j, 1)]
                : !shareable[j] || !shareable[j - Math.Min(j, 1)];
            bool start = j == 0 || target == 0 || split || filled >= target || filled + lengths[j] > uint.MaxValue;
            if (start)
            {
                slotFirst[slots++] = j;
                filled = 0;
            }
            filled += lengths[j];
            slotOf[j] = slots - 1;
        }
        slotFirst[slots] = count;
        return slots;
    }
}
