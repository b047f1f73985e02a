namespace Span.Prune.Tests.Cli;

/// <summary>The command line through the real executable: exit codes 0 / 1 / 2 and one-line messages.</summary>
public class CliTests
{
    [Fact]
    public void Version_PrintsTheAssemblyVersion()
    {
        var r = Sprune.Run("--version");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(typeof(Span.Prune.Cli.Program).Assembly.GetName().Version!.ToString(3), r.StdOut.Trim());
    }

    [Fact]
    public void Help_ListsTheCommands()
    {
        var r = Sprune.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("bench", r.StdOut);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("bench", "--bogus")]
    [InlineData("bench", "--json")]
    public void BadUsage_ExitsTwo_WithOneLine(params string[] args)
    {
        var r = Sprune.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Empty(r.StdOut);
    }

    [Fact]
    public void Bench_MissingFloorsFile_ExitsTwo_BeforeMeasuring()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"sprune-no-such-{Guid.NewGuid():N}.json");
        var r = Sprune.Run("bench", "--quick", "--check", missing);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(missing, r.StdErr);
        Assert.DoesNotContain("measuring", r.StdErr);
    }

    [Fact]
    public void Bench_MalformedFloorsFile_ExitsTwo()
    {
        string bad = Path.GetTempFileName();
        try
        {
            File.WriteAllText(bad, "{\"floors\": {\"select/dense/n1/s0.9\": \"fast\"}}");
            var r = Sprune.Run("bench", "--quick", "--check", bad);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("not a number", r.StdErr);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void Bench_JsonIntoMissingDirectory_ExitsTwo_BeforeMeasuring()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sprune-no-dir-{Guid.NewGuid():N}", "report.json");
        var r = Sprune.Run("bench", "--quick", "--json", path);
        Assert.Equal(2, r.ExitCode);
        Assert.DoesNotContain("measuring", r.StdErr);
        Assert.False(File.Exists(path));
    }
}
