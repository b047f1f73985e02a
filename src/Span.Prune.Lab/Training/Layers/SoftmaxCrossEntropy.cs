namespace Span.Prune.Lab.Training.Layers;

/// <summary>Softmax followed by cross-entropy, averaged over the batch (<c>nn.CrossEntropyLoss()</c>), on logits <c>[classes × batch]</c>.</summary>
/// <remarks>
/// <c>L = (1/B)·Σ_b (log Σ_j e^{z_jb} − z_{y_b b})</c>, computed with the column maximum subtracted; the gradient is
/// <c>dz_jb = (softmax(z)_jb − [j = y_b]) / B</c>. The loss is accumulated in double.
/// </remarks>
public static class SoftmaxCrossEntropy
{
    /// <summary>Returns the mean loss and writes dL/dz into <paramref name="gradient"/> (<c>[classes × batch]</c>).</summary>
    /// <param name="logits">z, <c>[classes × batch]</c>.</param>
    /// <param name="labels">One class index per batch column.</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="batch">Batch size.</param>
    /// <param name="gradient">dL/dz, or empty to compute the loss only.</param>
    /// <exception cref="ArgumentException">A label is out of range, or a span is too short.</exception>
    public static double Compute(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, int classes, int batch, Span<float> gradient)
    {
        if (logits.Length < classes * batch || labels.Length < batch) throw new ArgumentException("A span is shorter than classes·batch.", nameof(logits));
        if (!gradient.IsEmpty && gradient.Length < classes * batch) throw new ArgumentException("Gradient is shorter than classes·batch.", nameof(gradient));
        double loss = 0;
        float inverseBatch = 1f / batch;
        // The exponentials are kept for the gradient rather than computed twice (the same calls, so the same bits).
        Span<double> exps = classes <= 64 ? stackalloc double[classes] : new double[classes];
        for (int b = 0; b < batch; b++)
        {
            int label = labels[b];
            if (label >= classes) throw new ArgumentException($"Label {label} at {b} is not below {classes}.", nameof(labels));
            float max = float.NegativeInfinity;
            for (int j = 0; j < classes; j++) max = Math.Max(max, logits[j * batch + b]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += exps[j] = Math.Exp(logits[j * batch + b] - max);
            loss += Math.Log(sum) - (logits[label * batch + b] - max);
            if (gradient.IsEmpty) continue;
            double inverseSum = 1.0 / sum;
            for (int j = 0; j < classes; j++)
            {
                float p = (float)(exps[j] * inverseSum);
                gradient[j * batch + b] = (p - (j == label ? 1f : 0f)) * inverseBatch;
            }
        }
        return loss / batch;
    }
}
