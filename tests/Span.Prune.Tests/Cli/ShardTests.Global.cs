namespace Span.Prune.Tests.Cli;

/// <summary>The global criteria other than magnitude across three shards: the same masks as one file.</summary>
public sealed partial class ShardTests
{
    [Theory]
    [InlineData("lamp", null, "1")]
    [InlineData("lamp", null, "0.7")]
    [InlineData("taylor", "grad", "1")]
    [InlineData("taylor", "taylor", "0.8")]
    [InlineData("obd", "fisher", "1")]
    public void Global_scores_equal_the_single_file_prune(string criterion, string? suffix, string cap)
    {
        string[] stats = [];
        if (suffix is not null)
        {
            var f = new TensorFile();
            foreach (T t in Model.SelectMany(s => s.Tensors).Where(t => t.Shape.Length == 2))
            {
                float[] v = TestData.Normal(t.Values.Length, t.Values.Length + 5, 1f);
                f.F32(t.Name + "." + suffix, suffix == "grad" ? v : v.Select(MathF.Abs).ToArray(), t.Shape);
            }
            stats = ["--stats", f.Save(PathOf("stats.safetensors"))];
        }
        AssertShardedEqualsSingle(["--scope", "global", "--criterion", criterion, "--sparsity", "0.6", "--max-layer-sparsity", cap, .. stats]);
    }
}
