using System.Diagnostics;
using System.Numerics.Tensors;
using Span.Prune.Internal;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// The threshold solver of the global magnitude engine: from the counts in <see cref="MagnitudeHistograms"/> it finds
/// where the greedy walk over ascending <c>(key, tensor, index)</c> stops after pruning <c>k</c> weights, and gives
/// every slot its cut: prune the keys below <see cref="Cut"/> and the first <see cref="Ties"/> keys equal to it.
/// </summary>
/// <remarks>
/// <para><b>Rule.</b> Slot <c>j</c> may lose at most <c>c_j</c> weights (its tensors' caps <c>⌊cap·n⌋</c>, summed;
/// <c>n</c> when uncapped). After the walk has passed every key ≤ <c>v</c> it has pruned
/// <c>F(v) = Σ_j min(c_j, #{key ≤ v in j})</c>; it stops at the smallest key <c>v*</c> with <c>F(v*) ≥ k</c>. A slot
/// that reached its cap before <c>v*</c> prunes its own <c>c_j</c> smallest; the others prune every key below
/// <c>v*</c>, and the <c>k − F(below v*)</c> weights equal to <c>v*</c> still to prune go to them in slot order
/// (<see cref="TieQuota.Take"/>), each up to its cap.</para>
/// <para><b>Method.</b> <see cref="Locate"/> finds the first-level bin <c>B</c> of <c>v*</c> and the slots whose cut
/// lies inside a bin that is not a whole key; those are refined by a second counting pass, then <see cref="Finish"/>
/// finds <c>v*</c> inside <c>B</c>. Both walk the bins a block of <see cref="Block"/> at a time (one vector sum per
/// slot and block) and bin by bin only inside the block where the walk stops, so a walk costs about
/// <c>slots × bins / 16</c> additions instead of one scalar step per slot and bin.</para>
/// </remarks>
internal struct GlobalThresholdSolver
{
    /// <summary>Bins summed per step of a walk (both levels have a multiple of it).</summary>
    private const int Block = 256;

    private readonly StateArrays _arrays;
    private readonly long _pruneCount;
    private readonly Slot[] _slots;
    private readonly int _slotCount;
    // Walk scratch, one entry per walked row.
    private readonly int[] _rows;      // row index into the count matrix
    private readonly int[] _rowSlot;   // the slot of the row
    private readonly long[] _rooms;    // what the row may still lose
    private readonly long[] _prefix;   // the row's count before the current bin
    private readonly long[] _sums;     // the row's count in the current block
    private uint _globalBin;
    private long _prunedBelowGlobalBin;

    /// <summary>Per slot: cap, counts below the global bin, and the resulting cut.</summary>
    private struct Slot
    {
        public long Cap;      // c_j
        public long Below;    // keys in bins below the global bin B
        public long LowBase;  // keys below the refined bin (for a slot refined at its own bin)
        public long LowBelow; // keys in B below v*
        public uint Cut;      // prune key < Cut ...
        public long Ties;     // ... and the first Ties keys == Cut
        public long Pruned;
    }

    /// <summary>Prepares the solver for <paramref name="slotCount"/> slots, all caps 0.</summary>
    public GlobalThresholdSolver(int slotCount, long pruneCount, StateArrays arrays)
    {
        _arrays = arrays;
        _pruneCount = pruneCount;
        _slotCount = slotCount;
        _slots = arrays.Take<Slot>(slotCount);
        _rows = arrays.Take<int>(slotCount);
        _rowSlot = arrays.Take<int>(slotCount);
        _rooms = arrays.Take<long>(slotCount);
        _prefix = arrays.Take<long>(slotCount);
        _sums = arrays.Take<long>(slotCount);
    }

    /// <summary>Raises slot <paramref name="slot"/>'s cap by <paramref name="cap"/> (once per tensor of the slot).</summary>
    public readonly void AddCap(int slot, long cap) => _slots[slot].Cap += cap;

    /// <summary>Slot <paramref name="slot"/> prunes the keys below this one ...</summary>
    public readonly uint Cut(int slot) => _slots[slot].Cut;

    /// <summary>... and this many keys equal to <see cref="Cut"/>, in tensor then index order.</summary>
    public readonly long Ties(int slot) => _slots[slot].Ties;

    /// <summary>How many weights slot <paramref name="slot"/> loses.</summary>
    public readonly long Pruned(int slot) => _slots[slot].Pruned;

    /// <summary>The largest pruned key <c>v*</c> (valid after <see cref="Finish"/> when something is pruned).</summary>
    public uint ThresholdKey { readonly get; private set; }

    /// <summary>
    /// First level: finds the global bin <c>B</c> (the smallest with <c>F(end of B) ≥ k</c>), sets the cuts that the
    /// first level decides, and marks the slots that need a second level in <paramref name="histograms"/> (then
    /// allocated). Returns whether any does. Needs <c>0 &lt; k ≤ Σ c_j</c>.
    /// </summary>
    public bool Locate(ref MagnitudeHistograms histograms)
    {
        int count = _slotCount;
        Span<long> below = _prefix.AsSpan(0, count);
        for (int j = 0; j < count; j++)
        {
            _rows[j] = j;
            _rooms[j] = _slots[j].Cap;
        }
        _globalBin = (uint)Walk(histograms.HighCounts, MagnitudeRadix.Bins, count, _pruneCount, out _prunedBelowGlobalBin);

        bool refine = false;
        for (int j = 0; j < count; j++)
        {
            ref Slot slot = ref _slots[j];
            ReadOnlySpan<uint> h = histograms.High(j);
            slot.Below = below[j];
            if (slot.Below >= slot.Cap)
            {
                // At its cap before B: its own c_j smallest, located in its own bin.
                if (slot.Cap == 0) continue; // cut 0, no ties
                uint b = (uint)SmallestReaching(h, slot.Cap, out long before);
                long need = slot.Cap - before;
                if (histograms.WholeKey(j)) SetCut(ref slot, b << 16, need, slot.Cap);
                else if (need == h[(int)b]) SetCut(ref slot, (b + 1) << 16, 0, slot.Cap);
                else
                {
                    histograms.MarkRefinement(j, b);
                    slot.LowBase = before;
                    refine = true;
                }
            }
            else if (h[(int)_globalBin] != 0 && !histograms.WholeKey(j))
            {
                histograms.MarkRefinement(j, _globalBin);
                slot.LowBase = slot.Below;
                refine = true;
            }
        }
        if (refine) histograms.AllocateRefinement();
        return refine;
    }

    /// <summary>
    /// Second level: finds <c>v*</c> inside the global bin and sets every cut not set yet (see the remarks).
    /// </summary>
    public void Finish(in MagnitudeHistograms histograms)
    {
        int count = _slotCount;
        uint bin = _globalBin;
        long needed = _pruneCount - _prunedBelowGlobalBin; // > 0 inside B

        // Own cuts of slots at their cap before B whose cut needed the second level.
        for (int j = 0; j < count; j++)
        {
            ref Slot slot = ref _slots[j];
            if (slot.Below < slot.Cap || !histograms.IsRefined(j)) continue;
            long target = slot.Cap - slot.LowBase;
            uint u = (uint)SmallestReaching(histograms.Low(j), target, out long before);
            SetCut(ref slot, histograms.RefinedBin(j) << 16 | u, target - before, slot.Cap);
        }

        // The walk inside B over the slots still below their cap with keys in B: G(u) = Σ min(room_j, #{low ≤ u}).
        // A whole-key slot has all its keys in B at low 0, so it adds a constant from u = 0 on; the refined ones walk.
        long wholeKeyShare = 0;
        int rows = 0;
        for (int j = 0; j < count; j++)
        {
            ref Slot slot = ref _slots[j];
            slot.LowBelow = 0;
            uint inBin = histograms.High(j)[(int)bin];
            if (slot.Below >= slot.Cap || inBin == 0) continue;
            long room = slot.Cap - slot.Below;
            if (histograms.IsRefined(j))
            {
                _rows[rows] = histograms.LowRow(j);
                _rowSlot[rows] = j;
                _rooms[rows++] = room;
            }
            else
            {
                wholeKeyShare += Math.Min(room, inBin);
            }
        }
        int vLow = 0;
        long pruned = 0; // G just below v*
        if (wholeKeyShare < needed)
        {
            vLow = Walk(histograms.LowCounts, MagnitudeRadix.LowBins, rows, needed - wholeKeyShare, out long reached);
            if (vLow > 0) pruned = wholeKeyShare + reached;
            for (int r = 0; r < rows; r++) _slots[_rowSlot[r]].LowBelow = _prefix[r];
        }
        uint vStar = bin << 16 | (uint)vLow;
        long remaining = needed - pruned; // weights equal to v* still to prune, > 0

        for (int j = 0; j < count; j++)
        {
            ref Slot slot = ref _slots[j];
            if (slot.Below >= slot.Cap) continue; // own cut set above or in Locate
            uint inBin = histograms.High(j)[(int)bin];
            bool refined = histograms.IsRefined(j);
            if (!refined && vLow > 0) slot.LowBelow = inBin; // a whole-key slot's keys in B all lie below v*
            long below = slot.Below + slot.LowBelow;
            if (below >= slot.Cap)
            {
                // Reached its cap inside B, below v*: its own c_j smallest, within B.
                long target = slot.Cap - slot.Below, before = 0;
                uint u = refined ? (uint)SmallestReaching(histograms.Low(j), target, out before) : 0;
                SetCut(ref slot, bin << 16 | u, target - before, slot.Cap);
                continue;
            }
            long equal = inBin == 0 ? 0 : refined ? histograms.Low(j)[vLow] : vLow == 0 ? inBin : 0;
            long take = TieQuota.Take(equal, slot.Cap - below, ref remaining);
            SetCut(ref slot, vStar, take, below + take);
        }
        ThresholdKey = vStar;
    }

    /// <summary>Hands pooled arrays back.</summary>
    public readonly void Return()
    {
        _arrays.Return(_sums);
        _arrays.Return(_prefix);
        _arrays.Return(_rooms);
        _arrays.Return(_rowSlot);
        _arrays.Return(_rows);
        _arrays.Return(_slots);
    }

    private static void SetCut(ref Slot slot, uint cut, long ties, long pruned)
    {
        slot.Cut = cut;
        slot.Ties = ties;
        slot.Pruned = pruned;
    }

    /// <summary>What a row adds to the walk when its count rises from <paramref name="before"/> by <paramref name="add"/>.</summary>
    private static long Gain(long room, long before, long add) => Math.Min(room, before + add) - Math.Min(room, before);

    /// <summary>
    /// The greedy walk over the first <paramref name="rowCount"/> rows of <see cref="_rows"/> (rows of
    /// <paramref name="counts"/>, <paramref name="length"/> bins each) with rooms <see cref="_rooms"/>: the smallest bin
    /// <c>u</c> with <c>Σ_r min(room_r, P_r(u)) ≥ need</c>, <c>P_r(u)</c> the row's count over bins <c>[0, u]</c>. On
    /// return <see cref="_prefix"/> holds <c>P_r(u − 1)</c> and <paramref name="reached"/> the sum just below u.
    /// </summary>
    private readonly int Walk(ReadOnlySpan<uint> counts, int length, int rowCount, long need, out long reached)
    {
        Debug.Assert(rowCount > 0 && length % Block == 0);
        Span<long> prefix = _prefix.AsSpan(0, rowCount), sums = _sums.AsSpan(0, rowCount);
        ReadOnlySpan<int> rows = _rows.AsSpan(0, rowCount);
        ReadOnlySpan<long> rooms = _rooms.AsSpan(0, rowCount);
        prefix.Clear();
        reached = 0;

        // Whole blocks while the walk stays short of the need at the block's end (F is monotone, so none inside
        // such a block reaches it either). A row's counts sum to at most 2³² − 1, so a uint block sum cannot overflow.
        int start = 0;
        for (; start < length; start += Block)
        {
            long next = reached;
            for (int r = 0; r < rowCount; r++)
            {
                sums[r] = TensorPrimitives.Sum(counts.Slice(rows[r] * length + start, Block));
                next += Gain(rooms[r], prefix[r], sums[r]);
            }
            if (next >= need) break;
            for (int r = 0; r < rowCount; r++) prefix[r] += sums[r];
            reached = next;
        }

        // Bin by bin inside the block where the walk stops.
        for (int u = start; u < length; u++)
        {
            long next = reached;
            for (int r = 0; r < rowCount; r++) next += Gain(rooms[r], prefix[r], counts[rows[r] * length + u]);
            if (next >= need) return u;
            for (int r = 0; r < rowCount; r++) prefix[r] += counts[rows[r] * length + u];
            reached = next;
        }
        throw new UnreachableException("The walk's need exceeds what the rows can give.");
    }

    /// <summary>
    /// The smallest bin <c>u</c> whose running count reaches <paramref name="target"/> (&gt; 0, at most the sum of
    /// <paramref name="counts"/>); <paramref name="before"/> = the count below <c>u</c>.
    /// </summary>
    private static int SmallestReaching(ReadOnlySpan<uint> counts, long target, out long before)
    {
        Debug.Assert(target > 0 && counts.Length % Block == 0);
        before = 0;
        int start = 0;
        for (; start < counts.Length; start += Block)
        {
            uint sum = TensorPrimitives.Sum(counts.Slice(start, Block));
            if (before + sum >= target) break;
            before += sum;
        }
        for (int u = start; u < counts.Length; u++)
        {
            if (before + counts[u] >= target) return u;
            before += counts[u];
        }
        throw new UnreachableException("The target exceeds the counts.");
    }
}
