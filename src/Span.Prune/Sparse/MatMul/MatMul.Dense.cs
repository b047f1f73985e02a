using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Dense matrix multiply `Y = W·X`: the honest baseline every sparse format is measured against.
// Layout: `W` is `[rows × cols]` row-major, `X` is `[cols × batch]` row-major (a batch
// row is contiguous), `Y` is `[rows × batch]` row-major: `Y[r, b] = Σ_k W[r, k]·X[k, b]`.
// Batch 1 runs a bandwidth-bound GEMV; larger batches run a register-blocked GEMM (micro-kernels of
// 6 rows × 4 vectors on AVX-512, 4 × 4 below it, then 6 × 2 and 8 × 1 for narrower batch tiles, all fused
// multiply-add, cache-tiled over k so that a 128 KiB panel of X stays in L2) on the widest SIMD width that the
// batch fills (Vector512 → Vector256 → Vector128 → scalar). Batches of 2 to 8 on AVX-512 run a grouped-k kernel
// instead: one 512-bit register holds 16 / B consecutive k-steps of the batch rounded up to B = 2, 4 or 8 columns, so W
// is read once, as by the GEMV.
// Determinism: each output is a fixed sequence of fused multiply-adds in ascending k, chosen from the
// batch size and the machine only, so repeated calls and the `MultiplyParallel` overloads give identical bits.
// Allocation: none per call once warm (the ragged last batch tile is packed into a per-thread scratch buffer
// that grows once), in the parallel overloads too (pooled thread-pool work items, the calling thread takes a share).
public static partial class MatMul
{
    /// <summary>Computes <c>Y = W·X</c> on the calling thread.</summary>
    /// <param name="weights">W, <c>[rows × cols]</c> row-major; length must be <c>rows·cols</c>.</param>
    /// <param name="rows">Rows of W (output units).</param>
    /// <param name="cols">Columns of W (input features).</param>
    /// <param name="x">X, <c>[cols × batch]</c> row-major; length must be <c>cols·batch</c>.</param>
    /// <param name="y">Y, <c>[rows × batch]</c> row-major; the first <c>rows·batch</c> elements are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps an input.</exception>
    public static void Multiply(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int batch) =>
        Run(weights, rows, cols, x, y, batch, 1);

    /// <summary>Computes <c>Y = W·X</c>, splitting the rows over up to <paramref name="maxDegreeOfParallelism"/> threads; bit-identical to <see cref="Multiply(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, Span{float}, int)"/>.</summary>
    /// <param name="weights">W, <c>[rows × cols]</c> row-major; length must be <c>rows·cols</c>.</param>
    /// <param name="rows">Rows of W (output units).</param>
    /// <param name="cols">Columns of W (input features).</param>
    /// <param name="x">X, <c>[cols × batch]</c> row-major; length must be <c>cols·batch</c>.</param>
    /// <param name="y">Y, <c>[rows × batch]</c> row-major; the first <c>rows·batch</c> elements are overwritten.</param>
    /// <param name="batch">Columns of X and Y.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; −1 or 0 uses every processor.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative.</exception>
    /// <exception cref="ArgumentException">A length does not match, or <paramref name="y"/> overlaps an input.</exception>
    public static void MultiplyParallel(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int batch, int maxDegreeOfParallelism = -1) =>
        Run(weights, rows, cols, x, y, batch, RowParallel.Degree(maxDegreeOfParallelism));

    internal static void Validate(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        if (rows < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), "Rows must not be negative.");
        if (cols < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(cols), "Columns must not be negative.");
        if (batch < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(batch), "Batch must not be negative.");
        if ((long)rows * cols != weights.Length) ThrowHelper.ThrowArgument(nameof(weights), $"Length {weights.Length} does not match rows·cols = {rows}·{cols}.");
        ValidateOperands(x, y, cols, rows, batch);
        if (y.Slice(0, rows * batch).Overlaps(weights)) ThrowHelper.ThrowOverlap(nameof(y));
    }

    /// <summary>Shared X/Y checks of every multiply: X exactly <c>[cols × batch]</c>, Y at least <c>[rows × batch]</c>, no overlap.</summary>
    internal static void ValidateOperands(ReadOnlySpan<float> x, Span<float> y, int cols, int rows, int batch)
    {
        if ((long)cols * batch != x.Length) ThrowHelper.ThrowArgument(nameof(x), $"Length {x.Length} does not match cols·batch = {cols}·{batch}.");
        long needed = (long)rows * batch;
        if (needed > y.Length) ThrowHelper.ThrowDestinationTooShort(nameof(y), y.Length, (int)Math.Min(needed, int.MaxValue));
        if (y.Slice(0, (int)needed).Overlaps(x)) ThrowHelper.ThrowOverlap(nameof(y));
    }

    private static void Run(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> x, Span<float> y, int batch, int threads)
    {
        Validate(weights, rows, cols, x, y, batch);
        if (rows == 0 || batch == 0) return;
        RunUnchecked(ref MemoryMarshal.GetReference(weights), rows, cols, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), batch, threads);
    }

    /// <summary>Kernel entry without validation (also used by the shrunk-dense multiply).</summary>
    internal static void RunUnchecked(ref float w, int rows, int cols, ref float x, ref float y, int batch, int threads)
    {
        if (batch == 1)
        {
            Dispatch(Width.Gemv, ref w, rows, cols, ref x, ref y, 1, threads);
        }
        else if (IsNarrow(batch)) Dispatch(Width.Narrow512, ref w, rows, cols, ref x, ref y, batch, threads);
        else if (SimdLevel.Has512 && batch >= 16) Dispatch(Width.W512, ref w, rows, cols, ref x, ref y, batch, threads);
        else if (SimdLevel.Has256 && batch >= 8) Dispatch(Width.W256, ref w, rows, cols, ref x, ref y, batch, threads);
        else if (SimdLevel.Has128) Dispatch(Width.W128, ref w, rows, cols, ref x, ref y, batch, threads);
        else Dispatch(Width.Scalar, ref w, rows, cols, ref x, ref y, batch, threads);
    }

    private enum Width : byte { Gemv, Narrow512, W512, W256, W128, Scalar }

    private static unsafe void Dispatch(Width width, ref float w, int rows, int cols, ref float x, ref float y, int batch, int threads)
    {
        int start = 0, raggedWidth = width switch
        {
            Width.W512 => RaggedTile<Simd512, Vector512<float>>(batch, out start, out _),
            Width.W256 => RaggedTile<Simd256, Vector256<float>>(batch, out start, out _),
            Width.W128 => RaggedTile<Simd128, Vector128<float>>(batch, out start, out _),
            Width.Scalar => RaggedTile<SimdScalar, float>(batch, out start, out _),
            _ => 0,
        };
        // Narrow: X regrouped so that one vector holds 16 / batch k-steps of every batch column. Wider: the ragged last
        // batch tile, zero-padded to whole vectors. Either in aligned scratch (none for the GEMV or without columns).
        int packedLength = cols == 0 ? 0 : width == Width.Narrow512 ? NarrowPackedLength(cols, batch) : cols * raggedWidth;
        using var scratch = new AlignedScratch(packedLength);
        Span<float> packed = scratch.Span;
        if (width == Width.Narrow512 && packedLength > 0) PackNarrow(ref x, cols, batch, packed);
        else if (packedLength > 0) PackTail(ref x, cols, batch, start, raggedWidth, ref MemoryMarshal.GetReference(packed));
        fixed (float* pw = &w, px = &x, py = &y, pp = packed)
        {
            var kernel = new GemmKernel(width, pw, rows, cols, px, batch, pp, py);
            if (threads <= 1 || rows < 2 * 24) kernel.Run(0, rows);
            else RowParallel.For(rows, threads, kernel);
        }
    }

    private readonly unsafe struct GemmKernel(Width width, float* w, int rows, int cols, float* x, int batch, float* packed, float* y) : IRowRangeKernel
    {
        // 24 = lcm(4, 6, 8): chunk boundaries fall on whole micro-kernel row blocks.
        public int Boundary(int chunk, int chunks) => RowParallel.EvenBoundary(chunk, chunks, rows, 24);

        public void Run(int start, int end)
        {
            ref float pk = ref packed == null ? ref Unsafe.NullRef<float>() : ref *packed;
            switch (width)
            {
                case Width.Gemv:
                    if (SimdLevel.Has512) GemvRows<Simd512, Vector512<float>>(ref *w, cols, ref *x, ref *y, start, end);
                    else if (SimdLevel.Has256) GemvRows<Simd256, Vector256<float>>(ref *w, cols, ref *x, ref *y, start, end);
                    else if (SimdLevel.Has128) GemvRows<Simd128, Vector128<float>>(ref *w, cols, ref *x, ref *y, start, end);
                    else GemvRows<SimdScalar, float>(ref *w, cols, ref *x, ref *y, start, end);
                    break;
                case Width.Narrow512: NarrowRows(ref *w, cols, ref pk, ref *y, batch, start, end); break;
                case Width.W512: GemmRows<Simd512, Vector512<float>>(ref *w, cols, ref *x, batch, ref pk, ref *y, start, end); break;
                case Width.W256: GemmRows<Simd256, Vector256<float>>(ref *w, cols, ref *x, batch, ref pk, ref *y, start, end); break;
                case Width.W128: GemmRows<Simd128, Vector128<float>>(ref *w, cols, ref *x, batch, ref pk, ref *y, start, end); break;
                default: GemmRows<SimdScalar, float>(ref *w, cols, ref *x, batch, ref pk, ref *y, start, end); break;
            }
        }
    }
}
