using Span.Prune.Sparse;

namespace Span.Prune.Lab.Bench;

/// <summary>
/// The weights of one Llama-style MLP block: gate and up <c>[Intermediate, Hidden]</c>, down <c>[Hidden, Intermediate]</c>
/// (row-major, PyTorch's <c>nn.Linear</c> layout).
/// </summary>
/// <param name="Gate">gate_proj.</param>
/// <param name="Up">up_proj.</param>
/// <param name="Down">down_proj.</param>
/// <param name="Hidden">H.</param>
/// <param name="Intermediate">I (smaller after <c>--preset llama-mlp --shrink</c>).</param>
public sealed record MlpBlockWeights(float[] Gate, float[] Up, float[] Down, int Hidden, int Intermediate);

/// <summary>
/// What shrinking an MLP block buys: the block's three matmuls (gate = Wg·x, up = Wu·x, out = Wd·gate; the
/// element-wise SiLU·up is left out, only the matmuls are timed) with <see cref="MatMul"/>, dense and shrunk
/// alternately in one process (<c>sprune bench-shrink</c>).
/// </summary>
public static class MlpBlockBench
{
    /// <summary>Times the shrunk block against the dense one at one batch size, single thread.</summary>
    /// <param name="dense">The block before shrinking.</param>
    /// <param name="shrunk">The same block with MLP neurons removed (same <see cref="MlpBlockWeights.Hidden"/>).</param>
    /// <param name="batch">Columns of X.</param>
    /// <param name="runs">Paired samples after warm-up.</param>
    /// <returns>Shrunk as candidate, dense as baseline.</returns>
    public static PairedTiming Compare(MlpBlockWeights dense, MlpBlockWeights shrunk, int batch, int runs)
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(shrunk);
        if (shrunk.Hidden != dense.Hidden) throw new ArgumentException("The shrunk block must keep the hidden size.", nameof(shrunk));
        var x = new float[dense.Hidden * batch];
        Scoring.Random(x, 99);
        float[] gate = new float[dense.Intermediate * batch], up = new float[dense.Intermediate * batch], output = new float[dense.Hidden * batch];
        return Stopwatches.Paired(() => Run(shrunk, x, gate, up, output, batch), () => Run(dense, x, gate, up, output, batch), runs);
    }

    private static void Run(MlpBlockWeights m, float[] x, float[] gate, float[] up, float[] output, int batch)
    {
        MatMul.Multiply(m.Gate, m.Intermediate, m.Hidden, x, gate, batch);
        MatMul.Multiply(m.Up, m.Intermediate, m.Hidden, x, up, batch);
        MatMul.Multiply(m.Down, m.Hidden, m.Intermediate, gate.AsSpan(0, m.Intermediate * batch), output, batch);
    }
}
