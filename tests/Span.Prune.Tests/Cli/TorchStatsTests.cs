using System.Diagnostics;
using System.Text.RegularExpressions;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Demo.Statistics;
using Span.Prune.Lab.Training;
using Span.Prune.SafeTensors;
using Span.Prune.Tests.Lab.Demo;
using Xunit.Abstractions;
using static Span.Prune.Tests.Cli.Expect;

namespace Span.Prune.Tests.Cli;

/// <summary>
/// <c>src/Span.Prune.Cli/Stats/sprune_stats.py</c> in real PyTorch (driven by <c>torch_stats_check.py</c> next to this
/// file), against two independent references:
/// <list type="bullet">
/// <item>the masks that torch computes from the model and its statistics file with the library's exact-k rule, against
/// the zeros of the real <c>sprune prune --stats</c>, for magnitude, taylor, obd, wanda and apoz, on a tiny mlp and a
/// tiny cnn (BatchNorm, an in-place ReLU), at two sparsities;</item>
/// <item>the statistics themselves, against the demo's own collector (<see cref="NetworkStatistics.Collect"/>) on the
/// demo's two architectures with the same weights and images.</item>
/// </list>
/// </summary>
/// <remarks>
/// The interpreter is <c>/usr/bin/python3</c> (Debian's python3-torch installs there; a pyenv <c>python3</c> earlier on
/// PATH does not see it), or <c>SPRUNE_PYTHON</c>. Without torch the tests pass vacuously and say so in their output,
/// because xunit 2 has no dynamic skip; with <c>SPRUNE_REQUIRE_TORCH=1</c> (set by .ci/run) a missing torch fails them.
/// </remarks>
public sealed class TorchStatsTests(ITestOutputHelper output, TorchStatsTests.MaskFiles masks) : CliTempDirectory("sprune-torch-"), IClassFixture<TorchStatsTests.MaskFiles>
{
    /// <summary>One run of the driver's <c>masks</c> mode for both models (importing torch costs seconds), read-only
    /// afterwards; each test writes its CLI outputs into its own directory.</summary>
    public sealed class MaskFiles : IDisposable
    {
        private readonly Lazy<string> _dir = new(() =>
        {
            string dir = System.IO.Directory.CreateTempSubdirectory("sprune-torch-masks-").FullName;
            RunDriver("masks", dir);
            return dir;
        });

        public string Directory => _dir.Value;

        public void Dispose()
        {
            if (_dir.IsValueCreated) System.IO.Directory.Delete(_dir.Value, recursive: true);
        }
    }

    private static readonly Lazy<string?> s_missing = new(ProbeTorch);

    private static string Python => Environment.GetEnvironmentVariable("SPRUNE_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    private static string Driver
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string path = Path.Combine(dir.FullName, "tests", "Span.Prune.Tests", "Cli", "torch_stats_check.py");
                if (File.Exists(path)) return path;
            }
            throw new InvalidOperationException("torch_stats_check.py not found above the test binaries.");
        }
    }

    /// <summary>Null when the interpreter imports torch, else why not.</summary>
    private static string? ProbeTorch()
    {
        if (!File.Exists(Python)) return $"{Python} does not exist";
        (int code, string text) = RunProcess(Python, ["-c", "import torch; print(torch.__version__)"]);
        return code == 0 ? null : $"{Python} cannot import torch: {text.Trim().Split('\n').Last()}";
    }

    /// <summary>False (and the reason in the output) when torch is absent and not required; fails when it is required.</summary>
    private bool TorchAvailable()
    {
        if (s_missing.Value is not { } reason) return true;
        if (Environment.GetEnvironmentVariable("SPRUNE_REQUIRE_TORCH") == "1")
            Assert.Fail($"SPRUNE_REQUIRE_TORCH=1 but {reason} (apt-get install python3-torch)");
        output.WriteLine($"NOT RUN (passes vacuously; xunit 2 has no dynamic skip): {reason}. Install python3-torch, or set SPRUNE_REQUIRE_TORCH=1 to make this a failure.");
        return false;
    }

    private static (int Code, string Text) RunProcess(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        // One intra-op thread: the machine is shared, and the tensors are tiny.
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static void RunDriver(params string[] args)
    {
        (int code, string text) = RunProcess(Python, [Driver, .. args]);
        Assert.True(code == 0, $"torch_stats_check.py {string.Join(' ', args)} exited {code}:\n{text}");
    }

    /// <summary>The CLI's output equals the model's weights times torch's mask, for every criterion, sparsity and weight.</summary>
    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void CliZeros_EqualTorchMasks(string model)
    {
        if (!TorchAvailable()) return;
        string modelPath = Path.Combine(masks.Directory, model + ".safetensors"), stats = Path.Combine(masks.Directory, model + ".stats.safetensors");
        string masksPath = Path.Combine(masks.Directory, model + ".masks.safetensors");
        string[] names;
        using (var file = SafeTensorsFile.Open(masksPath)) names = file.Tensors.Select(t => t.Name).ToArray();
        var runs = names.Select(n => n.Split('/')).GroupBy(p => p[0], p => p[1]).ToList();
        Assert.Equal(10, runs.Count);   // 5 criteria × 2 sparsities

        var differsFromMagnitude = new HashSet<string>();
        foreach (var run in runs)
        {
            string criterion = run.Key.Split('@')[0], sparsity = run.Key.Split('@')[1];
            string outPath = Path.Combine(Dir, $"{model}-{criterion}-{sparsity}.safetensors");
            List<string> args = ["prune", modelPath, "-o", outPath, "--criterion", criterion, "--sparsity", sparsity];
            if (criterion != "magnitude") args.AddRange(["--stats", stats]);
            // apoz is only defined for layers that feed a ReLU (not the last one), as in the demo's export.
            if (criterion == "apoz") args.AddRange(["--include", "^(" + string.Join("|", run.Select(Regex.Escape)) + ")$"]);
            var r = Sprune.Run([.. args]);
            Assert.True(r.ExitCode == 0, $"sprune {string.Join(' ', args)}: {r.StdErr}");
            foreach (string weight in run)
            {
                float[] w = Read(modelPath, weight), mask = Read(masksPath, $"{run.Key}/{weight}"), expected = new float[w.Length];
                Assert.All(mask, m => Assert.True(m is 0f or 1f));
                for (int i = 0; i < w.Length; i++) expected[i] = w[i] * mask[i];
                float[] actual = Read(outPath, weight);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{model} {run.Key} {weight}: the CLI's output differs from torch's mask");
                float[] magnitude = Read(masksPath, $"magnitude@{sparsity}/{weight}");
                if (!mask.AsSpan().SequenceEqual(magnitude)) differsFromMagnitude.Add(criterion);
            }
            output.WriteLine($"{model} {criterion} s={sparsity}: {run.Count()} weights equal torch's mask");
        }
        // Each statistic changes some mask: a CLI that ignored --stats could not pass.
        Assert.Equal(["apoz", "obd", "taylor", "wanda"], differsFromMagnitude.Order());
    }

    /// <summary>
    /// The torch collector and the demo's collector give the same statistics for the same network (weights from torch's
    /// default init, loaded into the Lab's networks) and the same first 96 images in batches of 32: the gradient
    /// statistics, input norms and APoZ of every layer, and the mlp's regression samples (the cnn samples positions
    /// from different generators, so only its rows' shape and their targets = X·Wᵀ are checked).
    /// </summary>
    [Fact]
    public void Statistics_EqualTheDemosCollector()
    {
        if (!TorchAvailable()) return;
        const int Images = 96, H1 = 24, H2 = 16, C1 = 4, C2 = 6;
        ImageSet data = DemoSubset.Take(Images, 10).Train;
        string pixels = Path.Combine(Dir, "pixels.bin"), labels = Path.Combine(Dir, "labels.bin");
        File.WriteAllBytes(pixels, data.Pixels.ToArray());
        File.WriteAllBytes(labels, data.Labels.ToArray());
        RunDriver("lenet", Dir, pixels, labels, $"{Images}", $"{H1}", $"{H2}", $"{C1}", $"{C2}");

        foreach (ReferenceNetwork network in new ReferenceNetwork[] { new MlpNetwork(32, H1, H2), new CnnNetwork(32, C1, C2) })
        {
            string name = network is MlpNetwork ? "mlp" : "cnn";
            string modelPath = Path.Combine(Dir, name + ".safetensors"), statsPath = Path.Combine(Dir, name + ".stats.safetensors");
            foreach (NetworkTensor t in network.Tensors) Read(modelPath, t.Name).CopyTo(t.Values.Span);
            NetworkStatistics demo = NetworkStatistics.Collect(network, data, Images, 32);
            foreach (LayerStatistics s in demo.Layers)
            {
                string w = s.WeightName;
                Close(s.MeanGradient, Read(statsPath, w + ".grad"), $"{name} {w}.grad");
                Close(s.Taylor, Read(statsPath, w + ".taylor"), $"{name} {w}.taylor");
                Close(s.Fisher, Read(statsPath, w + ".fisher"), $"{name} {w}.fisher");
                Close(s.InputNorms, Read(statsPath, w + ".input_norm"), $"{name} {w}.input_norm");
                using (var stats = SafeTensorsFile.Open(statsPath))
                {
                    Assert.Equal(s.Apoz is not null, stats.TryGetTensor(w + ".apoz", out _));
                    Assert.Equal(new long[] { s.Samples, s.Shape.RowLength }, stats.GetTensor(w + ".inputs").Shape.ToArray());
                    Assert.Equal(new long[] { s.Samples, s.Shape.Out }, stats.GetTensor(w + ".targets").Shape.ToArray());
                }
                if (s.Apoz is { } apoz)
                {
                    // A count may differ where a pre-activation is within rounding of 0: allow 2 values per unit.
                    long values = (long)Images * (network is MlpNetwork ? 1 : (s.Index == 0 ? 28 * 28 : 14 * 14));
                    float[] torchApoz = Read(statsPath, w + ".apoz");
                    for (int u = 0; u < apoz.Length; u++)
                        Assert.True(Math.Abs(apoz[u] - torchApoz[u]) <= 2.0 / values, $"{name} {w}.apoz[{u}]: demo {apoz[u]}, torch {torchApoz[u]}");
                }
                float[] inputs = Read(statsPath, w + ".inputs"), targets = Read(statsPath, w + ".targets");
                if (network is MlpNetwork)
                {
                    Close(s.Inputs, inputs, $"{name} {w}.inputs");
                    Close(s.Targets, targets, $"{name} {w}.targets");
                }
                else
                {
                    Close(Product(inputs, network.Tensor(w).Values.ToArray(), s.Shape), targets, $"{name} {w}.targets");
                }
            }
            output.WriteLine($"{name}: {demo.Layers.Count} layers, torch's statistics match the demo's collector");
        }
    }

    /// <summary>X·Wᵀ in double, X <c>[N, RowLength]</c>.</summary>
    private static float[] Product(float[] x, float[] w, WeightShape shape)
    {
        int d = shape.RowLength, o = shape.Out, n = x.Length / d;
        var y = new float[n * o];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < o; c++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++) sum += (double)x[r * d + j] * w[c * d + j];
                y[r * o + c] = (float)sum;
            }
        return y;
    }

    /// <summary>
    /// Equal up to float32 rounding of two different evaluation orders: every element within 1e-4 of the tensor's
    /// largest magnitude (plus a tiny absolute floor), which real disagreements (a wrong layout, a per-batch instead of
    /// an overall norm, a missing square) exceed by orders of magnitude.
    /// </summary>
    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        float scale = expected.Max(MathF.Abs);
        Assert.True(scale > 0, $"{what}: all zero, nothing to compare");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f * scale + 1e-12f, $"{what}[{i}]: demo {expected[i]}, torch {actual[i]} (scale {scale})");
    }
}
