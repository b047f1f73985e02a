using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Span.Prune.Tests.Cli.Expect;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// Issue 11, problems 3, 4 and 7, through the real executable: which paths sprune may write, what it writes there
/// (links, permissions, long names, fsync), what it leaves when it fails, is killed or races another run, and how it
/// prints names and patterns it did not choose.
/// </summary>
public sealed partial class OutputSafetyTests() : CliTempDirectory("sprune-outputs-")
{
    private string Model(string name = "model.safetensors") =>
        new TensorFile().F32("fc1.weight", TestData.Normal(60, 1), 6, 10).F32("fc2.weight", TestData.Normal(24, 2), 4, 6).Save(PathOf(name));

    /// <summary>Taylor statistics for <see cref="Model"/>: the mean gradients.</summary>
    private string Stats() =>
        new TensorFile().F32("fc1.weight.grad", TestData.Normal(60, 3), 6, 10).F32("fc2.weight.grad", TestData.Normal(24, 4), 4, 6).Save(PathOf("stats.safetensors"));

    /// <summary>Every entry of the directory with its content (a link by its target), to show that a refused run changed nothing.</summary>
    private SortedDictionary<string, string> Snapshot() => new(
        new DirectoryInfo(Dir).EnumerateFileSystemInfos().ToDictionary(
            e => e.Name,
            e => e.LinkTarget is { } target ? "link -> " + target
                : e is DirectoryInfo ? "directory"
                : Convert.ToBase64String(File.ReadAllBytes(e.FullName))),
        StringComparer.Ordinal);

    private static void AssertRefused(Sprune.Result r)
    {
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.StdErr, StringComparison.Ordinal);
    }

    // ---- Problem 3: --report (and every output) is checked against every other path. ----

    [Theory]
    [InlineData("--report", "out.safetensors")]      // was: the pruned model replaced by JSON, exit 0
    [InlineData("--report", "model.safetensors")]    // was: the input replaced by JSON
    [InlineData("--report", "stats.safetensors")]    // was: the statistics replaced by JSON
    [InlineData("--report", "sparse.safetensors")]   // was: the sparse export replaced by JSON
    [InlineData("--sparse-out", "out.safetensors")]
    [InlineData("--sparse-out", "stats.safetensors")]
    public void AnOutputThatIsAnotherPathOfTheRun_IsRefused_AndNothingChanges(string option, string sameAs)
    {
        string model = Model(), stats = Stats();
        File.WriteAllText(PathOf("out.safetensors"), "an earlier result");
        File.WriteAllText(PathOf("sparse.safetensors"), "an earlier sparse export");
        List<string> args = ["prune", model, "-o", PathOf("out.safetensors"), "--sparsity", "0.5", "--criterion", "taylor", "--stats", stats];
        if (option != "--sparse-out") args.AddRange(["--sparse-out", PathOf("sparse.safetensors")]);
        args.AddRange([option, PathOf(sameAs)]);
        var before = Snapshot();

        var r = Sprune.Run([.. args]);

        AssertRefused(r);
        Assert.Contains("same file", r.StdErr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("-o")]
    [InlineData("--report")]
    [InlineData("--sparse-out")]
    public void ALinkPlantedAtAnOutputPath_IsReplaced_ItsTargetIsNeverWritten(string option)
    {
        string model = Model();
        string victim = PathOf("victim.txt"), link = PathOf("planted");
        File.WriteAllText(victim, "not sprune's to write");
        File.CreateSymbolicLink(link, victim);
        List<string> args = ["prune", model, "--sparsity", "0.5", option, link];
        if (option != "-o") args.AddRange(["-o", PathOf("out.safetensors")]);

        var r = Sprune.Run([.. args]);

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("not sprune's to write", File.ReadAllText(victim));
        Assert.Null(new FileInfo(link).LinkTarget); // the link itself was replaced by the new file
        if (option == "--report") JsonDocument.Parse(File.ReadAllText(link)).Dispose();
        else Assert.NotEmpty(Read(link, option == "-o" ? "fc1.weight" : "fc1.weight.values"));
    }

    [Fact]
    public void ALinkAtTheOutputPath_ThatPointsAtTheInput_IsRefused()
    {
        string model = Model();
        File.CreateSymbolicLink(PathOf("out.safetensors"), model);
        var before = Snapshot();

        AssertRefused(Sprune.Run("prune", model, "-o", PathOf("out.safetensors"), "--sparsity", "0.5"));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void BenchJson_AtAPlantedLink_ReplacesTheLink_AndOverTheFloorsFile_IsRefused()
    {
        string victim = PathOf("victim.txt"), link = PathOf("bench.json"), floors = PathOf("floors.json");
        File.WriteAllText(victim, "not sprune's to write");
        File.CreateSymbolicLink(link, victim);
        File.WriteAllText(floors, "{\"floors\": {}}");

        var refused = Sprune.Run("bench", "--smoke", "--json", floors, "--check", floors);
        AssertRefused(refused);
        Assert.DoesNotContain("measuring", refused.StdErr, StringComparison.Ordinal);
        Assert.Equal("{\"floors\": {}}", File.ReadAllText(floors));

        var r = Sprune.Run("bench", "--smoke", "--json", link);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("not sprune's to write", File.ReadAllText(victim)); // was: the JSON written through the link
        Assert.Null(new FileInfo(link).LinkTarget);
        JsonDocument.Parse(File.ReadAllText(link)).Dispose();
    }

    // ---- Problem 4: same file means the same file, not the same spelling. ----

    [Fact]
    public void AnOutputThroughADirectoryLink_ToTheInputsFolder_IsRefused()
    {
        string model = Model();
        Directory.CreateSymbolicLink(PathOf("dirlink"), Dir);
        var before = Snapshot();

        // Was: renamed over the input, exit 0.
        var r = Sprune.Run("prune", model, "-o", Path.Combine(PathOf("dirlink"), "model.safetensors"), "--sparsity", "0.5");

        AssertRefused(r);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void TwoOutputsThatAreOneNewFileThroughADirectoryLink_AreRefused()
    {
        string model = Model();
        Directory.CreateSymbolicLink(PathOf("dirlink"), Dir);
        var before = Snapshot();

        var r = Sprune.Run("prune", model, "-o", PathOf("out.safetensors"), "--sparsity", "0.5",
            "--report", Path.Combine(PathOf("dirlink"), "out.safetensors"));

        AssertRefused(r);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public void AnOutputHardLinkedToTheInput_IsRefused()
    {
        if (!OperatingSystem.IsLinux()) return; // the (device, inode) comparison is Linux's (see OutputFiles)
        string model = Model();
        Assert.Equal(0, link(model, PathOf("hardlink.safetensors")));
        var before = Snapshot();

        AssertRefused(Sprune.Run("prune", model, "-o", PathOf("hardlink.safetensors"), "--sparsity", "0.5"));
        Assert.Equal(before, Snapshot());
    }

    // ---- Problem 7: output hygiene. ----

    [Theory]
    [InlineData(15, 143)] // SIGTERM
    [InlineData(2, 130)]  // SIGINT (Ctrl-C)
    public async Task ASignalWhileWriting_RemovesTheTemporaryFile_AndExits128PlusTheSignal(int signal, int exitCode)
    {
        if (OperatingSystem.IsWindows()) return;
        // 128 MiB: long enough (about a second) that the signal lands while the temporary file is being written.
        using Process p = Sprune.Start("generate", PathOf("big.safetensors"), "--tensors", "8", "--rows", "2048", "--cols", "2048", "--dtype", "f32");
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (Directory.GetFiles(Dir, "*.tmp").Length == 0)
        {
            Assert.False(p.HasExited, "sprune finished before a temporary file was seen");
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "no temporary file appeared");
            Thread.Sleep(1);
        }

        Assert.Equal(0, kill(p.Id, signal));

        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Equal(exitCode, p.ExitCode);
        Assert.DoesNotContain("   at ", await stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(Dir)); // neither the temporary file nor a partial output
    }

    [Fact]
    public void AnOutputNameNearNameMax_StillFits_WithTheTemporaryName()
    {
        string model = Model();
        string output = PathOf(new string('n', 243) + ".safetensors"); // 255 bytes, NAME_MAX

        // Was: ".{name}.{random}.tmp" is 273 bytes: ENAMETOOLONG, exit 2.
        var r = Sprune.Run("prune", model, "-o", output, "--sparsity", "0.5");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(TorchCount(0.5, 60), Read(output, "fc1.weight").Count(x => x == 0));
        Assert.Equal(2, Directory.GetFiles(Dir).Length);
    }

    [Theory]
    [InlineData(0b110_000_000, 0b110_000_000)] // 0600 stays 0600 (was: the umask default, 0644)
    [InlineData(0b110_100_000, 0b110_100_000)] // 0640
    [InlineData(0b111_101_101, 0b111_101_101)] // 0755
    [InlineData(0b110_110_110, 0b110_110_100)] // 0666 → 0664: never world-writable
    public void AReplacedOutput_KeepsItsPermissions_ButNeverWorldWrite(int before, int after)
    {
        if (OperatingSystem.IsWindows()) return;
        string model = Model(), output = PathOf("out.safetensors");
        File.WriteAllText(output, "an earlier result");
        File.SetUnixFileMode(output, (UnixFileMode)before);

        Assert.Equal(0, Sprune.Run("prune", model, "-o", output, "--sparsity", "0.5").ExitCode);

        Assert.Equal((UnixFileMode)after, File.GetUnixFileMode(output));
    }

    [Fact]
    public void ANewOutput_GetsTheUmaskDefault()
    {
        if (OperatingSystem.IsWindows()) return;
        string model = Model(), output = PathOf("out.safetensors"), probe = PathOf("probe");
        File.WriteAllText(probe, ""); // created 0666 minus this process's umask, which sprune inherits
        UnixFileMode expected = File.GetUnixFileMode(probe) & ~UnixFileMode.OtherWrite;

        Assert.Equal(0, Sprune.Run("prune", model, "-o", output, "--sparsity", "0.5", "--report", PathOf("r.json")).ExitCode);

        Assert.Equal(expected, File.GetUnixFileMode(output));
        Assert.Equal(expected, File.GetUnixFileMode(PathOf("r.json")));
    }

    [StraceFact]
    public async Task Fsync_SyncsTheFileBeforeTheRename_AndTheDirectoryAfterIt()
    {
        string model = Model(), outDir = Directory.CreateDirectory(PathOf("out")).FullName, output = Path.Combine(outDir, "out.safetensors");
        string log = PathOf("strace.log");
        using Process p = Sprune.StartUnder(["strace", "-f", "-qq", "-o", log, "-e", "trace=openat,fsync,rename,renameat,renameat2"],
            "prune", model, "-o", output, "--sparsity", "0.5", "--fsync");
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.True(p.ExitCode == 0, await stderr);

        string[] calls = File.ReadAllLines(log);
        int rename = Array.FindIndex(calls, c => RenameCall().Match(c) is { Success: true } m && m.Groups["to"].Value == output);
        Assert.True(rename >= 0, "no rename onto the output");
        string temporary = RenameCall().Match(calls[rename]).Groups["from"].Value;
        string fileFd = OpenedFd(calls, 0, rename, temporary);
        Assert.Contains(calls[..rename], c => c.Contains($"fsync({fileFd})", StringComparison.Ordinal));
        string directoryFd = OpenedFd(calls, rename, calls.Length, outDir);
        Assert.Contains(calls[rename..], c => c.Contains($"fsync({directoryFd})", StringComparison.Ordinal));
    }

    private static string OpenedFd(string[] calls, int from, int to, string path)
    {
        for (int i = from; i < to; i++)
        {
            Match m = OpenCall().Match(calls[i]);
            if (m.Success && m.Groups["path"].Value == path) return m.Groups["fd"].Value;
        }
        Assert.Fail($"'{path}' was not opened");
        return "";
    }

    [GeneratedRegex("""rename(?:at2?)?\((?:AT_FDCWD, )?"(?<from>[^"]+)", (?:AT_FDCWD, )?"(?<to>[^"]+)".*\) = 0""")]
    private static partial Regex RenameCall();

    [GeneratedRegex("""openat\(AT_FDCWD, "(?<path>[^"]+)", .*\) = (?<fd>\d+)""")]
    private static partial Regex OpenCall();

    [Fact]
    public void Inspect_EscapesControlCharactersAndPipes_InItsTable()
    {
        const string Name = "evil\u001b]0;owned\u0007|col\nline\u202Eexe";
        string path = new TensorFile().F32(Name, [1, 0, 2, 0], 2, 2).Save(PathOf("names.safetensors"));

        var r = Sprune.Run("inspect", path);

        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain('\u001b', r.StdOut);
        Assert.DoesNotContain('\u0007', r.StdOut);
        Assert.DoesNotContain('\u202E', r.StdOut);
        string row = Assert.Single(r.StdOut.Split('\n'), l => l.Contains("evil", StringComparison.Ordinal));
        Assert.StartsWith(@"| evil\u001B]0;owned\u0007\|col\nline\u202Eexe | F32 | [2, 2] |", row, StringComparison.Ordinal);
        Assert.Equal(6, Regex.Count(row, @"(?<!\\)\|")); // five columns: the name added none
    }

    [Fact]
    public void ErrorLines_EscapeTheNamesTheyQuote()
    {
        float[] w = TestData.Normal(16, 1);
        w[3] = float.NaN;
        string path = new TensorFile().F32("bad\u001b[2J\nname", w, 4, 4).Save(PathOf("nan.safetensors"));

        var r = Sprune.Run("prune", path, "-o", PathOf("out.safetensors"), "--sparsity", "0.5");

        AssertRefused(r);
        Assert.DoesNotContain('\u001b', r.StdErr);
        Assert.Contains(@"tensor 'bad\u001B[2J\nname'", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void ABacktrackingPattern_RunsInLinearTime()
    {
        // ^(a|aa)+$ against a^40 b backtracks through Fibonacci(40) splits: the backtracking engine hit its 1 s
        // timeout and the exception escaped with a stack trace.
        string name = new string('a', 40) + "b";
        string path = new TensorFile().F32(name, TestData.Normal(16, 1), 4, 4).F32("fc.weight", TestData.Normal(16, 2), 4, 4).Save(PathOf("m.safetensors"));

        var r = Sprune.Run("prune", path, "-o", PathOf("out.safetensors"), "--sparsity", "0.5", "--exclude", "^(a|aa)+$");

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal(8, Read(PathOf("out.safetensors"), name).Count(x => x == 0)); // not excluded: the pattern does not match
    }

    [Theory]
    [InlineData("--include", "(?<=fc1)\\.weight")] // lookbehind
    [InlineData("--exclude", "(f)\\1")]           // backreference
    [InlineData("--include", "(?>fc)1")]          // atomic group
    [InlineData("--include", "fc[")]              // not a pattern at all
    public void APatternTheLinearEngineCannotRun_ExitsTwo_WithOneLine(string option, string pattern)
    {
        string model = Model();

        var r = Sprune.Run("prune", model, "-o", PathOf("out.safetensors"), "--sparsity", "0.5", option, pattern);

        AssertRefused(r);
        Assert.StartsWith($"sprune: {option}: ", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("out.safetensors")));
    }

    [Fact]
    public void ASizeThatOverflows_ExitsTwo_WithOneLine()
    {
        // Was: an OverflowException with its stack trace.
        var r = Sprune.Run("generate", PathOf("huge.safetensors"), "--rows", "4000000000", "--cols", "4000000000");

        AssertRefused(r);
        Assert.Empty(Directory.GetFileSystemEntries(Dir));
    }

    [Fact]
    public async Task TwoRunsRacingToOneOutput_LeaveOneCompleteFile()
    {
        // 8 MiB of weights, so that the two writes overlap; different sparsities, so that the survivor tells which run wrote it.
        float[] a = TestData.Normal(1024 * 2048, 5), b = TestData.Normal(64 * 64, 6);
        string model = new TensorFile().F32("a", a, 1024, 2048).F32("b", b, 64, 64).Save(PathOf("model.safetensors"));
        string output = PathOf("out.safetensors");
        double[] sparsities = [0.25, 0.75];

        Sprune.Result[] results = await Task.WhenAll(sparsities.Select(s =>
            Task.Run(() => Sprune.Run("prune", model, "-o", output, "--sparsity", S(s)))));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.StdErr));
        float[] outA = Read(output, "a"), outB = Read(output, "b");
        double s = sparsities.Single(x => outA.Count(v => v == 0) == TorchCount(x, a.Length)); // one run's file, whole
        Assert.Equal(TorchCount(s, b.Length), outB.Count(v => v == 0));
        Assert.All(Enumerable.Range(0, a.Length).Where(i => outA[i] != 0), i => Assert.Equal(a[i], outA[i]));
        Assert.Equal(2, Directory.GetFiles(Dir).Length); // model and output: no temporary file
    }

#pragma warning disable SA1300, IDE1006 // libc's names
    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int link(string existing, string created);
#pragma warning restore SA1300, IDE1006
}

/// <summary>A fact that needs strace (Linux): skipped, and reported as skipped, where it is not installed.</summary>
internal sealed class StraceFactAttribute : FactAttribute
{
    public StraceFactAttribute()
    {
        bool found = OperatingSystem.IsLinux() && (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, "strace")));
        if (!found) Skip = "strace is not installed";
    }
}
