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
        var model = new Argument<string>("MODEL") { Description = "A .safetensors file, or a sharded checkpoint's *.safetensors.index.json or its folder." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress line (shown only when stderr is a terminal and the work takes more than about a second)." };
        var progressDelay = ProgressMeter.DelayOption();
        var command = new Command("inspect", "List every tensor: dtype, shape, parameters, fraction of zeros; then totals.") { model, json, quiet, progressDelay };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(json),
            parse.GetValue(quiet) ? null : TimeSpan.FromSeconds(parse.GetValue(progressDelay))));
        return command;
    }

    private static int Run(string path, bool json, TimeSpan? progressDelay)
    {
        // A sharded checkpoint (index file or its folder) is listed shard by shard, in the index's order, as one model.
        var (resolved, isIndex) = ShardedCheckpoint.Resolve(path);
        using var inputs = new OutputFiles();
        using ShardedCheckpoint? sharded = isIndex ? ShardedCheckpoint.Open(resolved, inputs) : null;
        if (!isIndex && !File.Exists(resolved)) throw new FileNotFoundException($"'{path}' does not exist.", path);
        using SafeTensorsFile? single = isIndex ? null : SafeTensorsFile.Open(resolved);
        SafeTensorsFile[] files = sharded is null ? [single!] : sharded.Shards.Select(s => s.File).ToArray();
        var rows = new List<(SafeTensorInfo Info, long? Zeros)>(files.Sum(f => f.Tensors.Count));
        using (ProgressMeter? progress = ProgressMeter.ForStandardError(progressDelay))
        {
            progress?.Begin("reading", files.SelectMany(f => f.Tensors).Select(t => t.ByteLength));
            var counter = new ZeroCounter(progress);
            foreach (SafeTensorsFile file in files)
                foreach (SafeTensorInfo t in file.Tensors) rows.Add((t, counter.Count(file, t)));
        } // the progress line is erased before the table

        // Totals over the tensors whose zeros are known (sub-byte dtypes are listed with "n/a").
        long parameters = rows.Sum(r => r.Info.ElementCount), zeros = rows.Sum(r => r.Zeros ?? 0);
        long counted = rows.Where(r => r.Zeros is not null).Sum(r => r.Info.ElementCount);
        if (json) WriteJson(files[0].Metadata, sharded?.IndexMetadata, rows, parameters, zeros, counted);
        else
        {
            Console.WriteLine("| tensor | dtype | shape | parameters | zeros |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (var (t, z) in rows)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {DisplayText.Escape(t.Name)} | {SafeTensorsDTypeInfo.GetName(t.DType)} | {ShapeText(t)} | {t.ElementCount:N0} | {(z is long k ? $"{100 * Fraction(k, t.ElementCount):0.00}%" : "n/a")} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| **total** ({rows.Count} tensors) | | | {parameters:N0} | {100 * Fraction(zeros, counted):0.00}% |"));
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

    /// <summary>
    /// Exact zeros of one tensor, read range by range (whole elements per range) into buffers reused across tensors, so a
    /// file of a million tiny tensors costs no more memory than one of a single large tensor.
    /// </summary>
    private sealed class ZeroCounter(ProgressMeter? progress)
    {
        private readonly byte[] _bytes = new byte[ChunkBytes];
        private readonly float[] _floats = new float[ChunkBytes / 2]; // the most floats a chunk converts to (F16, BF16)

        /// <returns>The count, or null for F4 and the F6 types, whose elements are not whole bytes.</returns>
        public long? Count(SafeTensorsFile file, SafeTensorInfo t)
        {
            int bits = SafeTensorsDTypeInfo.BitSizeOf(t.DType);
            if (bits % 8 != 0)
            {
                progress?.Add(t.ByteLength);
                return null;
            }
            int size = bits / 8;
            int chunk = ChunkBytes / size * size;
            long zeros = 0;
            for (long offset = 0; offset < t.ByteLength; offset += chunk)
            {
                Span<byte> bytes = _bytes.AsSpan(0, (int)Math.Min(chunk, t.ByteLength - offset));
                file.ReadByteRange(t.Index, offset, bytes);
                progress?.Add(bytes.Length);
                zeros += t.DType switch
                {
                    SafeTensorsDType.F32 => MemoryMarshal.Cast<byte, float>(bytes).Count(0f), // -0f equals 0f
                    SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64 => CountConverted(bytes, t.DType),
                    // 8-bit floats with a signed zero: +0 is 0x00 and −0 is 0x80.
                    SafeTensorsDType.F8E4M3 or SafeTensorsDType.F8E5M2 => bytes.Count((byte)0) + bytes.Count((byte)0x80),
                    // The FNUZ variants have one zero, 0x00 (0x80 is their NaN); E8M0 is a bare exponent, 2^(e−127), never 0.
                    SafeTensorsDType.F8E8M0 => 0,
                    // A complex zero is both binary32 parts zero (either sign).
                    SafeTensorsDType.C64 => CountComplexZeros(MemoryMarshal.Cast<byte, float>(bytes)),
                    SafeTensorsDType.I16 or SafeTensorsDType.U16 => MemoryMarshal.Cast<byte, ushort>(bytes).Count((ushort)0),
                    SafeTensorsDType.I32 or SafeTensorsDType.U32 => MemoryMarshal.Cast<byte, uint>(bytes).Count(0u),
                    SafeTensorsDType.I64 or SafeTensorsDType.U64 => MemoryMarshal.Cast<byte, ulong>(bytes).Count(0ul),
                    _ => bytes.Count((byte)0), // Bool, U8, I8, F8_E4M3FNUZ, F8_E5M2FNUZ
                };
            }
            return zeros;
        }

        private int CountConverted(ReadOnlySpan<byte> bytes, SafeTensorsDType dtype)
        {
            Span<float> values = _floats.AsSpan(0, bytes.Length / SafeTensorsDTypeInfo.SizeOf(dtype));
            SafeTensorsDTypeInfo.ToFloat32(bytes, dtype, values);
            return ((ReadOnlySpan<float>)values).Count(0f);
        }

        private static long CountComplexZeros(ReadOnlySpan<float> parts)
        {
            long zeros = 0;
            for (int i = 0; i + 1 < parts.Length; i += 2)
                if (parts[i] == 0f && parts[i + 1] == 0f) zeros++;
            return zeros;
        }
    }

    /// <param name="metadata">The file's <c>__metadata__</c> (strings).</param>
    /// <param name="indexMetadata">For a sharded model, the index's <c>metadata</c>, written as it is instead (the shards'
    /// own <c>__metadata__</c> may differ from one another; the index speaks for the model).</param>
    private static void WriteJson(IReadOnlyList<KeyValuePair<string, string>> metadata, JsonElement? indexMetadata, List<(SafeTensorInfo Info, long? Zeros)> rows, long parameters, long zeros, long counted)
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
                if (z is long k)
                {
                    w.WriteNumber("zeros", k);
                    w.WriteNumber("zero_fraction", Fraction(k, t.ElementCount));
                }
                else
                {
                    w.WriteNull("zeros"); // F4/F6: sub-byte elements, not counted
                    w.WriteNull("zero_fraction");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("total");
            w.WriteNumber("tensors", rows.Count);
            w.WriteNumber("parameters", parameters);
            w.WriteNumber("zeros", zeros);
            w.WriteNumber("zero_fraction", Fraction(zeros, counted));
            w.WriteEndObject();
            if (indexMetadata is { } index)
            {
                w.WritePropertyName("metadata");
                index.WriteTo(w);
            }
            else
            {
                w.WriteStartObject("metadata");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}
