using System.Diagnostics.CodeAnalysis;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// The tensors of a model that is one file or the shards of a checkpoint (in index order), looked up by name: a
/// tensor's name is unique across the shards (<see cref="ShardedCheckpoint"/> checks it). What pairs or groups tensors
/// (bn-scale, --group, --preset) resolves names through it, so a pair or a group may span shards.
/// </summary>
internal sealed class ModelTensors(IReadOnlyList<SafeTensorsFile> files)
{
    /// <summary>Every tensor with its file, in file order (shard order, then each shard's header order).</summary>
    public IEnumerable<(SafeTensorsFile File, SafeTensorInfo Info)> All => files.SelectMany(f => f.Tensors.Select(t => (f, t)));

    /// <summary>Every tensor, in the order of <see cref="All"/>.</summary>
    public IEnumerable<SafeTensorInfo> Tensors => All.Select(x => x.Info);

    public bool TryGet(string name, [NotNullWhen(true)] out SafeTensorsFile? file, [NotNullWhen(true)] out SafeTensorInfo? info)
    {
        foreach (SafeTensorsFile f in files)
        {
            if (f.TryGetTensor(name, out info))
            {
                file = f;
                return true;
            }
        }
        (file, info) = (null, null);
        return false;
    }

    public bool TryGet(string name, [NotNullWhen(true)] out SafeTensorInfo? info) => TryGet(name, out _, out info);
}
