namespace Span.Prune.Lab.Bench;

/// <summary>How much <see cref="QuickReport"/> measures.</summary>
public enum BenchSize
{
    /// <summary>Every sparsity, 15–21 timed runs per row (a few minutes).</summary>
    Full,

    /// <summary>The sizes the floors file names, fewer sparsities and runs (under a minute on 2 cores; what CI runs).</summary>
    Quick,

    /// <summary>Tiny shapes and 3 runs (seconds, even on the 128-bit paths): the tests' end-to-end run of the
    /// report, its JSON and its floor check. Its ratios mean nothing.</summary>
    Smoke,
}
