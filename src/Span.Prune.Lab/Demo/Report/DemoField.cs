using System.Globalization;
using System.Text.Json;

namespace Span.Prune.Lab.Demo;

/// <summary>The fields of <see cref="DemoRow"/> in their JSON order, the one list all writers walk.</summary>
internal enum DemoField
{
    Model,
    Experiment,
    Criterion,
    Granularity,
    Sparsity,
    Accuracy,
    OneShot,
    FineTuned,
    Slimming,
    Schedule,
    Params,
    Macs,
    Format,
    Batch,
    Ms,
    Speedup,
    Seconds,
}

/// <summary>
/// Per-field knowledge, written out once without reflection (so it is trimming- and AOT-safe): the JSON name,
/// whether a row has a value, how to write it to JSON and how to print it in a table, and the range check.
/// </summary>
internal static class DemoFields
{
    public static readonly DemoField[] All = Enum.GetValues<DemoField>();

    private static readonly DemoField[] TextFields = [DemoField.Criterion, DemoField.Granularity, DemoField.Format];
    private static readonly DemoField[] FractionFields = [DemoField.Sparsity, DemoField.Accuracy, DemoField.OneShot, DemoField.FineTuned];
    private static readonly DemoField[] DurationFields = [DemoField.Ms, DemoField.Seconds];

    public static string JsonName(DemoField field) => field switch
    {
        DemoField.Model => "model",
        DemoField.Experiment => "experiment",
        DemoField.Criterion => "criterion",
        DemoField.Granularity => "granularity",
        DemoField.Sparsity => "sparsity",
        DemoField.Accuracy => "accuracy",
        DemoField.OneShot => "one_shot",
        DemoField.FineTuned => "fine_tuned",
        DemoField.Slimming => "slimming",
        DemoField.Schedule => "schedule",
        DemoField.Params => "params",
        DemoField.Macs => "macs",
        DemoField.Format => "format",
        DemoField.Batch => "batch",
        DemoField.Ms => "ms",
        DemoField.Speedup => "speedup",
        DemoField.Seconds => "seconds",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>Numbers are right-aligned in the markdown tables.</summary>
    public static bool IsNumeric(DemoField field) => field is not (DemoField.Model or DemoField.Experiment or DemoField.Criterion
        or DemoField.Granularity or DemoField.Slimming or DemoField.Schedule or DemoField.Format);

    public static bool HasValue(DemoRow row, DemoField field) => field switch
    {
        DemoField.Model or DemoField.Experiment => true,
        DemoField.Criterion => row.Criterion is not null,
        DemoField.Granularity => row.Granularity is not null,
        DemoField.Sparsity => row.Sparsity is not null,
        DemoField.Accuracy => row.Accuracy is not null,
        DemoField.OneShot => row.OneShot is not null,
        DemoField.FineTuned => row.FineTuned is not null,
        DemoField.Slimming => row.Slimming is not null,
        DemoField.Schedule => row.Schedule is not null,
        DemoField.Params => row.Params is not null,
        DemoField.Macs => row.Macs is not null,
        DemoField.Format => row.Format is not null,
        DemoField.Batch => row.Batch is not null,
        DemoField.Ms => row.Ms is not null,
        DemoField.Speedup => row.Speedup is not null,
        DemoField.Seconds => row.Seconds is not null,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>Writes the property when the row has a value; omits it otherwise.</summary>
    public static void WriteJson(Utf8JsonWriter writer, DemoRow row, DemoField field)
    {
        string name = JsonName(field);
        switch (field)
        {
            case DemoField.Model: writer.WriteString(name, DemoNames.Of(row.Model)); break;
            case DemoField.Experiment: writer.WriteString(name, DemoNames.Of(row.Experiment)); break;
            case DemoField.Schedule when row.Schedule is DemoSchedule schedule: writer.WriteString(name, DemoNames.Of(schedule)); break;
            case DemoField.Slimming when row.Slimming is bool slimming: writer.WriteBoolean(name, slimming); break;
            case DemoField.Params when row.Params is long count: writer.WriteNumber(name, count); break;
            case DemoField.Macs when row.Macs is long count: writer.WriteNumber(name, count); break;
            case DemoField.Batch when row.Batch is int batch: writer.WriteNumber(name, batch); break;
            default:
                if (Text(row, field) is string text)
                {
                    writer.WriteString(name, text);
                }
                else if (Number(row, field) is double number)
                {
                    // Utf8JsonWriter prints the shortest text that round-trips, culture-free.
                    writer.WriteNumber(name, number);
                }
                break;
        }
    }

    /// <summary>The table cell: accuracies as percent with 2 decimals, sparsity with 3, speedup with 2 and ×.</summary>
    public static string Format(DemoRow row, DemoField field)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        return field switch
        {
            DemoField.Model => DemoNames.Of(row.Model),
            DemoField.Experiment => DemoNames.Of(row.Experiment),
            DemoField.Schedule => row.Schedule is DemoSchedule s ? DemoNames.Of(s) : "",
            DemoField.Slimming => row.Slimming is bool b ? (b ? "yes" : "no") : "",
            DemoField.Criterion or DemoField.Granularity or DemoField.Format => Text(row, field) ?? "",
            DemoField.Accuracy or DemoField.OneShot or DemoField.FineTuned =>
                Number(row, field) is double a ? (a * 100).ToString("F2", inv) + "%" : "",
            DemoField.Sparsity => row.Sparsity is double sp ? sp.ToString("F3", inv) : "",
            DemoField.Params => row.Params is long p ? p.ToString("N0", inv) : "",
            DemoField.Macs => row.Macs is long m ? m.ToString("N0", inv) : "",
            DemoField.Batch => row.Batch is int n ? n.ToString(inv) : "",
            DemoField.Ms => row.Ms is double ms ? ms.ToString("F3", inv) : "",
            DemoField.Speedup => row.Speedup is double x ? x.ToString("F2", inv) + "×" : "",
            DemoField.Seconds => row.Seconds is double sec ? sec.ToString("F1", inv) : "",
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
    }

    private static string? Text(DemoRow row, DemoField field) => field switch
    {
        DemoField.Criterion => row.Criterion,
        DemoField.Granularity => row.Granularity,
        DemoField.Format => row.Format,
        _ => null,
    };

    private static double? Number(DemoRow row, DemoField field) => field switch
    {
        DemoField.Sparsity => row.Sparsity,
        DemoField.Accuracy => row.Accuracy,
        DemoField.OneShot => row.OneShot,
        DemoField.FineTuned => row.FineTuned,
        DemoField.Ms => row.Ms,
        DemoField.Speedup => row.Speedup,
        DemoField.Seconds => row.Seconds,
        _ => null,
    };

    /// <summary>
    /// Checks every row before anything is written, so a bad row never leaves half a file: known enum values,
    /// non-empty names, fractions in [0, 1], finite non-negative measurements, positive batch and speedup.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule; the message names the row index and the JSON field.</exception>
    public static void Validate(IReadOnlyList<DemoRow> rows, string paramName)
    {
        ArgumentNullException.ThrowIfNull(rows, paramName);
        for (int i = 0; i < rows.Count; i++)
        {
            DemoRow row = rows[i] ?? throw new ArgumentNullException(paramName, $"{paramName}[{i}] is null.");
            if (!Enum.IsDefined(row.Model)) Fail(paramName, i, DemoField.Model, $"{(int)row.Model} is not a DemoModel value");
            if (!Enum.IsDefined(row.Experiment)) Fail(paramName, i, DemoField.Experiment, $"{(int)row.Experiment} is not a DemoExperiment value");
            if (row.Schedule is DemoSchedule s && !Enum.IsDefined(s)) Fail(paramName, i, DemoField.Schedule, $"{(int)s} is not a DemoSchedule value");

            foreach (DemoField field in TextFields)
            {
                if (Text(row, field) is string text && string.IsNullOrWhiteSpace(text)) Fail(paramName, i, field, "is empty; use null for a field that does not apply");
            }

            foreach (DemoField field in FractionFields)
            {
                if (Number(row, field) is double f && !(f >= 0 && f <= 1)) Fail(paramName, i, field, $"{f.ToString(CultureInfo.InvariantCulture)} is not a fraction in [0, 1]");
            }

            foreach (DemoField field in DurationFields)
            {
                if (Number(row, field) is double t && !(t >= 0 && double.IsFinite(t))) Fail(paramName, i, field, $"{t.ToString(CultureInfo.InvariantCulture)} is not a finite number ≥ 0");
            }

            if (row.Speedup is double x && !(x > 0 && double.IsFinite(x))) Fail(paramName, i, DemoField.Speedup, $"{x.ToString(CultureInfo.InvariantCulture)} is not a finite number > 0");
            if (row.Params is < 0) Fail(paramName, i, DemoField.Params, $"{row.Params} is negative");
            if (row.Macs is < 0) Fail(paramName, i, DemoField.Macs, $"{row.Macs} is negative");
            if (row.Batch is <= 0) Fail(paramName, i, DemoField.Batch, $"{row.Batch} is not > 0");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string paramName, int index, DemoField field, string rule) =>
        throw new ArgumentException($"{paramName}[{index}].{JsonName(field)} {rule}.", paramName);
}
