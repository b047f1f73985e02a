using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune inspect MODEL [--json]</c>: per tensor its name, dtype, shape, parameter count and fraction of exact
/// zeros (±0; for 8-bit floats both zero encodings), then totals. Reads the memory-mapped file in 4 MiB ranges, so
/// tensors of any size are counted with bounded memory.
/// </summary>
internal static class InspectCommand
{
    private const int ChunkBytes = 4 << 20;

    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "A .safetensors file." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("inspect", "List every tensor: dtype, shape, parameters, fraction of zeros; then totals.") { model, json };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(json)));
        return command;
    }

    private static int Run(string path, bool json)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        var rows = new List<(SafeTensorInfo Info, long Zeros)>(file.Tensors.Count);
        foreach (SafeTensorInfo t in file.Tensors) rows.Add((t, CountZeros(file, t)));

        long parameters = rows.Sum(r => r.Info.ElementCount), zeros = rows.Sum(r => r.Zeros);
        if (json) WriteJson(file, rows, parameters, zeros);
        else
        {
            Console.WriteLine("| tensor | dtype | shape | parameters | zeros |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (t, z) in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {DisplayText.Escape(t.Name)} | {SafeTensorsDTypeInfo.GetName(t.DType)} | {ShapeText(t)} | {t.ElementCount:N0} | {100 * Fraction(z, t.ElementCount):0.00}% |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| **total** ({rows.Count} tensors) | | | {parameters:N0} | {100 * Fraction(zeros, parameters):0.00}% |"));
        }
        return Program.Success;
    }

    private static double Fraction(long part, long whole) => whole == 0 ? 0 : (double)part / whole;

    private static string ShapeText(SafeTensorInfo t)
    {
        var dims = new string[t.Shape.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = t.Shape[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", dims) + "]";
    }

    /// <summary>Exact zeros of one tensor, read range by range (whole elements per range).</summary>
    private static long CountZeros(SafeTensorsFile file, SafeTensorInfo t)
    {
        int size = SafeTensorsDTypeInfo.SizeOf(t.DType);
        int chunk = ChunkBytes / size * size;
        long zeros = 0;
        float[]? buffer = SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType) && t.DType != SafeTensorsDType.F32 ? new float[chunk / size] : null;
        for (long offset = 0; offset < t.ByteLength; offset += chunk)
        {
            int length = (int)Math.Min(chunk, t.ByteLength - offset);
            ReadOnlySpan<byte> bytes = file.GetByteRange(t.Index, offset, length);
            zeros += t.DType switch
            {
                SafeTensorsDType.F32 => MemoryMarshal.Cast<byte, float>(bytes).Count(0f), // -0f equals 0f
                SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64 => CountConverted(bytes, t.DType, buffer!),
                // 8-bit floats: +0 is 0x00 and −0 is 0x80.
                SafeTensorsDType.F8E4M3 or SafeTensorsDType.F8E5M2 => bytes.Count((byte)0) + bytes.Count((byte)0x80),
                SafeTensorsDType.I16 or SafeTensorsDType.U16 => MemoryMarshal.Cast<byte, ushort>(bytes).Count((ushort)0),
                SafeTensorsDType.I32 or SafeTensorsDType.U32 => MemoryMarshal.Cast<byte, uint>(bytes).Count(0u),
                SafeTensorsDType.I64 or SafeTensorsDType.U64 => MemoryMarshal.Cast<byte, ulong>(bytes).Count(0ul),
                _ => bytes.Count((byte)0), // Bool, U8, I8
            };
        }
        return zeros;
    }

    private static int CountConverted(ReadOnlySpan<byte> bytes, SafeTensorsDType dtype, float[] buffer)
    {
        Span<float> values = buffer.AsSpan(0, bytes.Length / SafeTensorsDTypeInfo.SizeOf(dtype));
        SafeTensorsDTypeInfo.ToFloat32(bytes, dtype, values);
        return ((ReadOnlySpan<float>)values).Count(0f);
    }

    private static void WriteJson(SafeTensorsFile file, List<(SafeTensorInfo Info, long Zeros)> rows, long parameters, long zeros)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("tensors");
            foreach (var (t, z) in rows)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                w.WriteString("dtype", SafeTensorsDTypeInfo.GetName(t.DType));
                w.WriteStartArray("shape");
                foreach (long d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("parameters", t.ElementCount);
                w.WriteNumber("zeros", z);
                w.WriteNumber("zero_fraction", Fraction(z, t.ElementCount));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("total");
            w.WriteNumber("tensors", rows.Count);
            w.WriteNumber("parameters", parameters);
            w.WriteNumber("zeros", zeros);
            w.WriteNumber("zero_fraction", Fraction(zeros, parameters));
            w.WriteEndObject();
            w.WriteStartObject("metadata");
            foreach (var (k, v) in file.Metadata) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}
