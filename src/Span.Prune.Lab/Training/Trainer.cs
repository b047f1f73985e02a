using System.Diagnostics;
using Span.Prune.Lab.Training.Kernels;

namespace Span.Prune.Lab.Training;

/// <summary>The training loop of the reference networks.</summary>
/// <remarks>
/// <para>Per epoch the index permutation is reset to 0…n−1 and shuffled (Fisher–Yates) from one
/// <see cref="SeededRandom"/> stream seeded with <see cref="TrainingOptions.ShuffleSeed"/>; batches of
/// <see cref="TrainingOptions.BatchSize"/> follow it, the last one partial (PyTorch's <c>drop_last=False</c>).</para>
/// <para>Per step: forward in training mode, mean softmax cross-entropy, backward; with
/// <see cref="TrainingOptions.SlimmingLambda"/> &gt; 0, <c>λ·sign(γ)</c> is added to every BatchNorm γ gradient
/// (<see cref="BatchNormScaling.AddL1Subgradient"/>); one <see cref="SgdMomentum"/> step at
/// <c>lr_t = <see cref="CosineSchedule"/>(lr₀, t, T)</c>, <c>T = epochs·⌈n/batch⌉</c>; then the masks, if any, are
/// re-applied. Masks are also applied once before the first step. The velocity starts at zero on every call (fresh
/// momentum for fine-tuning).</para>
/// <para>Same network state, data and options give bit-identical weights.</para>
/// </remarks>
public static class Trainer
{
    /// <summary>Trains <paramref name="network"/> in place on <paramref name="count"/> images.</summary>
    /// <param name="network">The network, initialised (or pretrained, for fine-tuning).</param>
    /// <param name="pixels">Training images, <c>count·784</c> bytes, image-major.</param>
    /// <param name="labels">Training labels, <c>count</c> bytes (0–9).</param>
    /// <param name="count">Training images.</param>
    /// <param name="options">The recipe.</param>
    /// <param name="masks">Masks to keep applied, or null.</param>
    /// <param name="onEpoch">Called after every epoch, or null.</param>
    /// <exception cref="ArgumentException">Lengths do not match, or the masks belong to another network.</exception>
    public static TrainingResult Train(ReferenceNetwork network, ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels, int count,
        TrainingOptions options, MaskSet? masks = null, Action<EpochReport>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Epochs);
        if (pixels.Length < count * ReferenceNetwork.InputSize) throw new ArgumentException("Pixels are shorter than count·784.", nameof(pixels));
        if (labels.Length < count) throw new ArgumentException("Labels are shorter than count.", nameof(labels));
        if (masks is not null && !ReferenceEquals(masks.Network, network)) throw new ArgumentException("The masks belong to another network.", nameof(masks));
        int batchSize = options.BatchSize;
        if (batchSize <= 0 || batchSize > network.MaxBatch) throw new ArgumentOutOfRangeException(nameof(options), $"Batch size {batchSize} is outside 1..{network.MaxBatch}.");

        long stepsPerEpoch = (count + batchSize - 1) / batchSize;
        long totalSteps = stepsPerEpoch * options.Epochs;
        var optimizer = new SgdMomentum(network.Parameters.Length, options.Momentum, options.WeightDecay);
        var shuffle = new SeededRandom(options.ShuffleSeed);
        int[] order = new int[count];
        byte[] batchPixels = new byte[batchSize * ReferenceNetwork.InputSize];
        byte[] batchLabels = new byte[batchSize];
        NetworkTensor[] scales = [.. network.Tensors.Where(t => t.Role == TensorRole.BatchNormScale)];
        Span<float> parameters = network.Parameters.Span;
        ReadOnlySpan<float> gradients = network.Gradients.Span;

        masks?.Apply();
        long t = 0;
        double lastLoss = 0;
        // The fused step (the mlp) gives the same bits as the four calls below, with every phase on all threads.
        bool fused = options.SlimmingLambda <= 0f && network.CanFuseTrainingStep;
        WorkerTeam? team = fused ? WorkerTeam.Rent(Math.Min(network.MaxDegreeOfParallelism, Environment.ProcessorCount)) : null;
        try
        {
            var total = Stopwatch.StartNew();
            for (int epoch = 0; epoch < options.Epochs; epoch++)
            {
                long epochStart = Stopwatch.GetTimestamp();
                for (int i = 0; i < count; i++) order[i] = i;
                shuffle.Shuffle(order);
                double lossSum = 0;
                for (int start = 0; start < count; start += batchSize)
                {
                    int b = Math.Min(batchSize, count - start);
                    float learningRate = CosineSchedule.LearningRate(options.LearningRate, t, totalSteps);
                    if (fused)
                    {
                        for (int i = 0; i < b; i++) batchLabels[i] = labels[order[start + i]];
                        lossSum += network.TrainStep(pixels, order.AsSpan(start, b), batchLabels.AsSpan(0, b), optimizer, learningRate, team);
                        masks?.Apply();
                        t++;
                        continue;
                    }
                    for (int i = 0; i < b; i++)
                    {
                        int image = order[start + i];
                        pixels.Slice(image * ReferenceNetwork.InputSize, ReferenceNetwork.InputSize).CopyTo(batchPixels.AsSpan(i * ReferenceNetwork.InputSize));
                        batchLabels[i] = labels[image];
                    }
                    network.Forward(batchPixels, b, training: true);
                    lossSum += network.ComputeLoss(batchLabels.AsSpan(0, b));
                    network.Backward();
                    if (options.SlimmingLambda > 0f)
                    {
                        foreach (var g in scales) BatchNormScaling.AddL1Subgradient(g.Values.Span, g.Gradient.Span, options.SlimmingLambda);
                    }
                    optimizer.Step(parameters, gradients, learningRate);
                    masks?.Apply();
                    t++;
                }
                lastLoss = lossSum / stepsPerEpoch;
                onEpoch?.Invoke(new EpochReport(epoch, lastLoss, Stopwatch.GetElapsedTime(epochStart).TotalSeconds));
            }
            return new TrainingResult(options.Epochs, t, (long)count * options.Epochs, lastLoss, total.Elapsed.TotalSeconds);
        }
        finally
        {
            team?.Return();
        }
    }
}
