namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// A scratch folder for targets that need files on disk: one per thread (the replay tests may run beside other
/// tests), emptied on every call so no run sees the previous run's files, and removed when the process exits.
/// </summary>
internal static class FuzzScratch
{
    private static readonly string s_root = Path.Combine(Path.GetTempPath(), $"sprune-fuzz-{Environment.ProcessId}");

    [ThreadStatic] private static string? t_folder;

    static FuzzScratch() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        try { Directory.Delete(s_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    };

    /// <summary>This thread's folder, empty.</summary>
    public static string Folder()
    {
        string folder = t_folder ??= Path.Combine(s_root, Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
