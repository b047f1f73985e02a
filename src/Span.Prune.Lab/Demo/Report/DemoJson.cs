using System.Buffers;
using System.Text.Json;

namespace Span.Prune.Lab.Demo;

/// <summary>Writes demo rows as one JSON array, one object per line, with <see cref="Utf8JsonWriter"/> (no reflection, AOT-safe).</summary>
/// <remarks>
/// <para>Layout: <c>[</c>, then each row's object on its own line, comma-separated, then <c>]</c>, so the file is one
/// JSON document and still greps and diffs per point. Fields appear in the order <see cref="DemoRow"/> lists them;
/// null fields are omitted. Numbers are the shortest text that round-trips, independent of the culture.</para>
/// <para>All rows are validated first (see <see cref="DemoRow"/>), so a bad row throws before anything is written.</para>
/// </remarks>
public static class DemoJson
{
    private static ReadOnlySpan<byte> Open => "[\n"u8;

    private static ReadOnlySpan<byte> Separator => ",\n"u8;

    private static ReadOnlySpan<byte> Close => "\n]\n"u8;

    /// <summary>Writes <paramref name="rows"/> to <paramref name="destination"/> as UTF-8 JSON.</summary>
    /// <param name="destination">Receives the bytes; left open.</param>
    /// <param name="rows">The rows, in output order.</param>
    /// <exception cref="ArgumentNullException">An argument or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule; the message names the row and the field.</exception>
    public static void Write(Stream destination, IReadOnlyList<DemoRow> rows)
    {
        ArgumentNullException.ThrowIfNull(destination);
        DemoFields.Validate(rows, nameof(rows));
        var buffer = new ArrayBufferWriter<byte>(256 * (rows.Count + 1));
        WriteTo(buffer, rows);
        destination.Write(buffer.WrittenSpan);
    }

    /// <summary>Writes <paramref name="rows"/> to the file <paramref name="path"/> (created or replaced) as UTF-8 JSON without a BOM.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="rows">The rows, in output order.</param>
    /// <exception cref="ArgumentNullException">An argument or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule, or <paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void WriteFile(string path, IReadOnlyList<DemoRow> rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        DemoFields.Validate(rows, nameof(rows));
        var buffer = new ArrayBufferWriter<byte>(256 * (rows.Count + 1));
        WriteTo(buffer, rows);
        File.WriteAllBytes(path, buffer.WrittenSpan);
    }

    /// <summary>The JSON text of <paramref name="rows"/>, as <see cref="Write"/> writes it.</summary>
    /// <param name="rows">The rows, in output order.</param>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule.</exception>
    public static string ToJson(IReadOnlyList<DemoRow> rows)
    {
        DemoFields.Validate(rows, nameof(rows));
        var buffer = new ArrayBufferWriter<byte>(256 * (rows.Count + 1));
        WriteTo(buffer, rows);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteTo(ArrayBufferWriter<byte> buffer, IReadOnlyList<DemoRow> rows)
    {
        if (rows.Count == 0)
        {
            buffer.Write("[]\n"u8);
            return;
        }

        buffer.Write(Open);
        // One compact writer per object, re-pointed with Reset: its validation then covers exactly one object,
        // and the line breaks between objects are ours.
        using var writer = new Utf8JsonWriter(buffer);
        for (int i = 0; i < rows.Count; i++)
        {
            if (i > 0)
            {
                buffer.Write(Separator);
            }

            writer.Reset(buffer);
            writer.WriteStartObject();
            foreach (DemoField field in DemoFields.All)
            {
                DemoFields.WriteJson(writer, rows[i], field);
            }

            writer.WriteEndObject();
            writer.Flush();
        }

        buffer.Write(Close);
    }
}
