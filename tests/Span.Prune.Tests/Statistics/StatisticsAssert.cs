namespace Span.Prune.Tests.Statistics;

/// <summary>Assertions shared by the statistics and scaling tests.</summary>
internal static class StatisticsAssert
{
    /// <summary>Runs <paramref name="action"/> once to warm up (tiering, lazy statics), then asserts that
    /// <paramref name="repeats"/> further calls allocate nothing on this thread.</summary>
    public static void NoAllocations(Action action, int repeats = 20) => AllocationAssert.None(action, repeats);

    /// <summary>Bit-exact equality of two float sequences (NaN sentinels compare as equal bits), with the index of the first mismatch.</summary>
    public static void BitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"Index {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), actual {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8}).");
        }
    }

    /// <summary>Asserts that every element is still the NaN sentinel.</summary>
    public static void AllNaN(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsNaN(values[i])) Assert.Fail($"Index {i} was written ({values[i]:R}); it should still hold the NaN sentinel.");
        }
    }
}
