using BenchmarkDotNet.Attributes;

namespace Span.Prune.Benchmarks;

/// <summary>Applying masks in place: naive scalar loop (baseline) against the vectorised byte- and bit-mask kernels.</summary>
[MemoryDiagnoser]
public class MaskingBenchmarks
{
    private float[] _weights = [];
    private byte[] _mask = [];
    private ulong[] _bits = [];

    [Params(65_536, 16_777_216)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(42);
        _weights = new float[N];
        _mask = new byte[N];
        for (int i = 0; i < N; i++)
        {
            _weights[i] = (float)rng.NextDouble() + 0.5f; // never zero, so re-applying keeps the same work
            _mask[i] = rng.NextDouble() < 0.1 ? (byte)1 : (byte)0;
        }
        _bits = new ulong[Masking.BitMaskLength(N)];
        Masking.Pack(_mask, _bits);
    }

    [Benchmark(Baseline = true)]
    public void ScalarByteMask()
    {
        float[] w = _weights;
        byte[] m = _mask;
        for (int i = 0; i < w.Length; i++) if (m[i] == 0) w[i] = 0f;
    }

    [Benchmark]
    public void ByteMask() => Masking.Apply(_weights, _mask);

    [Benchmark]
    public void BitMask() => Masking.Apply(_weights, _bits);

    [Benchmark]
    public void Pack() => Masking.Pack(_mask, _bits);
}
