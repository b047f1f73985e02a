namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// The fuzz targets by name, shared by the afl++ harness (Program) and the corpus replay in the test project, so both
/// run exactly the same code. Each target takes arbitrary bytes and returns normally for any input the code under test
/// handles as documented (accepted, or refused with the documented exception or exit code); anything else escapes as
/// an exception, which afl++ records as a crash and the replay test reports as a failure.
/// </summary>
public static class FuzzTargets
{
    /// <summary>The target names, as given to <c>fuzz.sh</c> and as the folders under <c>corpus/</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["safetensors", "cli", "idx", "index"];

    /// <summary>The target called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name.</exception>
    public static Action<byte[]> Get(string name) => name switch
    {
        "safetensors" => SafeTensorsTarget.Run,
        "cli" => CliTarget.Run,
        "idx" => IdxTarget.Run,
        "index" => ShardIndexTarget.Run,
        _ => throw new ArgumentException($"unknown fuzz target '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}

/// <summary>A target's own check failed: the code under test broke a promise without throwing.</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);
