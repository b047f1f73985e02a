using static Span.Prune.Tests.Regression.RegressionReference;

namespace Span.Prune.Tests.Regression;

/// <summary>Every bad input throws with the parameter's name, before any output is written.</summary>
public class RegressionValidationTests
{
    private const int N = 20, C = 5, K = 9, O = 3;
    private const byte MaskSentinel = 0xAB;

    private static Problem Valid() => Planted(N, C, K, O, [1, 0, 1, 1, 0], 0.1, seed: 1);

    /// <summary>Output buffers pre-filled with sentinels so that any write shows.</summary>
    private sealed class Outputs
    {
        public byte[] Mask = Enumerable.Repeat(MaskSentinel, C).ToArray();
        public double[] Beta = Enumerable.Repeat(double.NaN, C).ToArray();
        public float[] Refitted = TestData.NaNs(O * C * K);
        public float[] Compact = TestData.NaNs(O * 3 * K);

        public void AssertUntouched()
        {
            Assert.All(Mask, m => Assert.Equal(MaskSentinel, m));
            Assert.All(Beta, b => Assert.True(double.IsNaN(b)));
            Assert.All(Refitted, v => Assert.True(float.IsNaN(v)));
            Assert.All(Compact, v => Assert.True(float.IsNaN(v)));
        }
    }

    private static readonly byte[] RefitMask = [1, 0, 1, 1, 0];

    public enum Op { Lasso, Greedy, Refit, Error }

    public static IEnumerable<object[]> Ops() => Enum.GetValues<Op>().Select(o => new object[] { o });

    public static IEnumerable<object[]> SelectOps() => new[] { Op.Lasso, Op.Greedy }.Select(o => new object[] { o });

    private static void Run(Op op, float[] x, float[] w, float[] y, WeightShape shape, int samples, int keep, Outputs outs,
        LassoOptions options = default, byte[]? refitMask = null, double relativeRidge = ChannelRegression.DefaultRelativeRidge)
    {
        switch (op)
        {
            case Op.Lasso: ChannelRegression.SelectLasso(x, w, y, shape, samples, keep, outs.Mask, outs.Beta, options); break;
            case Op.Greedy: ChannelRegression.SelectGreedy(x, w, y, shape, samples, keep, outs.Mask, outs.Beta); break;
            case Op.Refit: ChannelRegression.Refit(x, w, y, shape, samples, refitMask ?? RefitMask, outs.Refitted, outs.Compact, relativeRidge); break;
            case Op.Error: ChannelRegression.ReconstructionError(x, w, y, shape, samples); break;
        }
    }

    private static void AssertThrows<TException>(string param, Op op, Func<Problem, Outputs, Action> build)
        where TException : ArgumentException
    {
        Problem p = Valid();
        var outs = new Outputs();
        var ex = Assert.Throws<TException>(build(p, outs));
        Assert.Equal(param, ex.ParamName);
        outs.AssertUntouched();
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void WrongLengths_Throw(Op op)
    {
        AssertThrows<ArgumentException>("inputs", op, (p, o) => () => Run(op, p.X[..^1], p.W, p.Y, p.Shape, N, 2, o));
        AssertThrows<ArgumentException>("weights", op, (p, o) => () => Run(op, p.X, p.W[..^1], p.Y, p.Shape, N, 2, o));
        AssertThrows<ArgumentException>("targets", op, (p, o) => () => Run(op, p.X, p.W, [.. p.Y, 0f], p.Shape, N, 2, o));
        // The same data under a shape whose C·K differs.
        AssertThrows<ArgumentException>("inputs", op, (p, o) => () => Run(op, p.X, p.W, p.Y, WeightShape.Linear(O, C * K + 1), N, 2, o));
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void BadSamplesOrShape_Throw(Op op)
    {
        AssertThrows<ArgumentOutOfRangeException>("samples", op, (p, o) => () => Run(op, [], p.W, [], p.Shape, 0, 2, o));
        AssertThrows<ArgumentOutOfRangeException>("samples", op, (p, o) => () => Run(op, p.X, p.W, p.Y, p.Shape, -1, 2, o));
        AssertThrows<ArgumentOutOfRangeException>("samples", op, (p, o) => () => Run(op, p.X, p.W, p.Y, p.Shape, int.MaxValue, 2, o));
        AssertThrows<ArgumentException>("shape", op, (p, o) => () => Run(op, p.X, p.W, p.Y, default, N, 2, o));
    }

    [Theory]
    [MemberData(nameof(Ops))]
    public void NonFinite_Throw(Op op)
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            AssertThrows<ArgumentException>("inputs", op, (p, o) => () => { p.X[77] = bad; Run(op, p.X, p.W, p.Y, p.Shape, N, 2, o); });
            AssertThrows<ArgumentException>("weights", op, (p, o) => () => { p.W[^1] = bad; Run(op, p.X, p.W, p.Y, p.Shape, N, 2, o); });
            AssertThrows<ArgumentException>("targets", op, (p, o) => () => { p.Y[0] = bad; Run(op, p.X, p.W, p.Y, p.Shape, N, 2, o); });
        }
    }

    [Theory]
    [MemberData(nameof(SelectOps))]
    public void KeepOutOfRange_Throws(Op op)
    {
        AssertThrows<ArgumentOutOfRangeException>("keep", op, (p, o) => () => Run(op, p.X, p.W, p.Y, p.Shape, N, 0, o));
        AssertThrows<ArgumentOutOfRangeException>("keep", op, (p, o) => () => Run(op, p.X, p.W, p.Y, p.Shape, N, C + 1, o));
        AssertThrows<ArgumentOutOfRangeException>("keep", op, (p, o) => () => Run(op, p.X, p.W, p.Y, p.Shape, N, -3, o));
    }

    [Theory]
    [MemberData(nameof(SelectOps))]
    public void SelectionOutputs_WrongLengthOrOverlap_Throw(Op op)
    {
        AssertThrows<ArgumentException>("keepMask", op, (p, o) => () => { o.Mask = o.Mask[..^1]; Run(op, p.X, p.W, p.Y, p.Shape, N, 2, o); });
        AssertThrows<ArgumentException>("coefficients", op, (p, o) => () => { o.Beta = o.Beta[..^1]; Run(op, p.X, p.W, p.Y, p.Shape, N, 2, o); });

        // Scratch too short, and scratch sharing memory with the coefficients.
        Problem q = Valid();
        var outs = new Outputs();
        int need = op == Op.Lasso ? ChannelRegression.LassoScratchLength(q.Shape, N) : ChannelRegression.GreedyScratchLength(q.Shape, N, 2);
        var shortScratch = new double[need - 1];
        var ex = Assert.Throws<ArgumentException>(() => Select(op, q, outs.Mask, outs.Beta, shortScratch));
        Assert.Equal("scratch", ex.ParamName);
        outs.AssertUntouched();

        var shared = new double[need + C];
        Array.Fill(shared, double.NaN);
        ex = Assert.Throws<ArgumentException>(() => Select(op, q, outs.Mask, shared.AsSpan(0, C), shared.AsSpan(C - 1, need)));
        Assert.Equal("scratch", ex.ParamName);
        Assert.All(shared, v => Assert.True(double.IsNaN(v)));
        outs.AssertUntouched();
    }

    private static void Select(Op op, Problem p, Span<byte> mask, Span<double> beta, Span<double> scratch)
    {
        if (op == Op.Lasso) ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, N, 2, mask, beta, default, scratch);
        else ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, N, 2, mask, beta, scratch);
    }

    [Fact]
    public void LassoOptions_Invalid_Throw()
    {
        LassoOptions[] bad =
        [
            new() { Tolerance = -1 }, new() { Tolerance = double.NaN }, new() { Tolerance = double.PositiveInfinity },
            new() { MaxSweeps = -1 }, new() { PathLength = -2 }, new() { MinLambdaRatio = 1 }, new() { MinLambdaRatio = -0.5 },
            new() { MinLambdaRatio = double.NaN }, new() { BisectionSteps = -1 },
        ];
        foreach (LassoOptions options in bad)
            AssertThrows<ArgumentOutOfRangeException>("options", Op.Lasso, (p, o) => () => Run(Op.Lasso, p.X, p.W, p.Y, p.Shape, N, 2, o, options));
        Assert.Equal(LassoOptions.DefaultTolerance, default(LassoOptions).Tolerance);
        Assert.Equal(LassoOptions.DefaultBisectionSteps, new LassoOptions { PathLength = 3 }.BisectionSteps);
    }

    [Fact]
    public void RefitMask_Invalid_Throws()
    {
        AssertThrows<ArgumentException>("keepMask", Op.Refit, (p, o) => () => Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o, refitMask: [1, 0, 1, 1]));
        AssertThrows<ArgumentException>("keepMask", Op.Refit, (p, o) => () => Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o, refitMask: [1, 0, 2, 1, 0]));
        AssertThrows<ArgumentException>("keepMask", Op.Refit, (p, o) => () => Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o, refitMask: [0, 0, 0, 0, 0]));
    }

    [Fact]
    public void RefitOutputs_Invalid_Throw()
    {
        AssertThrows<ArgumentException>("refitted", Op.Refit, (p, o) => () => { o.Refitted = TestData.NaNs(o.Refitted.Length - 1); Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o); });
        AssertThrows<ArgumentException>("compact", Op.Refit, (p, o) => () => { o.Compact = TestData.NaNs(o.Compact.Length - 1); Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o); });
        foreach (double ridge in new[] { -1e-9, double.NaN, double.PositiveInfinity })
            AssertThrows<ArgumentOutOfRangeException>("relativeRidge", Op.Refit, (p, o) => () => Run(Op.Refit, p.X, p.W, p.Y, p.Shape, N, 0, o, relativeRidge: ridge));
    }

    [Fact]
    public void RefitOverlaps_Throw()
    {
        Problem p = Valid();
        int len = p.W.Length;

        // refitted shifted by one element against weights: only exact aliasing is allowed.
        float[] buffer = new float[len + 1];
        p.W.CopyTo(buffer, 0);
        float[] before = (float[])buffer.Clone();
        var ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(p.X, buffer.AsSpan(0, len), p.Y, p.Shape, N, RefitMask, buffer.AsSpan(1, len)));
        Assert.Equal("refitted", ex.ParamName);
        Assert.Equal(before, buffer);

        // refitted inside the inputs.
        float[] xPlus = [.. p.X, .. new float[len]];
        float[] xBefore = (float[])xPlus.Clone();
        ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(xPlus.AsSpan(0, p.X.Length), p.W, p.Y, p.Shape, N, RefitMask, xPlus.AsSpan(p.X.Length - 1, len)));
        Assert.Equal("refitted", ex.ParamName);
        Assert.Equal(xBefore, xPlus);

        // compact overlapping refitted.
        float[] both = TestData.NaNs(len + O * 3 * K);
        ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, N, RefitMask, both.AsSpan(0, len), both.AsSpan(len - 1, O * 3 * K)));
        Assert.Equal("compact", ex.ParamName);
        Assert.All(both, v => Assert.True(float.IsNaN(v)));

        // Scratch too short.
        var outs = new Outputs();
        ex = Assert.Throws<ArgumentException>(() =>
            ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, N, RefitMask, outs.Refitted, default, ChannelRegression.DefaultRelativeRidge,
                new double[ChannelRegression.RefitScratchLength(p.Shape, N, 3) - 1]));
        Assert.Equal("scratch", ex.ParamName);
        outs.AssertUntouched();
    }

    [Fact]
    public void ScratchLength_Validates()
    {
        var shape = Shape(O, C, K);
        Assert.Equal("shape", Assert.Throws<ArgumentException>(() => ChannelRegression.LassoScratchLength(default, N)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => ChannelRegression.LassoScratchLength(shape, 0)).ParamName);
        Assert.Equal("keep", Assert.Throws<ArgumentOutOfRangeException>(() => ChannelRegression.GreedyScratchLength(shape, N, C + 1)).ParamName);
        Assert.Equal("keptChannels", Assert.Throws<ArgumentOutOfRangeException>(() => ChannelRegression.RefitScratchLength(shape, N, 0)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => ChannelRegression.LassoScratchLength(WeightShape.Linear(40_000, 40_000), 1)).ParamName);
    }

    [Fact]
    public void CallerScratch_GivesTheSameResultAsThePool()
    {
        Problem p = Valid();
        var (m1, b1, m2, b2) = (new byte[C], new double[C], new byte[C], new double[C]);
        double[] scratch = Enumerable.Repeat(double.NaN, ChannelRegression.LassoScratchLength(p.Shape, N) + 3).ToArray();
        LassoSelection r1 = ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, N, 2, m1, b1);
        LassoSelection r2 = ChannelRegression.SelectLasso(p.X, p.W, p.Y, p.Shape, N, 2, m2, b2, default, scratch);
        Assert.Equal(r1, r2);
        Assert.Equal(m1, m2);
        Assert.Equal(b1, b2);

        scratch = Enumerable.Repeat(double.NaN, ChannelRegression.GreedyScratchLength(p.Shape, N, 3)).ToArray();
        GreedySelection g1 = ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, N, 3, m1, b1);
        GreedySelection g2 = ChannelRegression.SelectGreedy(p.X, p.W, p.Y, p.Shape, N, 3, m2, b2, scratch);
        Assert.Equal(g1, g2);
        Assert.Equal(m1, m2);
        Assert.Equal(b1, b2);

        scratch = Enumerable.Repeat(double.NaN, ChannelRegression.RefitScratchLength(p.Shape, N, 3)).ToArray();
        var (w1, w2) = (new float[p.W.Length], new float[p.W.Length]);
        RefitResult f1 = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, N, RefitMask, w1);
        RefitResult f2 = ChannelRegression.Refit(p.X, p.W, p.Y, p.Shape, N, RefitMask, w2, default, ChannelRegression.DefaultRelativeRidge, scratch);
        Assert.Equal(f1, f2);
        Assert.Equal(w1, w2);
    }
}
