using Span.Prune.SafeTensors;

namespace Span.Prune.Fuzz.Targets;

/// <summary>
/// The safetensors reader on arbitrary bytes, through its two entry points: <see cref="SafeTensorsFile.Parse"/> over
/// the bytes in memory and <see cref="SafeTensorsFile.Open"/> over the same bytes written to a file (positioned reads).
/// </summary>
/// <remarks>
/// Expected: <see cref="SafeTensorsFormatException"/> from either entry point, and <see cref="SafeTensorsConversionException"/>
/// from converting an F64 value beyond the float32 range. Checked beyond "no other exception": both entry points accept
/// the same files, list the same tensors and metadata, and read the same bytes and the same float32 values.
/// </remarks>
public static class SafeTensorsTarget
{
    public static void Run(byte[] input)
    {
        Snapshot? parsed = Read(() => SafeTensorsFile.Parse(input));
        string path = Path.Combine(FuzzScratch.Folder(), "model.safetensors");
        File.WriteAllBytes(path, input);
        Snapshot? opened = Read(() => SafeTensorsFile.Open(path));
        if ((parsed is null) != (opened is null))
            throw new FuzzInvariantException($"Parse {(parsed is null ? "refused" : "accepted")} what Open {(opened is null ? "refused" : "accepted")}");
        if (parsed is not null && !parsed.Equals(opened!))
            throw new FuzzInvariantException($"Parse and Open read different content: {parsed.Difference(opened!)}");
    }

    /// <summary>What one entry point reads from the file, or null when it refuses it with the documented exception.</summary>
    private static Snapshot? Read(Func<SafeTensorsFile> open)
    {
        SafeTensorsFile file;
        try { file = open(); }
        catch (SafeTensorsFormatException) { return null; }
        using (file)
        {
            var snapshot = new Snapshot();
            foreach (KeyValuePair<string, string> m in file.Metadata)
                snapshot.Add($"meta {m.Key}={m.Value}");
            snapshot.Add($"data {file.DataLength}");
            for (int i = 0; i < file.Tensors.Count; i++)
            {
                SafeTensorInfo t = file.Tensors[i];
                if (!file.TryGetTensor(t.Name, out SafeTensorInfo? byName) || byName.Index != i)
                    throw new FuzzInvariantException($"tensor {i} '{t.Name}' is not found by its name");
                snapshot.Add($"tensor {t}");
                snapshot.Add(Convert.ToHexString(file.GetBytes(i)));
                if (!SafeTensorsDTypeInfo.IsConvertibleFloat(t.DType))
                    continue;
                // The element count is bounded by the input's length (every byte range is proven inside the file).
                float[] values = new float[t.ElementCount];
                try
                {
                    file.ReadAsFloat32(i, values);
                }
                catch (SafeTensorsConversionException)
                {
                    snapshot.Add("F64 out of float32 range");
                    continue;
                }
                snapshot.Add(string.Join(",", values.Select(v => BitConverter.SingleToInt32Bits(v).ToString("x8", null))));
            }
            return snapshot;
        }
    }

    private sealed class Snapshot
    {
        private readonly List<string> _lines = [];

        public void Add(string line) => _lines.Add(line);

        public bool Equals(Snapshot other) => _lines.SequenceEqual(other._lines, StringComparer.Ordinal);

        public string Difference(Snapshot other)
        {
            int i = 0;
            while (i < _lines.Count && i < other._lines.Count && _lines[i] == other._lines[i]) i++;
            return $"line {i}: '{(i < _lines.Count ? _lines[i] : "<end>")}' vs '{(i < other._lines.Count ? other._lines[i] : "<end>")}'";
        }
    }
}
