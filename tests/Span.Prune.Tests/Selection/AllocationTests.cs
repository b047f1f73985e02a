using PruningApi = Span.Prune.Pruning;
using Sel = Span.Prune.Selection;

namespace Span.Prune.Tests.Selection;

public class AllocationTests
{
    private static void AssertNoAllocation(Action call) => AllocationAssert.None(call, 5);

    public static IEnumerable<object[]> Sizes() => [[100], [5000], [1 << 20]];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void KthSmallest_BothOverloads(int n)
    {
        float[] values = TestData.Uniform(n, 1);
        float[] scratch = new float[n];
        AssertNoAllocation(() => Sel.KthSmallest(values, n / 2, scratch));
        AssertNoAllocation(() => Sel.KthSmallest(values, n / 3));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Masks_And_InPlace(int n)
    {
        float[] scores = TestData.Uniform(n, 2);
        float[] weights = TestData.Normal(n, 3);
        float[] scratch = new float[n];
        var mask = new byte[n];
        int k = Sel.PruneCount(n, 0.9);
        AssertNoAllocation(() => Sel.LowestMask(scores, k, mask, scratch));
        AssertNoAllocation(() => Sel.LowestMask(scores, k, mask));
        AssertNoAllocation(() => PruningApi.Magnitude(weights, 0.9));
        AssertNoAllocation(() => PruningApi.Magnitude(weights, 0.9, scratch));
    }

    [Fact]
    public void NmMask_AllPatterns()
    {
        float[] scores = TestData.Uniform(64 * 40, 4);
        var mask = new byte[scores.Length];
        AssertNoAllocation(() => Sel.NmMask(scores, 64 * 40, 2, 4, mask));
        AssertNoAllocation(() => Sel.NmMask(scores, 64, 3, 8, mask));
        AssertNoAllocation(() => Sel.NmMask(scores, 64 * 40, 20, 64, mask));
    }

    [Fact]
    public void GlobalLowestMask_WithAndWithoutCaps()
    {
        int[] lengths = [1000, 50_000, 7, 20_000];
        float[] scores = TestData.Uniform(lengths.Sum(), 5);
        for (int i = 0; i < 1000; i++) scores[i] *= 1e-3f; // a layer the caps must protect
        var mask = new byte[scores.Length];
        var scratch = new float[scores.Length];
        int k = scores.Length / 2;
        AssertNoAllocation(() => Sel.GlobalLowestMask(scores, lengths, k, mask));
        AssertNoAllocation(() => Sel.GlobalLowestMask(scores, lengths, k, mask, scratch, 0.6));
        AssertNoAllocation(() => Sel.GlobalLowestMask(scores, lengths, k, mask, 0.6));
    }

    [Fact]
    public void Lamp_BothOverloads()
    {
        float[] w = TestData.Normal(5000, 6);
        var scores = new float[w.Length];
        var keys = new ulong[Span.Prune.Scoring.LampScratchLength(w.Length)];
        AssertNoAllocation(() => Span.Prune.Scoring.Lamp(w, scores, keys));
        AssertNoAllocation(() => Span.Prune.Scoring.Lamp(w, scores));
    }
}
