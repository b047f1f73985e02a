using CommunityToolkit.HighPerformance.Buffers;
using System.Runtime.InteropServices;
using Span.Prune.SafeTensors;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>--sparse-out FILE</c>: the pruned weights in a sparse format chosen by the granularity, as plain safetensors
/// arrays that a Python user rebuilds without Span.Prune.
/// </summary>
/// <remarks>
/// <para>Every pruned weight <c>W</c> is stored as its 2-D view <c>[rows, cols]</c> (linear <c>[out, in]</c>; a
/// convolution OIHW as <c>[out, in·kh·kw]</c>; rank 3 <c>[O, I, K]</c> as <c>[O, I·K]</c>; rank 1 as <c>[1, n]</c>).
/// Metadata per tensor: <c>W.format</c> (<c>csr</c>, <c>bsr</c>, <c>nm</c> or <c>shrunk</c>), <c>W.shape</c> (the original
/// shape, e.g. <c>[64,3,3,3]</c>), <c>W.size</c> (<c>[rows,cols]</c>), plus <c>W.blocksize</c> = <c>[R,C]</c> for bsr and
/// <c>W.nm</c> = <c>N:M</c> for nm. Indices are I32; values keep the tensor's dtype.</para>
/// <list type="bullet">
/// <item>element, kernel → <c>csr</c>: <c>W.crow_indices</c> [rows+1], <c>W.col_indices</c> [nnz], <c>W.values</c> [nnz]
/// (torch.sparse_csr_tensor(crow, col, values, size)).</item>
/// <item>block:RxC → <c>bsr</c>: <c>W.crow_indices</c> [rows/R+1], <c>W.col_indices</c> [blocks] (block columns),
/// <c>W.values</c> [blocks, R, C] (torch.sparse_bsr_tensor).</item>
/// <item>nm:N:M → <c>nm</c>: <c>W.values</c> [rows, cols/M·N] and <c>W.indices</c> (U8) [rows, cols/M·N]: entry k of a row
/// sits at column <c>(k / N)·M + indices[k]</c>; groups with fewer than N non-zeros are padded with stored zeros.</item>
/// <item>row, column → <c>shrunk</c>: <c>W.values</c> [kept rows, kept cols] dense, <c>W.row_indices</c> and
/// <c>W.col_indices</c> (the kept rows and columns of the view); row granularity keeps the rows holding a non-zero and
/// every column, column granularity the reverse.</item>
/// </list>
/// <para>Stored entries are the non-zero values of the pruned tensor (a kept weight that is exactly 0 is not stored),
/// so rebuilding gives OUT's tensor exactly. Tensors that were not pruned, and BatchNorm tensors zeroed by bn-scale,
/// are not in the file. The arrays are built from OUT one tensor at a time: a count pass sizes the header, then each
/// tensor is converted again (the library's two-phase <c>Fill</c> into reused buffers) inside its first writer
/// callback, so memory stays about two tensors whatever the model size.</para>
/// </remarks>
internal static class SparseExport
{
    /// <summary>Reused buffers: the dense tensor, and the converted arrays of the tensor being written.</summary>
    private sealed class Buffers
    {
        private readonly ArrayPoolBufferWriter<float> _dense = new();
        public ArrayPoolBufferWriter<float> Values { get; } = new();
        public ArrayPoolBufferWriter<int> Pointers { get; } = new();
        public ArrayPoolBufferWriter<int> Indices { get; } = new();
        public ArrayPoolBufferWriter<byte> Positions { get; } = new();

        public Span<float> Dense(SafeTensorsFile file, SafeTensorInfo t)
        {
            Span<float> dense = _dense.Take(t.ElementCount);
            file.ReadAsFloat32(t.Index, dense);
            return dense;
        }
    }

    /// <summary>Writes the sparse form of the pruned weights of the staged model (one file, or every shard).</summary>
    public static void Write(StagedModel staged, OutputFiles files, string sparsePath, Granularity g)
    {
        var b = new Buffers();
        var writer = new SafeTensorsWriter();
        foreach (var (file, t) in staged.Pruned) Add(writer, b, file, t, g);
        files.Stage(sparsePath, writer.WriteTo);
    }

    /// <summary>One tensor's arrays and metadata.</summary>
    private static void Add(SafeTensorsWriter writer, Buffers b, SafeTensorsFile file, SafeTensorInfo t, Granularity g)
    {
        string name = t.Name;
        WeightShape view = PruneCommand.ShapeOf(t);
        int rows = view.Out, cols = view.RowLength;
        SafeTensorsDType dtype = t.DType;
        writer.AddMetadata(name + ".shape", PruneCommand.FormatShape(t.Shape));
        writer.AddMetadata(name + ".size", $"[{rows},{cols}]");
        // Count phase here (it sizes the header); the fill phase runs in the first array's callback, and the
        // later callbacks of the same tensor write the rest of the filled buffers.
        switch (g.Kind)
        {
            case GranularityKind.Block:
            {
                int r = g.BlockRows, c = g.BlockCols, blockRows = rows / r;
                int blocks = BsrMatrix.CountBlocks(b.Dense(file, t), rows, cols, r, c), stored = blocks * r * c;
                writer.AddMetadata(name + ".format", "bsr");
                writer.AddMetadata(name + ".blocksize", $"[{r},{c}]");
                writer.Add(name + ".crow_indices", SafeTensorsDType.I32, [blockRows + 1], s =>
                {
                    BsrMatrix.Fill(b.Dense(file, t), rows, cols, r, c, b.Pointers.Take(blockRows + 1), b.Indices.Take(blocks), b.Values.Take(stored));
                    WriteInts(b.Pointers.Take(blockRows + 1), s);
                });
                writer.Add(name + ".col_indices", SafeTensorsDType.I32, [blocks], s => WriteInts(b.Indices.Take(blocks), s));
                writer.Add(name + ".values", dtype, [blocks, r, c], s => PruneCommand.WriteAs(b.Values.Take(stored), dtype, s));
                break;
            }
            case GranularityKind.NM:
            {
                int n = g.N, m = g.M, perRow = cols / m * n, length = NmSparseMatrix.CompressedLength(rows, cols, n, m);
                writer.AddMetadata(name + ".format", "nm");
                writer.AddMetadata(name + ".nm", $"{n}:{m}");
                writer.Add(name + ".values", dtype, [rows, perRow], s =>
                {
                    NmSparseMatrix.Fill(b.Dense(file, t), rows, cols, n, m, b.Values.Take(length), b.Positions.Take(length));
                    PruneCommand.WriteAs(b.Values.Take(length), dtype, s);
                });
                writer.Add(name + ".indices", SafeTensorsDType.U8, [rows, perRow], s => s.Write(b.Positions.Take(length)));
                break;
            }
            case GranularityKind.Row or GranularityKind.Column:
            {
                (byte[] rowMask, byte[] colMask) = KeptLines(b.Dense(file, t), rows, cols, g.Kind == GranularityKind.Row);
                int keptRows = Masking.CountKept(rowMask), keptCols = Masking.CountKept(colMask);
                long kept = (long)keptRows * keptCols;
                writer.AddMetadata(name + ".format", "shrunk");
                writer.Add(name + ".values", dtype, [keptRows, keptCols], s =>
                {
                    ShrunkDense.Fill(b.Dense(file, t), rows, cols, rowMask, colMask, b.Values.Take(kept), b.Pointers.Take(keptRows), b.Indices.Take(keptCols));
                    PruneCommand.WriteAs(b.Values.Take(kept), dtype, s);
                });
                writer.Add(name + ".row_indices", SafeTensorsDType.I32, [keptRows], s => WriteInts(b.Pointers.Take(keptRows), s));
                writer.Add(name + ".col_indices", SafeTensorsDType.I32, [keptCols], s => WriteInts(b.Indices.Take(keptCols), s));
                break;
            }
            default:
            {
                int nnz = CsrMatrix.CountNonZeros(b.Dense(file, t));
                writer.AddMetadata(name + ".format", "csr");
                writer.Add(name + ".crow_indices", SafeTensorsDType.I32, [rows + 1], s =>
                {
                    CsrMatrix.Fill(b.Dense(file, t), rows, cols, b.Pointers.Take(rows + 1), b.Indices.Take(nnz), b.Values.Take(nnz));
                    WriteInts(b.Pointers.Take(rows + 1), s);
                });
                writer.Add(name + ".col_indices", SafeTensorsDType.I32, [nnz], s => WriteInts(b.Indices.Take(nnz), s));
                writer.Add(name + ".values", dtype, [nnz], s => PruneCommand.WriteAs(b.Values.Take(nnz), dtype, s));
                break;
            }
        }
    }

    /// <summary>Row granularity: the rows holding a non-zero, all columns; column granularity: the reverse.</summary>
    private static (byte[] Rows, byte[] Columns) KeptLines(ReadOnlySpan<float> dense, int rows, int cols, bool byRow)
    {
        var rowMask = new byte[rows];
        var colMask = new byte[cols];
        if (byRow)
        {
            // A zero is +0 or −0 (−0 == 0 compares equal), as in every format of the library.
            for (int r = 0; r < rows; r++) rowMask[r] = dense.Slice(r * cols, cols).ContainsAnyExcept(0f, -0f) ? (byte)1 : (byte)0;
            colMask.AsSpan().Fill(1);
            return (rowMask, colMask);
        }
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = dense.Slice(r * cols, cols);
            for (int c = 0; c < cols; c++) colMask[c] |= row[c] != 0f ? (byte)1 : (byte)0;
        }
        rowMask.AsSpan().Fill(1);
        return (rowMask, colMask);
    }

    /// <summary>Index arrays as little-endian I32 (safetensors is little-endian; so is every platform .NET targets here).</summary>
    private static void WriteInts(ReadOnlySpan<int> values, Stream destination) => destination.Write(MemoryMarshal.AsBytes(values));
}
