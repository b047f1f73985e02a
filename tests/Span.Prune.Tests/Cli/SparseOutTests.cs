using System.Runtime.InteropServices;
using static Span.Prune.Tests.Cli.Expect;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>sprune prune --sparse-out</c>: the sparse file is rebuilt here into dense with naive loops from its arrays and
/// metadata, and must equal the pruned output exactly. Model: <c>fc1.weight</c> [8, 8], <c>fc1.bias</c> [8],
/// <c>conv.weight</c> [4, 2, 3, 3] (view [4, 18]).
/// </summary>
public sealed class SparseOutTests() : CliTempDirectory("sprune-sparse-")
{
    private string Out => PathOf("out.safetensors");

    private string Sparse => PathOf("sparse.safetensors");

    private string Model(SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        float[] fc1 = TestData.Normal(64, 1), conv = TestData.Normal(72, 2);
        if (dtype == SafeTensorsDType.BF16) (fc1, conv) = (Bf16(fc1), Bf16(conv));
        return new TensorFile().Add("fc1.weight", dtype, fc1, 8, 8).F32("fc1.bias", TestData.Normal(8, 3), 8).Add("conv.weight", dtype, conv, 4, 2, 3, 3)
            .Save(PathOf("model.safetensors"));
    }

    private static int[] Ints(SafeTensorsFile f, string name)
    {
        Assert.Equal(SafeTensorsDType.I32, f.GetTensor(name).DType);
        return MemoryMarshal.Cast<byte, int>(f.GetBytes(name)).ToArray();
    }

    private static float[] Values(SafeTensorsFile f, string name, SafeTensorsDType dtype)
    {
        SafeTensorInfo info = f.GetTensor(name);
        Assert.Equal(dtype, info.DType); // values keep the tensor's own dtype
        var v = new float[info.ElementCount];
        f.ReadAsFloat32(info.Index, v);
        return v;
    }

    /// <summary>Rebuilds the dense 2-D view of <paramref name="name"/> from the sparse file, checking its metadata.</summary>
    private static float[] Rebuild(SafeTensorsFile f, string name, string format, long[] shape, SafeTensorsDType dtype)
    {
        var meta = f.Metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(format, meta[name + ".format"]);
        Assert.Equal("[" + string.Join(",", shape) + "]", meta[name + ".shape"]);
        int rows = (int)shape[0], cols = (int)(shape.Aggregate(1L, (a, b) => a * b) / rows);
        Assert.Equal($"[{rows},{cols}]", meta[name + ".size"]);
        var dense = new float[rows * cols];
        switch (format)
        {
            case "csr":
            {
                int[] crow = Ints(f, name + ".crow_indices"), col = Ints(f, name + ".col_indices");
                float[] v = Values(f, name + ".values", dtype);
                Assert.Equal(rows + 1, crow.Length);
                for (int r = 0; r < rows; r++)
                {
                    for (int k = crow[r]; k < crow[r + 1]; k++) dense[r * cols + col[k]] = v[k];
                }
                break;
            }
            case "bsr":
            {
                int[] bs = meta[name + ".blocksize"].Trim('[', ']').Split(',').Select(int.Parse).ToArray();
                int br = bs[0], bc = bs[1];
                int[] crow = Ints(f, name + ".crow_indices"), col = Ints(f, name + ".col_indices");
                float[] v = Values(f, name + ".values", dtype);
                Assert.Equal([col.Length, br, bc], f.GetTensor(name + ".values").Shape.ToArray());
                for (int b = 0; b < rows / br; b++)
                {
                    for (int k = crow[b]; k < crow[b + 1]; k++)
                    {
                        for (int i = 0; i < br; i++)
                        {
                            for (int j = 0; j < bc; j++) dense[(b * br + i) * cols + col[k] * bc + j] = v[(k * br + i) * bc + j];
                        }
                    }
                }
                break;
            }
            case "nm":
            {
                int[] nm = meta[name + ".nm"].Split(':').Select(int.Parse).ToArray();
                int n = nm[0], m = nm[1], perRow = cols / m * n;
                float[] v = Values(f, name + ".values", dtype);
                SafeTensorInfo idx = f.GetTensor(name + ".indices");
                Assert.Equal(SafeTensorsDType.U8, idx.DType);
                Assert.Equal([rows, perRow], idx.Shape.ToArray());
                byte[] positions = f.GetBytes(idx.Index).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    for (int k = 0; k < perRow; k++) dense[r * cols + k / n * m + positions[r * perRow + k]] = v[r * perRow + k];
                }
                break;
            }
            case "shrunk":
            {
                int[] ri = Ints(f, name + ".row_indices"), ci = Ints(f, name + ".col_indices");
                float[] v = Values(f, name + ".values", dtype);
                Assert.Equal([ri.Length, ci.Length], f.GetTensor(name + ".values").Shape.ToArray());
                for (int a = 0; a < ri.Length; a++)
                {
                    for (int b = 0; b < ci.Length; b++) dense[ri[a] * cols + ci[b]] = v[a * ci.Length + b];
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
        return dense;
    }

    [Theory]
    [InlineData("element", "csr")]
    [InlineData("kernel", "csr")]
    [InlineData("block:2x2", "bsr")]
    [InlineData("row", "shrunk")]
    [InlineData("column", "shrunk")]
    public void RoundTrip_RebuildsThePrunedOutput(string granularity, string format)
    {
        var r = Sprune.Run("prune", Model(), "-o", Out, "--granularity", granularity, "--sparsity", "0.5", "--sparse-out", Sparse);

        Assert.True(r.ExitCode == 0, r.StdErr);
        using var f = SafeTensorsFile.Open(Sparse);
        foreach (var (name, shape) in new[] { ("fc1.weight", new long[] { 8, 8 }), ("conv.weight", new long[] { 4, 2, 3, 3 }) })
        {
            float[] pruned = Read(Out, name);
            Assert.Equal(pruned, Rebuild(f, name, format, shape, SafeTensorsDType.F32));
            Assert.Contains(0f, pruned);
        }
        Assert.DoesNotContain(f.Tensors, t => t.Name.StartsWith("fc1.bias", StringComparison.Ordinal)); // not pruned, not stored
        if (format == "csr") Assert.Equal(32, f.GetTensor("fc1.weight.values").ElementCount); // exactly the kept entries
        if (granularity == "row") Assert.Equal([4, 8], f.GetTensor("fc1.weight.values").Shape.ToArray());
        if (granularity == "column") Assert.Equal([4, 9], f.GetTensor("conv.weight.values").Shape.ToArray()); // one of two input channels: 9 view columns
    }

    [Fact]
    public void NM_RoundTrip()
    {
        var r = Sprune.Run("prune", Model(), "-o", Out, "--granularity", "nm:2:4", "--sparsity", "0.5", "--include", "^fc1\\.weight$", "--sparse-out", Sparse);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var f = SafeTensorsFile.Open(Sparse);
        Assert.Equal(Read(Out, "fc1.weight"), Rebuild(f, "fc1.weight", "nm", [8, 8], SafeTensorsDType.F32));
        Assert.DoesNotContain(f.Tensors, t => t.Name.StartsWith("conv", StringComparison.Ordinal));
    }

    [Fact]
    public void Bf16_ValuesStayBf16_BitForBit()
    {
        var r = Sprune.Run("prune", Model(SafeTensorsDType.BF16), "-o", Out, "--sparsity", "0.6", "--sparse-out", Sparse);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var f = SafeTensorsFile.Open(Sparse);
        using var o = SafeTensorsFile.Open(Out);
        Assert.Equal(Read(Out, "conv.weight"), Rebuild(f, "conv.weight", "csr", [4, 2, 3, 3], SafeTensorsDType.BF16));
        ushort[] dense = MemoryMarshal.Cast<byte, ushort>(o.GetBytes("fc1.weight")).ToArray();
        ushort[] stored = MemoryMarshal.Cast<byte, ushort>(f.GetBytes("fc1.weight.values")).ToArray();
        Assert.Equal(dense.Where(b => (b & 0x7FFF) != 0), stored); // row-major order of the non-zeros
    }

    [Fact]
    public void GlobalScope_WritesCsr()
    {
        var r = Sprune.Run("prune", Model(), "-o", Out, "--scope", "global", "--sparsity", "0.7", "--sparse-out", Sparse);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var f = SafeTensorsFile.Open(Sparse);
        Assert.Equal(Read(Out, "fc1.weight"), Rebuild(f, "fc1.weight", "csr", [8, 8], SafeTensorsDType.F32));
        Assert.Equal(Read(Out, "conv.weight"), Rebuild(f, "conv.weight", "csr", [4, 2, 3, 3], SafeTensorsDType.F32));
    }

    [Theory]
    [InlineData("OUT")]
    [InlineData("IN")]
    [InlineData("missing-dir/sparse.safetensors")]
    public void BadSparseOutPath_ExitsTwo_WritesNothing(string target)
    {
        string model = Model();
        string path = target switch { "OUT" => Out, "IN" => model, _ => PathOf(target) };
        var r = Sprune.Run("prune", model, "-o", Out, "--sparsity", "0.5", "--sparse-out", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Equal([model], Directory.GetFiles(Dir));
    }
}
