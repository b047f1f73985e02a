namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// <c>sprune inspect</c> and <c>sprune prune</c> on arbitrary bytes as the model file, with a command line chosen by
/// the input's first two bytes, held to the promises checked by <see cref="CliRun"/>.
/// </summary>
/// <remarks>
/// <para>Input layout: byte 0 and byte 1 choose the command line, the rest is the model file. Byte 0: bits 0–1 the
/// command (0 <c>inspect</c>, 1 <c>inspect --json</c>, 2 and 3 <c>prune</c>); bit 2 <c>--scope global</c>; bit 3
/// <c>--report</c>; bit 4 <c>--sparse-out</c>; bit 5 <c>--mask-out</c>; bit 6 <c>--exclude bias</c>; bit 7
/// <c>--max-layer-sparsity 0.5</c>. Byte 1: bits 0–2 the sparsity (<see cref="Sparsities"/>, the last meaning none),
/// bits 3–5 the granularity (<see cref="Granularities"/>, the first meaning none), bits 6–7 the criterion
/// (<see cref="Criteria"/>). Every combination is a command line the user could type, so refusals are exit 2.</para>
/// </remarks>
public static class CliTarget
{
    private static readonly string?[] Sparsities = ["0", "0.1", "0.25", "0.5", "0.75", "0.9", "1", null];
    private static readonly string?[] Granularities = [null, "element", "row", "column", "kernel", "block:2x2", "nm:2:4", "block:1x3"];
    private static readonly string[] Criteria = ["magnitude", "l1", "l2", "random"];

    public static void Run(byte[] input)
    {
        if (input.Length < 2)
            return;
        byte options = input[0], values = input[1];
        string folder = FuzzScratch.Folder();
        string model = Path.Combine(folder, "model.safetensors");
        File.WriteAllBytes(model, input.AsSpan(2));
        if ((options & 3) < 2)
        {
            CliRun.Check(folder, [model], [], (options & 3) == 0 ? ["inspect", model] : ["inspect", model, "--json"]);
            return;
        }

        string output = Path.Combine(folder, "pruned.safetensors");
        var args = new List<string> { "prune", model, "-o", output };
        var outputs = new List<string> { output };
        if ((options & 4) != 0) args.AddRange(["--scope", "global"]);
        if ((options & 8) != 0) Add("--report", "report.json");
        if ((options & 16) != 0) Add("--sparse-out", "sparse.safetensors");
        if ((options & 32) != 0) Add("--mask-out", "masks.safetensors");
        if ((options & 64) != 0) args.AddRange(["--exclude", "bias"]);
        if ((options & 128) != 0) args.AddRange(["--max-layer-sparsity", "0.5"]);
        if (Sparsities[values & 7] is string sparsity) args.AddRange(["--sparsity", sparsity]);
        if (Granularities[(values >> 3) & 7] is string granularity) args.AddRange(["--granularity", granularity]);
        args.AddRange(["--criterion", Criteria[values >> 6]]);
        CliRun.Check(folder, [model], outputs, [.. args]);

        void Add(string option, string name)
        {
            string path = Path.Combine(folder, name);
            args.AddRange([option, path]);
            outputs.Add(path);
        }
    }

    /// <summary>The two control bytes for a command line, for writing seeds.</summary>
    public static byte[] Prefix(int command, bool global = false, bool report = false, bool sparseOut = false, bool maskOut = false,
        int sparsity = 3, int granularity = 0, int criterion = 0) =>
        [(byte)(command | (global ? 4 : 0) | (report ? 8 : 0) | (sparseOut ? 16 : 0) | (maskOut ? 32 : 0)),
         (byte)(sparsity | granularity << 3 | criterion << 6)];
}
