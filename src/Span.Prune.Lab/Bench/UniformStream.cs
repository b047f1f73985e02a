namespace Span.Prune.Lab.Bench;

/// <summary>
/// Sequential uniform draws in [0, 1), read a chunk at a time from the library's public generator,
/// <see cref="Scoring.Random(Span{float}, ulong)"/>: a 4096² workload needs tens of millions of draws, and a small
/// buffer keeps that to one 16 KiB allocation.
/// </summary>
/// <remarks>
/// <para>One stream per seed. <see cref="Scoring.Random(Span{float}, ulong)"/> documents its counter form: element
/// <c>i</c> of seed <c>s</c> is <c>Mix(s + (i + 1)·γ)</c>, <c>γ = 0x9E3779B97F4A7C15</c>. Filling chunk <c>c</c> of
/// length <c>L</c> with seed <c>s + c·L·γ</c> therefore yields exactly elements <c>c·L … c·L + L − 1</c> of the seed-<c>s</c>
/// stream, so the draws are that one stream read in order (a test holds the two equal).</para>
/// <para>Resolution: each draw is one of the 2²⁴ floats <c>k·2⁻²⁴</c>. The workloads compare draws with sparsities
/// (0.5 … 0.98) and scale them to index ranges of at most 64, where 24 bits are ample; <see cref="Normal"/> is
/// Box–Muller on them, whose largest magnitude is √(2·ln 2²⁴) ≈ 5.8 (a true standard normal goes beyond that about
/// once in 10⁸ draws, so the matrices' statistics do not change).</para>
/// </remarks>
internal sealed class UniformStream(ulong seed)
{
    /// <summary>The counter step of <see cref="Scoring.Random(Span{float}, ulong)"/>'s documented form.</summary>
    private const ulong Gamma = 0x9E37_79B9_7F4A_7C15;

    private const int ChunkLength = 4096;

    private readonly float[] _chunk = new float[ChunkLength];
    private ulong _chunkIndex;
    private int _next = ChunkLength;

    /// <summary>The next draw, uniform on <c>k·2⁻²⁴</c>, <c>0 ≤ k &lt; 2²⁴</c>.</summary>
    public float Next()
    {
        if (_next == ChunkLength) Refill();
        return _chunk[_next++];
    }

    /// <summary>A standard normal draw (Box–Muller on two uniform draws; one of the pair is enough here).</summary>
    public float Normal()
    {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        double u1 = 1.0 - Next(), u2 = Next();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private void Refill()
    {
        Scoring.Random(_chunk, unchecked(seed + _chunkIndex++ * ChunkLength * Gamma));
        _next = 0;
    }
}
