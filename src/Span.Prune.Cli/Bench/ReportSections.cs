namespace Span.Prune.Cli.Bench;

/// <summary>How much the report measures.</summary>
internal enum BenchSize
{
    /// <summary>Every sparsity, 15–21 timed runs per row (a few minutes).</summary>
    Full,

    /// <summary>The sizes the floors file names, fewer sparsities and runs (under a minute on 2 cores; what CI runs).</summary>
    Quick,

    /// <summary>Tiny shapes and 3 runs (seconds, even on the 128-bit paths): the tests' end-to-end run of the
    /// report, its JSON and its floor check. Its ratios mean nothing.</summary>
    Smoke,
}

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
