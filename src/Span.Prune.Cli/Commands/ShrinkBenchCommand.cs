using System.CommandLine;
using System.Globalization;
using Span.Prune.SafeTensors;
using Span.Prune.Lab.Bench;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune bench-shrink</c> (hidden): what <c>--preset llama-mlp --shrink</c> buys. Writes a Llama-shaped checkpoint
/// (one layer: attention with GQA and the MLP, BF16), prunes it with the real prune command
/// (<c>--preset llama-mlp --sparsity S --shrink</c>), then times one MLP block's three matmuls on the dense and the
/// shrunk weights with <see cref="MlpBlockBench"/> at batch 1 and 32, and prints the fastest times and the median ratio
/// of paired samples.
/// </summary>
internal static class ShrinkBenchCommand
{
    public static Command Create()
    {
        var hidden = new Option<int>("--hidden") { Description = "Hidden size H.", DefaultValueFactory = _ => 2048 };
        var intermediate = new Option<int>("--intermediate") { Description = "MLP intermediate size I.", DefaultValueFactory = _ => 5632 };
        var sparsity = new Option<double>("--sparsity") { Description = "MLP neurons pruned.", DefaultValueFactory = _ => 0.3 };
        var runs = new Option<int>("--runs") { Description = "Timed samples of each side per batch.", DefaultValueFactory = _ => 31 };
        var command = new Command("bench-shrink", "Time an MLP block of a Llama-shaped model before and after --preset llama-mlp --shrink.")
        {
            hidden, intermediate, sparsity, runs,
        };
        command.Hidden = true;
        command.SetAction(p => Run(p.GetValue(hidden), p.GetValue(intermediate), p.GetValue(sparsity), p.GetValue(runs)));
        return command;
    }

    private static int Run(int hidden, int intermediate, double sparsity, int runs)
    {
        if (hidden < 64 || hidden % 64 != 0) throw new ArgumentException("--hidden must be a positive multiple of 64 (head dim 64)");
        if (intermediate < 1 || runs < 1) throw new ArgumentException("--intermediate and --runs must be positive");
        string dir = Directory.CreateTempSubdirectory("sprune-bench-shrink-").FullName;
        try
        {
            string model = Path.Combine(dir, "model.safetensors"), shrunk = Path.Combine(dir, "shrunk.safetensors");
            Generate(model, hidden, intermediate);
            TextWriter stdout = Console.Out;
            Console.SetOut(TextWriter.Null);
            int rc;
            try
            {
                rc = Program.Run(["prune", dir, "-o", shrunk, "--preset", "llama-mlp", "--sparsity", sparsity.ToString(CultureInfo.InvariantCulture), "--shrink"]);
            }
            finally { Console.SetOut(stdout); }
            if (rc != 0) return rc;

            MlpBlockWeights dense = LoadMlp(model);
            MlpBlockWeights small = LoadMlp(shrunk);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MLP block of a Llama-shaped model, H = {hidden}, I = {intermediate} -> {small.Intermediate} (--preset llama-mlp --sparsity {sparsity} --shrink); MatMul, 1 thread, {runs} paired samples"));
            Console.WriteLine("| batch | dense ms (min) | shrunk ms (min) | speedup (median of paired ratios) | ratio of minima |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (int batch in new[] { 1, 32 })
            {
                PairedTiming t = MlpBlockBench.Compare(dense, small, batch, runs);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {batch} | {t.BaselineMinMs:0.000} | {t.CandidateMinMs:0.000} | {t.MedianRatio:0.00}x | {t.BaselineMinMs / t.CandidateMinMs:0.00}x |"));
            }
            return Program.Success;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>One layer: q/k/v/o (32 heads of 64 per 2048, kv heads a quarter of them), gate/up/down; uniform weights in ±0.02.</summary>
    private static void Generate(string path, int hidden, int intermediate)
    {
        int heads = hidden / 64, kv = Math.Max(1, heads / 4);
        var writer = new SafeTensorsWriter();
        ulong seed = 1;
        void Add(string name, long rows, long cols)
        {
            ulong s = seed++;
            writer.Add(name, SafeTensorsDType.BF16, [rows, cols], stream =>
            {
                var w = new float[rows * cols];
                Scoring.Random(w, s);
                for (int i = 0; i < w.Length; i++) w[i] = 0.04f * (w[i] - 0.5f);
                var bytes = new byte[w.Length * 2];
                SafeTensorsDTypeInfo.FromFloat32(w, SafeTensorsDType.BF16, bytes);
                stream.Write(bytes);
            });
        }
        const string P = "model.layers.0.";
        Add(P + "self_attn.q_proj.weight", hidden, hidden);
        Add(P + "self_attn.k_proj.weight", kv * 64, hidden);
        Add(P + "self_attn.v_proj.weight", kv * 64, hidden);
        Add(P + "self_attn.o_proj.weight", hidden, hidden);
        Add(P + "mlp.gate_proj.weight", intermediate, hidden);
        Add(P + "mlp.up_proj.weight", intermediate, hidden);
        Add(P + "mlp.down_proj.weight", hidden, intermediate);
        using var files = new OutputFiles();
        files.Write(files.Output(path, "the model"), writer.WriteTo);
    }

    private static MlpBlockWeights LoadMlp(string path)
    {
        using SafeTensorsFile f = SafeTensorsFile.Open(path);
        float[] Read(string name)
        {
            var values = new float[f.GetTensor(name).ElementCount];
            f.ReadAsFloat32(name, values);
            return values;
        }
        const string P = "model.layers.0.mlp.";
        SafeTensorInfo up = f.GetTensor(P + "up_proj.weight");
        return new MlpBlockWeights(Read(P + "gate_proj.weight"), Read(P + "up_proj.weight"), Read(P + "down_proj.weight"), (int)up.Shape[1], (int)up.Shape[0]);
    }
}
