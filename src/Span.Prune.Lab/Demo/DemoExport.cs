using System.Runtime.InteropServices;
using Span.Prune.Lab.Demo.Experiments;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;
using Span.Prune.SafeTensors;

namespace Span.Prune.Lab.Demo;

/// <summary>
/// <c>--export DIR</c>: the trained dense networks as safetensors (<c>mlp.safetensors</c>, <c>cnn.safetensors</c>) and
/// their statistics in <c>sprune prune --stats</c>'s naming convention (<c>mlp.stats.safetensors</c>,
/// <c>cnn.stats.safetensors</c>), so that the CLI's data-driven criteria run on real statistics.
/// </summary>
/// <remarks>
/// <para>Models: every tensor of <see cref="ReferenceNetwork.Tensors"/> as F32 under its PyTorch state_dict name and shape
/// (<c>fc1.weight [300, 784]</c>, conv weights OIHW, BatchNorm γ, β and running statistics). PyTorch's int64
/// <c>bnN.num_batches_tracked</c> is not written (load with <c>strict=False</c>).</para>
/// <para>Statistics (F32), for every weight <c>W</c> (e.g. <c>fc1.weight</c>): <c>W.grad</c> (mean gradient, shape of W),
/// <c>W.taylor</c> (the mean over batches of <c>|g·w|</c>, shape of W: the layer experiment's taylor score, which the
/// CLI's <c>taylor</c> prefers over <c>|ḡ·w|</c> from <c>W.grad</c>),
/// <c>W.fisher</c> (mean g², shape of W), <c>W.input_norm</c> <c>[In·kh·kw]</c>, <c>W.apoz</c> <c>[Out]</c> (not for the
/// last layer, which has no ReLU), <c>W.inputs</c> <c>[N, In·kh·kw]</c> and <c>W.targets</c> <c>[N, Out]</c>; from
/// <see cref="NetworkStatistics.Collect"/> over the first 1,024 training images in batches of 32.</para>
/// </remarks>
public static class DemoExport
{
    /// <summary>Writes the models and statistics of every network the run covers into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="context">The run (trains the dense networks if not yet trained).</param>
    /// <param name="directory">The output directory.</param>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Write(DemoContext context, string directory)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        foreach ((DemoModel model, ReferenceArchitecture architecture) in new[] { (DemoModel.Mlp, ReferenceArchitecture.Mlp), (DemoModel.Cnn, ReferenceArchitecture.Cnn) })
        {
            if (!context.Covers(model)) continue;
            ReferenceNetwork network = context.Dense(architecture);
            string name = DemoContext.Name(architecture);
            string modelPath = Path.Combine(directory, name + ".safetensors"), statsPath = Path.Combine(directory, name + ".stats.safetensors");
            Model(network).WriteFile(modelPath);
            Stats(MlpPruning.StatisticsOf(context, network)).WriteFile(statsPath);
            files.Add(modelPath);
            files.Add(statsPath);
        }
        return files;
    }

    /// <summary>The network's tensors under their state_dict names, F32.</summary>
    /// <param name="network">The network.</param>
    /// <returns>A writer holding the tensors.</returns>
    public static SafeTensorsWriter Model(ReferenceNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var writer = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (NetworkTensor t in network.Tensors)
            writer.Add(t.Name, SafeTensorsDType.F32, [.. t.Shape.Select(d => (long)d)], Bytes(t.Values.ToArray()));
        return writer;
    }

    /// <summary>The statistics in <c>sprune prune --stats</c>'s naming convention, F32.</summary>
    /// <param name="statistics">The statistics.</param>
    /// <returns>A writer holding the tensors.</returns>
    public static SafeTensorsWriter Stats(NetworkStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        var writer = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (LayerStatistics s in statistics.Layers)
        {
            WeightShape shape = s.Shape;
            long[] weightShape = shape.IsLinear ? [shape.Out, shape.In] : [shape.Out, shape.In, shape.KernelHeight, shape.KernelWidth];
            string w = s.WeightName;
            writer.Add(w + ".grad", SafeTensorsDType.F32, weightShape, Bytes(s.MeanGradient));
            writer.Add(w + ".taylor", SafeTensorsDType.F32, weightShape, Bytes(s.Taylor));
            writer.Add(w + ".fisher", SafeTensorsDType.F32, weightShape, Bytes(s.Fisher));
            writer.Add(w + ".input_norm", SafeTensorsDType.F32, [shape.RowLength], Bytes(s.InputNorms));
            if (s.Apoz is { } apoz) writer.Add(w + ".apoz", SafeTensorsDType.F32, [shape.Out], Bytes(apoz));
            writer.Add(w + ".inputs", SafeTensorsDType.F32, [s.Samples, shape.RowLength], Bytes(s.Inputs));
            writer.Add(w + ".targets", SafeTensorsDType.F32, [s.Samples, shape.Out], Bytes(s.Targets));
        }
        return writer;
    }

    private static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
