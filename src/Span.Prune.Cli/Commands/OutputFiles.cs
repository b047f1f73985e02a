using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// Every file a command writes goes through here: one same-file rule over the command's inputs and outputs, and one
/// writer (a temporary file in the target's directory, renamed into place once everything is written).
/// </summary>
/// <remarks>
/// <para><b>Same file.</b> Each path is registered as an <see cref="Input"/> or an <see cref="Output"/> before anything
/// is written; an output that is the same file as an input or as another output is refused. "Same" means identity,
/// not spelling. On Linux (x64, arm64) an existing file is its (device, inode) from <c>stat</c>, which follows symbolic
/// links in every component and also sees hard links; a path that does not exist yet is its directory's (device,
/// inode) plus its name. .NET has no managed inode API (<see cref="LibC"/>). Elsewhere, or with a glibc older than
/// 2.33, the fallback is the absolute path with a final symbolic link resolved: links in directory components and
/// hard links then go unseen.</para>
/// <para><b>Symbolic links.</b> An output path that is a symbolic link is replaced by the rename: the link becomes the
/// new file and its target is never written. Writing through the link would let a link planted at an output path
/// redirect the write onto any file the user can write; replacing it is what <c>mv</c> and every rename-based writer
/// do. The same-file check follows links, so a link that points at an input is refused rather than replaced.</para>
/// <para><b>Atomicity.</b> <see cref="Stage"/> writes a temporary file <c>.sprune-XXXXXXXX.XXX.tmp</c> next to the
/// target (short, so a target name near NAME_MAX, 255 bytes, still leaves room; created exclusively, so a collision
/// fails instead of clobbering); <see cref="Commit"/> renames every staged file over its target. A failure before the
/// commit deletes the temporary files and leaves every target as it was; the renames themselves are atomic one by one
/// (two processes racing to one target leave one complete file). Staging everything first is what lets a command
/// promise "all outputs or none" for failures that happen while writing; a rename that itself fails (rare: the target
/// turned into a directory meanwhile) leaves the outputs renamed before it in place.</para>
/// <para><b>Permissions.</b> The new file takes the mode of the file it replaces (links followed), or for a new file
/// the umask default (0666 minus the umask, as <c>open</c> creates it); in both cases without set-id or sticky bits
/// and never world-writable. Ownership is the writing user's (a rename cannot keep another owner).</para>
/// <para><b>Durability.</b> With <c>flushToDisk</c> (<c>--fsync</c>) each temporary file is fsynced before the rename
/// and each target directory after it (Linux x64/arm64; elsewhere the file only), so that a power loss leaves the old
/// file or the complete new one (the rename alone is atomic only for a crash of the process).</para>
/// <para><b>Signals.</b> Temporary files are registered process-wide; <see cref="HandleTerminationSignals"/> makes
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT delete them and exit with 128 + the signal number. Staging and committing hold
/// the same lock as the handler, so a signal never lands between creating a temporary file and registering it, nor
/// between two renames of one commit.</para>
/// </remarks>
internal sealed class OutputFiles(bool flushToDisk = false) : IDisposable
{
    private static readonly Lock s_lock = new();
    private static readonly HashSet<string> s_temporaries = new(StringComparer.Ordinal);
    private static bool s_terminating;
    private static bool s_noStat;
    private static readonly HashSet<string> s_temporaryFolders = new(StringComparer.Ordinal);

    /// <summary>A temporary output folder (<see cref="OutputFolder"/>) that a termination signal deletes with its content.</summary>
    public static void RegisterTemporaryFolder(string path)
    {
        lock (s_lock)
        {
            if (s_terminating) throw new OperationCanceledException("terminating");
            s_temporaryFolders.Add(path);
        }
    }

    /// <summary>The folder was renamed into place or deleted.</summary>
    public static void UnregisterTemporaryFolder(string path)
    {
        lock (s_lock) s_temporaryFolders.Remove(path);
    }

    private readonly List<(FileIdentity Identity, string Shown, string Label, bool IsOutput)> _paths = [];
    private readonly List<(string Temporary, string Target)> _staged = [];

    /// <summary>Registers a file the command reads; it must exist, and it is never written.</summary>
    /// <returns>The absolute path.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public string Input(string path, string label)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"{label} '{path}' does not exist", path);
        Register(full, path, label, isOutput: false);
        return full;
    }

    /// <summary>Registers a file the command writes: its directory must exist, and it must be a different file from
    /// every input and output registered so far.</summary>
    /// <returns>The absolute path (to pass to <see cref="Stage"/>).</returns>
    public string Output(string path, string label)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ArgumentException($"{label} '{path}' is a directory");
        if (!Directory.Exists(Path.GetDirectoryName(full))) throw new DirectoryNotFoundException($"the directory of {label} '{path}' does not exist");
        Register(full, path, label, isOutput: true);
        return full;
    }

    private void Register(string full, string shown, string label, bool isOutput)
    {
        FileIdentity identity = FileIdentity.Of(full);
        foreach (var other in _paths)
        {
            // Two inputs may be one file (reading twice harms nothing); anything involving an output may not.
            if ((isOutput || other.IsOutput) && identity.Equals(other.Identity))
            {
                throw new ArgumentException($"{label} '{shown}' is the same file as {other.Label} '{other.Shown}'; " +
                    (other.IsOutput ? "every output must be a file of its own" : "an input is never written"));
            }
        }
        _paths.Add((identity, shown, label, isOutput));
    }

    /// <summary>
    /// Writes a registered output's new content to a temporary file next to it (the target is not touched until
    /// <see cref="Commit"/>). When <paramref name="write"/> throws, the temporary file is deleted and the exception
    /// propagates.
    /// </summary>
    /// <param name="target">A registered output.</param>
    /// <param name="write">Writes the content.</param>
    /// <param name="tensorBytes">For a model: the byte length of each tensor in the order written, so that
    /// <see cref="Progress"/> (when set) shows the write as a "writing" phase; null for small files.</param>
    /// <returns>The temporary file's path, readable until the commit (the sparse export reads the staged model).</returns>
    public string Stage(string target, Action<Stream> write, IEnumerable<long>? tensorBytes = null)
    {
        if (!_paths.Exists(p => p.IsOutput && string.Equals(p.Identity.FullPath, target, StringComparison.Ordinal)))
            throw new InvalidOperationException($"'{target}' was not registered as an output");
        string directory = Path.GetDirectoryName(target)!;
        string temporary;
        FileStream stream;
        lock (s_lock)
        {
            if (s_terminating) throw new OperationCanceledException("terminating");
            temporary = Path.Join(directory, $".sprune-{Path.GetRandomFileName()}.tmp");
            stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16,
            });
            s_temporaries.Add(temporary);
        }
        _staged.Add((temporary, target));
        try
        {
            using (stream)
            {
                if (!OperatingSystem.IsWindows()) SetMode(stream.SafeFileHandle, target);
                if (Progress is { } progress && tensorBytes is not null)
                {
                    progress.Begin("writing", tensorBytes);
                    write(progress.Count(stream));
                }
                else
                {
                    write(stream);
                }
                stream.Flush(flushToDisk);
            }
        }
        catch (Exception e)
        {
            _staged.RemoveAt(_staged.Count - 1);
            Discard(temporary);
            if (e is not IOException) throw;
            // A full disk, a failing device or an input that fails to read mid-write: name the output the user asked
            // for, not only the temporary file that the message of a write error names.
            var (_, shown, label, _) = _paths.Find(p => p.IsOutput && string.Equals(p.Identity.FullPath, target, StringComparison.Ordinal));
            throw new IOException($"{label} '{shown}' was not written: {e.Message}", e);
        }
        return temporary;
    }

    /// <summary>Shows the progress of staged models (<see cref="Stage"/> with tensor sizes) on stderr, or null.</summary>
    public ProgressMeter? Progress { get; init; }

    /// <summary>The temporary file holding <paramref name="target"/>'s staged content (until the commit).</summary>
    public string StagedPath(string target) =>
        _staged.Find(s => string.Equals(s.Target, target, StringComparison.Ordinal)).Temporary
        ?? throw new InvalidOperationException($"'{target}' has not been staged");

    /// <summary>Renames every staged file over its target, in staging order; with <c>flushToDisk</c>, then syncs their directories.</summary>
    public void Commit()
    {
        var directories = new HashSet<string>(StringComparer.Ordinal);
        lock (s_lock)
        {
            if (s_terminating) throw new OperationCanceledException("terminating");
            while (_staged.Count > 0)
            {
                var (temporary, target) = _staged[0];
                // rename(2): atomic, and it replaces a symbolic link at the target rather than writing through it.
                File.Move(temporary, target, overwrite: true);
                s_temporaries.Remove(temporary);
                _staged.RemoveAt(0);
                directories.Add(Path.GetDirectoryName(target)!);
            }
        }
        // The rename is a change to the directory: durable only once the directory itself is synced.
        // Best effort where libc cannot be called (not Linux x64/arm64): the files themselves were synced.
        if (flushToDisk && LibC.IsAvailable)
        {
            try
            {
                foreach (string directory in directories) LibC.FsyncDirectory(directory);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
            }
        }
    }

    /// <summary>Stages and commits one output.</summary>
    public void Write(string target, Action<Stream> write)
    {
        Stage(target, write);
        Commit();
    }

    /// <summary>Text as UTF-8 without a byte-order mark (what <see cref="File.WriteAllText(string, string?)"/> writes).</summary>
    public static void WriteText(Stream destination, string text)
    {
        using var writer = new StreamWriter(destination, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
        writer.Write(text);
    }

    /// <summary>Deletes whatever was staged and not committed.</summary>
    public void Dispose()
    {
        foreach (var (temporary, _) in _staged) Discard(temporary);
        _staged.Clear();
    }

    private static void Discard(string temporary)
    {
        lock (s_lock)
        {
            TryDelete(temporary);
            s_temporaries.Remove(temporary);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>The replaced file's permission bits, or the umask default the new file was created with; minus
    /// set-id, sticky and world-write.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void SetMode(SafeFileHandle handle, string target)
    {
        const UnixFileMode Permissions = (UnixFileMode)0x1FF; // rwxrwxrwx
        UnixFileMode mode;
        try { mode = File.GetUnixFileMode(target); }
        catch (IOException) { mode = File.GetUnixFileMode(handle); } // no target (or a dangling link): open's umask default
        File.SetUnixFileMode(handle, mode & Permissions & ~UnixFileMode.OtherWrite);
    }

    /// <summary>
    /// SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT: delete the temporary files of every open <see cref="OutputFiles"/>
    /// and exit with 128 + the signal number (130, 143, 129, 131), as a shell reports a process killed by it.
    /// </summary>
    /// <returns>The registrations; disposing them restores the default handling.</returns>
    public static IDisposable[] HandleTerminationSignals() =>
    [
        PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Terminate(c, 130)),
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Terminate(c, 143)),
        PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Terminate(c, 129)),
        PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => Terminate(c, 131)),
    ];

    private static void Terminate(PosixSignalContext context, int exitCode)
    {
        lock (s_lock)
        {
            s_terminating = true;
            foreach (string temporary in s_temporaries) TryDelete(temporary);
            s_temporaries.Clear();
            foreach (string folder in s_temporaryFolders)
            {
                try { Directory.Delete(folder, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            s_temporaryFolders.Clear();
        }
        context.Cancel = true;
        Environment.Exit(exitCode);
    }

    /// <summary>What a path refers to, for the same-file check (see the class remarks).</summary>
    private readonly record struct FileIdentity(string Key, string FullPath)
    {
        public bool Equals(FileIdentity other) => PathComparer.Equals(Key, other.Key);

        public override int GetHashCode() => PathComparer.GetHashCode(Key);

        private static StringComparer PathComparer => OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

        public static FileIdentity Of(string fullPath)
        {
            if (LibC.IsAvailable && !s_noStat)
            {
                try
                {
                    if (LibC.TryGetFileId(fullPath, out ulong device, out ulong inode)) return new($"file {device}:{inode}", fullPath);
                    string directory = Path.GetDirectoryName(fullPath)!;
                    if (LibC.TryGetFileId(directory, out device, out inode)) return new($"entry {device}:{inode}/{Path.GetFileName(fullPath)}", fullPath);
                    return new("path " + fullPath, fullPath); // no directory: refused by Output; Input needs the file
                }
                catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
                {
                    s_noStat = true; // glibc < 2.33 has no "stat" symbol; a libc we cannot load has none at all
                }
            }
            return new("path " + FinalTarget(fullPath), fullPath);
        }

        private static string FinalTarget(string fullPath)
        {
            try
            {
                FileSystemInfo? target = File.ResolveLinkTarget(fullPath, returnFinalTarget: true);
                return target is null ? fullPath : Path.GetFullPath(target.FullName);
            }
            catch (IOException)
            {
                return fullPath; // a link loop: the rename replaces the link
            }
        }
    }
}
