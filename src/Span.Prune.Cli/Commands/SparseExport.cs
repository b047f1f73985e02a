using System.Runtime.InteropServices;
using Span.Prune.Internal;

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
/// tensor is converted again inside its writer callbacks, so memory stays about one tensor.</para>
/// </remarks>
internal static class SparseExport
{
    /// <summary>A tensor's converted form, built by its first array's callback and dropped after its last.</summary>
    private sealed class Pending<T>(Func<T> build)
        where T : class
    {
        private T? _value;

        public T Value => _value ??= build();

        public void Release() => _value = null;
    }

    public static void Write(string prunedPath, string sparsePath, IReadOnlyList<string> names, Granularity g, string[] protect)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(prunedPath);
        float[] buffer = [];
        Span<float> Dense(SafeTensorInfo t)
        {
            if (buffer.Length < t.ElementCount) buffer = new float[t.ElementCount];
            file.ReadAsFloat32(t.Index, buffer);
            return buffer.AsSpan(0, (int)t.ElementCount);
        }

        var writer = new SafeTensorsWriter();
        foreach (string name in names)
        {
            SafeTensorInfo t = file.GetTensor(name);
            WeightShape view = PruneCommand.ShapeOf(t);
            int rows = view.Out, cols = view.RowLength;
            SafeTensorsDType dtype = t.DType;
            writer.AddMetadata(name + ".shape", PruneCommand.FormatShape(t.Shape));
            writer.AddMetadata(name + ".size", $"[{rows},{cols}]");
            switch (g.Kind)
            {
                case GranularityKind.Block:
                {
                    int r = g.BlockRows, c = g.BlockCols;
                    int blocks = BsrMatrix.CountBlocks(Dense(t), rows, cols, r, c);
                    var m = new Pending<BsrMatrix>(() => BsrMatrix.FromDense(Dense(t), rows, cols, r, c));
                    writer.AddMetadata(name + ".format", "bsr");
                    writer.AddMetadata(name + ".blocksize", $"[{r},{c}]");
                    writer.Add(name + ".crow_indices", SafeTensorsDType.I32, [rows / r + 1], s => WriteInts(m.Value.BlockRowPointers, s));
                    writer.Add(name + ".col_indices", SafeTensorsDType.I32, [blocks], s => WriteInts(m.Value.BlockColumnIndices, s));
                    writer.Add(name + ".values", dtype, [blocks, r, c], s => { PruneCommand.WriteAs(m.Value.Values, dtype, s); m.Release(); });
                    break;
                }
                case GranularityKind.NM:
                {
                    int n = g.N, mm = g.M, perRow = cols / mm * n;
                    var m = new Pending<NmSparseMatrix>(() => NmSparseMatrix.FromDense(Dense(t), rows, cols, n, mm));
                    writer.AddMetadata(name + ".format", "nm");
                    writer.AddMetadata(name + ".nm", $"{n}:{mm}");
                    writer.Add(name + ".values", dtype, [rows, perRow], s => PruneCommand.WriteAs(m.Value.Values, dtype, s));
                    writer.Add(name + ".indices", SafeTensorsDType.U8, [rows, perRow], s => { s.Write(m.Value.Indices); m.Release(); });
                    break;
                }
                case GranularityKind.Row or GranularityKind.Column:
                {
                    (byte[] rowMask, byte[] colMask) = KeptLines(Dense(t), rows, cols, g.Kind == GranularityKind.Row);
                    int keptRows = Masking.CountKept(rowMask), keptCols = Masking.CountKept(colMask);
                    var m = new Pending<ShrunkDense>(() => ShrunkDense.FromDense(Dense(t), rows, cols, rowMask, colMask));
                    writer.AddMetadata(name + ".format", "shrunk");
                    writer.Add(name + ".values", dtype, [keptRows, keptCols], s => PruneCommand.WriteAs(m.Value.Weights, dtype, s));
                    writer.Add(name + ".row_indices", SafeTensorsDType.I32, [keptRows], s => WriteInts(m.Value.RowMap, s));
                    writer.Add(name + ".col_indices", SafeTensorsDType.I32, [keptCols], s => { WriteInts(m.Value.ColumnMap, s); m.Release(); });
                    break;
                }
                default:
                {
                    int nnz = CsrMatrix.CountNonZeros(Dense(t));
                    var m = new Pending<CsrMatrix>(() => CsrMatrix.FromDense(Dense(t), rows, cols));
                    writer.AddMetadata(name + ".format", "csr");
                    writer.Add(name + ".crow_indices", SafeTensorsDType.I32, [rows + 1], s => WriteInts(m.Value.RowPointers, s));
                    writer.Add(name + ".col_indices", SafeTensorsDType.I32, [nnz], s => WriteInts(m.Value.ColumnIndices, s));
                    writer.Add(name + ".values", dtype, [nnz], s => { PruneCommand.WriteAs(m.Value.Values, dtype, s); m.Release(); });
                    break;
                }
            }
        }
        writer.WriteFile(sparsePath, protect);
    }

    /// <summary>Row granularity: the rows holding a non-zero, all columns; column granularity: the reverse.</summary>
    private static (byte[] Rows, byte[] Columns) KeptLines(ReadOnlySpan<float> dense, int rows, int cols, bool byRow)
    {
        var rowMask = new byte[rows];
        var colMask = new byte[cols];
        if (byRow)
        {
            for (int r = 0; r < rows; r++) rowMask[r] = NonZeroScan.Any(dense.Slice(r * cols, cols)) ? (byte)1 : (byte)0;
            colMask.AsSpan().Fill(1);
            return (rowMask, colMask);
        }
        var counts = new int[cols];
        for (int r = 0; r < rows; r++) NonZeroScan.AddGroupCounts(dense.Slice(r * cols, cols), 1, counts);
        for (int c = 0; c < cols; c++) colMask[c] = counts[c] != 0 ? (byte)1 : (byte)0;
        rowMask.AsSpan().Fill(1);
        return (rowMask, colMask);
    }

    /// <summary>Index arrays as little-endian I32 (safetensors is little-endian; so is every platform .NET targets here).</summary>
    private static void WriteInts(ReadOnlySpan<int> values, Stream destination) => destination.Write(MemoryMarshal.AsBytes(values));
}
