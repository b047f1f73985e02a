namespace Span.Prune.Lab.Training;

/// <summary>One training run's recipe: SGD-momentum with weight decay, cosine-annealed per step, over shuffled batches.</summary>
/// <remarks>The presets are the demo's fixed recipe; see <see cref="Trainer"/> for the loop.</remarks>
public sealed record TrainingOptions
{
    /// <summary>λ of Network Slimming's L1 penalty on BatchNorm γ (Liu et al., 2017).</summary>
    public const float NetworkSlimmingLambda = 1e-4f;

    /// <summary>Passes over the training set.</summary>
    public required int Epochs { get; init; }

    /// <summary>lr₀, annealed to 0 over the run.</summary>
    public required float LearningRate { get; init; }

    /// <summary>Images per step; the last partial batch is kept.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>μ.</summary>
    public float Momentum { get; init; } = 0.9f;

    /// <summary>Weight decay on every parameter.</summary>
    public float WeightDecay { get; init; } = 1e-4f;

    /// <summary>Seed of the per-epoch shuffles (<see cref="SeededRandom"/>).</summary>
    public ulong ShuffleSeed { get; init; } = 1;

    /// <summary>λ added as <c>λ·sign(γ)</c> to every BatchNorm γ gradient (0 = off; <see cref="NetworkSlimmingLambda"/> for Network Slimming).</summary>
    public float SlimmingLambda { get; init; }

    /// <summary>mlp: 20 epochs at lr₀ 0.05.</summary>
    public static TrainingOptions Mlp => new() { Epochs = 20, LearningRate = 0.05f };

    /// <summary>cnn: 10 epochs at lr₀ 0.05.</summary>
    public static TrainingOptions Cnn => new() { Epochs = 10, LearningRate = 0.05f };

    /// <summary>mlp fine-tuning: 5 epochs at lr₀ 0.01.</summary>
    public static TrainingOptions MlpFineTune => new() { Epochs = 5, LearningRate = 0.01f };

    /// <summary>cnn fine-tuning: 3 epochs at lr₀ 0.01.</summary>
    public static TrainingOptions CnnFineTune => new() { Epochs = 3, LearningRate = 0.01f };

    /// <summary>The preset for <paramref name="architecture"/>: training, or fine-tuning after pruning.</summary>
    public static TrainingOptions For(ReferenceArchitecture architecture, bool fineTune) => (architecture, fineTune) switch
    {
        (ReferenceArchitecture.Mlp, false) => Mlp,
        (ReferenceArchitecture.Mlp, true) => MlpFineTune,
        (ReferenceArchitecture.Cnn, false) => Cnn,
        (ReferenceArchitecture.Cnn, true) => CnnFineTune,
        _ => throw new ArgumentOutOfRangeException(nameof(architecture)),
    };
}

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">Epoch index from 0.</param>
/// <param name="MeanLoss">Mean over the epoch's batches of the batch-mean loss.</param>
/// <param name="Seconds">Wall time of the epoch.</param>
public readonly record struct EpochReport(int Epoch, double MeanLoss, double Seconds);

/// <summary>A finished training run.</summary>
/// <param name="Epochs">Epochs run.</param>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="Images">Images processed (epochs × training set).</param>
/// <param name="FinalLoss">Mean loss of the last epoch.</param>
/// <param name="Seconds">Wall time of the whole run.</param>
public readonly record struct TrainingResult(int Epochs, long Steps, long Images, double FinalLoss, double Seconds)
{
    /// <summary>Training throughput (forward, backward and optimiser step).</summary>
    public double ImagesPerSecond => Seconds > 0 ? Images / Seconds : 0;
}
