using CommunityToolkit.HighPerformance.Buffers;
using System.Globalization;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Statistics of the data-driven criteria, from the <c>--stats</c> safetensors file by naming convention (for a
/// weight <c>W</c> of shape S and 2-D view <c>[Out, RowLength]</c>, <c>RowLength = in·kh·kw</c>):
/// <list type="bullet">
/// <item><c>taylor</c>: <c>W.taylor</c>, shape S, the Taylor importance itself, the mean over batches of <c>|g_b·w|</c>
/// (≥ 0; group: its sum), when present; otherwise <c>W.grad</c>, shape S, the mean gradient ḡ (score <c>|ḡ·w|</c>, group
/// <c>Σ|ḡ·w|</c>). The two differ: <c>|ḡ·w|</c> lets batches of opposite sign cancel, the mean of <c>|g_b·w|</c> does not
/// (Molchanov et al. 2019 accumulate the latter), and only the latter can be collected from per-batch gradients, which
/// is why a file with both uses <c>W.taylor</c>.</item>
/// <item><c>obd</c>: <c>W.fisher</c> (mean g²) or <c>W.hess_diag</c>, shape S, exactly one of them (score <c>½·h·w²</c>, group <c>Σ ½·h·w²</c>).</item>
/// <item><c>wanda</c>: <c>W.input_norm</c>, <c>[RowLength]</c>: ‖X_j‖₂ per column of the 2-D view — per input feature
/// for a linear layer, per im2col feature <c>(i, kh, kw)</c> in filter-row order for a convolution; ≥ 0.</item>
/// <item><c>apoz</c>: <c>W.apoz</c>, <c>[Out]</c>: the Average Percentage of Zeros of each output unit, in [0, 1].</item>
/// <item><c>regression</c>: <c>W.inputs</c>, <c>[N, RowLength]</c> sampled layer inputs (im2col rows for a convolution,
/// as <see cref="ChannelRegression"/> lays them out), and optionally <c>W.targets</c>, <c>[N, Out]</c>, the outputs to
/// reconstruct (default: the layer's own outputs <c>X·Wᵀ</c>).</item>
/// </list>
/// Statistics may be F16, BF16, F32 or F64 (scored in float32). Each is checked before the output is created: present,
/// a floating dtype, the expected shape, finite (and in range where the statistic has one); every message names the
/// stats tensor.
/// </summary>
internal static partial class PruneCommand
{
    /// <summary>The statistics one target reads, resolved and validated up front.</summary>
    /// <param name="Primary">The statistic scored with the weight.</param>
    /// <param name="Targets">Regression's sampled outputs, or null.</param>
    /// <param name="IsScore">The statistic is the score itself (<c>W.taylor</c>), not an input to the criterion.</param>
    private sealed record TargetStats(SafeTensorInfo Primary, SafeTensorInfo? Targets, bool IsScore = false);

    /// <param name="nonNegative">Global scope: every score must be ≥ 0 (the engine ranks magnitudes), so an OBD
    /// statistic (a Hessian diagonal may be negative) is refused below 0.</param>
    private static TargetStats ResolveStats(SafeTensorsFile stats, SafeTensorInfo t, WeightShape shape, string criterion, double sparsity,
        ArrayPoolBufferWriter<float> buffer, bool nonNegative = false)
    {
        string n = t.Name;
        switch (criterion)
        {
            case "taylor":
                return stats.TryGetTensor(n + ".taylor", out _)
                    ? new(RequireStat(stats, buffer, n + ".taylor", criterion, t.Shape.ToArray(), minimum: 0), null, IsScore: true)
                    : new(RequireStat(stats, buffer, n + ".grad", criterion, t.Shape.ToArray()), null);
            case "obd":
            {
                bool fisher = stats.TryGetTensor(n + ".fisher", out _), hessian = stats.TryGetTensor(n + ".hess_diag", out _);
                if (fisher && hessian) throw new ArgumentException($"stats: both '{n}.fisher' and '{n}.hess_diag' are present for criterion obd; keep one");
                if (!fisher && !hessian) throw new ArgumentException($"stats: missing '{n}.fisher' (or '{n}.hess_diag') for criterion obd");
                return new(RequireStat(stats, buffer, n + (fisher ? ".fisher" : ".hess_diag"), criterion, t.Shape.ToArray(), minimum: nonNegative ? 0 : float.NegativeInfinity), null);
            }
            case "wanda":
                return new(RequireStat(stats, buffer, n + ".input_norm", criterion, [shape.RowLength], minimum: 0), null);
            case "apoz":
                return new(RequireStat(stats, buffer, n + ".apoz", criterion, [shape.Out], minimum: 0, maximum: 1), null);
            case "regression":
            {
                // N is free (-1) in the expected shape; the targets must then have the same N.
                SafeTensorInfo inputs = RequireStat(stats, buffer, n + ".inputs", criterion, [-1, shape.RowLength]);
                long samples = inputs.Shape[0];
                SafeTensorInfo? targets = null;
                if (stats.TryGetTensor(n + ".targets", out SafeTensorInfo? y)) targets = CheckStat(stats, buffer, y, [samples, shape.Out]);
                CheckRegressionSize(t, shape, samples, sparsity);
                return new(inputs, targets);
            }
            default:
                throw new InvalidOperationException($"criterion {criterion} reads no statistics");
        }
    }

    /// <summary>LASSO keeps at least one channel, and the problem must fit the library's arrays (checked before writing).</summary>
    private static void CheckRegressionSize(SafeTensorInfo t, WeightShape shape, long samples, double sparsity)
    {
        int prune = Selection.PruneCount(shape.In, sparsity);
        if (prune > 0 && prune == shape.In)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"criterion regression keeps at least one input channel, but --sparsity {sparsity} prunes all {shape.In} of '{t.Name}'"));
        }
        try
        {
            ChannelRegression.LassoScratchLength(shape, checked((int)samples));
            ChannelRegression.RefitScratchLength(shape, (int)samples, Math.Max(1, shape.In - prune));
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            throw new ArgumentException($"criterion regression on '{t.Name}' with {samples} samples is too large: {e.Message}");
        }
    }

    private static SafeTensorInfo RequireStat(SafeTensorsFile stats, ArrayPoolBufferWriter<float> buffer, string name, string criterion, long[] expectedShape,
        float minimum = float.NegativeInfinity, float maximum = float.PositiveInfinity)
    {
        if (!stats.TryGetTensor(name, out SafeTensorInfo? info)) throw new ArgumentException($"stats: missing '{name}' for criterion {criterion}");
        return CheckStat(stats, buffer, info, expectedShape, minimum, maximum);
    }

    /// <summary>dtype, shape (−1 = any positive size), then one read for NaN/±∞ and the range.</summary>
    private static SafeTensorInfo CheckStat(SafeTensorsFile stats, ArrayPoolBufferWriter<float> buffer, SafeTensorInfo info, long[] expectedShape,
        float minimum = float.NegativeInfinity, float maximum = float.PositiveInfinity)
    {
        if (!SafeTensorsDTypeInfo.IsConvertibleFloat(info.DType))
            throw new ArgumentException($"stats: '{info.Name}' has dtype {SafeTensorsDTypeInfo.GetName(info.DType)}; expected F16, BF16, F32 or F64");
        ReadOnlySpan<long> shape = info.Shape;
        bool matches = shape.Length == expectedShape.Length;
        for (int d = 0; matches && d < shape.Length; d++)
            matches = expectedShape[d] < 0 ? shape[d] > 0 : shape[d] == expectedShape[d];
        if (!matches)
        {
            string expected = "[" + string.Join(",", expectedShape.Select(d => d < 0 ? "N" : d.ToString(CultureInfo.InvariantCulture))) + "]";
            throw new ArgumentException($"stats: '{info.Name}' has shape {FormatShape(shape)}; expected {expected}");
        }
        if (info.ElementCount > Array.MaxLength) throw new ArgumentException($"stats: '{info.Name}' has {info.ElementCount} elements; at most {Array.MaxLength} are supported");

        Span<float> values = buffer.Take(info.ElementCount);
        stats.ReadAsFloat32(info.Index, values);
        int bad = IndexOfNonFinite(values);
        if (bad >= 0) throw new ArgumentException($"stats: '{info.Name}' holds {Describe(values[bad])} at index {bad}");
        if (minimum > float.NegativeInfinity || maximum < float.PositiveInfinity)
        {
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] < minimum || values[i] > maximum)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"stats: '{info.Name}' holds {values[i]} at index {i}; expected values in [{minimum}, {maximum}]"));
                }
            }
        }
        return info;
    }

    private static string Describe(float value) => float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";

    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(",", parts) + "]";
    }

    /// <summary>The first NaN or ±∞, or −1: one vectorised pass (TensorPrimitives), then a scalar search only on failure.</summary>
    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        if (System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values)) return -1;
        for (int i = 0; ; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }
    }
}
