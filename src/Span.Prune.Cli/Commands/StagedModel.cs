using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// The staged pruned model read back by <c>--sparse-out</c> and <c>--mask-out</c>: the one output file, or every
/// staged shard of a sharded output, each with the pruned weights it holds. Both exports write one file whatever the
/// input's layout, tensors in the order given (file order, then shard order).
/// </summary>
internal sealed class StagedModel : IDisposable
{
    private readonly List<SafeTensorsFile> _files = [];
    private readonly List<(SafeTensorsFile File, SafeTensorInfo Tensor)> _pruned = [];

    /// <summary>Opens each staged file that holds a pruned weight.</summary>
    public StagedModel(IEnumerable<(string StagedPath, IReadOnlyList<string> Names)> parts)
    {
        try
        {
            foreach (var (path, names) in parts)
            {
                if (names.Count == 0) continue;
                SafeTensorsFile file = SafeTensorsFile.Open(path);
                _files.Add(file);
                foreach (string name in names) _pruned.Add((file, file.GetTensor(name)));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Every pruned weight with the staged file it is read from.</summary>
    public IReadOnlyList<(SafeTensorsFile File, SafeTensorInfo Tensor)> Pruned => _pruned;

    public void Dispose()
    {
        foreach (SafeTensorsFile f in _files) f.Dispose();
        _files.Clear();
    }
}
