using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;

namespace Span.Prune.Cli.Bench;

/// <summary>
/// <c>sprune bench</c> / <c>report [--quick] [--json FILE] [--check FLOORS.json]</c>: measures every section side by
/// side, prints a markdown table, optionally writes JSON, and with <c>--check</c> exits 1 when a speedup falls below
/// its floor. Bad options or an unreadable floors file exit 2.
/// </summary>
internal static class QuickReport
{
    /// <summary>Measures, prints the table, writes <paramref name="json"/> if given, checks <paramref name="floors"/> if given.</summary>
    /// <returns>0 on success, 1 when a floor fails, 2 when the floors file cannot be read.</returns>
    public static int Run(BenchSize size, string? json, string? floors)
    {
        Dictionary<string, double>? floorTable = null;
        if (floors is not null)
        {
            try { floorTable = ReadFloors(floors); }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or FormatException)
            {
                Console.Error.WriteLine($"report: cannot read floors file '{floors}': {e.Message}");
                return 2;
            }
        }

        // Fail before minutes of measuring, not after, when the JSON could not be written.
        if (json is not null && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(json))))
        {
            Console.Error.WriteLine($"report: cannot write '{json}': its directory does not exist");
            return 2;
        }

        var rows = new List<ReportRow>();
        foreach (var section in ReportSections.All)
        {
            Console.Error.WriteLine($"report: measuring {section.Name} ...");
            rows.AddRange(section.Measure(size));
        }

        Console.WriteLine(ToMarkdown(rows));
        if (json is not null)
        {
            try { File.WriteAllText(json, ToJson(rows)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                Console.Error.WriteLine($"report: cannot write '{json}': {e.Message}");
                return 2;
            }
        }
        return floorTable is null ? 0 : Check(rows, floorTable);
    }

    internal static string Cpu()
    {
        string name = "unknown";
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) { name = line[(line.IndexOf(':') + 1)..].Trim(); break; }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        string isa = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";
        return $"{name} ({isa}, {Environment.ProcessorCount} logical cores)";
    }

    private static string ToMarkdown(List<ReportRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"CPU: {Cpu()}").AppendLine();
        sb.AppendLine("| op | format | shape | batch | sparsity (stored) | ms (median) | GFLOPS | baseline | baseline ms | speedup |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            string shape = r.Op == "matmul" ? $"{r.Rows}×{r.Cols}" : $"n={r.N:N0}";
            string gflops = r.Gflops is double g ? g.ToString("0.0", CultureInfo.InvariantCulture) : "";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Op} | {r.Format} | {shape} | {(r.Op == "matmul" ? r.Batch.ToString(CultureInfo.InvariantCulture) : "")} | {r.Sparsity:0.###}{(r.ActualSparsity is double a && Math.Abs(a - r.Sparsity) > 5e-4 ? $" ({a:0.###})" : "")} | {r.Ms:0.000} | {gflops} | {r.Baseline} | {r.BaselineMs:0.000} | {r.Speedup:0.00}× |");
        }
        return sb.ToString();
    }

    private static string ToJson(List<ReportRow> rows)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("cpu", Cpu());
            w.WriteStartArray("rows");
            foreach (var r in rows)
            {
                w.WriteStartObject();
                w.WriteString("op", r.Op);
                w.WriteString("format", r.Format);
                if (r.Op == "matmul") { w.WriteNumber("rows", r.Rows); w.WriteNumber("cols", r.Cols); w.WriteNumber("batch", r.Batch); }
                else w.WriteNumber("n", r.N);
                w.WriteNumber("sparsity", r.Sparsity);
                if (r.ActualSparsity is double actual) w.WriteNumber("actual_sparsity", actual);
                w.WriteNumber("ms", Math.Round(r.Ms, 6)); // to the nanosecond: the smoke run has sub-microsecond rows
                if (r.Gflops is double g) w.WriteNumber("gflops", Math.Round(g, 2));
                w.WriteString("baseline", r.Baseline);
                w.WriteNumber("baseline_ms", Math.Round(r.BaselineMs, 6));
                w.WriteNumber("speedup", Math.Round(r.Speedup, 3));
                w.WriteString("key", r.Key);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Floors file: <c>{"floors": {"&lt;row key&gt;": minimumSpeedup, ...}}</c>.</summary>
    private static Dictionary<string, double> ReadFloors(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var table = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!doc.RootElement.TryGetProperty("floors", out var floors) || floors.ValueKind != JsonValueKind.Object)
            throw new FormatException("expected an object property \"floors\"");
        foreach (var p in floors.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number) throw new FormatException($"floor '{p.Name}' is not a number");
            table[p.Name] = p.Value.GetDouble();
        }
        return table;
    }

    private static int Check(List<ReportRow> rows, Dictionary<string, double> floors)
    {
        int failures = 0;
        var measured = rows.ToDictionary(r => r.Key, StringComparer.Ordinal);
        foreach (var (key, floor) in floors)
        {
            if (!measured.TryGetValue(key, out var row))
            {
                Console.Error.WriteLine($"check: FAIL {key}: no such row was measured");
                failures++;
            }
            else if (row.Speedup < floor)
            {
                Console.Error.WriteLine($"check: FAIL {key}: speedup {row.Speedup:0.00}× is below the floor {floor:0.00}×");
                failures++;
            }
            else
            {
                Console.Error.WriteLine($"check: ok   {key}: {row.Speedup:0.00}× ≥ {floor:0.00}×");
            }
        }
        Console.Error.WriteLine($"check: {floors.Count - failures} of {floors.Count} floors held");
        return failures == 0 ? 0 : 1;
    }
}
