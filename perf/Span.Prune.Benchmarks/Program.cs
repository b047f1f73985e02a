using BenchmarkDotNet.Running;
using Span.Prune.Lab.Bench;

namespace Span.Prune.Benchmarks;

/// <summary>Entry point: the quick report, or BenchmarkDotNet's switcher.</summary>
public static class Program
{
    private const string ReportUsage = "usage: report [--quick] [--json FILE] [--check FLOORS.json]";

    /// <summary>
    /// <c>report [--quick] [--json FILE] [--check FLOORS.json]</c> runs Lab's <see cref="QuickReport"/>, the report of
    /// <c>sprune bench</c> (same code, same output and exit codes); anything else goes to BenchmarkDotNet's switcher
    /// (e.g. <c>--filter '*Selection*'</c>).
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <returns>The report's exit code (0, 1 a floor failed, 2 bad input), or 0 after BenchmarkDotNet.</returns>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "report") return Report(args.AsSpan(1));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    // The CLI parses with System.CommandLine; four options do not justify that dependency here.
    private static int Report(ReadOnlySpan<string> args)
    {
        BenchSize size = BenchSize.Full;
        string? json = null, floors = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": if (size == BenchSize.Full) size = BenchSize.Quick; break;
                case "--smoke": size = BenchSize.Smoke; break;
                case "--json" when i + 1 < args.Length: json = args[++i]; break;
                case "--check" when i + 1 < args.Length: floors = args[++i]; break;
                default:
                    Console.Error.WriteLine($"report: unexpected '{args[i]}' ({ReportUsage})");
                    return QuickReport.BadInput;
            }
        }
        return QuickReport.Run(size, Console.Out, Console.Error, json, floors);
    }
}
