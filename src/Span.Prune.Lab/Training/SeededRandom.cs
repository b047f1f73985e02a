namespace Span.Prune.Lab.Training;

/// <summary>
/// The training engine's deterministic random source: SplitMix64 (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", OOPSLA 2014), as in <c>java.util.SplittableRandom</c>.
/// </summary>
/// <remarks>
/// <para>State <c>s</c> advances by the golden-ratio increment <c>0x9E3779B97F4A7C15</c>; each output is the
/// finaliser <c>z = (z ^ z≫30)·0xBF58476D1CE4E5B9; z = (z ^ z≫27)·0x94D049BB133111EB; z ^ z≫31</c> of the new state.
/// The same seed gives the same stream on every machine and runtime (integer arithmetic only, and the float
/// conversions below are exact).</para>
/// <para><see cref="NextSingle"/> is the top 24 bits scaled by 2⁻²⁴: uniform on the 2²⁴ floats <c>k/2²⁴</c> in [0, 1).
/// <see cref="NextInt"/> is unbiased (Lemire's multiply-and-reject). The engine draws initial weights tensor by tensor in
/// state-dict order from one stream, and each epoch's shuffle from a second stream seeded by the trainer.</para>
/// </remarks>
public sealed class SeededRandom
{
    private ulong _state;

    /// <summary>Starts a stream at <paramref name="seed"/>.</summary>
    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform on [0, 1): <c>(bits ≫ 40)·2⁻²⁴</c>.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>A float uniform on [<paramref name="low"/>, <paramref name="high"/>): <c>low + (high − low)·u</c>.</summary>
    public float NextUniform(float low, float high) => low + (high - low) * NextSingle();

    /// <summary>An integer uniform on [0, <paramref name="bound"/>), without modulo bias.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bound"/> is not positive.</exception>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        // Lemire, "Fast random integer generation in an interval" (2019): the high word of a 32×32 product,
        // rejecting the few low words that would make some results more likely.
        uint s = (uint)bound;
        ulong m = (ulong)(uint)(NextUInt64() >> 32) * s;
        uint low = (uint)m;
        if (low < s)
        {
            uint threshold = (uint)(-s) % s;
            while (low < threshold)
            {
                m = (ulong)(uint)(NextUInt64() >> 32) * s;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher–Yates, from the last element down).</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>Fills <paramref name="destination"/> with floats uniform on [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public void FillUniform(Span<float> destination, float low, float high)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = NextUniform(low, high);
    }
}
