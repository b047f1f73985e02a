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
        for (int b = 0; b < batch; b++) loss += Column(logits, labels, classes, batch, b, gradient);
        return loss / batch;
    }

    /// <summary>
    /// Columns <c>[b0, b1)</c> of <see cref="Compute"/>: writes each column's loss term into
    /// <paramref name="terms"/> (<c>terms[b − b0]</c>) and its gradient. Summing the terms in column order and dividing by
    /// the batch gives <see cref="Compute"/>'s loss bit for bit (the same code per column), so threads can share a batch.
    /// </summary>
    internal static void ComputeColumns(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, int classes, int batch, int b0, int b1,
        Span<float> gradient, Span<double> terms)
    {
        if (logits.Length < classes * batch || labels.Length < batch) throw new ArgumentException("A span is shorter than classes·batch.", nameof(logits));
        if (gradient.Length < classes * batch) throw new ArgumentException("Gradient is shorter than classes·batch.", nameof(gradient));
        if ((uint)b0 > (uint)b1 || b1 > batch || terms.Length < b1 - b0) throw new ArgumentOutOfRangeException(nameof(b1));
        for (int b = b0; b < b1; b++) terms[b - b0] = Column(logits, labels, classes, batch, b, gradient);
    }

    private static double Column(ReadOnlySpan<float> logits, ReadOnlySpan<byte> labels, int classes, int batch, int b, Span<float> gradient)
    {
        int label = labels[b];
        if (label >= classes) throw new ArgumentException($"Label {label} at {b} is not below {classes}.", nameof(labels));
        float max = float.NegativeInfinity;
        for (int j = 0; j < classes; j++) max = Math.Max(max, logits[j * batch + b]);
        // The exponentials are kept for the gradient rather than computed twice (the same calls, so the same bits).
        Span<double> exps = classes <= 64 ? stackalloc double[classes] : new double[classes];
        double sum = 0;
        for (int j = 0; j < classes; j++) sum += exps[j] = Math.Exp(logits[j * batch + b] - max);
        double term = Math.Log(sum) - (logits[label * batch + b] - max);
        if (gradient.IsEmpty) return term;
        double inverseSum = 1.0 / sum;
        float inverseBatch = 1f / batch;
        for (int j = 0; j < classes; j++)
        {
            float p = (float)(exps[j] * inverseSum);
            gradient[j * batch + b] = (p - (j == label ? 1f : 0f)) * inverseBatch;
        }
        return term;
    }
}
