using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Span.Prune.SafeTensors;
using Span.Prune.Sparse;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune bench-shrink</c> (hidden): what <c>--preset llama-mlp --shrink</c> buys. Writes a Llama-shaped checkpoint
/// (one layer: attention with GQA and the MLP, BF16), prunes it with the real prune command
/// (<c>--preset llama-mlp --sparsity S --shrink</c>), then times one MLP block's three matmuls (gate, up: <c>[I, H]·x</c>;
/// down: <c>[H, I]·h</c>) with <see cref="DenseMatMul"/> on the dense and the shrunk weights, alternately in one process,
/// at batch 1 and 32, and prints the fastest times and the median ratio of paired samples.
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

            var dense = Mlp.Load(model);
            var small = Mlp.Load(shrunk);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"MLP block of a Llama-shaped model, H = {hidden}, I = {intermediate} -> {small.Intermediate} (--preset llama-mlp --sparsity {sparsity} --shrink); DenseMatMul, 1 thread, {runs} paired samples"));
            Console.WriteLine("| batch | dense ms (min) | shrunk ms (min) | speedup (median of paired ratios) | ratio of minima |");
            Console.WriteLine("|---|---|---|---|---|");
            foreach (int batch in new[] { 1, 32 })
            {
                var (d, s, ratio) = Compare(dense, small, batch, runs);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {batch} | {d:0.000} | {s:0.000} | {ratio:0.00}x | {d / s:0.00}x |"));
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

    private sealed record Mlp(float[] Gate, float[] Up, float[] Down, int Hidden, int Intermediate)
    {
        public static Mlp Load(string path)
        {
            using SafeTensorsFile f = SafeTensorsFile.Open(path);
            float[] Read(string name)
            {
                var values = new float[f.GetTensor(name).ElementCount];
                f.ReadAsFloat32(name, values);
                return values;
            }
            SafeTensorInfo up = f.GetTensor("model.layers.0.mlp.up_proj.weight");
            return new Mlp(Read("model.layers.0.mlp.gate_proj.weight"), Read("model.layers.0.mlp.up_proj.weight"), Read("model.layers.0.mlp.down_proj.weight"),
                (int)up.Shape[1], (int)up.Shape[0]);
        }

        /// <summary>gate = Wg·x, up = Wu·x, out = Wd·gate (the element-wise SiLU·up is left out: only the matmuls are timed).</summary>
        public void Run(float[] x, float[] gate, float[] up, float[] output, int batch)
        {
            DenseMatMul.Multiply(Gate, Intermediate, Hidden, x, gate, batch);
            DenseMatMul.Multiply(Up, Intermediate, Hidden, x, up, batch);
            DenseMatMul.Multiply(Down, Hidden, Intermediate, gate.AsSpan(0, Intermediate * batch), output, batch);
        }
    }

    /// <summary>
    /// Each sample times the dense block and then the shrunk one (after three warm-up calls of each): returns the
    /// fastest of each and the median of the per-sample ratios. On a shared machine a noisy neighbour slows both
    /// halves of a sample alike, so the paired ratio is the robust figure; the minima are the least disturbed times.
    /// </summary>
    private static (double DenseMs, double ShrunkMs, double Ratio) Compare(Mlp dense, Mlp shrunk, int batch, int runs)
    {
        var x = new float[dense.Hidden * batch];
        Scoring.Random(x, 99);
        float[] gate = new float[dense.Intermediate * batch], up = new float[dense.Intermediate * batch], output = new float[dense.Hidden * batch];
        double Time(Mlp m)
        {
            long start = Stopwatch.GetTimestamp();
            m.Run(x, gate, up, output, batch);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        for (int i = 0; i < 3; i++) { Time(dense); Time(shrunk); }
        double denseMin = double.MaxValue, shrunkMin = double.MaxValue;
        var ratios = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            double d = Time(dense), s = Time(shrunk);
            denseMin = Math.Min(denseMin, d);
            shrunkMin = Math.Min(shrunkMin, s);
            ratios[i] = d / s;
        }
        Array.Sort(ratios);
        double median = runs % 2 == 1 ? ratios[runs / 2] : 0.5 * (ratios[runs / 2 - 1] + ratios[runs / 2]);
        return (denseMin, shrunkMin, median);
    }
}
