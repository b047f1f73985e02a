namespace Span.Prune.Cli;

/// <summary>
/// <c>sprune</c> run in the caller's process: the same parsing, commands, messages and exit codes as the executable
/// (0 success, 1 a failed check, 2 bad usage or input, 70 an internal error), without the executable's signal handlers,
/// which belong to whoever owns the process. The fuzz harness (tests/Span.Prune.Fuzz) drives the CLI through it.
/// </summary>
public static class SpruneCommandLine
{
    /// <summary>Runs one command line, e.g. <c>["inspect", "model.safetensors"]</c>; output goes to <see cref="Console"/>.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <returns>The exit code.</returns>
    public static int Run(params string[] args) => Program.Run(args);
}
