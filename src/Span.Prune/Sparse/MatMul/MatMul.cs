namespace Span.Prune.Sparse;

/// <summary>
/// Matrix multiply <c>Y = W·X</c> with W dense or in any of the library's sparse formats: one <c>Multiply</c> /
/// <c>MultiplyParallel</c> pair per format, the dense one being the honest baseline every sparse format is measured
/// against.
/// </summary>
/// <remarks>
/// <para>Layout, every format: W is <c>[rows × cols]</c>, X is <c>[cols × batch]</c> row-major (a batch row is
/// contiguous), Y is <c>[rows × batch]</c> row-major and its first <c>rows·batch</c> elements are overwritten:
/// <c>Y[r, b] = Σ_k W[r, k]·X[k, b]</c> over the stored entries. Dense W is a row-major span with its
/// <c>rows</c> and <c>cols</c>; <see cref="CsrMatrix"/>, <see cref="BsrMatrix"/>, <see cref="NmSparseMatrix"/> and
/// <see cref="ShrunkDense"/> carry their shape (for <see cref="ShrunkDense"/> the operands are the shrunk ones).</para>
/// <para>Determinism: each output is accumulated in an order fixed by the matrix structure, the batch size and the
/// machine only, so repeated calls and the <c>MultiplyParallel</c> overloads (rows split over threads) give identical
/// bits. Sparse sums differ from the dense product only by rounding, and entries that are not stored contribute
/// nothing even where X holds an infinity or NaN (the dense product would give 0·∞ = NaN there).</para>
/// <para>Allocation: none per call once warm (packed panels of X live in per-thread scratch), in the parallel
/// overloads too (pooled thread-pool work items; the calling thread takes a share of the rows).</para>
/// <para>For a layer multiplied many times, <see cref="SparseLayer"/> picks the fastest of these formats for its
/// shape, sparsity and batch.</para>
/// </remarks>
public static partial class MatMul;
