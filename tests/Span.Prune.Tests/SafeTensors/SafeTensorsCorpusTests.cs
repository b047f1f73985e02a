using Span.Prune.SafeTensors;

namespace Span.Prune.Tests.SafeTensors;

/// <summary>
/// The differential corpus (Corpus/files, written by Corpus/generate.py): each file breaks one rule of the format or is
/// the valid counterpart of one that does. Corpus/cases.tsv records the verdict of the reference reader
/// (huggingface/safetensors, run on these very files; see Corpus/README.md) and the rule and tensor our rejection must
/// name. Rows marked <c>differ</c> are the deliberate differences: the reference accepts, we refuse.
/// </summary>
public class SafeTensorsCorpusTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "SafeTensors", "Corpus");

    public sealed record Case(string File, bool ReferenceAccepts, SafeTensorsFormatRule? Rule, string? Tensor, bool Differ)
    {
        public override string ToString() => File;
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases())
            data.Add(c.File);
        return data;
    }

    private static IEnumerable<Case> Cases()
    {
        foreach (string line in File.ReadLines(Path.Combine(Folder, "cases.tsv")).Skip(1))
        {
            string[] f = line.Split('\t');
            yield return new Case(f[0], f[1] == "ACCEPT", f[2] == "-" ? null : Enum.Parse<SafeTensorsFormatRule>(f[2]),
                f[3] == "-" ? null : f[3], f[4] == "differ");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Verdict_MatchesTheReference(string file)
    {
        var c = Cases().Single(x => x.File == file);
        bool weAccept = !c.Differ && c.ReferenceAccepts;
        Assert.Equal(weAccept, c.Rule is null); // the manifest is consistent: a rule exactly for what we refuse
        string path = Path.Combine(Folder, "files", file);
        byte[] bytes = File.ReadAllBytes(path);

        // The same verdict from memory and from disk (the disk path reads the header through its own handle).
        foreach (var open in new Func<SafeTensorsFile>[] { () => SafeTensorsFile.Parse(bytes), () => SafeTensorsFile.Open(path) })
        {
            if (weAccept)
            {
                using var f = open();
                foreach (var t in f.Tensors)
                    Assert.Equal(t.ByteLength, f.GetBytes(t.Index).Length);
            }
            else
            {
                var e = Assert.Throws<SafeTensorsFormatException>(() => open().Dispose());
                Assert.Equal(c.Rule, e.Rule);
                Assert.Equal(c.Tensor, e.TensorName);
            }
        }
    }

    /// <summary>Every rule a header can break has a corpus case, and every rejection rule has a valid counterpart
    /// somewhere in the corpus (accepted cases outnumber no rule).</summary>
    [Fact]
    public void Corpus_CoversEveryHeaderRule()
    {
        var cases = Cases().ToList();
        var covered = cases.Where(c => c.Rule is not null).Select(c => c.Rule!.Value).ToHashSet();
        // FileTooShort and Truncated need files that end early: SafeTensorsValidationTests and SafeTensorsRobustnessTests.
        foreach (var rule in Enum.GetValues<SafeTensorsFormatRule>().Except([SafeTensorsFormatRule.FileTooShort, SafeTensorsFormatRule.Truncated]))
            Assert.Contains(rule, covered);
        Assert.True(cases.Count(c => c.ReferenceAccepts && !c.Differ) >= 40);
        // One accepted file per dtype of the reference.
        foreach (var dt in Enum.GetValues<SafeTensorsDType>())
            Assert.Contains(cases, c => c.File == $"dtype_{SafeTensorsDTypeInfo.GetName(dt)}.safetensors" && c.Rule is null);
    }

    /// <summary>parse → write → parse is byte-stable for every accepted corpus file whose header the writer would
    /// produce itself (after one normalising write: header order kept, metadata first, space padding).</summary>
    [Fact]
    public void RoundTrip_ParseWriteParse_IsByteStable()
    {
        int files = 0;
        foreach (var c in Cases().Where(c => c.Rule is null))
        {
            byte[] original = File.ReadAllBytes(Path.Combine(Folder, "files", c.File));
            byte[] once = Rewrite(original);
            byte[] twice = Rewrite(once);
            Assert.Equal(once, twice);
            using var a = SafeTensorsFile.Parse(original);
            using var b = SafeTensorsFile.Parse(once);
            Assert.Equal(a.Metadata, b.Metadata);
            Assert.Equal(a.Tensors.Count, b.Tensors.Count);
            foreach (var t in a.Tensors)
            {
                var u = b.GetTensor(t.Name);
                Assert.Equal(t.DType, u.DType);
                Assert.Equal(t.Shape.ToArray(), u.Shape.ToArray());
                Assert.Equal(a.GetBytes(t.Index).ToArray(), b.GetBytes(u.Index).ToArray());
            }
            files++;
        }
        Assert.True(files >= 40);
    }

    /// <summary>Tensors sorted by offset, so the writer's contiguous layout keeps every tensor's bytes where a reader of
    /// the original expects them relative to each other.</summary>
    internal static byte[] Rewrite(byte[] image)
    {
        using var f = SafeTensorsFile.Parse(image);
        var w = new SafeTensorsWriter();
        foreach (var kv in f.Metadata)
            w.AddMetadata(kv.Key, kv.Value);
        foreach (var t in f.Tensors.OrderBy(t => t.DataOffset).ThenBy(t => t.Index))
            w.Add(t.Name, t.DType, t.Shape, f.GetBytes(t.Index).ToArray());
        return w.ToArray();
    }
}
