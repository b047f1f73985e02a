using Span.Prune.Lab.Demo;
using Span.Prune.Lab.Demo.Experiments;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;
using Span.Prune.Tests.Cli;
using static Span.Prune.Tests.Cli.Expect;

namespace Span.Prune.Tests.Lab.Demo;

/// <summary>
/// <c>--export</c> against the real <c>sprune prune --stats</c>: on an mlp trained on 400 images, for each data-driven
/// criterion the CLI's pruned weights equal what the demo's own code (<see cref="MlpPruning"/>) computes from the same
/// network and statistics.
/// </summary>
public sealed class DemoExportCliTests : IDisposable
{
    private const double Sparsity = 0.5;
    private static readonly Lazy<(DemoContext Context, ReferenceNetwork Network, NetworkStatistics Statistics)> s_run = new(() =>
    {
        var context = new DemoContext(new DemoOptions(DemoSubset.Take(400, 100), DemoModels.Mlp));
        ReferenceNetwork network = context.Dense(ReferenceArchitecture.Mlp);
        return (context, network, MlpPruning.StatisticsOf(context, network));
    });

    private readonly string _dir = Directory.CreateTempSubdirectory("sprune-demo-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Model, string Stats, string Out) Export()
    {
        IReadOnlyList<string> files = DemoExport.Write(s_run.Value.Context, _dir);
        Assert.Equal([Path.Combine(_dir, "mlp.safetensors"), Path.Combine(_dir, "mlp.stats.safetensors")], files);
        return (files[0], files[1], Path.Combine(_dir, "out.safetensors"));
    }

    private static float[] Masked(PrunableLayer layer, byte[] elementMask) =>
        layer.Weight.Values.ToArray().Select((w, i) => elementMask[i] == 0 ? 0f : w).ToArray();

    private static byte[] Rows(PrunableLayer layer, byte[] units)
    {
        byte[] mask = new byte[layer.Weight.Length];
        Span.Prune.Masking.ExpandUnitMask(units, layer.Shape, Granularity.Row, mask);
        return mask;
    }

    [Fact]
    public void ExportedModel_HoldsTheNetworkAndTheStatistics()
    {
        (string model, string stats, _) = Export();
        ReferenceNetwork network = s_run.Value.Network;
        foreach (NetworkTensor t in network.Tensors) Assert.Equal(t.Values.ToArray(), Read(model, t.Name));
        foreach (LayerStatistics s in s_run.Value.Statistics.Layers)
        {
            Assert.Equal(s.MeanGradient, Read(stats, s.WeightName + ".grad"));
            Assert.Equal(s.Taylor, Read(stats, s.WeightName + ".taylor"));
            Assert.Equal(s.Fisher, Read(stats, s.WeightName + ".fisher"));
            Assert.Equal(s.InputNorms, Read(stats, s.WeightName + ".input_norm"));
            Assert.Equal(s.Inputs, Read(stats, s.WeightName + ".inputs"));
            Assert.Equal(s.Targets, Read(stats, s.WeightName + ".targets"));
            if (s.Apoz is not null) Assert.Equal(s.Apoz, Read(stats, s.WeightName + ".apoz"));
        }
    }

    [Theory]
    [InlineData("taylor", ElementCriterion.Taylor)]
    [InlineData("obd", ElementCriterion.Obd)]
    [InlineData("wanda", ElementCriterion.Wanda)]
    public void ElementCriteria_CliEqualsDemo(string name, ElementCriterion criterion)
    {
        (string model, string stats, string output) = Export();
        var r = Sprune.Run("prune", model, "-o", output, "--criterion", name, "--stats", stats, "--sparsity", S(Sparsity));
        Assert.True(r.ExitCode == 0, r.StdErr);
        foreach (PrunableLayer layer in s_run.Value.Network.Layers)
        {
            byte[] mask = MlpPruning.ElementMask(layer, s_run.Value.Statistics.Layers[layer.Index], criterion, Sparsity);
            Assert.Equal(Masked(layer, mask), Read(output, layer.Weight.Name));
        }
    }

    /// <summary>
    /// Without <c>W.taylor</c> the CLI's <c>taylor</c> scores <c>|ḡ·w|</c> from <c>W.grad</c>, the mean gradient: the
    /// mask of <see cref="TaylorCriterion"/> on <see cref="LayerStatistics.MeanGradient"/>, which differs from the
    /// mean of <c>|g·w|</c> on real gradients (asserted, so the two paths cannot silently coincide).
    /// </summary>
    [Fact]
    public void Taylor_WithoutTheScore_UsesTheMeanGradient()
    {
        (string model, string stats, string output) = Export();
        string gradOnly = Path.Combine(_dir, "grad-only.stats.safetensors");
        var writer = new Span.Prune.SafeTensors.SafeTensorsWriter();
        foreach (LayerStatistics s in s_run.Value.Statistics.Layers)
        {
            long[] shape = [s.Shape.Out, s.Shape.In];
            writer.Add(s.WeightName + ".grad", Span.Prune.SafeTensors.SafeTensorsDType.F32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.MeanGradient.AsSpan()).ToArray());
        }
        writer.WriteFile(gradOnly);
        var r = Sprune.Run("prune", model, "-o", output, "--criterion", "taylor", "--stats", gradOnly, "--sparsity", S(Sparsity));
        Assert.True(r.ExitCode == 0, r.StdErr);
        bool differsFromMeanAbsolute = false;
        foreach (PrunableLayer layer in s_run.Value.Network.Layers)
        {
            float[] w = layer.Weight.Values.ToArray();
            byte[] mask = new byte[w.Length];
            Span.Prune.Pruning.Layer<TaylorCriterion, SumReduction>(w, s_run.Value.Statistics.Layers[layer.Index].MeanGradient, layer.Shape, Granularity.Element, Sparsity, mask);
            Assert.Equal(Masked(layer, mask), Read(output, layer.Weight.Name));
            byte[] meanAbsolute = MlpPruning.ElementMask(layer, s_run.Value.Statistics.Layers[layer.Index], ElementCriterion.Taylor, Sparsity);
            differsFromMeanAbsolute |= !meanAbsolute.AsSpan().SequenceEqual(Masked(layer, mask).Select(v => v != 0f ? (byte)1 : (byte)0).ToArray());
        }
        Assert.True(differsFromMeanAbsolute);
    }

    [Fact]
    public void Apoz_CliEqualsDemo()
    {
        (string model, string stats, string output) = Export();
        var r = Sprune.Run("prune", model, "-o", output, "--criterion", "apoz", "--stats", stats, "--sparsity", S(Sparsity), "--include", "^fc[12]\\.weight$");
        Assert.True(r.ExitCode == 0, r.StdErr);
        foreach (PrunableLayer layer in s_run.Value.Network.Layers.Take(2))
        {
            byte[] units = MlpPruning.UnitMask(layer, s_run.Value.Statistics.Layers[layer.Index], NeuronCriterion.Apoz, Sparsity);
            Assert.Equal(Masked(layer, Rows(layer, units)), Read(output, layer.Weight.Name));
        }
    }

    [Fact]
    public void Regression_CliEqualsDemo()
    {
        (string model, string stats, string output) = Export();
        var r = Sprune.Run("prune", model, "-o", output, "--criterion", "regression", "--stats", stats, "--sparsity", S(Sparsity), "--include", "^fc2\\.weight$");
        Assert.True(r.ExitCode == 0, r.StdErr);
        // The demo's regression neuron pruning of fc1's units: LASSO + refit on fc2 (the consumer).
        ReferenceNetwork network = DemoContext.Copy(s_run.Value.Network);
        var masks = new MaskSet(network);
        byte[] units = MlpPruning.PruneNeuronsByRegression(network, s_run.Value.Statistics, 0, Sparsity, masks);
        Assert.Equal(Span.Prune.Selection.PruneCount(units.Length, Sparsity), units.Count(u => u == 0));
        Assert.Equal(network.Tensor("fc2.weight").Values.ToArray(), Read(output, "fc2.weight"));
    }
}
