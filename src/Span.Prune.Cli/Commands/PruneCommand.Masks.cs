using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using Span.Prune.SafeTensors;

namespace Span.Prune.Cli.Commands;

/// <summary>
/// <c>--mask-out FILE</c> writes the pruning masks of a prune; <c>--mask-in FILE</c> re-applies them to a model (after
/// fine-tuning elsewhere) without pruning anything.
/// </summary>
/// <remarks>
/// <para>Layout of a mask file (plain safetensors, so a training loop reads it without Span.Prune): one tensor per
/// pruned weight, named like the weight, dtype <c>U8</c>, shape <c>[ceil(n / 8)]</c> with n the weight's element
/// count. Bit b of byte j (LSB first) is element <c>8·j + b</c> of the weight in row-major order; 1 = keep,
/// 0 = pruned; padding bits of the last byte are 0. These are the bytes of <see cref="Masking.Pack"/>'s <c>ulong</c>
/// words in little-endian order, cut to ceil(n / 8). <c>__metadata__</c>: <c>sprune.mask</c> = <c>bits-lsb-first;1=keep</c>
/// (marks the file as a mask file), and per weight <c>W.shape</c> (e.g. <c>[64,3,3,3]</c>) and <c>W.numel</c>.</para>
/// <para>The mask is read back from the staged OUT: an element is kept when it is not ±0 there (byte-level test, exact
/// for every float dtype). It is therefore the pruning mask (at unit granularities the expanded element mask) except
/// for a kept weight that was already exactly zero, which is recorded as pruned; re-applying the mask to OUT itself
/// changes nothing. A sharded prune writes one mask file for all its shards.</para>
/// <para><c>--mask-in</c>: every tensor of the mask file must be a floating tensor of the model with the same shape;
/// masked elements are written as all-zero bytes, which is +0 in F32, F16, BF16 and F64. Every other tensor, dtype
/// and metadata entry is copied byte for byte. Tensors are streamed a chunk at a time. A sharded model is written
/// shard by shard into an output folder with a new index (a mask may name a tensor of any shard).</para>
/// </remarks>
internal static partial class PruneCommand
{
    internal const string MaskMarkerKey = "sprune.mask";
    internal const string MaskMarkerValue = "bits-lsb-first;1=keep";

    /// <summary>Writes the masks of the pruned weights of the staged model (one file, or every shard).</summary>
    private static void WriteMasks(StagedModel staged, OutputFiles files, string maskPath)
    {
        var writer = new SafeTensorsWriter();
        writer.AddMetadata(MaskMarkerKey, MaskMarkerValue);
        foreach (var (file, t) in staged.Pruned)
        {
            long n = t.ElementCount;
            writer.AddMetadata(t.Name + ".shape", FormatShape(t.Shape));
            writer.AddMetadata(t.Name + ".numel", n.ToString(CultureInfo.InvariantCulture));
            writer.Add(t.Name, SafeTensorsDType.U8, [(n + 7) / 8], stream => WriteMask(file, t, stream));
        }
        files.Stage(maskPath, writer.WriteTo);
    }

    /// <summary>One tensor's mask: a byte per element (non-zero = kept), packed with <see cref="Masking.Pack"/>.</summary>
    private static void WriteMask(SafeTensorsFile file, SafeTensorInfo t, Stream destination)
    {
        int n = checked((int)t.ElementCount);
        var mask = new byte[n];
        int size = SafeTensorsDTypeInfo.SizeOf(t.DType);
        long element = 0;
        ForEachChunk(file, t, chunk =>
        {
            Span<byte> m = mask.AsSpan((int)element, chunk.Length / size);
            KeptElements(chunk, size, m);
            element += m.Length;
        });
        var bits = new ulong[Masking.BitMaskLength(n)];
        Masking.Pack(mask, bits);
        destination.Write(MemoryMarshal.AsBytes(bits.AsSpan()).Slice(0, (n + 7) / 8));
    }

    /// <summary>1 where the element is not ±0: any bit set other than the sign bit (the top bit of the last byte).</summary>
    private static void KeptElements(ReadOnlySpan<byte> bytes, int size, Span<byte> mask)
    {
        switch (size)
        {
            case 2:
            {
                ReadOnlySpan<ushort> v = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < v.Length; i++) mask[i] = (v[i] & 0x7FFF) != 0 ? (byte)1 : (byte)0;
                break;
            }
            case 4:
            {
                ReadOnlySpan<uint> v = MemoryMarshal.Cast<byte, uint>(bytes);
                for (int i = 0; i < v.Length; i++) mask[i] = (v[i] & 0x7FFF_FFFFu) != 0 ? (byte)1 : (byte)0;
                break;
            }
            default:
            {
                ReadOnlySpan<ulong> v = MemoryMarshal.Cast<byte, ulong>(bytes);
                for (int i = 0; i < v.Length; i++) mask[i] = (v[i] & 0x7FFF_FFFF_FFFF_FFFFUL) != 0 ? (byte)1 : (byte)0;
                break;
            }
        }
    }

    /// <summary><c>sprune prune IN -o OUT --mask-in MASKS</c>: validates the mask file against the model's header (every
    /// shard's, for a sharded model), then writes OUT (for a sharded model: the output folder, shard by shard, and a new
    /// index) with the masked elements zeroed.</summary>
    private static int RunMaskIn(string input, string output, string maskIn, bool fsync)
    {
        var (resolved, isIndex) = ShardedCheckpoint.Resolve(input);
        using var files = new OutputFiles(fsync);
        ShardedCheckpoint? sharded = null;
        SafeTensorsFile? single = null;
        try
        {
            IReadOnlyList<(string Name, SafeTensorsFile File)> shards;
            string? outputPath = null;
            if (isIndex)
            {
                sharded = ShardedCheckpoint.Open(resolved, files);
                shards = sharded.Shards;
            }
            else
            {
                single = SafeTensorsFile.Open(files.Input(resolved, "the input"));
                shards = [(Path.GetFileName(resolved), single)];
            }
            string maskPath = files.Input(maskIn, "--mask-in");
            if (!isIndex) outputPath = files.Output(output, "the output");
            using SafeTensorsFile masks = OpenMaskFile(maskPath, maskIn);
            Dictionary<(SafeTensorsFile, int), SafeTensorInfo> byTensor = MatchMasks(masks, shards);

            long zeros = 0, total = 0;
            SafeTensorsWriter MaskedCopy(SafeTensorsFile model)
            {
                var writer = new SafeTensorsWriter();
                foreach (var (key, value) in model.Metadata) writer.AddMetadata(key, value);
                foreach (SafeTensorInfo t in model.Tensors)
                {
                    if (byTensor.TryGetValue((model, t.Index), out SafeTensorInfo? m))
                    {
                        total += t.ElementCount;
                        writer.Add(t.Name, t.DType, t.Shape, stream => zeros += WriteMaskedBy(model, t, masks, m, stream));
                    }
                    else
                    {
                        AddCopy(writer, model, t);
                    }
                }
                return writer;
            }

            if (sharded is null)
            {
                files.Stage(outputPath!, MaskedCopy(single!).WriteTo);
            }
            else
            {
                using var folder = new OutputFolder(output, Path.GetDirectoryName(sharded.IndexPath)!, fsync);
                foreach (var (name, shard) in sharded.Shards) folder.Files.Stage(folder.File(name), MaskedCopy(shard).WriteTo);
                long totalSize = sharded.TotalSize;
                folder.Files.Stage(folder.File(Path.GetFileName(sharded.IndexPath)), stream => sharded.WriteIndex(stream, totalSize));
                folder.Commit();
            }
            files.Commit();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sprune: masked {byTensor.Count} tensors, {zeros:N0} of {total:N0} weights set to zero -> {DisplayText.Escape(output)}"));
            return Program.Success;
        }
        finally
        {
            sharded?.Dispose();
            single?.Dispose();
        }
    }

    /// <summary>Each mask's weight, found in whichever shard holds it, checked against the mask's recorded shape.</summary>
    private static Dictionary<(SafeTensorsFile, int), SafeTensorInfo> MatchMasks(SafeTensorsFile masks, IReadOnlyList<(string Name, SafeTensorsFile File)> shards)
    {
        var byTensor = new Dictionary<(SafeTensorsFile, int), SafeTensorInfo>();
        foreach (SafeTensorInfo m in masks.Tensors)
        {
            SafeTensorInfo? w = null;
            SafeTensorsFile? holder = null;
            foreach (var (_, shard) in shards)
            {
                if (shard.TryGetTensor(m.Name, out w)) { holder = shard; break; }
            }
            if (w is null || holder is null) throw new ArgumentException($"--mask-in: tensor '{m.Name}' is not in the model");
            string expected = FormatShape(w.Shape);
            string? shape = MetadataValue(masks, m.Name + ".shape");
            if (shape != expected)
                throw new ArgumentException($"--mask-in: the mask of '{m.Name}' is for shape {shape ?? "(none)"}; the model's tensor has shape {expected}");
            if (MetadataValue(masks, m.Name + ".numel") != w.ElementCount.ToString(CultureInfo.InvariantCulture))
                throw new ArgumentException($"--mask-in: the mask of '{m.Name}' does not record numel {w.ElementCount}");
            if (m.DType != SafeTensorsDType.U8 || m.Shape.Length != 1 || m.Shape[0] != (w.ElementCount + 7) / 8)
                throw new ArgumentException($"--mask-in: the mask of '{m.Name}' has dtype {m.DType} and shape {FormatShape(m.Shape)}; expected U8 [{(w.ElementCount + 7) / 8}]");
            if (w.ElementType is null) throw new ArgumentException($"--mask-in: tensor '{m.Name}' has dtype {w.DType}; masks apply to F32, F16, BF16 and F64");
            if (w.ElementCount > Array.MaxLength) throw new ArgumentException($"--mask-in: tensor '{m.Name}' has {w.ElementCount} elements; this version masks tensors of at most {Array.MaxLength}");
            byTensor[(holder, w.Index)] = m;
        }
        return byTensor;
    }

    private static SafeTensorsFile OpenMaskFile(string path, string shown)
    {
        SafeTensorsFile masks;
        try { masks = SafeTensorsFile.Open(path); }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ArgumentException($"--mask-in '{shown}' is not a mask file ({e.Message})");
        }
        if (MetadataValue(masks, MaskMarkerKey) != MaskMarkerValue)
        {
            masks.Dispose();
            throw new ArgumentException($"--mask-in '{shown}' is not a mask file (no __metadata__ \"{MaskMarkerKey}\": \"{MaskMarkerValue}\"; write one with --mask-out)");
        }
        return masks;
    }

    private static string? MetadataValue(SafeTensorsFile file, string key)
    {
        foreach (var (k, v) in file.Metadata)
            if (k == key) return v;
        return null;
    }

    /// <summary>Streams <paramref name="t"/>, writing all-zero bytes (+0) for every element whose mask bit is 0.</summary>
    /// <returns>The number of masked elements.</returns>
    private static long WriteMaskedBy(SafeTensorsFile model, SafeTensorInfo t, SafeTensorsFile masks, SafeTensorInfo m, Stream destination)
    {
        int n = (int)t.ElementCount;
        var bits = new ulong[Masking.BitMaskLength(n)];
        masks.ReadByteRange(m.Index, 0, MemoryMarshal.AsBytes(bits.AsSpan()).Slice(0, (int)m.ByteLength));
        int size = SafeTensorsDTypeInfo.SizeOf(t.DType);
        long element = 0;
        ForEachChunk(model, t, chunk =>
        {
            for (int i = 0, e = (int)element; i < chunk.Length; i += size, e++)
            {
                if ((bits[e >> 6] >> (e & 63) & 1) == 0) chunk.Slice(i, size).Clear();
            }
            element += chunk.Length / size;
            destination.Write(chunk);
        });
        return n - Masking.CountKept(bits, n);
    }
}
