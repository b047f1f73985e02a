using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Span.Prune.Benchmarks;

/// <summary>
/// Streaming statistics: APoZ accumulation of one ResNet-sized activation batch [32, 256, 28, 28] (6.4M floats,
/// 25.7 MB) in NCHW and NHWC, and one Fisher-diagonal update of 16M parameters, each against the naive scalar
/// loop that computes the same thing (no validation in the naive loops; the library's timings include its
/// NaN/Inf checks).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class StatisticsBenchmarks
{
    private const int N = 32, C = 256, H = 28, W = 28;

    private float[] _activations = [];
    private ActivationAccumulator _apoz = null!;
    private long[] _naiveZeros = [];
    private double[] _naiveSums = [];

    private float[] _gradients = [];
    private FisherAccumulator _fisher = null!;
    private double[] _naiveFisher = [];

    /// <summary>Parameters in the Fisher update.</summary>
    [Params(16 * 1024 * 1024)]
    public int FisherLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _activations = new float[N * C * H * W];
        for (int i = 0; i < _activations.Length; i++)
        {
            // Post-ReLU-like: about 40 % zeros, unpredictable for a branchy loop.
            double u = rng.NextDouble();
            _activations[i] = u < 0.4 ? 0f : (float)u;
        }
        _apoz = new ActivationAccumulator(C);
        _naiveZeros = new long[C];
        _naiveSums = new double[C];

        _gradients = new float[FisherLength];
        for (int i = 0; i < _gradients.Length; i++) _gradients[i] = (float)(rng.NextDouble() * 2 - 1);
        _fisher = new FisherAccumulator(FisherLength);
        _naiveFisher = new double[FisherLength];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("APoZ NCHW")]
    public void NaiveNchw()
    {
        float[] a = _activations;
        for (int n = 0; n < N; n++)
        {
            for (int c = 0; c < C; c++)
            {
                int start = (n * C + c) * H * W;
                long zeros = 0;
                double sum = 0;
                for (int p = start; p < start + H * W; p++)
                {
                    float v = a[p];
                    if (v <= 0f) zeros++;
                    sum += v;
                }
                _naiveZeros[c] += zeros;
                _naiveSums[c] += sum;
            }
        }
    }

    [Benchmark, BenchmarkCategory("APoZ NCHW")]
    public void AddNCHW() => _apoz.AddNCHW(_activations, N, H, W);

    [Benchmark(Baseline = true), BenchmarkCategory("APoZ NHWC")]
    public void NaiveNhwc()
    {
        float[] a = _activations;
        long[] zeros = _naiveZeros;
        double[] sums = _naiveSums;
        for (int r = 0; r < N * H * W; r++)
        {
            int row = r * C;
            for (int c = 0; c < C; c++)
            {
                float v = a[row + c];
                if (v <= 0f) zeros[c]++;
                sums[c] += v;
            }
        }
    }

    [Benchmark, BenchmarkCategory("APoZ NHWC")]
    public void AddNHWC() => _apoz.AddNHWC(_activations, N, H, W);

    [Benchmark(Baseline = true), BenchmarkCategory("Fisher")]
    public void NaiveFisher()
    {
        float[] g = _gradients;
        double[] s = _naiveFisher;
        for (int i = 0; i < g.Length; i++) s[i] += (double)g[i] * g[i];
    }

    [Benchmark, BenchmarkCategory("Fisher")]
    public void FisherAdd() => _fisher.Add(_gradients);
}
