using System.Runtime.InteropServices;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// The three libc calls .NET has no managed form for: <c>stat</c> (device and inode, to tell whether two paths are
/// one file: .NET exposes neither), and <c>open</c> + <c>fsync</c> on a directory (.NET refuses to open a directory
/// as a file, and a rename is only durable once its directory is synced). Linux x64 and arm64 only; callers fall back
/// when <see cref="IsAvailable"/> is false. Source-generated <see cref="LibraryImportAttribute"/>: NativeAOT-clean.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    /// <summary>
    /// Linux on a 64-bit ABI whose <c>struct stat</c> starts with <c>st_dev</c> (8 bytes) then <c>st_ino</c> (8 bytes):
    /// true of x86-64 and of the generic layout arm64 uses (other architectures and macOS differ).
    /// </summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() &&
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Device and inode of the file <paramref name="path"/> names, symbolic links followed; false when it does not exist.</summary>
    /// <exception cref="EntryPointNotFoundException">glibc before 2.33 exports <c>stat</c> only as <c>__xstat</c>.</exception>
    public static bool TryGetFileId(string path, out ulong device, out ulong inode)
    {
        // struct stat is 144 bytes on x86-64 and 128 on arm64; 256 leaves room.
        byte* buffer = stackalloc byte[256];
        if (stat(path, buffer) != 0)
        {
            device = inode = 0;
            return false;
        }
        device = *(ulong*)buffer;
        inode = *(ulong*)(buffer + 8);
        return true;
    }

    /// <summary>Flushes a directory's entries (a rename into it) to the storage device.</summary>
    /// <exception cref="IOException">The directory cannot be opened or synced.</exception>
    public static void FsyncDirectory(string directory)
    {
        const int ReadOnly = 0, CloseOnExec = 0x80000; // O_RDONLY, O_CLOEXEC: the same values on x86-64 and arm64
        int fd = open(directory, ReadOnly | CloseOnExec);
        if (fd < 0) throw new IOException($"cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"cannot sync directory '{directory}' (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = close(fd);
        }
    }

#pragma warning disable SA1300, IDE1006 // libc's names
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int stat(string path, byte* buffer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport(Library, SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport(Library)]
    private static partial int close(int fd);
#pragma warning restore SA1300, IDE1006
}
