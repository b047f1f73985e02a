using System.IO.Compression;
using SharpFuzz;
using Span.Prune.Fuzz.Targets;

namespace Span.Prune.Fuzz;

/// <summary>
/// The afl++ harness: <c>Span.Prune.Fuzz TARGET</c> runs one target in SharpFuzz's persistent loop (under afl-fuzz;
/// <c>fuzz.sh</c> instruments the assemblies and starts it). Two helper modes: <c>Span.Prune.Fuzz TARGET --replay
/// FILE...</c> runs files through the target and prints what each one raised (to triage afl's crashes folder), and
/// <c>Span.Prune.Fuzz --seeds REPO OUT</c> writes each target's seed files into <c>OUT/TARGET/</c>.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args is ["--seeds", string repo, string output])
        {
            Seeds.Write(repo, output);
            return 0;
        }
        if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
        {
            Console.Error.WriteLine($"usage: Span.Prune.Fuzz TARGET [--replay FILE...] | --seeds REPO OUT   (TARGET: {string.Join(" | ", FuzzTargets.Names)})");
            return 2;
        }
        Action<byte[]> target = FuzzTargets.Get(args[0]);
        if (args.Length > 1 && args[1] == "--replay")
            return Replay(target, args.Skip(2));

        // The CLI's own output is not what is tested, and writing it costs time on every execution.
        Console.SetOut(TextWriter.Null);
        Console.SetError(TextWriter.Null);
        // Out of process: the target runs in a child that SharpFuzz restarts after a crash or a timeout, so one finding
        // does not end the campaign (in-process, a timeout kills the fork server).
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target(copy.ToArray());
        });
        return 0;
    }

    private static int Replay(Action<byte[]> target, IEnumerable<string> files)
    {
        int failed = 0;
        foreach (string file in files)
        {
            TextWriter stdout = Console.Out, stderr = Console.Error;
            Console.SetOut(TextWriter.Null);
            Console.SetError(TextWriter.Null);
            Exception? error = null;
            try { target(File.ReadAllBytes(file)); }
            catch (Exception e) { error = e; }
            finally { Console.SetOut(stdout); Console.SetError(stderr); }
            if (error is null)
            {
                Console.WriteLine($"ok    {file}");
                continue;
            }
            failed++;
            Console.WriteLine($"CRASH {file}: {error}");
        }
        return failed == 0 ? 0 : 1;
    }
}

/// <summary>Small valid inputs for every target, the starting point afl++ mutates.</summary>
internal static class Seeds
{
    public static void Write(string repo, string output)
    {
        byte[] tiny = File.ReadAllBytes(Path.Combine(repo, "tests", "fixtures", "tiny.safetensors"));
        string[] corpus = Directory.GetFiles(Path.Combine(repo, "tests", "Span.Prune.Tests", "SafeTensors", "Corpus", "files"), "*.safetensors");
        // The differential corpus's valid files, and its refused ones small enough to mutate quickly.
        var models = corpus.Where(f => new FileInfo(f).Length <= 1024).Order(StringComparer.Ordinal).ToList();

        string dir = Folder(output, "safetensors");
        File.WriteAllBytes(Path.Combine(dir, "tiny.safetensors"), tiny);
        foreach (string f in models)
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);

        dir = Folder(output, "cli");
        var lines = new (string Name, byte[] Prefix)[]
        {
            ("inspect", CliTarget.Prefix(0)),
            ("inspect-json", CliTarget.Prefix(1)),
            ("prune-layer", CliTarget.Prefix(2)),
            ("prune-global-outputs", CliTarget.Prefix(2, global: true, report: true, sparseOut: true, maskOut: true)),
            ("prune-row-l2", CliTarget.Prefix(2, sparseOut: true, granularity: 2, criterion: 2)),
            ("prune-nm", CliTarget.Prefix(2, sparseOut: true, granularity: 6)),
            ("prune-block-random", CliTarget.Prefix(3, report: true, sparseOut: true, granularity: 5, criterion: 3)),
        };
        foreach (var (name, prefix) in lines)
            File.WriteAllBytes(Path.Combine(dir, name + ".bin"), [.. prefix, .. tiny]);
        foreach (string f in models.Where(f => Path.GetFileName(f).StartsWith("dtype_", StringComparison.Ordinal)))
            File.WriteAllBytes(Path.Combine(dir, "prune-" + Path.GetFileNameWithoutExtension(f) + ".bin"), [.. CliTarget.Prefix(2, sparseOut: true), .. File.ReadAllBytes(f)]);

        dir = Folder(output, "idx");
        byte[] labels = Idx([0, 0, 8, 1, 0, 0, 0, 2], [3, 7]);
        byte[] images = Idx([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28], Enumerable.Range(0, 2 * 784).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllBytes(Path.Combine(dir, "raw.bin"), IdxTarget.Pack(false, labels, images));
        File.WriteAllBytes(Path.Combine(dir, "raw-forward.bin"), IdxTarget.Pack(true, labels, images));
        File.WriteAllBytes(Path.Combine(dir, "gzip.bin"), IdxTarget.Pack(false, Gzip(labels), Gzip(images)));
        File.WriteAllBytes(Path.Combine(dir, "gzip-forward.bin"), IdxTarget.Pack(true, Gzip(labels), Gzip(images)));
        File.WriteAllBytes(Path.Combine(dir, "empty.bin"), IdxTarget.Pack(false, Idx([0, 0, 8, 1, 0, 0, 0, 0], []), Idx([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28], [])));

        dir = Folder(output, "index");
        const string Map = "\"weight_map\": {\"a.weight\": \"model-00001-of-00002.safetensors\", \"a.bias\": \"model-00001-of-00002.safetensors\", \"b.weight\": \"model-00002-of-00002.safetensors\"}";
        File.WriteAllText(Path.Combine(dir, "index.json"), "{\"metadata\": {\"total_size\": 36, \"format\": \"pt\"}, " + Map + "}");
        File.WriteAllText(Path.Combine(dir, "no-metadata.json"), "{" + Map + "}");
        File.WriteAllText(Path.Combine(dir, "one-shard.json"), "{\"metadata\": {}, \"weight_map\": {\"a.weight\": \"model-00001-of-00002.safetensors\", \"a.bias\": \"model-00001-of-00002.safetensors\"}}");
    }

    private static string Folder(string output, string target)
    {
        string dir = Path.Combine(output, target);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static byte[] Idx(byte[] header, byte[] data) => [.. header, .. data];

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize))
            gzip.Write(data);
        return buffer.ToArray();
    }
}
