using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Span.Prune.Internal;

namespace Span.Prune.Sparse;

// Cache tiling of the dense GEMM. Loop nest: k-block (KC) → batch tile (P columns) → row block (MR rows).
// The X panel of one k-block and one batch tile (KC × P floats = 128 KiB) stays in L2 while all row blocks
// stream W past it; each W element is used P times per load, so W streaming from memory needs only ~2 bytes
// per cycle and the kernel stays FMA-bound. KC = 512 at P = 64, 1024 at P = 32, whole rows below. Full tiles read X in place (row stride = batch); only a
// ragged last tile is packed, zero-padded to P, so the micro-kernels never need a masked load or store.
public static partial class MatMul
{
    /// <summary>Bytes of X panel (KC × P floats) kept cache-resident while W streams past it.</summary>
    internal const int PanelBytes = 128 * 1024;

    /// <summary>k-block length for a batch tile of <paramref name="p"/> columns.</summary>
    private static int BlockK(int p) => Math.Max(64, PanelBytes / (p * sizeof(float)));

    private enum TileKind : byte { R4x4, R6x4, R6x2, R8x1 }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileWidth(TileKind kind, int v) => kind switch { TileKind.R4x4 or TileKind.R6x4 => 4 * v, TileKind.R6x2 => 2 * v, _ => v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TileRows(TileKind kind) => kind switch { TileKind.R4x4 => 4, TileKind.R6x4 or TileKind.R6x2 => 6, _ => 8 };

    // The batch is cut into tiles left to right: 4-vector tiles while at least 4 vectors remain, then one
    // 2-vector tile while more than one vector remains, then 1-vector tiles; only the last tile can be ragged.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TileKind NextTile(int remaining, int v) =>
        remaining >= 4 * v ? (v == 16 ? TileKind.R6x4 : TileKind.R4x4) : remaining > v ? TileKind.R6x2 : TileKind.R8x1;

    /// <summary>Floats of packed X needed for the ragged last batch tile (0 when the batch splits evenly).</summary>
    private static int RaggedTile<TS, TV>(int batch, out int start, out TileKind kind)
        where TS : struct, ISimd<TV> where TV : struct
    {
        int v = TS.Width, j = 0;
        while (true)
        {
            kind = NextTile(batch - j, v);
            int p = TileWidth(kind, v);
            if (j + p >= batch)
            {
                start = j;
                return j + p == batch ? 0 : p;
            }
            j += p;
        }
    }

    /// <summary>Copies X[:, start..batch) into a zero-padded [cols × p] panel.</summary>
    private static void PackTail(ref float x, int cols, int batch, int start, int p, ref float packed)
    {
        int width = batch - start;
        for (int k = 0; k < cols; k++)
        {
            ref float dst = ref Unsafe.Add(ref packed, (nint)k * p);
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x, (nint)k * batch + start), width).CopyTo(MemoryMarshal.CreateSpan(ref dst, width));
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref dst, width), p - width).Clear();
        }
    }

    private static void CopyRows(ref float source, nint sourceStride, ref float destination, nint destinationStride, int rows, int width)
    {
        for (int i = 0; i < rows; i++)
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref source, i * sourceStride), width)
                .CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref destination, i * destinationStride), width));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Micro<TS, TV>(TileKind kind, ref float w, nint wStride, ref float x, nint xStride, ref float y, nint yStride, nint k, bool accumulate)
        where TS : struct, ISimd<TV> where TV : struct
    {
        switch (kind)
        {
            case TileKind.R4x4: Micro4x4<TS, TV>(ref w, wStride, ref x, xStride, ref y, yStride, k, accumulate); break;
            case TileKind.R6x4: Micro6x4<TS, TV>(ref w, wStride, ref x, xStride, ref y, yStride, k, accumulate); break;
            case TileKind.R6x2: Micro6x2<TS, TV>(ref w, wStride, ref x, xStride, ref y, yStride, k, accumulate); break;
            default: Micro8x1<TS, TV>(ref w, wStride, ref x, xStride, ref y, yStride, k, accumulate); break;
        }
    }

    /// <summary>
    /// Y[r0..r1) = W[r0..r1) · X for one SIMD width. <paramref name="packed"/> holds the ragged last tile packed by
    /// <see cref="PackTail"/> (unused when the batch splits evenly).
    /// </summary>
    private static void GemmRows<TS, TV>(ref float w, int cols, ref float x, int batch, ref float packed, ref float y, int r0, int r1)
        where TS : struct, ISimd<TV> where TV : struct
    {
        if (r0 >= r1) return;
        if (cols == 0)
        {
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref y, (nint)r0 * batch), (r1 - r0) * batch).Clear();
            return;
        }
        int v = TS.Width;
        // Y scratch for ragged tiles and rows: the micro-kernels always see full MR × P tiles.
        Span<float> yTemp = stackalloc float[6 * 64];
        ref float yt = ref MemoryMarshal.GetReference(yTemp);

        int kc = BlockK(TileWidth(NextTile(batch, v), v));
        for (int k0 = 0; k0 < cols; k0 += kc)
        {
            int kLen = Math.Min(kc, cols - k0);
            bool accumulate = k0 > 0;
            for (int j = 0; j < batch;)
            {
                TileKind kind = NextTile(batch - j, v);
                int p = TileWidth(kind, v), mr = TileRows(kind);
                int width = Math.Min(p, batch - j);
                bool ragged = width < p;
                ref float xt = ref ragged ? ref Unsafe.Add(ref packed, (nint)k0 * p) : ref Unsafe.Add(ref x, (nint)k0 * batch + j);
                nint xStride = ragged ? p : batch;
                int r = r0;
                if (!ragged)
                {
                    for (; r + mr <= r1; r += mr)
                        Micro<TS, TV>(kind, ref Unsafe.Add(ref w, (nint)r * cols + k0), cols, ref xt, xStride, ref Unsafe.Add(ref y, (nint)r * batch + j), batch, kLen, accumulate);
                }
                if (ragged)
                {
                    // Ragged batch tile: run the same kernel into a full MR × P copy of Y, then copy the valid columns back.
                    for (; r + mr <= r1; r += mr)
                    {
                        ref float yBlock = ref Unsafe.Add(ref y, (nint)r * batch + j);
                        if (accumulate) CopyRows(ref yBlock, batch, ref yt, p, mr, width);
                        Micro<TS, TV>(kind, ref Unsafe.Add(ref w, (nint)r * cols + k0), cols, ref xt, xStride, ref yt, p, kLen, accumulate);
                        CopyRows(ref yt, p, ref yBlock, batch, mr, width);
                    }
                }
                // Ragged row block: one row at a time. Every output element is the same chain of FMAs in ascending k
                // whichever kernel computes it, so the tail rows match what a full block would have produced.
                for (; r < r1; r++)
                {
                    ref float yRow = ref Unsafe.Add(ref y, (nint)r * batch + j);
                    if (accumulate) CopyRows(ref yRow, batch, ref yt, p, 1, width);
                    MicroRow<TS, TV>(p / v, ref Unsafe.Add(ref w, (nint)r * cols + k0), ref xt, xStride, ref yt, kLen, accumulate);
                    CopyRows(ref yt, p, ref yRow, batch, 1, width);
                }
                j += p;
            }
        }
    }
}
