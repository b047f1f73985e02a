using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

public class RegressionAllocationTests
{
    [Fact]
    public void SteadyStateCalls_AllocateNothing()
    {
        Problem p = Planted(300, 12, 9, 8, Enumerable.Repeat(1.0, 12).ToArray(), 0.1, seed: 4);
        var mask = new byte[p.C];
        var beta = new double[p.C];
        var refitted = new float[p.W.Length];
        var compact = new float[p.O * 5 * p.K];
        byte[] keep5 = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0];
        var lassoScratch = new double[ChannelRegression.LassoScratchLength(p.Shape, p.N)];
        var greedyScratch = new double[ChannelRegression.GreedyScratchLength(p.Shape, p.N, 5)];
        var refitScratch = new double[ChannelRegression.RefitScratchLength(p.Shape, p.N, 5)];

        void Calls()
        {
            ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, p.N, 5, mask, beta);
            ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, p.N, 5, mask, beta, default, lassoScratch);
            ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, p.N, 5, mask, beta);
            ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, p.N, 5, mask, beta, greedyScratch);
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, keep5, refitted, compact);
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, p.N, keep5, refitted, compact, ChannelRegression.DefaultRelativeRidge, refitScratch);
            ChannelRegression.ReconstructionError(p.X, refitted, p.Y, p.Shape, p.N);
        }

        AllocationAssert.None(Calls, 3);
    }
}
