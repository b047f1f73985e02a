using Span.Prune.Internal;

namespace Span.Prune;

public static partial class Scoring
{
    /// <summary>
    /// Deterministic random scores, uniform in [0, 1): the random-pruning baseline.
    /// </summary>
    /// <param name="scores">Destination; every element is written.</param>
    /// <param name="seed">The seed. The same seed gives the same scores on every machine, vector width and runtime.</param>
    /// <remarks>
    /// <para>Generator: SplitMix64 (Steele, Lea and Flood 2014) in counter form,
    /// <c>z = Mix(seed + (i + 1)·0x9E3779B97F4A7C15)</c> with Vigna's <c>splitmix64</c> finaliser
    /// (<c>z ^= z &gt;&gt; 30; z *= 0xBF58476D1CE4E5B9; z ^= z &gt;&gt; 27; z *= 0x94D049BB133111EB; z ^= z &gt;&gt; 31</c>),
    /// then <c>scores[i] = (z &gt;&gt; 40)·2⁻²⁴</c>: one of the 2²⁴ equally spaced floats in [0, 1), exactly.</para>
    /// <para>Element <c>i</c> depends only on <c>(seed, i)</c>: a prefix of a longer output equals the shorter output.
    /// Ties are possible: there are 2²⁴ distinct values.</para>
    /// </remarks>
    public static void Random(Span<float> scores, ulong seed) => SplitMix64.FillUnit(scores, seed);
}
