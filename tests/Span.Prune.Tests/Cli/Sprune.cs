using System.Diagnostics;

namespace Span.Prune.Tests.Cli;

/// <summary>Runs the real <c>sprune</c> executable that the build copies next to the test assembly.</summary>
internal static class Sprune
{
    public readonly record struct Result(int ExitCode, string StdOut, string StdErr);

    /// <summary>How long one run may take before it counts as a hang. Generous on purpose: the longest runs (the demo
    /// on a subset) take seconds alone but minutes on a shared 2-core machine at load 20, and a hang is what this
    /// catches, not slowness (speed is measured in perf/, never asserted here).</summary>
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);

    public static Result Run(params string[] args)
    {
        using Process process = Start(args);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sprune {string.Join(' ', args)} did not finish in {Limit.TotalMinutes} minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts sprune with stdout and stderr redirected (the caller reads them and waits).</summary>
    public static Process Start(params string[] args) => StartUnder([], args);

    /// <summary>Starts sprune as the last arguments of <paramref name="wrapper"/> (e.g. strace), or alone when it is empty.</summary>
    public static Process StartUnder(string[] wrapper, params string[] args)
    {
        string dir = AppContext.BaseDirectory;
        string appHost = Path.Combine(dir, OperatingSystem.IsWindows() ? "sprune.exe" : "sprune");
        string[] command = File.Exists(appHost) ? [appHost] : ["dotnet", Path.Combine(dir, "sprune.dll")];
        string[] argv = [.. wrapper, .. command, .. args];
        var start = new ProcessStartInfo(argv[0]);
        foreach (string a in argv.Skip(1)) start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return Process.Start(start)!;
    }
}
