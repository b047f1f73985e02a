using Span.Prune.Fuzz.Targets;

namespace Span.Prune.Tests.Fuzz;

/// <summary>
/// Replays the committed fuzz corpus (tests/Span.Prune.Fuzz/corpus/TARGET, afl++'s minimised queue plus any crash
/// found, kept as a regression case) through the very target code the fuzzer ran (<see cref="FuzzTargets"/>): no
/// input may raise anything but the documented exceptions, nor break a target's own checks (same content through
/// Parse and Open, CLI exit codes 0–2, inputs untouched, nothing written on a refusal, valid outputs).
/// </summary>
public class FuzzCorpusReplayTests
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "Fuzz", "corpus");

    public static TheoryData<string> Targets() => new(FuzzTargets.Names);

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryCorpusFile_RunsWithoutUnexpectedException(string target)
    {
        string[] files = Directory.GetFiles(Path.Combine(Corpus, target));
        Assert.True(files.Length >= 3, $"corpus/{target} holds {files.Length} files");
        Action<byte[]> run = FuzzTargets.Get(target);
        var failures = new List<string>();
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            try { run(File.ReadAllBytes(file)); }
            catch (Exception e) { failures.Add($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {files.Length} files of corpus/{target} failed:\n{string.Join("\n", failures)}");
    }
}
