using System.Diagnostics;

namespace Span.Prune.Tests.Cli;

/// <summary>Runs the real <c>sprune</c> executable that the build copies next to the test assembly.</summary>
internal static class Sprune
{
    public readonly record struct Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(params string[] args)
    {
        string dir = AppContext.BaseDirectory;
        string appHost = Path.Combine(dir, OperatingSystem.IsWindows() ? "sprune.exe" : "sprune");
        var start = File.Exists(appHost)
            ? new ProcessStartInfo(appHost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(dir, "sprune.dll") } };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sprune {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
