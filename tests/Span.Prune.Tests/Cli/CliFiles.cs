using System.Buffers.Binary;
using System.Globalization;
using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary>Writes small model and statistics files for the CLI tests, tensor by tensor, in F32, F16, BF16 or F64.</summary>
internal sealed class TensorFile
{
    private readonly SafeTensorsWriter _writer = new();

    public TensorFile F32(string name, float[] values, params long[] shape) => Add(name, SafeTensorsDType.F32, values, shape);

    public TensorFile Add(string name, SafeTensorsDType dtype, float[] values, params long[] shape)
    {
        Assert.Equal(shape.Aggregate(1L, (a, b) => a * b), values.Length);
        int size = dtype switch { SafeTensorsDType.F64 => 8, SafeTensorsDType.F32 => 4, _ => 2 };
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            Span<byte> b = bytes.AsSpan(i * size, size);
            switch (dtype)
            {
                case SafeTensorsDType.F64: BinaryPrimitives.WriteDoubleLittleEndian(b, values[i]); break;
                case SafeTensorsDType.F32: BinaryPrimitives.WriteSingleLittleEndian(b, values[i]); break;
                case SafeTensorsDType.F16: BinaryPrimitives.WriteHalfLittleEndian(b, (Half)values[i]); break;
                case SafeTensorsDType.BF16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16)); break;
                default: throw new ArgumentOutOfRangeException(nameof(dtype));
            }
        }
        _writer.Add(name, dtype, shape, bytes);
        return this;
    }

    public TensorFile Meta(string key, string value)
    {
        _writer.AddMetadata(key, value);
        return this;
    }

    public string Save(string path)
    {
        File.WriteAllBytes(path, _writer.ToArray());
        return path;
    }
}

/// <summary>Independent expectations: torch.nn.utils.prune's counting rule, a stable lowest-k, unit numbering.</summary>
internal static class Expect
{
    public static string S(double s) => s.ToString(CultureInfo.InvariantCulture);

    public static int TorchCount(double s, int n) => (int)Math.Round(s * n, MidpointRounding.ToEven);

    /// <summary>The k lowest scores, ties to the lower index (a stable sort by (score, index)).</summary>
    public static HashSet<int> Lowest(IReadOnlyList<double> scores, int k) =>
        Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ThenBy(i => i).Take(k).ToHashSet();

    /// <summary>Values exactly representable in BF16 (the upper half of each float's bits).</summary>
    public static float[] Bf16(float[] values) => values.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000u)).ToArray();

    /// <summary>Values exactly representable in F16.</summary>
    public static float[] F16(float[] values) => values.Select(v => (float)(Half)v).ToArray();

    /// <summary>
    /// The unit of element <paramref name="e"/> of a weight <c>[o, i, k]</c> (k = kh·kw) viewed as <c>[o, i·k]</c>:
    /// row o; column i (all outputs and kernel positions of input channel i); kernel o·I + i; block (o/R)·(cols/C) + j/C.
    /// </summary>
    public static int UnitOf(string granularity, int e, int outs, int ins, int k)
    {
        int cols = ins * k, o = e / cols, j = e % cols;
        if (granularity.StartsWith("block:", StringComparison.Ordinal))
        {
            int[] rc = granularity[6..].Split('x').Select(int.Parse).ToArray();
            return o / rc[0] * (cols / rc[1]) + j / rc[1];
        }
        return granularity switch
        {
            "element" => e,
            "row" => o,
            "column" => j / k,
            "kernel" => o * ins + j / k,
            _ => throw new ArgumentOutOfRangeException(nameof(granularity)),
        };
    }

    /// <summary>Pruned elements of a group criterion: element scores summed per unit, the lowest round-half-even(s·units) units.</summary>
    public static HashSet<int> GroupPruned(double[] elementScores, string granularity, double s, int outs, int ins, int k)
    {
        int n = elementScores.Length;
        int units = Enumerable.Range(0, n).Max(e => UnitOf(granularity, e, outs, ins, k)) + 1;
        var unitScores = new double[units];
        for (int e = 0; e < n; e++) unitScores[UnitOf(granularity, e, outs, ins, k)] += elementScores[e];
        var prunedUnits = Lowest(unitScores, TorchCount(s, units));
        return Enumerable.Range(0, n).Where(e => prunedUnits.Contains(UnitOf(granularity, e, outs, ins, k))).ToHashSet();
    }

    /// <summary>N:M: in every run of M elements of a row, the M − N lowest scores (ties to the lower index).</summary>
    public static HashSet<int> NmPruned(double[] scores, int n, int m)
    {
        var pruned = new HashSet<int>();
        for (int g = 0; g < scores.Length; g += m)
        {
            foreach (int i in Lowest(scores[g..(g + m)], m - n)) pruned.Add(g + i);
        }
        return pruned;
    }

    /// <summary>Per output row of length <paramref name="rowLength"/>: the round-half-even(s·rowLength) lowest scores.</summary>
    public static HashSet<int> PerRowPruned(double[] scores, int rowLength, double s)
    {
        var pruned = new HashSet<int>();
        for (int r = 0; r < scores.Length; r += rowLength)
        {
            foreach (int i in Lowest(scores[r..(r + rowLength)], TorchCount(s, rowLength))) pruned.Add(r + i);
        }
        return pruned;
    }

    public static float[] Masked(float[] w, HashSet<int> pruned) => w.Select((x, i) => pruned.Contains(i) ? 0f : x).ToArray();

    public static float[] Read(string path, string tensor)
    {
        using var f = SafeTensorsFile.Open(path);
        var info = f.GetTensor(tensor);
        var values = new float[info.ElementCount];
        f.ReadAsFloat32(info.Index, values);
        return values;
    }
}
