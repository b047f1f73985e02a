using System.CommandLine;
using System.Globalization;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>sprune generate OUT [--dtype bf16] [--tensors 32] [--rows 4096] [--cols 8192] [--seed 1]</c> (for
/// benchmarks and tests): writes a deterministic synthetic model of <c>tensors</c> weights <c>layers.{i}.weight</c> of
/// shape <c>[rows, cols]</c>, streamed so that a model larger than memory can be made.
/// </summary>
/// <remarks>
/// Element <c>j</c> of tensor <c>i</c> is <c>σ·√6·(u₁ − u₂)</c> (a triangular distribution of standard deviation
/// σ = 0.02, the scale of transformer weights), where <c>u₁</c>, <c>u₂</c> are the SplitMix64 uniforms of the
/// counter-based streams <c>(seed, i, 2j)</c> and <c>(seed, i, 2j + 1)</c>; so the bits depend only on
/// (seed, i, j), not on the chunking or the machine. Values are rounded to the dtype (ties to even).
/// </remarks>
internal static class GenerateCommand
{
    private const int ChunkElements = 1 << 20;

    public static Command Create()
    {
        var output = new Argument<string>("OUT") { Description = "Output .safetensors file." };
        var dtype = new Option<string>("--dtype") { Description = "bf16 | f16 | f32 | f64.", DefaultValueFactory = _ => "bf16" };
        var tensors = new Option<int>("--tensors") { Description = "Number of weight tensors.", DefaultValueFactory = _ => 32 };
        var rows = new Option<long>("--rows") { Description = "Rows of each tensor.", DefaultValueFactory = _ => 4096 };
        var cols = new Option<long>("--cols") { Description = "Columns of each tensor.", DefaultValueFactory = _ => 8192 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights.", DefaultValueFactory = _ => 1UL };
        var command = new Command("generate", "Write a deterministic synthetic model (benchmarks, tests).")
        {
            output, dtype, tensors, rows, cols, seed,
        };
        command.SetAction(p => Run(p.GetValue(output)!, p.GetValue(dtype)!, p.GetValue(tensors), p.GetValue(rows), p.GetValue(cols), p.GetValue(seed)));
        return command;
    }

    private static int Run(string output, string dtypeName, int tensors, long rows, long cols, ulong seed)
    {
        if (!SafeTensorsDTypeInfo.TryParse(dtypeName.ToUpperInvariant(), out SafeTensorsDType dtype) || !SafeTensorsDTypeInfo.IsConvertibleFloat(dtype))
            throw new ArgumentException($"unknown --dtype '{dtypeName}'; expected bf16, f16, f32 or f64");
        if (tensors < 1 || rows < 1 || cols < 1) throw new ArgumentException("--tensors, --rows and --cols must be at least 1");
        long elements;
        try { elements = checked(rows * cols * tensors * SafeTensorsDTypeInfo.SizeOf(dtype)) / tensors / SafeTensorsDTypeInfo.SizeOf(dtype); }
        catch (OverflowException) { throw new OverflowException($"--tensors x --rows x --cols = {tensors} x {rows} x {cols} elements do not fit a file (2^63 bytes)"); }
        using var files = new OutputFiles();
        string outputPath = files.Output(output, "OUT");
        var writer = new SafeTensorsWriter();
        writer.AddMetadata("generator", string.Create(CultureInfo.InvariantCulture, $"sprune generate --seed {seed}"));
        for (int i = 0; i < tensors; i++)
        {
            ulong tensorSeed = seed ^ (ulong)(i + 1) * 0xD1B54A32D192ED03UL;
            writer.Add($"layers.{i}.weight", dtype, [rows, cols], stream => Fill(stream, dtype, elements, tensorSeed));
        }
        files.Write(outputPath, writer.WriteTo);
        long bytes = elements * tensors * SafeTensorsDTypeInfo.SizeOf(dtype);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sprune: wrote {tensors} x [{rows}, {cols}] {SafeTensorsDTypeInfo.GetName(dtype)} ({bytes:N0} data bytes) -> {DisplayText.Escape(output)}"));
        return Program.Success;
    }

    private static void Fill(Stream destination, SafeTensorsDType dtype, long elements, ulong seed)
    {
        const float Scale = 0.02f * 2.4494897f; // σ·√6: the triangular u₁ − u₂ has variance 1/6
        var u = new float[2 * ChunkElements];
        var w = new float[ChunkElements];
        var bytes = new byte[ChunkElements * SafeTensorsDTypeInfo.SizeOf(dtype)];
        for (long start = 0; start < elements; start += ChunkElements)
        {
            int n = (int)Math.Min(ChunkElements, elements - start);
            // Counter-based: uniform 2j (+1) of this tensor continues across chunks, so chunking does not change the bits.
            // Scoring.Random is SplitMix64 over counters seed + i·γ (γ = 0x9E3779B97F4A7C15, the golden-ratio increment).
            Scoring.Random(u.AsSpan(0, 2 * n), seed + (ulong)(2 * start) * 0x9E3779B97F4A7C15UL);
            for (int j = 0; j < n; j++) w[j] = Scale * (u[2 * j] - u[2 * j + 1]);
            int size = n * SafeTensorsDTypeInfo.SizeOf(dtype);
            SafeTensorsDTypeInfo.FromFloat32(w.AsSpan(0, n), dtype, bytes.AsSpan(0, size));
            destination.Write(bytes, 0, size);
        }
    }
}
