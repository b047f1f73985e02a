namespace Span.Prune.Lab.Bench;

/// <summary>
/// One measured line of the quick report. <see cref="Speedup"/> is the baseline's median time over ours, both
/// measured in the same run (for matmul rows the baseline is our dense kernel with the same shape and batch).
/// <see cref="Sparsity"/> is the target; <see cref="ActualSparsity"/> what the format stores (N:M rounds to the
/// nearest pattern, random block and row pruning land near the target).
/// </summary>
internal sealed record ReportRow(
    string Op,
    string Format,
    long N,
    int Rows,
    int Cols,
    int Batch,
    double Sparsity,
    double Ms,
    double BaselineMs,
    string Baseline,
    double? Gflops = null,
    double? ActualSparsity = null)
{
    public double Speedup => BaselineMs / Ms;

    /// <summary>The key a floors file uses for this row: <c>op/format/shape/batch/sparsity</c>.</summary>
    public string Key => Op switch
    {
        "matmul" => $"matmul/{Format}/{Rows}x{Cols}/b{Batch}/s{Sparsity:0.###}",
        _ => $"{Op}/{Format}/n{N}/s{Sparsity:0.###}",
    };
}
