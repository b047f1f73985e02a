using BenchmarkDotNet.Running;

namespace Span.Prune.Benchmarks;

public static class Program
{
    /// <summary>
    /// <c>report [--quick] [--json FILE] [--check FLOORS.json]</c> is <c>sprune bench</c> (same parser, same code);
    /// anything else goes to BenchmarkDotNet's switcher (e.g. <c>--filter '*Selection*'</c>).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "report") return Span.Prune.Cli.Program.Run(["bench", .. args[1..]]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
