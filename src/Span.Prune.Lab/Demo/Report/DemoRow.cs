namespace Span.Prune.Lab.Demo;

/// <summary>
/// One measured point of <c>sprune demo</c>: a (pruned) network's accuracy, size or speed. Fields that do not apply
/// to a measurement are <see langword="null"/> and left out of the JSON, the tables and the plots.
/// </summary>
/// <remarks>
/// <para>A sealed record rather than a record struct: with seventeen fields it is far too large to copy by value,
/// and rows are made once and only read afterwards.</para>
/// <para>Units: accuracies and sparsity are fractions in [0, 1] (not percent); <see cref="Ms"/> is milliseconds per
/// batch; <see cref="Speedup"/> is the dense network's time over this one's, measured in the same run;
/// <see cref="Seconds"/> is wall time of the step that produced the row (training, pruning and fine-tuning).
/// The writers check these ranges and reject a row that breaks them (a percent passed as a fraction, a NaN).</para>
/// <para>JSON names, in this order: <c>model, experiment, criterion, granularity, sparsity, accuracy, one_shot,
/// fine_tuned, slimming, schedule, params, macs, format, batch, ms, speedup, seconds</c>.</para>
/// </remarks>
public sealed record DemoRow
{
    /// <summary>The network (<c>model</c>).</summary>
    public required DemoModel Model { get; init; }

    /// <summary>The measurement the row belongs to (<c>experiment</c>).</summary>
    public required DemoExperiment Experiment { get; init; }

    /// <summary>The importance criterion, e.g. <c>magnitude</c>, <c>lamp</c>, <c>taylor</c>, <c>l1</c>, <c>bn_scale</c> (<c>criterion</c>).</summary>
    public string? Criterion { get; init; }

    /// <summary>What is pruned as one unit, e.g. <c>element</c>, <c>nm:2:4</c>, <c>row</c>, <c>channel</c> (<c>granularity</c>).</summary>
    public string? Granularity { get; init; }

    /// <summary>The achieved fraction of removed weights, in [0, 1] (<c>sparsity</c>).</summary>
    public double? Sparsity { get; init; }

    /// <summary>Test accuracy of the dense network, in [0, 1]; set on dense rows (<c>accuracy</c>).</summary>
    public double? Accuracy { get; init; }

    /// <summary>Test accuracy right after pruning, before any fine-tuning, in [0, 1] (<c>one_shot</c>).</summary>
    public double? OneShot { get; init; }

    /// <summary>Test accuracy after fine-tuning the pruned network, in [0, 1], when that was run (<c>fine_tuned</c>).</summary>
    public double? FineTuned { get; init; }

    /// <summary>Whether the network was trained with the network-slimming L1 penalty on its scales (<c>slimming</c>).</summary>
    public bool? Slimming { get; init; }

    /// <summary>How the sparsity was reached (<c>schedule</c>).</summary>
    public DemoSchedule? Schedule { get; init; }

    /// <summary>Parameters that remain (non-zero or not removed), ≥ 0 (<c>params</c>).</summary>
    public long? Params { get; init; }

    /// <summary>Multiply-accumulates per image that remain, ≥ 0 (<c>macs</c>).</summary>
    public long? Macs { get; init; }

    /// <summary>The storage format timed, e.g. <c>dense</c>, <c>csr</c>, <c>nm</c>, <c>shrunk</c> (<c>format</c>).</summary>
    public string? Format { get; init; }

    /// <summary>Images per timed inference call, &gt; 0 (<c>batch</c>).</summary>
    public int? Batch { get; init; }

    /// <summary>Median milliseconds per batch, ≥ 0 (<c>ms</c>).</summary>
    public double? Ms { get; init; }

    /// <summary>The dense network's time over this one's, &gt; 0 (<c>speedup</c>).</summary>
    public double? Speedup { get; init; }

    /// <summary>Wall time of the step that produced the row, ≥ 0 (<c>seconds</c>).</summary>
    public double? Seconds { get; init; }

    /// <summary>
    /// The accuracy of the network as it ends up, which the speed plot shows: <see cref="FineTuned"/> when present,
    /// else <see cref="OneShot"/>, else <see cref="Accuracy"/>; <see langword="null"/> when the row has none.
    /// </summary>
    public double? FinalAccuracy => FineTuned ?? OneShot ?? Accuracy;
}
