using System.Diagnostics;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo;

/// <summary>
/// The state shared by the experiments of one demo run: the options, the data, and the dense networks trained once
/// with the fixed recipe (plain mlp, plain cnn, slimming-trained cnn), which experiments copy before pruning.
/// </summary>
public sealed class DemoContext
{
    /// <summary>The largest batch any experiment runs (training 64, statistics 32, timing 32).</summary>
    public const int MaxBatch = 64;

    private readonly Dictionary<(ReferenceArchitecture, bool), ReferenceNetwork> _dense = [];

    /// <summary>Creates the context of a run.</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="progress">Progress lines (epochs, experiments), or null.</param>
    public DemoContext(DemoOptions options, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Progress = progress;
    }

    /// <summary>The run's options.</summary>
    public DemoOptions Options { get; }

    /// <summary>Training images.</summary>
    public ImageSet Train => Options.Data.Train;

    /// <summary>Test images.</summary>
    public ImageSet Test => Options.Data.Test;

    /// <summary>Progress lines, or null.</summary>
    public TextWriter? Progress { get; }

    /// <summary>Whether the run covers <paramref name="model"/>.</summary>
    /// <param name="model">The model.</param>
    /// <returns>True when selected by <see cref="DemoOptions.Models"/> (the cnn never in a quick run).</returns>
    public bool Covers(DemoModel model) => model switch
    {
        DemoModel.Mlp => Options.Models is DemoModels.Mlp or DemoModels.All,
        _ => !Options.Quick && Options.Models is DemoModels.Cnn or DemoModels.All,
    };

    /// <summary>
    /// The dense network trained with the fixed recipe (<see cref="TrainingOptions.For"/>; with Network Slimming's
    /// <c>λ·sign(γ)</c> when <paramref name="slimming"/>), trained on first use and cached. Callers must not modify it:
    /// copy it with <see cref="Copy"/>.
    /// </summary>
    /// <param name="architecture">mlp or cnn.</param>
    /// <param name="slimming">The slimming-trained cnn.</param>
    /// <returns>The trained network.</returns>
    public ReferenceNetwork Dense(ReferenceArchitecture architecture, bool slimming = false)
    {
        if (_dense.TryGetValue((architecture, slimming), out ReferenceNetwork? network)) return network;
        network = ReferenceNetwork.Create(architecture, MaxBatch, Options.Seed);
        TrainingOptions recipe = TrainingOptions.For(architecture, fineTune: false) with
        {
            ShuffleSeed = Options.Seed,
            SlimmingLambda = slimming ? TrainingOptions.NetworkSlimmingLambda : 0f,
        };
        Trainer.Train(network, Train.Pixels.Span, Train.Labels.Span, Train.Count, recipe, onEpoch: e =>
            Progress?.WriteLine($"train {Name(architecture)}{(slimming ? " (slimming)" : "")}: epoch {e.Epoch + 1}/{recipe.Epochs}, loss {e.MeanLoss:0.0000}, {e.Seconds:0.0} s"));
        _dense.Add((architecture, slimming), network);
        return network;
    }

    /// <summary>A fresh network with <paramref name="source"/>'s weights and statistics.</summary>
    /// <param name="source">The network to copy.</param>
    /// <returns>The copy.</returns>
    public static ReferenceNetwork Copy(ReferenceNetwork source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ReferenceNetwork copy = ReferenceNetwork.Create(source.Architecture, MaxBatch, 0);
        copy.CopyStateFrom(source);
        return copy;
    }

    /// <summary>Test accuracy in [0, 1] (BatchNorm on running statistics).</summary>
    /// <param name="network">The network.</param>
    /// <returns>The fraction of test images whose argmax equals the label.</returns>
    public double Accuracy(ReferenceNetwork network) => network.Evaluate(Test.Pixels.Span, Test.Labels.Span, Test.Count);

    /// <summary>Fine-tunes <paramref name="network"/> with the recipe's fine-tuning schedule, keeping <paramref name="masks"/> applied.</summary>
    /// <param name="network">The pruned network.</param>
    /// <param name="masks">Its masks.</param>
    /// <param name="epochs">Epochs, or null for the recipe's (mlp 5, cnn 3).</param>
    public void FineTune(ReferenceNetwork network, MaskSet masks, int? epochs = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        TrainingOptions recipe = TrainingOptions.For(network.Architecture, fineTune: true) with { ShuffleSeed = Options.Seed + 1 };
        if (epochs is int e) recipe = recipe with { Epochs = e };
        Trainer.Train(network, Train.Pixels.Span, Train.Labels.Span, Train.Count, recipe, masks);
    }

    /// <summary>The model name of an architecture.</summary>
    /// <param name="architecture">The architecture.</param>
    /// <returns>mlp or cnn.</returns>
    public static string Name(ReferenceArchitecture architecture) => architecture == ReferenceArchitecture.Mlp ? "mlp" : "cnn";

    /// <summary>Runs <paramref name="work"/> and returns its wall time in seconds.</summary>
    /// <param name="work">The work.</param>
    /// <returns>Seconds.</returns>
    public static double Time(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        long start = Stopwatch.GetTimestamp();
        work();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
