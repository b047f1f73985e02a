namespace Span.Prune.Tests;

/// <summary>Deterministic inputs shared by all tests.</summary>
internal static class TestData
{
    /// <summary>Every length 0…257 (all vector tails of 128/256/512-bit paths) plus a few large ones.</summary>
    public static IEnumerable<object[]> Lengths()
    {
        for (int n = 0; n <= 257; n++) yield return [n];
        foreach (int n in new[] { 511, 1000, 4099, 65_537 }) yield return [n];
    }

    /// <summary>Lengths 1…257 plus large ones (for operations that reject empty input).</summary>
    public static IEnumerable<object[]> NonEmptyLengths() => Lengths().Where(x => (int)x[0] > 0);

    /// <summary>Uniform floats in [-scale, scale), reproducible from <paramref name="seed"/>.</summary>
    public static float[] Uniform(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }

    /// <summary>Approximately standard-normal floats (Box–Muller), reproducible from <paramref name="seed"/>.</summary>
    public static float[] Normal(int length, int seed, float std = 1f)
    {
        var rng = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>An array filled with NaN, the sentinel outputs are pre-filled with so that unwritten slots show.</summary>
    public static float[] NaNs(int length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }
}
