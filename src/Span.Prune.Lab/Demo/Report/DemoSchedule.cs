namespace Span.Prune.Lab.Demo;

/// <summary>How the sparsity of a <see cref="DemoRow"/> was reached; JSON names in <see cref="DemoNames.Of(DemoSchedule)"/>.</summary>
public enum DemoSchedule
{
    /// <summary>Pruned once to the target (<c>one_shot</c>).</summary>
    OneShot,

    /// <summary>Pruned in equal steps with fine-tuning between them (<c>iterative</c>).</summary>
    Iterative,

    /// <summary>Automated gradual pruning, the cubic schedule of Zhu &amp; Gupta 2017 (<c>agp</c>).</summary>
    Agp,
}
