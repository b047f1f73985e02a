using CsCheck;

namespace Span.Prune.Tests.Properties;

/// <summary>
/// Generators and run settings shared by the property tests.
/// </summary>
/// <remarks>
/// <para>Every property fixes its iteration count (<see cref="Iterations"/>), so a CI run does the same amount of
/// work on every machine; the seed is random per run. On a failure CsCheck shrinks the input to a minimal case and
/// prints it with its seed; replay that exact case by passing the seed (<c>seed: "…"</c> in the property's
/// <c>Sample</c> call) or by setting the environment variable <c>CsCheck_Seed</c> for the test run.</para>
/// </remarks>
internal static class PropertyGens
{
    /// <summary>Cases per property and run.</summary>
    public const int Iterations = 2000;

    /// <summary>Scores that tie often: small integers, ±0 and a few halves.</summary>
    public static readonly Gen<float> TieProneScore =
        Gen.Frequency(
            (4, Gen.Int[-3, 3].Select(i => (float)i)),
            (1, Gen.OneOf(0f, -0f, 0.5f, -0.5f)),
            (2, Gen.Float[-1000f, 1000f]));

    /// <summary>Weights: mostly normal-sized finite values, with exact zeros (+0 and −0) mixed in at a per-case rate.</summary>
    public static Gen<float[]> Weights(int length) =>
        from zeroPercent in Gen.Int[0, 100]
        from values in Gen.Frequency(
            (100 - Math.Min(zeroPercent, 99), Gen.Float[-4f, 4f]),
            (Math.Max(zeroPercent, 1), Gen.OneOf(0f, -0f))).Array[length]
        select values;

    /// <summary>A matrix shape with rows and columns in <c>[1, 64]</c>.</summary>
    public static readonly Gen<(int Rows, int Cols)> Shape = Gen.Select(Gen.Int[1, 64], Gen.Int[1, 64]);

    /// <summary>The divisors of <paramref name="n"/> that are at most <paramref name="max"/>.</summary>
    public static int[] Divisors(int n, int max) => Enumerable.Range(1, Math.Min(n, max)).Where(d => n % d == 0).ToArray();

    /// <summary>Bitwise equality of two float spans, with −0 and +0 treated as equal (a stored format drops the sign of a zero).</summary>
    public static void AssertSameValues(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i] == 0 ? 0f : expected[i], a = actual[i] == 0 ? 0f : actual[i];
            if (BitConverter.SingleToInt32Bits(e) != BitConverter.SingleToInt32Bits(a))
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]}, expected {expected[i]}.");
        }
    }
}
