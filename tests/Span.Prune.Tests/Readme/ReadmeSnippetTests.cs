using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Span.Prune.Tests.Readme;

/// <summary>
/// Every <c>```csharp</c> block of the README is compiled against the library with Roslyn and run, so that the
/// documented API cannot drift from the real one. A block is a list of statements with its <c>using</c> directives
/// first (with an SDK project's implicit usings); it must be self-contained (declare its own data) and throws to fail.
/// </summary>
public partial class ReadmeSnippetTests
{
    [GeneratedRegex(@"^```csharp\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Span.Prune.sln"))) return dir.FullName;
        throw new InvalidOperationException("Span.Prune.sln not found above the test binaries.");
    }

    public static IEnumerable<object[]> Snippets()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");
        int i = 0;
        foreach (Match m in CSharpBlock().Matches(readme)) yield return [i++, m.Groups[1].Value];
    }

    [Fact]
    public void ReadmeHasSnippets() => Assert.NotEmpty(Snippets());

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_CompilesAndRuns(int index, string code)
    {
        string[] lines = code.Split('\n');
        string usings = string.Join('\n', lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Length == 0));
        string body = string.Join("\n        ", lines.SkipWhile(l => l.StartsWith("using ", StringComparison.Ordinal) || l.Length == 0));
        // The implicit usings of an SDK-style console project, as a reader's project would have them.
        const string ImplicitUsings = "global using System;\nglobal using System.Collections.Generic;\nglobal using System.IO;\nglobal using System.Linq;\nglobal using System.Threading.Tasks;\n";
        string source = $"{ImplicitUsings}{usings}\n\npublic static class ReadmeSnippet{index}\n{{\n    public static void Run()\n    {{\n        {body}\n    }}\n}}\n";

        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(Span.Prune.Pruning).Assembly.Location)
            .Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create($"ReadmeSnippet{index}",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();
        Assert.True(result.Success, $"README snippet {index} does not compile:\n{string.Join('\n', errors)}\n---\n{source}");

        var context = new AssemblyLoadContext($"readme{index}", isCollectible: true);
        try
        {
            image.Position = 0;
            Assembly assembly = context.LoadFromStream(image);
            MethodInfo run = assembly.GetType($"ReadmeSnippet{index}")!.GetMethod("Run")!;
            try { run.Invoke(null, null); }
            catch (TargetInvocationException e) { throw new Xunit.Sdk.XunitException($"README snippet {index} threw: {e.InnerException}"); }
        }
        finally
        {
            context.Unload();
        }
    }
}
