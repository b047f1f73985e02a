using System.Diagnostics;
using Span.Prune.Cli.Commands;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// The progress line of long prunes (issue 10): its arithmetic against hand-computed lines, the delay, erasing, the
/// counting stream; and through the real executable, that it appears only on a terminal (under <c>script</c>, which
/// gives the child a pseudo-terminal) and never with <c>--quiet</c> or a redirected stderr.
/// </summary>
public sealed class ProgressMeterTests() : CliTempDirectory("sprune-progress-")
{
    [Fact]
    public void Line_CountsTensorBoundariesPassed_RateAndEta()
    {
        long[] ends = [100_000_000, 300_000_000, 1_000_000_000]; // tensors of 0.1, 0.2 and 0.7 GB
        // 0.3 GB in 2 s: two tensors done (the second ends exactly there), 150 MB/s, 0.7 GB left = 4.7 s.
        Assert.Equal("sprune: writing 2/3 tensors, 0.30/1.00 GB, 150 MB/s, ETA 5 s",
            ProgressMeter.Line("writing", ends, 300_000_000, TimeSpan.FromSeconds(2)));
        Assert.Equal("sprune: scanning 0/3 tensors, 0.05/1.00 GB, 50 MB/s, ETA 19 s",
            ProgressMeter.Line("scanning", ends, 50_000_000, TimeSpan.FromSeconds(1)));
        // Done (or over-counted: the header's bytes) is clamped to the total, and has no ETA.
        Assert.Equal("sprune: writing 3/3 tensors, 1.00/1.00 GB, 500 MB/s",
            ProgressMeter.Line("writing", ends, 1_000_000_123, TimeSpan.FromSeconds(2)));
        Assert.Equal("sprune: writing 1/2 tensors, 1.50/2.50 MB, 0 MB/s",
            ProgressMeter.Line("writing", [1_500_000, 2_500_000], 1_500_000, TimeSpan.Zero));
    }

    [Fact]
    public void NothingBeforeTheDelay_ThenOneLineRewrittenInPlace_ErasedOnDispose()
    {
        var output = new StringWriter();
        TimeSpan now = TimeSpan.Zero;
        var meter = new ProgressMeter(output, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan, () => now);
        meter.Begin("writing", [1000, 1000]);
        meter.Add(500);
        now = TimeSpan.FromSeconds(0.5);
        meter.Print();
        Assert.Equal("", output.ToString()); // under a second: nothing at all

        now = TimeSpan.FromSeconds(1);
        meter.Print();
        string first = "sprune: writing 0/2 tensors, 0.50/2.00 kB, 0 MB/s, ETA 3 s";
        Assert.Equal("\r" + first, output.ToString());

        meter.Add(1500);
        now = TimeSpan.FromSeconds(2);
        meter.Print();
        string second = "sprune: writing 2/2 tensors, 2.00/2.00 kB, 0 MB/s";
        Assert.Equal("\r" + first + "\r" + second.PadRight(first.Length), output.ToString());

        meter.Dispose();
        Assert.EndsWith("\r" + new string(' ', second.Length) + "\r", output.ToString());
        meter.Print();
        meter.Dispose();
        Assert.EndsWith("\r" + new string(' ', second.Length) + "\r", output.ToString()); // nothing after disposal
    }

    [Fact]
    public void CountingStream_PassesBytesThroughAndCountsThem()
    {
        var output = new StringWriter();
        TimeSpan now = TimeSpan.FromSeconds(5);
        using var meter = new ProgressMeter(output, TimeSpan.Zero, Timeout.InfiniteTimeSpan, () => now);
        using var inner = new MemoryStream();
        meter.Begin("writing", [3, 4]);
        using Stream counted = meter.Count(inner);
        counted.Write([1, 2, 3], 0, 3);
        counted.WriteByte(4);
        counted.Write(new byte[] { 5, 6, 7 });
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7 }, inner.ToArray());
        meter.Print();
        Assert.EndsWith("sprune: writing 2/2 tensors, 0.01/0.01 kB, 0 MB/s", output.ToString().TrimEnd());
    }

    [Fact]
    public void Executable_ShowsProgressOnATerminalOnly()
    {
        if (!File.Exists("/usr/bin/script")) return; // util-linux: gives the child a pseudo-terminal
        string model = Path.Combine(AppContext.BaseDirectory, "fixtures", "tiny.safetensors");
        if (!File.Exists(model)) model = Path.Combine(FindRepo(), "tests", "fixtures", "tiny.safetensors");

        string onTerminal = UnderTerminal("prune", model, "-o", Out("a"), "--sparsity", "0.5", "--progress-delay", "0");
        Assert.Contains("\rsprune: writing 0/2 tensors", onTerminal);
        Assert.Contains("sprune: pruned 1 tensors", onTerminal);

        string quiet = UnderTerminal("prune", model, "-o", Out("b"), "--sparsity", "0.5", "--progress-delay", "0", "--quiet");
        Assert.DoesNotContain("writing", quiet);
        Assert.Contains("sprune: pruned 1 tensors", quiet);

        string global = UnderTerminal("prune", model, "-o", Out("c"), "--sparsity", "0.5", "--scope", "global", "--progress-delay", "0");
        Assert.Contains("\rsprune: writing 0/2 tensors", global);

        string inspect = UnderTerminal("inspect", model, "--progress-delay", "0");
        Assert.Contains("\rsprune: reading 0/2 tensors", inspect);
        Assert.Contains("| **total** (2 tensors)", inspect);
        Assert.DoesNotContain("reading", UnderTerminal("inspect", model, "--progress-delay", "0", "-q"));

        Sprune.Result redirected = Sprune.Run("prune", model, "-o", Out("d"), "--sparsity", "0.5", "--progress-delay", "0");
        Assert.Equal(0, redirected.ExitCode);
        Assert.DoesNotContain("writing", redirected.StdErr);
        Assert.Equal(1, redirected.StdErr.Count(c => c == '\n')); // the summary line only

        // Same bytes with and without the meter.
        Assert.Equal(File.ReadAllBytes(Out("d")), File.ReadAllBytes(Out("a")));
        Assert.Equal(File.ReadAllBytes(Out("d")), File.ReadAllBytes(Out("b")));
    }

    private string Out(string name) => Path.Combine(Dir, name + ".safetensors");

    /// <summary>Runs sprune under <c>script -qec</c>: its stdout and stderr both go to the pseudo-terminal, which script copies to its stdout.</summary>
    private static string UnderTerminal(params string[] args)
    {
        string command = string.Join(' ', new[] { SpruneCommand() }.Concat(args).Select(Quote));
        using Process p = Process.Start(new ProcessStartInfo("/usr/bin/script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        })!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(6)), "sprune under script did not finish");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stdout.Result}{stderr.Result}");
        return stdout.Result;
    }

    private static string SpruneCommand()
    {
        string appHost = Path.Combine(AppContext.BaseDirectory, "sprune");
        return File.Exists(appHost) ? appHost : throw new InvalidOperationException("the sprune apphost is not next to the tests");
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Span.Prune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }
}
