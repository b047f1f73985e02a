namespace Span.Prune.Lab.Bench;

/// <summary>A group of report rows measured together.</summary>
internal interface IReportSection
{
    string Name { get; }

    IEnumerable<ReportRow> Measure(BenchSize size);
}

/// <summary>Every section of the quick report, in print order.</summary>
internal static class ReportSections
{
    public static IReadOnlyList<IReportSection> All { get; } =
    [
        new SelectionSection(),
        new MatMulSection(),
    ];
}
