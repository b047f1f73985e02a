using System.Text.RegularExpressions;

namespace Span.Prune.Tests.Readme;

/// <summary>
/// The README's API section lists the public types by namespace ("| `Span.Prune.Sparse` (10) | … |") and states their
/// total: both are checked against the types the library really exports, so that the count the API issue asks for
/// cannot drift from the assembly.
/// </summary>
public partial class ReadmeApiTableTests
{
    [GeneratedRegex(@"^\| `(Span\.Prune[A-Za-z.]*)` \((\d+)\) \| (.*) \|$", RegexOptions.Multiline)]
    private static partial Regex NamespaceRow();

    [GeneratedRegex(@"one concern each, (\d+) public types")]
    private static partial Regex Total();

    [Fact]
    public void Every_exported_type_is_listed_under_its_namespace_with_the_right_counts()
    {
        string readme = File.ReadAllText(Path.Combine(ReadmeSnippetTests.RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");
        Type[] exported = typeof(Span.Prune.Scoring).Assembly.GetExportedTypes();
        MatchCollection rows = NamespaceRow().Matches(readme);
        Assert.Equal(exported.Select(t => t.Namespace).Distinct().Order(StringComparer.Ordinal), rows.Select(r => r.Groups[1].Value).Order(StringComparer.Ordinal));
        foreach (Match row in rows)
        {
            string ns = row.Groups[1].Value, listed = row.Groups[3].Value;
            Type[] types = [.. exported.Where(t => t.Namespace == ns)];
            Assert.True(int.Parse(row.Groups[2].Value) == types.Length, $"{ns}: the README says {row.Groups[2].Value} types, the assembly exports {types.Length}");
            foreach (Type t in types)
                Assert.True(listed.Contains($"`{t.Name}`", StringComparison.Ordinal), $"{t.FullName} is not in the README's {ns} row");
        }
        Assert.Equal(exported.Length, int.Parse(Total().Match(readme).Groups[1].Value));
    }
}
