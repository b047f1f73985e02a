using System.Text;

namespace Span.Prune.Lab.Demo;

/// <summary>Renders demo rows as markdown: one table per experiment, with only the columns its rows fill.</summary>
/// <remarks>
/// <para>Tables follow the order of <see cref="DemoExperiment"/>, each under a <c>### experiment</c> heading; rows
/// keep their input order. A table's columns are the fields that at least one of its rows has, in the order
/// <see cref="DemoRow"/> lists them (the experiment is the heading, not a column); a row's empty cells stay empty.</para>
/// <para>Numbers: accuracies as percent with 2 decimals (<c>98.21%</c>), sparsity with 3 decimals, speedup with 2
/// decimals and <c>×</c>, milliseconds with 3, seconds with 1, parameter and MAC counts with thousands separators.
/// Culture-free. A <c>|</c> inside a name is escaped.</para>
/// </remarks>
public static class DemoMarkdown
{
    /// <summary>The markdown tables for <paramref name="rows"/>; empty text for no rows.</summary>
    /// <param name="rows">The rows, in output order within each experiment.</param>
    /// <exception cref="ArgumentNullException"><paramref name="rows"/> or a row is null.</exception>
    /// <exception cref="ArgumentException">A row breaks a rule (see <see cref="DemoRow"/>).</exception>
    public static string Render(IReadOnlyList<DemoRow> rows)
    {
        DemoFields.Validate(rows, nameof(rows));
        var text = new StringBuilder();
        foreach (DemoExperiment experiment in Enum.GetValues<DemoExperiment>())
        {
            List<DemoRow> table = rows.Where(r => r.Experiment == experiment).ToList();
            if (table.Count == 0)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            AppendTable(text, DemoNames.Of(experiment), table);
        }

        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, string heading, List<DemoRow> table)
    {
        DemoField[] columns = DemoFields.All
            .Where(f => f != DemoField.Experiment && table.Exists(r => DemoFields.HasValue(r, f)))
            .ToArray();

        text.Append("### ").Append(heading).Append("\n\n|");
        foreach (DemoField column in columns)
        {
            text.Append(' ').Append(DemoFields.JsonName(column)).Append(" |");
        }

        text.Append("\n|");
        foreach (DemoField column in columns)
        {
            text.Append(DemoFields.IsNumeric(column) ? "---:|" : "---|");
        }

        text.Append('\n');
        foreach (DemoRow row in table)
        {
            text.Append('|');
            foreach (DemoField column in columns)
            {
                text.Append(' ').Append(DemoFields.Format(row, column).Replace("|", "\\|", StringComparison.Ordinal)).Append(" |");
            }

            text.Append('\n');
        }
    }
}
