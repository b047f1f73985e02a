using Span.Prune.Lab.Data;

namespace Span.Prune.Lab.Demo;

/// <summary>Which reference networks a demo run covers.</summary>
public enum DemoModels
{
    /// <summary>LeNet-300-100 only.</summary>
    Mlp,
    /// <summary>The small CNN only.</summary>
    Cnn,
    /// <summary>Both.</summary>
    All,
}

/// <summary>What <see cref="DemoRunner.Run"/> does.</summary>
/// <param name="Data">Training and test images (the embedded digits, or a <c>--data</c> directory).</param>
/// <param name="Models">The networks to run.</param>
/// <param name="Quick">Fewer points (the mlp only, a subset of sparsities and criteria): the README's first command, under 90 s on 2 cores.</param>
/// <param name="Seed">Initialisation and shuffling seed; the same seed gives the same numbers on a machine.</param>
/// <param name="ExportDirectory">When set, the trained dense networks and their statistics are written there as safetensors.</param>
/// <param name="Only">When set, only this experiment runs (the dense networks it needs are still trained first): a
/// cheap way to re-measure one table, for example the speed rows after a kernel change.</param>
public sealed record DemoOptions(DigitData Data, DemoModels Models = DemoModels.All, bool Quick = false, ulong Seed = 1, string? ExportDirectory = null,
    DemoExperiment? Only = null);
