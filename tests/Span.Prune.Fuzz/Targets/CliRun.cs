using System.Text.Json;
using Span.Prune.Cli;
using Span.Prune.SafeTensors;

namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// One <c>sprune</c> command line run in-process, held to the CLI's promises: exit code 0, 1 or 2 (70, an internal
/// error, or an exception escaping <see cref="SpruneCommandLine.Run"/> is a bug); the inputs byte for byte unchanged;
/// no temporary file left behind; nothing written on a refusal; and on success every output a valid file.
/// </summary>
internal static class CliRun
{
    /// <param name="folder">The scratch folder holding the inputs; outputs go into it too.</param>
    /// <param name="inputs">Files of the folder the command reads, which must stay as they are.</param>
    /// <param name="outputs">What the command writes: each safetensors file or folder must open, each .json must parse.</param>
    /// <param name="args">The command line.</param>
    public static void Check(string folder, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params string[] args)
    {
        var before = inputs.ToDictionary(p => p, File.ReadAllBytes);
        var entriesBefore = Entries(folder);
        int exit = SpruneCommandLine.Run(args);
        string command = string.Join(' ', args.Select(a => a.StartsWith(folder, StringComparison.Ordinal) ? Path.GetRelativePath(folder, a) : a));
        if (exit is not (0 or 1 or 2))
            throw new FuzzInvariantException($"sprune {command}: exit code {exit}");
        foreach (var (path, bytes) in before)
        {
            if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
                throw new FuzzInvariantException($"sprune {command}: input {Path.GetFileName(path)} changed");
        }
        var entriesAfter = Entries(folder);
        if (entriesAfter.FirstOrDefault(e => e.EndsWith(".tmp", StringComparison.Ordinal)) is string temporary)
            throw new FuzzInvariantException($"sprune {command}: temporary file {temporary} left behind (exit {exit})");
        if (exit != 0)
        {
            if (entriesAfter.Except(entriesBefore, StringComparer.Ordinal).FirstOrDefault() is string written)
                throw new FuzzInvariantException($"sprune {command}: exit {exit} but {written} was written");
            return;
        }
        foreach (string output in outputs)
            CheckOutput(command, output);
    }

    private static void CheckOutput(string command, string output)
    {
        if (Directory.Exists(output))
        {
            foreach (string file in Directory.EnumerateFiles(output))
                CheckOutput(command, file);
            return;
        }
        if (!File.Exists(output))
            throw new FuzzInvariantException($"sprune {command}: exit 0 but {Path.GetFileName(output)} is missing");
        try
        {
            if (output.EndsWith(".json", StringComparison.Ordinal))
                JsonDocument.Parse(File.ReadAllBytes(output)).Dispose();
            else
                SafeTensorsFile.Open(output).Dispose();
        }
        catch (Exception e) when (e is JsonException or SafeTensorsFormatException)
        {
            throw new FuzzInvariantException($"sprune {command}: exit 0 but {Path.GetFileName(output)} is not valid: {e.Message}");
        }
    }

    /// <summary>Every file and folder under <paramref name="folder"/>, relative to it.</summary>
    private static HashSet<string> Entries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Select(e => Path.GetRelativePath(folder, e)).ToHashSet(StringComparer.Ordinal);
}
