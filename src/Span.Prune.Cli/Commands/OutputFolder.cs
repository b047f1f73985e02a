namespace Span.Prune.Cli.Commands;

/// <summary>
/// An output that is a folder (a sharded checkpoint): its files are staged with <see cref="OutputFiles"/> inside a
/// temporary sibling folder <c>.sprune-XXXXXXXX.XXX.tmpdir</c>, which <see cref="Commit"/> renames to the target at the
/// end. A failure (or SIGINT/SIGTERM/SIGHUP/SIGQUIT) before that deletes the temporary folder: no partial output folder
/// is ever visible under the target's name.
/// </summary>
/// <remarks>
/// The target must not exist, or be an empty folder (replaced by the rename); a non-empty folder or a file is refused,
/// so nothing of the user's is overwritten. It must not be the input folder nor inside it, compared by identity
/// (device, inode of each existing ancestor; links followed), so a pruned copy never lands among its own shards.
/// </remarks>
internal sealed class OutputFolder : IDisposable
{
    private readonly string _target;
    private readonly string _shown;
    private string? _temporary;

    /// <summary>Checks the target against the input folder and creates the temporary sibling folder.</summary>
    public OutputFolder(string target, string inputFolder, bool flushToDisk)
    {
        _shown = target;
        _target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        if (System.IO.File.Exists(_target)) throw new ArgumentException($"the output '{target}' is a file; a sharded input is written to a folder");
        if (IsSameOrInside(_target, Path.GetFullPath(inputFolder)))
            throw new ArgumentException($"the output folder '{target}' is the input's folder or inside it");
        if (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any())
            throw new ArgumentException($"the output folder '{target}' exists and is not empty");
        string parent = Path.GetDirectoryName(_target) ?? throw new ArgumentException($"the output '{target}' is a root folder");
        if (!Directory.Exists(parent)) throw new DirectoryNotFoundException($"the folder that would hold the output '{target}' does not exist");
        Files = new OutputFiles(flushToDisk);
        _temporary = Path.Join(parent, $".sprune-{Path.GetRandomFileName()}.tmpdir");
        OutputFiles.RegisterTemporaryFolder(_temporary);
        Directory.CreateDirectory(_temporary);
    }

    /// <summary>Stages the folder's files (register each with <see cref="File(string)"/>).</summary>
    public OutputFiles Files { get; }

    /// <summary>Registers <paramref name="name"/> (a plain file name) as an output inside the folder.</summary>
    public string File(string name) => Files.Output(Path.Join(_temporary, name), $"'{name}' in the output folder");

    /// <summary>Renames every staged file into the temporary folder, then the folder to the target.</summary>
    public void Commit()
    {
        Files.Commit();
        if (Directory.Exists(_target)) Directory.Delete(_target); // empty (checked above); Directory.Move does not replace
        Directory.Move(_temporary!, _target);
        OutputFiles.UnregisterTemporaryFolder(_temporary!);
        _temporary = null;
    }

    public void Dispose()
    {
        Files.Dispose();
        if (_temporary is null) return;
        try { Directory.Delete(_temporary, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        OutputFiles.UnregisterTemporaryFolder(_temporary);
        _temporary = null;
    }

    /// <summary>Whether <paramref name="path"/> (which may not exist yet) is <paramref name="folder"/> or below it.</summary>
    internal static bool IsSameOrInside(string path, string folder)
    {
        if (LibC.IsAvailable)
        {
            try
            {
                if (LibC.TryGetFileId(folder, out ulong device, out ulong inode))
                {
                    for (string? p = path; p is not null; p = Path.GetDirectoryName(p))
                    {
                        if (LibC.TryGetFileId(p, out ulong d, out ulong i) && d == device && i == inode) return true;
                    }
                    return false;
                }
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
            }
        }
        // Without stat: by spelling (links in the path go unseen).
        string f = Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        return (path + Path.DirectorySeparatorChar).StartsWith(f, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
    }
}
