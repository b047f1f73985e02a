namespace Span.Prune.Tests.Cli;

/// <summary>
/// A fresh temporary directory for each test (xunit makes a class instance per test), deleted afterwards: where the CLI
/// tests write their models, statistics and outputs.
/// </summary>
/// <param name="prefix">Start of the directory's name, e.g. <c>sprune-prune-</c>, so a leftover names its test class.</param>
public abstract class CliTempDirectory(string prefix) : IDisposable
{
    /// <summary>The directory.</summary>
    protected string Dir { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>A path inside <see cref="Dir"/>.</summary>
    protected string PathOf(string name) => Path.Combine(Dir, name);

    /// <summary>Deletes the directory with everything in it.</summary>
    public virtual void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
