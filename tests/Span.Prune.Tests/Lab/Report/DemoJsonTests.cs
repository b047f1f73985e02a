using System.Globalization;
using System.Text;
using System.Text.Json;
using Span.Prune.Lab.Demo;

namespace Span.Prune.Tests.Lab.Report;

public class DemoJsonTests
{
    /// <summary>The field names a row must produce, written out by hand from the spec (independent of the writer).</summary>
    private static List<string> ExpectedNames(DemoRow r)
    {
        var names = new List<string> { "model", "experiment" };
        if (r.Criterion is not null) names.Add("criterion");
        if (r.Granularity is not null) names.Add("granularity");
        if (r.Sparsity is not null) names.Add("sparsity");
        if (r.Accuracy is not null) names.Add("accuracy");
        if (r.OneShot is not null) names.Add("one_shot");
        if (r.FineTuned is not null) names.Add("fine_tuned");
        if (r.Slimming is not null) names.Add("slimming");
        if (r.Schedule is not null) names.Add("schedule");
        if (r.Params is not null) names.Add("params");
        if (r.Macs is not null) names.Add("macs");
        if (r.Format is not null) names.Add("format");
        if (r.Batch is not null) names.Add("batch");
        if (r.Ms is not null) names.Add("ms");
        if (r.Speedup is not null) names.Add("speedup");
        if (r.Seconds is not null) names.Add("seconds");
        return names;
    }

    private static DemoRow Full() => new()
    {
        Model = DemoModel.Cnn,
        Experiment = DemoExperiment.Schedule,
        Criterion = "taylor",
        Granularity = "nm:2:4",
        Sparsity = 0.5,
        Accuracy = 0.99,
        OneShot = 0.1 + 0.2, // 0.30000000000000004 must survive exactly
        FineTuned = 0.98765432109876543,
        Slimming = false,
        Schedule = DemoSchedule.Agp,
        Params = 123_456_789_012,
        Macs = 0,
        Format = "nm",
        Batch = 256,
        Ms = 1e-4,
        Speedup = 12.25,
        Seconds = 3600.5,
    };

    [Fact]
    public void Json_Parses_WithExactlyTheFieldsEachRowHas_InOrder()
    {
        List<DemoRow> rows = [.. DemoRows.Sample(), Full()];
        using JsonDocument doc = JsonDocument.Parse(DemoJson.ToJson(rows));

        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal(rows.Count, doc.RootElement.GetArrayLength());
        int i = 0;
        foreach (JsonElement element in doc.RootElement.EnumerateArray())
        {
            Assert.Equal(ExpectedNames(rows[i]), element.EnumerateObject().Select(p => p.Name).ToList());
            Assert.DoesNotContain(element.EnumerateObject(), p => p.Value.ValueKind == JsonValueKind.Null);
            i++;
        }
    }

    [Fact]
    public void Json_Values_RoundTripExactly()
    {
        DemoRow full = Full();
        using JsonDocument doc = JsonDocument.Parse(DemoJson.ToJson([full]));
        JsonElement e = doc.RootElement[0];

        Assert.Equal("cnn", e.GetProperty("model").GetString());
        Assert.Equal("schedule", e.GetProperty("experiment").GetString());
        Assert.Equal("taylor", e.GetProperty("criterion").GetString());
        Assert.Equal("nm:2:4", e.GetProperty("granularity").GetString());
        Assert.Equal(0.5, e.GetProperty("sparsity").GetDouble());
        Assert.Equal(0.99, e.GetProperty("accuracy").GetDouble());
        Assert.Equal(full.OneShot, e.GetProperty("one_shot").GetDouble());
        Assert.Equal(full.FineTuned, e.GetProperty("fine_tuned").GetDouble());
        Assert.False(e.GetProperty("slimming").GetBoolean());
        Assert.Equal("agp", e.GetProperty("schedule").GetString());
        Assert.Equal(123_456_789_012, e.GetProperty("params").GetInt64());
        Assert.Equal(0, e.GetProperty("macs").GetInt64());
        Assert.Equal("nm", e.GetProperty("format").GetString());
        Assert.Equal(256, e.GetProperty("batch").GetInt32());
        Assert.Equal(1e-4, e.GetProperty("ms").GetDouble());
        Assert.Equal(12.25, e.GetProperty("speedup").GetDouble());
        Assert.Equal(3600.5, e.GetProperty("seconds").GetDouble());
    }

    [Fact]
    public void Json_EnumNames_AreTheSpecsSnakeCase()
    {
        var rows = Enum.GetValues<DemoSchedule>().Select(s => new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Schedule, Schedule = s })
            .Concat(Enum.GetValues<DemoExperiment>().Select(x => new DemoRow { Model = DemoModel.Cnn, Experiment = x })).ToList();
        using JsonDocument doc = JsonDocument.Parse(DemoJson.ToJson(rows));

        Assert.Equal(["one_shot", "iterative", "agp"], doc.RootElement.EnumerateArray().Take(3).Select(e => e.GetProperty("schedule").GetString()));
        Assert.Equal(["dense", "global", "layer", "neurons", "channels", "schedule", "speed"],
            doc.RootElement.EnumerateArray().Skip(3).Select(e => e.GetProperty("experiment").GetString()));
        Assert.Equal(["mlp", "cnn"], new[] { doc.RootElement[0], doc.RootElement[3] }.Select(e => e.GetProperty("model").GetString()));
    }

    [Fact]
    public void Json_IsOneObjectPerLine()
    {
        List<DemoRow> rows = DemoRows.Sample();
        string[] lines = DemoJson.ToJson(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(rows.Count + 2, lines.Length);
        Assert.Equal("[", lines[0]);
        Assert.Equal("]", lines[^1]);
        for (int i = 1; i <= rows.Count; i++)
        {
            string line = lines[i].TrimEnd(',');
            using JsonDocument one = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, one.RootElement.ValueKind);
        }
    }

    [Fact]
    public void Json_NoRows_IsAnEmptyArray()
    {
        using JsonDocument doc = JsonDocument.Parse(DemoJson.ToJson([]));
        Assert.Equal(0, doc.RootElement.GetArrayLength());
    }

    [Fact]
    public void Json_DoesNotDependOnTheCurrentCulture()
    {
        List<DemoRow> rows = [.. DemoRows.Sample(), Full()];
        string expected = DemoJson.ToJson(rows);
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            // A culture with a decimal comma and a group dot (built by hand: the tests run with invariant globalization).
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            Assert.Equal(expected, DemoJson.ToJson(rows));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void WriteFile_And_Write_GiveTheSameUtf8Bytes_WithoutBom()
    {
        List<DemoRow> rows = DemoRows.Sample();
        string path = Path.Combine(Path.GetTempPath(), "spanprune-demo-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            DemoJson.WriteFile(path, rows);
            byte[] file = File.ReadAllBytes(path);
            var stream = new MemoryStream();
            DemoJson.Write(stream, rows);

            Assert.Equal(stream.ToArray(), file);
            Assert.NotEqual(0xEF, file[0]);
            Assert.Equal(DemoJson.ToJson(rows), Encoding.UTF8.GetString(file));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string, DemoRow> BadRows() => new()
    {
        { "one_shot", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, OneShot = double.NaN } },
        { "accuracy", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Dense, Accuracy = 98.2 } },
        { "fine_tuned", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, FineTuned = -0.01 } },
        { "sparsity", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, Sparsity = 1.5 } },
        { "speedup", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Speedup = 0 } },
        { "speedup", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Speedup = double.PositiveInfinity } },
        { "ms", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Ms = -1 } },
        { "seconds", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Seconds = double.NaN } },
        { "params", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, Params = -1 } },
        { "macs", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, Macs = -5 } },
        { "batch", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Batch = 0 } },
        { "criterion", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Layer, Criterion = " " } },
        { "format", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Speed, Format = "" } },
        { "model", new DemoRow { Model = (DemoModel)7, Experiment = DemoExperiment.Layer } },
        { "experiment", new DemoRow { Model = DemoModel.Mlp, Experiment = (DemoExperiment)(-1) } },
        { "schedule", new DemoRow { Model = DemoModel.Mlp, Experiment = DemoExperiment.Schedule, Schedule = (DemoSchedule)3 } },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public void BadRow_IsRefused_NamingRowAndField_BeforeWriting(string field, DemoRow bad)
    {
        List<DemoRow> rows = [DemoRows.Dense(DemoModel.Mlp, 0.98), bad];
        var stream = new MemoryStream();

        var e = Assert.Throws<ArgumentException>(() => DemoJson.Write(stream, rows));
        Assert.Equal("rows", e.ParamName);
        Assert.Contains($"rows[1].{field} ", e.Message);
        Assert.Equal(0, stream.Length);
        Assert.Throws<ArgumentException>(() => DemoMarkdown.Render(rows));
        Assert.Throws<ArgumentException>(() => DemoSvg.AccuracyVsSparsity(rows));
        Assert.Throws<ArgumentException>(() => DemoSvg.AccuracyVsSpeedup(rows));
    }

    [Fact]
    public void NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => DemoJson.ToJson(null!));
        Assert.Throws<ArgumentNullException>(() => DemoJson.ToJson([DemoRows.Dense(DemoModel.Mlp, 0.9), null!]));
        Assert.Throws<ArgumentNullException>(() => DemoJson.Write(null!, []));
        Assert.ThrowsAny<ArgumentException>(() => DemoJson.WriteFile("", []));
    }
}
