using System.Text.Json;
using Span.Prune.Tests.SafeTensors;

namespace Span.Prune.Tests.Cli;

/// <summary><c>sprune inspect</c> on files the test writes byte by byte (an independent reference, not our writer).</summary>
public sealed class InspectTests() : CliTempDirectory("sprune-inspect-")
{
    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Json_CountsZerosPerTensorAndInTotal()
    {
        // w: F32 [2, 3] with two zeros (one of them −0); b: F64 [2] with one zero; m: I64 [3] with no zero.
        byte[] w = SafeTensorsFixture.Bytes(1f, 0f, -2f, -0f, 5f, 6f);
        byte[] b = SafeTensorsFixture.Bytes(0.0, 3.5);
        byte[] m = SafeTensorsFixture.Bytes(1L, 2L, 3L);
        string header = "{\"__metadata__\":{\"format\":\"pt\"}," +
            $"\"w\":{{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,{w.Length}]}}," +
            $"\"b\":{{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[{w.Length},{w.Length + b.Length}]}}," +
            $"\"m\":{{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[{w.Length + b.Length},{w.Length + b.Length + m.Length}]}}}}";
        string path = Write("model.safetensors", SafeTensorsFixture.Build(header, SafeTensorsFixture.Concat(w, b, m)));
        byte[] before = File.ReadAllBytes(path);

        var r = Sprune.Run("inspect", path, "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.StdOut);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
        Assert.Equal(["w", "b", "m"], tensors.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal([2L, 1L, 0L], tensors.Select(t => t.GetProperty("zeros").GetInt64()));
        Assert.Equal([6L, 2L, 3L], tensors.Select(t => t.GetProperty("parameters").GetInt64()));
        Assert.Equal("F64", tensors[1].GetProperty("dtype").GetString());
        Assert.Equal(3L / 11.0, doc.RootElement.GetProperty("total").GetProperty("zero_fraction").GetDouble(), 12);
        Assert.Equal("pt", doc.RootElement.GetProperty("metadata").GetProperty("format").GetString());
        Assert.Equal(before, File.ReadAllBytes(path)); // the input is never touched
    }

    /// <summary>
    /// The dtypes beyond the float/int basics: a complex zero is both parts zero; the FNUZ 8-bit floats have one zero
    /// (0x00; 0x80 is their NaN); E8M0 has none; F4's half-byte elements are not counted ("n/a", JSON null) and the
    /// total's fraction is over the counted tensors only.
    /// </summary>
    [Fact]
    public void Json_NewerDTypes_CountTheirOwnZeros_AndSubByteTensorsAreNotCounted()
    {
        byte[] c = SafeTensorsFixture.Bytes(0f, -0f, 0f, 1f, 2f, 0f);         // C64 [3]: (0,−0) is zero, (0,1) and (2,0) are not
        byte[] fnuz = [0x00, 0x80, 0x01, 0x00];                               // F8_E4M3FNUZ [4]: two zeros
        byte[] e8m0 = [0x00, 0x7F];                                           // F8_E8M0 [2]: never zero
        byte[] f4 = [0x00, 0x00];                                             // F4 [4]: not counted
        int o1 = c.Length, o2 = o1 + fnuz.Length, o3 = o2 + e8m0.Length, o4 = o3 + f4.Length;
        string header = "{" +
            $"\"c\":{{\"dtype\":\"C64\",\"shape\":[3],\"data_offsets\":[0,{o1}]}}," +
            $"\"q\":{{\"dtype\":\"F8_E4M3FNUZ\",\"shape\":[4],\"data_offsets\":[{o1},{o2}]}}," +
            $"\"s\":{{\"dtype\":\"F8_E8M0\",\"shape\":[2],\"data_offsets\":[{o2},{o3}]}}," +
            $"\"h\":{{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[{o3},{o4}]}}}}";
        string path = Write("newer.safetensors", SafeTensorsFixture.Build(header, SafeTensorsFixture.Concat(c, fnuz, e8m0, f4)));

        var r = Sprune.Run("inspect", path, "--json");

        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToArray();
        Assert.Equal(1L, tensors[0].GetProperty("zeros").GetInt64());
        Assert.Equal(2L, tensors[1].GetProperty("zeros").GetInt64());
        Assert.Equal(0L, tensors[2].GetProperty("zeros").GetInt64());
        Assert.Equal(JsonValueKind.Null, tensors[3].GetProperty("zeros").ValueKind);
        Assert.Equal(3.0 / 9, doc.RootElement.GetProperty("total").GetProperty("zero_fraction").GetDouble(), 12);

        var table = Sprune.Run("inspect", path);
        Assert.Contains("| h | F4 | [4] | 4 | n/a |", table.StdOut);
    }

    [Fact]
    public void Table_ListsEveryTensor()
    {
        byte[] w = SafeTensorsFixture.Bytes(0f, 0f, 0f, 1f);
        string path = Write("t.safetensors", SafeTensorsFixture.Build($"{{\"layer.weight\":{{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,{w.Length}]}}}}", w));
        var r = Sprune.Run("inspect", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("| layer.weight | F32 | [2, 2] | 4 | 75.00% |", r.StdOut);
    }

    [Fact]
    public void MalformedOrMissingFile_ExitsTwo_WithOneLine()
    {
        string truncated = Write("bad.safetensors", SafeTensorsFixture.SmallFile()[..20]);
        foreach (string path in new[] { truncated, Path.Combine(Dir, "missing.safetensors") })
        {
            var r = Sprune.Run("inspect", path);
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.Empty(r.StdOut);
        }
    }
}
