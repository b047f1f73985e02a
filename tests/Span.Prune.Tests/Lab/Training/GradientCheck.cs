namespace Span.Prune.Tests.Lab.Training;

/// <summary>Central finite differences against an analytic gradient.</summary>
/// <remarks>
/// The layers compute in float; the objective is summed in double from their float outputs. The step actually taken is
/// the float difference <c>(x+h) − (x−h)</c>, so the only errors left are the objective's float rounding (divided by
/// 2h) and, for non-linear layers, the O(h²) truncation. Layers that are linear in the perturbed variable (linear, conv,
/// ReLU and max-pool away from kinks) are checked with a large step, where both errors are tiny.
/// </remarks>
internal static class GradientCheck
{
    /// <summary>Asserts, for each index, |fd − analytic| ≤ abs + rel·|analytic|.</summary>
    public static void Assert(string what, Memory<float> memory, ReadOnlySpan<float> analytic, Func<double> objective, float step,
        double abs, double rel, IEnumerable<int>? indices = null)
    {
        float[] expected = analytic.ToArray();
        Span<float> variable = memory.Span;
        int checkedCount = 0;
        double worst = 0;
        foreach (int i in indices ?? Enumerable.Range(0, memory.Length))
        {
            float saved = variable[i];
            float plus = saved + step, minus = saved - step;
            variable[i] = plus;
            double lp = objective();
            memory.Span[i] = minus;
            double lm = objective();
            variable = memory.Span;
            variable[i] = saved;
            double fd = (lp - lm) / ((double)plus - minus);
            double err = Math.Abs(fd - expected[i]);
            double bound = abs + rel * Math.Abs(expected[i]);
            worst = Math.Max(worst, err / bound);
            Xunit.Assert.True(err <= bound, $"{what}[{i}]: finite difference {fd:G6}, analytic {expected[i]:G6} (error {err:G3} > {bound:G3})");
            checkedCount++;
        }
        Xunit.Assert.True(checkedCount > 0, $"{what}: nothing checked");
        objective(); // leave the layer's saved state at the unperturbed point
    }

    /// <summary>
    /// Whole-network check: a network with ReLU and max-pool is piecewise smooth, and a weight shared by every pixel
    /// (a convolution's) moves thousands of units, some of which cross a kink within any step large enough to beat float
    /// rounding. So each coordinate is tried with several steps and passes when one of them agrees within its own noise
    /// bound, <c>noise/h + rel·|analytic|</c>: a wrong gradient would have to match a difference by chance.
    /// </summary>
    public static void AssertAnyStep(string what, Memory<float> memory, ReadOnlySpan<float> analytic, Func<double> objective,
        ReadOnlySpan<float> steps, double noise, double rel, IEnumerable<int> indices)
    {
        float[] expected = analytic.ToArray();
        float[] hs = steps.ToArray();
        foreach (int i in indices)
        {
            string tried = "";
            bool ok = false;
            foreach (float h in hs)
            {
                float saved = memory.Span[i];
                float plus = saved + h, minus = saved - h;
                memory.Span[i] = plus;
                double lp = objective();
                memory.Span[i] = minus;
                double lm = objective();
                memory.Span[i] = saved;
                double fd = (lp - lm) / ((double)plus - minus);
                double bound = noise / h + rel * Math.Abs(expected[i]);
                tried += $" h={h}: {fd:G6};";
                if (Math.Abs(fd - expected[i]) <= bound)
                {
                    ok = true;
                    break;
                }
            }
            Xunit.Assert.True(ok, $"{what}[{i}]: analytic {expected[i]:G6}, finite differences{tried}");
        }
        objective();
    }

    /// <summary><c>Σ r_i·y_i</c> in double: the objective whose output gradient is <c>r</c>.</summary>
    public static double Dot(ReadOnlySpan<float> r, ReadOnlySpan<float> y)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += (double)r[i] * y[i];
        return s;
    }

    /// <summary>A few evenly spread indices of an array of <paramref name="length"/> (all when short).</summary>
    public static IEnumerable<int> Spread(int length, int count)
    {
        if (length <= count) return Enumerable.Range(0, length);
        return Enumerable.Range(0, count).Select(k => (int)((long)k * (length - 1) / (count - 1))).Distinct();
    }
}
