using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Span.Prune.Benchmarks;

/// <summary>
/// Element and group scores of a square linear weight against naive scalar loops (the baseline of each category).
/// <c>UncheckedAbs</c> is <see cref="TensorPrimitives.Abs(ReadOnlySpan{float}, Span{float})"/>, a vectorised |w| with
/// no NaN-policy pre-check, so <c>Magnitude − UncheckedAbs</c> shows what the check costs (our kernel alone is
/// internal; the scoring tests cover it).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[MedianColumn]
public class ScoringBenchmarks
{
    private float[] _weights = [];
    private float[] _gradients = [];
    private float[] _scores = [];
    private float[] _units = [];
    private WeightShape _shape;

    /// <summary>Rows = columns of the weight: 1024 (4 MiB, cache-resident) and 4096 (64 MiB, DRAM-bound).</summary>
    [Params(1024, 4096)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _shape = WeightShape.Linear(Size, Size);
        var rng = new Random(42);
        _weights = new float[_shape.ElementCount];
        _gradients = new float[_shape.ElementCount];
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] = (float)(rng.NextDouble() * 2 - 1);
            _gradients[i] = (float)(rng.NextDouble() * 2 - 1) * 1e-3f;
        }
        _scores = new float[_shape.ElementCount];
        _units = new float[Size];
    }

    // ---- Magnitude |w|: reads 4·n bytes, writes 4·n bytes.

    [Benchmark(Baseline = true), BenchmarkCategory("Magnitude")]
    public void NaiveMagnitude()
    {
        float[] w = _weights, s = _scores;
        for (int i = 0; i < w.Length; i++) s[i] = MathF.Abs(w[i]);
    }

    [Benchmark, BenchmarkCategory("Magnitude")]
    public void Magnitude() => Scoring.Magnitude(_weights, _scores);

    [Benchmark, BenchmarkCategory("Magnitude")]
    public void UncheckedAbs() => TensorPrimitives.Abs(_weights, _scores);

    // ---- Taylor |g·w|: reads 8·n bytes, writes 4·n bytes.

    [Benchmark(Baseline = true), BenchmarkCategory("Taylor")]
    public void NaiveTaylor()
    {
        float[] w = _weights, g = _gradients, s = _scores;
        for (int i = 0; i < w.Length; i++) s[i] = MathF.Abs(g[i] * w[i]);
    }

    [Benchmark, BenchmarkCategory("Taylor")]
    public void Taylor() => Scoring.Taylor(_weights, _gradients, _scores);

    // ---- Row L2 √Σw² per row: reads 4·n bytes.

    [Benchmark(Baseline = true), BenchmarkCategory("RowL2")]
    public void NaiveRowL2()
    {
        float[] w = _weights, u = _units;
        int cols = Size;
        for (int o = 0; o < Size; o++)
        {
            float sum = 0;
            for (int j = 0; j < cols; j++)
            {
                float x = w[o * cols + j];
                sum += x * x;
            }
            u[o] = MathF.Sqrt(sum);
        }
    }

    [Benchmark, BenchmarkCategory("RowL2")]
    public void RowL2() => Scoring.L2Norm(_weights, _shape, Granularity.Row, _units);

    // ---- Column L1 Σ|w| per column: reads 4·n bytes.

    [Benchmark(Baseline = true), BenchmarkCategory("ColumnL1")]
    public void NaiveColumnL1()
    {
        float[] w = _weights, u = _units;
        int cols = Size;
        Array.Clear(u);
        for (int o = 0; o < Size; o++)
            for (int j = 0; j < cols; j++)
                u[j] += MathF.Abs(w[o * cols + j]);
    }

    [Benchmark, BenchmarkCategory("ColumnL1")]
    public void ColumnL1() => Scoring.L1Norm(_weights, _shape, Granularity.Column, _units);
}
