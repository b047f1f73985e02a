using System.Globalization;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;

namespace Span.Prune.Lab.Bench;

/// <summary>
/// The side-by-side speed report behind <c>sprune bench</c> and <c>perf/Span.Prune.Benchmarks report</c>: measures
/// every section (threshold selection and the end-to-end magnitude prune against a scalar quickselect; every sparse
/// format's matmul against our dense kernel), prints a markdown table, optionally writes the rows as JSON, and
/// optionally checks each speedup against a floor.
/// </summary>
/// <remarks>
/// <para>Each row's candidate and baseline run alternately in one process, so a noisy neighbour slows both and the
/// speedup (baseline median / ours) stays meaningful where absolute times do not.</para>
/// <para>Floors file: <c>{"floors": {"&lt;row key&gt;": minimumSpeedup, ...}}</c>; a row key is
/// <c>op/format/shape/batch/sparsity</c>, e.g. <c>matmul/csr/4096x4096/b1/s0.9</c> or <c>select/dense/n1048576/s0.9</c>
/// (the <c>key</c> field of the JSON rows).</para>
/// </remarks>
public static class QuickReport
{
    /// <summary>Exit code: measured, and every floor held (or none was given).</summary>
    public const int Success = 0;

    /// <summary>Exit code: a speedup fell below its floor, or a floor names a row that was not measured.</summary>
    public const int CheckFailed = 1;

    /// <summary>Exit code: the floors file could not be read, or the JSON could not be written.</summary>
    public const int BadInput = 2;

    /// <summary>Measures, prints the table, writes <paramref name="jsonPath"/> if given, checks <paramref name="floorsPath"/> if given.</summary>
    /// <param name="size">How much to measure.</param>
    /// <param name="output">Receives the markdown table (the CLI passes standard output).</param>
    /// <param name="log">Receives progress, the floor check's lines and error messages (the CLI passes standard error).</param>
    /// <param name="jsonPath">When not null, the rows are also written there as JSON; its directory must exist (checked
    /// before measuring).</param>
    /// <param name="floorsPath">When not null, the floors file to check the speedups against (read before measuring).</param>
    /// <param name="writeJson">Writes the JSON text to <paramref name="jsonPath"/>; null: <see cref="File.WriteAllText(string, string?)"/>.
    /// The CLI passes its own writer (a temporary file renamed into place, see sprune's OutputFiles).</param>
    /// <returns><see cref="Success"/>, <see cref="CheckFailed"/> or <see cref="BadInput"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> or <paramref name="log"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not a defined value.</exception>
    public static int Run(BenchSize size, TextWriter output, TextWriter log, string? jsonPath = null, string? floorsPath = null, Action<string>? writeJson = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(log);
        if (!Enum.IsDefined(size)) throw new ArgumentOutOfRangeException(nameof(size), size, "Not a BenchSize.");

        Dictionary<string, double>? floorTable = null;
        if (floorsPath is not null)
        {
            try { floorTable = ReadFloors(floorsPath); }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or FormatException)
            {
                log.WriteLine($"report: cannot read floors file '{floorsPath}': {e.Message}");
                return BadInput;
            }
        }

        // Fail before minutes of measuring, not after, when the JSON could not be written.
        if (jsonPath is not null && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(jsonPath))))
        {
            log.WriteLine($"report: cannot write '{jsonPath}': its directory does not exist");
            return BadInput;
        }

        List<ReportRow> rows = Measure(size, log);

        output.WriteLine(ToMarkdown(rows));
        if (jsonPath is not null)
        {
            try
            {
                string json = ToJson(rows);
                if (writeJson is null) File.WriteAllText(jsonPath, json);
                else writeJson(json);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                log.WriteLine($"report: cannot write '{jsonPath}': {e.Message}");
                return BadInput;
            }
        }
        if (floorTable is null) return Success;

        // On a shared machine a neighbour can slow one kernel more than its baseline for a whole run. A floor fails
        // only when every one of up to three full runs (each side by side in one process) falls below it: the check
        // keeps each row's best speedup over the runs.
        var best = rows.ToDictionary(r => r.Key, StringComparer.Ordinal);
        for (int run = 2; run <= MaxCheckRuns && Below(best, floorTable) is string key; run++)
        {
            log.WriteLine($"check: {key} is below its floor; measuring again (run {run} of {MaxCheckRuns})");
            foreach (ReportRow row in Measure(size, log))
                if (!best.TryGetValue(row.Key, out ReportRow? kept) || row.Speedup > kept.Speedup) best[row.Key] = row;
        }
        return Check([.. best.Values], floorTable, log);
    }

    /// <summary>Full runs the floor check may take before a floor counts as failed.</summary>
    private const int MaxCheckRuns = 3;

    private static List<ReportRow> Measure(BenchSize size, TextWriter log)
    {
        var rows = new List<ReportRow>();
        foreach (var section in ReportSections.All)
        {
            log.WriteLine($"report: measuring {section.Name} ...");
            rows.AddRange(section.Measure(size));
        }
        return rows;
    }

    /// <summary>The first floor not met (or not measured), or null.</summary>
    private static string? Below(Dictionary<string, ReportRow> best, Dictionary<string, double> floors)
    {
        foreach (var (key, floor) in floors)
            if (!best.TryGetValue(key, out ReportRow? row) || row.Speedup < floor) return key;
        return null;
    }

    private static string Cpu()
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

    private static int Check(List<ReportRow> rows, Dictionary<string, double> floors, TextWriter log)
    {
        int failures = 0;
        var measured = rows.ToDictionary(r => r.Key, StringComparer.Ordinal);
        foreach (var (key, floor) in floors)
        {
            if (!measured.TryGetValue(key, out var row))
            {
                log.WriteLine($"check: FAIL {key}: no such row was measured");
                failures++;
            }
            else if (row.Speedup < floor)
            {
                log.WriteLine($"check: FAIL {key}: speedup {row.Speedup:0.00}× is below the floor {floor:0.00}×");
                failures++;
            }
            else
            {
                log.WriteLine($"check: ok   {key}: {row.Speedup:0.00}× ≥ {floor:0.00}×");
            }
        }
        log.WriteLine($"check: {floors.Count - failures} of {floors.Count} floors held");
        return failures == 0 ? Success : CheckFailed;
    }
}
