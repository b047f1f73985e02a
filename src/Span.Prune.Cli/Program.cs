using System.CommandLine;
using Span.Prune.Cli.Commands;
using Span.Prune.Lab.Bench;

namespace Span.Prune.Cli;

/// <summary>
/// <c>sprune</c>: the command-line face of Span.Prune. Exit codes: 0 success, 1 a failed check, 2 bad usage or bad
/// input (one line on stderr naming what is wrong).
/// </summary>
internal static class Program
{
    public const int Success = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;

    private static int Main(string[] args) => Run(args);

    /// <summary>Parses and runs one command line.</summary>
    internal static int Run(string[] args)
    {
        RootCommand root = BuildCommands();
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"sprune: {string.Join("; ", parse.Errors.Select(e => e.Message))} (see sprune --help)");
            return BadInput;
        }
        try
        {
            // Our handler, not the library's: bad input is exit 2 with one line, never a stack trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or IOException or FormatException or UnauthorizedAccessException or InvalidOperationException)
        {
            Console.Error.WriteLine($"sprune: {e.Message.ReplaceLineEndings(" ")}");
            return BadInput;
        }
    }

    internal static RootCommand BuildCommands()
    {
        var root = new RootCommand("Span.Prune: score, select and apply pruning masks; measure what sparse storage buys.");
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());
        root.Subcommands.Add(BenchCommand());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ShrinkBenchCommand.Create()); // hidden: what --preset llama-mlp --shrink buys
        return root;
    }

    private static Command BenchCommand()
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer sizes and runs (under a minute on 2 cores)." };
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file.", HelpName = "FILE" };
        var smoke = new Option<bool>("--smoke") { Description = "Tiny shapes, seconds: exercises the report, not the machine.", Hidden = true };
        var check = new Option<string?>("--check") { Description = "Exit 1 when a speedup falls below its floor in this file.", HelpName = "FLOORS.json" };
        var bench = new Command("bench", "Side-by-side speed report: selection, end-to-end prune, every sparse format against dense.")
        {
            quick, json, check, smoke,
        };
        // The report lives in Lab (perf/ runs the same one); its exit codes are ours: 0, 1 a failed floor, 2 bad input.
        bench.SetAction(parse => QuickReport.Run(
            parse.GetValue(smoke) ? BenchSize.Smoke : parse.GetValue(quick) ? BenchSize.Quick : BenchSize.Full,
            Console.Out, Console.Error, parse.GetValue(json), parse.GetValue(check)));
        return bench;
    }
}
