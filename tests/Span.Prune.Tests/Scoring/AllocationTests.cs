using PruneScoring = Span.Prune.Scoring;

namespace Span.Prune.Tests.Scoring;

public class AllocationTests
{
    private static void AssertNoAllocation(Action call) => AllocationAssert.None(call, 20);

    private static readonly WeightShape Conv = WeightShape.Conv2D(32, 130, 3, 3); // row length 1170: two stack chunks
    private static readonly float[] W = TestData.Normal(Conv.ElementCount, 1);
    private static readonly float[] G = TestData.Normal(Conv.ElementCount, 2);
    private static readonly float[] Scores = new float[Conv.ElementCount];
    private static readonly float[] Units = new float[Conv.ElementCount];

    [Fact]
    public void Elementwise_DoesNotAllocate()
    {
        AssertNoAllocation(() => PruneScoring.Elementwise<ObdCriterion>(W, G, Scores));
        AssertNoAllocation(() => PruneScoring.Magnitude(W, Scores));
        AssertNoAllocation(() => PruneScoring.Taylor(W, G, Scores));
        AssertNoAllocation(() => PruneScoring.Obd(W, G, Scores));
    }

    [Fact]
    public void Group_DoesNotAllocate()
    {
        foreach (Granularity g in new[] { Granularity.Element, Granularity.Row, Granularity.Column, Granularity.Kernel, Granularity.Block(4, 9), Granularity.NM(2, 6) })
        {
            int n = g.UnitCount(Conv);
            AssertNoAllocation(() => PruneScoring.Group<TaylorCriterion, MaxReduction>(W, G, Conv, g, Units.AsSpan(0, n)));
            AssertNoAllocation(() => PruneScoring.L1Norm(W, Conv, g, Units.AsSpan(0, n)));
            AssertNoAllocation(() => PruneScoring.L2Norm(W, Conv, g, Units.AsSpan(0, n)));
            AssertNoAllocation(() => PruneScoring.GroupTaylor(W, G, Conv, g, Units.AsSpan(0, n), absoluteOfSum: true));
            AssertNoAllocation(() => PruneScoring.GroupTaylor(W, G, Conv, g, Units.AsSpan(0, n), absoluteOfSum: false));
            AssertNoAllocation(() => PruneScoring.GroupObd(W, G, Conv, g, Units.AsSpan(0, n)));
        }
    }

    [Fact]
    public void WandaAndNorms_DoNotAllocate()
    {
        float[] norms = new float[Conv.RowLength];
        AssertNoAllocation(() => PruneScoring.InputNorms(W, Conv.RowLength, norms));
        AssertNoAllocation(() => PruneScoring.Wanda(W, Conv, norms, Scores));
        var acc = new ActivationAccumulator(Conv.RowLength);
        AssertNoAllocation(() => acc.AddNC(W, W.Length / Conv.RowLength));
        AssertNoAllocation(() => acc.CopyNormsTo(norms));
    }

    [Fact]
    public void Random_DoesNotAllocate() =>
        AssertNoAllocation(() => PruneScoring.Random(Scores, 99));
}
