using System.CommandLine;
using Span.Prune.Cli.Commands;
using Span.Prune.Lab.Bench;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Training;

namespace Span.Prune.Cli;

/// <summary>
/// <c>sprune</c>: the command-line face of Span.Prune. Exit codes: 0 success, 1 a failed check, 2 bad usage or bad
/// input (one line on stderr naming what is wrong), 70 an internal error (one line, never a stack trace), 128 + n
/// killed by signal n (temporary files removed first; see <see cref="OutputFiles"/>).
/// </summary>
internal static class Program
{
    public const int Success = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;
    public const int InternalError = 70; // EX_SOFTWARE (sysexits.h)

    private static int Main(string[] args)
    {
        IDisposable[] signals = OutputFiles.HandleTerminationSignals();
        try { return Run(args); }
        finally { foreach (IDisposable s in signals) s.Dispose(); }
    }

    /// <summary>Parses and runs one command line.</summary>
    internal static int Run(string[] args)
    {
        RootCommand root = BuildCommands();
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"sprune: {DisplayText.Escape(string.Join("; ", parse.Errors.Select(e => e.Message)))} (see sprune --help)");
            return BadInput;
        }
        try
        {
            // Our handler, not the library's: bad input is exit 2 with one line, never a stack trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsBadInput(e))
        {
            Console.Error.WriteLine($"sprune: {DisplayText.Escape(e.Message)}");
            return BadInput;
        }
        catch (Exception e)
        {
            // A bug, not the user's input: still one line, with what a report needs first.
            Console.Error.WriteLine($"sprune: internal error: {e.GetType().Name}: {DisplayText.Escape(e.Message)}");
            return InternalError;
        }
    }

    /// <summary>
    /// What a file or an argument can cause: a malformed or missing file (IOException, FormatException,
    /// UnauthorizedAccessException), a bad value (ArgumentException, including RegexParseException), a size that does
    /// not fit (OverflowException), a name the file lacks (KeyNotFoundException), a regular expression that is too slow
    /// or uses a construct the linear-time engine lacks (RegexMatchTimeoutException, NotSupportedException), a file whose
    /// content contradicts itself (InvalidOperationException).
    /// </summary>
    private static bool IsBadInput(Exception e) => e is ArgumentException or IOException or FormatException or UnauthorizedAccessException
        or InvalidOperationException or OverflowException or KeyNotFoundException or System.Text.RegularExpressions.RegexMatchTimeoutException
        or NotSupportedException;

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
        var training = new Option<bool>("--training") { Description = "Instead: the mlp's training throughput with the demo's recipe on the embedded digits, 1 and 2 threads (the PyTorch anchor's counterpart, perf/torch)." };
        var bench = new Command("bench", "Side-by-side speed report: selection, end-to-end prune, every sparse format against dense.")
        {
            quick, json, check, smoke, training,
        };
        // The report lives in Lab (perf/ runs the same one); its exit codes are ours: 0, 1 a failed floor, 2 bad input.
        // The JSON goes through OutputFiles like every other output (checked against the floors file before measuring).
        bench.SetAction(parse =>
        {
            if (parse.GetValue(training)) return TrainingBench(parse.GetValue(quick));
            using var files = new OutputFiles();
            string? floors = parse.GetValue(check);
            if (floors is not null && File.Exists(floors)) files.Input(floors, "--check"); // a missing one: the report's own message
            string? jsonPath = parse.GetValue(json) is { } j ? files.Output(j, "--json") : null;
            return QuickReport.Run(
                parse.GetValue(smoke) ? BenchSize.Smoke : parse.GetValue(quick) ? BenchSize.Quick : BenchSize.Full,
                Console.Out, Console.Error, jsonPath, floors,
                jsonPath is null ? null : text => files.Write(jsonPath, stream => OutputFiles.WriteText(stream, text)));
        });
        return bench;
    }

    /// <summary>
    /// <c>sprune bench --training</c>: images/s of the demo's dense mlp training (20 epochs of the recipe over the 8,004
    /// embedded training images, data gathering included; <see cref="TrainingThroughput"/>), median of 3 timed runs after
    /// a warm-up, at 1 and 2 threads (bit-identical results). perf/torch/anchor.py is PyTorch's side.
    /// </summary>
    private static int TrainingBench(bool quick)
    {
        var data = IdxDataset.LoadEmbedded().Train;
        int epochs = quick ? 5 : 20;
        Console.WriteLine("| threads | epochs | images/s (median) | min | max | runs |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (int threads in new[] { 1, 2 })
        {
            ThroughputResult r = TrainingThroughput.Measure(ReferenceArchitecture.Mlp, data.Pixels.Span, data.Labels.Span, data.Count, epochs, runs: 3, threads);
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"| {threads} | {epochs} | {r.MedianImagesPerSecond:N0} | {r.MinImagesPerSecond:N0} | {r.MaxImagesPerSecond:N0} | {r.Runs} |"));
        }
        return Success;
    }
}
