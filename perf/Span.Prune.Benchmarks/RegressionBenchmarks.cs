using BenchmarkDotNet.Attributes;

namespace Span.Prune.Benchmarks;

/// <summary>
/// Regression-based channel pruning (He et al. 2017) on sampled layer data: LASSO selection, greedy selection and the
/// least-squares refit, separately and as the usual select-then-refit pipeline. The targets are the outputs of a
/// different weight (W + 0.3·W₂), so neither selection nor refit is trivial.
/// </summary>
[MemoryDiagnoser]
public class RegressionBenchmarks
{
    /// <summary>Problem sizes as "N,C,K,O,keep".</summary>
    [Params("4096,256,1,256,128", "2048,64,9,64,32")]
    public string Case { get; set; } = "4096,256,1,256,128";

    private float[] _x = [], _w = [], _y = [], _refitted = [];
    private byte[] _mask = [], _fixedMask = [];
    private double[] _beta = [], _lassoScratch = [], _refitScratch = [];
    private WeightShape _shape;
    private int _n, _keep;

    [GlobalSetup]
    public void Setup()
    {
        int[] p = Array.ConvertAll(Case.Split(','), int.Parse);
        (_n, int c, int k, int o, _keep) = (p[0], p[1], p[2], p[3], p[4]);
        _shape = k == 1 ? WeightShape.Linear(o, c) : WeightShape.Conv2D(o, c, 3, k / 3);
        int d = _shape.RowLength;
        var rng = new Random(42);
        float[] Uniform(int length)
        {
            var a = new float[length];
            for (int i = 0; i < length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            return a;
        }
        _x = Uniform(_n * d);
        _w = Uniform(o * d);
        float[] other = Uniform(o * d);
        _y = new float[_n * o];
        for (int s = 0; s < _n; s++)
            for (int j = 0; j < o; j++)
            {
                float sum = 0;
                for (int i = 0; i < d; i++) sum += _x[s * d + i] * (_w[j * d + i] + 0.3f * other[j * d + i]);
                _y[s * o + j] = sum;
            }
        _mask = new byte[c];
        _beta = new double[c];
        _refitted = new float[_w.Length];
        _fixedMask = new byte[c];
        for (int i = 0; i < _keep; i++) _fixedMask[i * c / _keep] = 1;
        _lassoScratch = new double[ChannelRegression.LassoScratchLength(_shape, _n)];
        _refitScratch = new double[ChannelRegression.RefitScratchLength(_shape, _n, _keep)];
    }

    [Benchmark]
    public LassoSelection LassoSelect() =>
        ChannelRegression.SelectLasso(_x, _w, _y, _shape, _n, _keep, _mask, _beta, default, _lassoScratch);

    [Benchmark]
    public RefitResult Refit() =>
        ChannelRegression.Refit(_x, _w, _y, _shape, _n, _fixedMask, _refitted, default, ChannelRegression.DefaultRelativeRidge, _refitScratch);

    /// <summary>The He et al. pipeline: choose <c>keep</c> channels by LASSO, then refit them (pooled scratch).</summary>
    [Benchmark]
    public RefitResult LassoSelectAndRefit()
    {
        ChannelRegression.SelectLasso(_x, _w, _y, _shape, _n, _keep, _mask, _beta);
        return ChannelRegression.Refit(_x, _w, _y, _shape, _n, _mask, _refitted);
    }
}
