using Span.Prune.Internal;
using Span.Prune.SelectionKernels;

namespace Span.Prune.Tests.Selection;

/// <summary>
/// <see cref="GlobalThresholdSolver"/> over <see cref="MagnitudeHistograms"/> against a naive sort-based reference:
/// sort every (key, tensor, index), walk it greedily skipping tensors at their cap <c>⌊cap·n⌋</c>, and compare the
/// pruned set with what each slot's cut and ties select (ties in tensor order, then index order).
/// </summary>
public class GlobalThresholdSolverTests
{
    /// <summary>A tensor: float32 weights, or BF16 bits (whole keys in the first level).</summary>
    private static uint[] KeysOf(Array t) => t switch
    {
        float[] f => f.Select(Float32Key.Key).ToArray(),
        ushort[] b => b.Select(BFloat16Key.Key).ToArray(),
        _ => throw new ArgumentException("type"),
    };

    private static ElementType TypeOf(Array t) => t is float[] ? ElementType.Float32 : ElementType.BFloat16;

    /// <summary>Naive reference: per tensor, which elements the greedy capped walk prunes.</summary>
    private static bool[][] Naive(uint[][] keys, long k, double cap)
    {
        long[] caps = keys.Select(x => PruneRules.LayerCap(cap, x.Length)).ToArray();
        long[] lost = new long[keys.Length];
        bool[][] pruned = keys.Select(x => new bool[x.Length]).ToArray();
        long done = 0;
        foreach (var (_, t, i) in keys.SelectMany((x, t) => x.Select((key, i) => (key, t, i))).OrderBy(e => e.key).ThenBy(e => e.t).ThenBy(e => e.i))
        {
            if (done == k) break;
            if (lost[t] == caps[t]) continue;
            pruned[t][i] = true;
            lost[t]++;
            done++;
        }
        return pruned;
    }

    /// <summary>Runs the engine's counting passes and the solver, chunk by chunk; returns it with the histograms.</summary>
    private static (MagnitudeHistograms Histograms, GlobalThresholdSolver Solver) Solve(Array[] tensors, long k, double cap, int budget, int chunk)
    {
        ElementType[] types = tensors.Select(TypeOf).ToArray();
        long[] lengths = tensors.Select(t => (long)t.Length).ToArray();
        var arrays = new StateArrays(pooled: false);
        var histograms = new MagnitudeHistograms(types, lengths, lengths.Sum(), cap >= 1.0 ? budget : int.MaxValue, arrays);
        var solver = new GlobalThresholdSolver(histograms.SlotCount, k, arrays);
        for (int j = 0; j < tensors.Length; j++) solver.AddCap(histograms.SlotOf(j), PruneRules.LayerCap(cap, lengths[j]));
        var scratch = new uint[MagnitudeHistograms.SubHistogramLength];
        for (int j = 0; j < tensors.Length; j++)
        {
            for (int start = 0; start < tensors[j].Length; start += chunk)
            {
                int n = Math.Min(chunk, tensors[j].Length - start);
                bool finite = tensors[j] is float[] f
                    ? histograms.CountHigh<Float32Key, float>(j, f.AsSpan(start, n), scratch)
                    : histograms.CountHigh<BFloat16Key, ushort>(j, ((ushort[])tensors[j]).AsSpan(start, n), scratch);
                Assert.True(finite);
                if (!MagnitudeHistograms.CountsDirectly(n)) Assert.False(scratch.AsSpan().ContainsAnyExcept(0u)); // left zeroed
            }
        }
        if (k == 0) return (histograms, solver);
        if (solver.Locate(ref histograms))
        {
            for (int j = 0; j < tensors.Length; j++)
            {
                if (!histograms.IsRefined(histograms.SlotOf(j))) continue;
                Assert.IsType<float[]>(tensors[j]); // whole keys never need the second level
                for (int start = 0; start < tensors[j].Length; start += chunk)
                    histograms.CountLow<Float32Key, float>(j, ((float[])tensors[j]).AsSpan(start, Math.Min(chunk, tensors[j].Length - start)));
            }
        }
        solver.Finish(histograms);
        return (histograms, solver);
    }

    private static void Check(Array[] tensors, double cap, int budget = int.MaxValue, int chunk = int.MaxValue, params long[] ks)
    {
        uint[][] keys = tensors.Select(KeysOf).ToArray();
        long n = keys.Sum(x => (long)x.Length);
        long capacity = keys.Sum(x => PruneRules.LayerCap(cap, x.Length));
        foreach (long k in ks.Where(k => k >= 0 && k <= Math.Min(n, capacity)).Distinct())
        {
            bool[][] expected = Naive(keys, k, cap);
            var (histograms, solver) = Solve(tensors, k, cap, budget, chunk);
            // Select with the cuts: below the cut, then the slot's ties in tensor order, then index order.
            var tiesLeft = new long[histograms.SlotCount];
            for (int s = 0; s < tiesLeft.Length; s++) tiesLeft[s] = solver.Ties(s);
            var slotPruned = new long[histograms.SlotCount];
            uint largest = 0;
            for (int t = 0; t < keys.Length; t++)
            {
                int s = histograms.SlotOf(t);
                uint cut = solver.Cut(s);
                for (int i = 0; i < keys[t].Length; i++)
                {
                    uint key = keys[t][i];
                    bool prune = key < cut || (key == cut && tiesLeft[s]-- > 0);
                    if (key == cut && tiesLeft[s] < 0) tiesLeft[s] = 0;
                    if (prune != expected[t][i]) Assert.Fail($"k={k} cap={cap} budget={budget}: tensor {t} element {i} key {key:X}: pruned {prune}, expected {expected[t][i]} (cut {cut:X}, ties {solver.Ties(s)})");
                    if (prune)
                    {
                        slotPruned[s]++;
                        largest = Math.Max(largest, key);
                    }
                }
            }
            for (int s = 0; s < tiesLeft.Length; s++)
            {
                Assert.Equal(0, tiesLeft[s]); // every tie handed out was used
                Assert.Equal(slotPruned[s], solver.Pruned(s));
            }
            if (k > 0) Assert.Equal(largest, solver.ThresholdKey);
        }
    }

    private static float[] Normal(int n, int seed, float std = 1f) => TestData.Normal(n, seed, std);

    private static float[] Grid(int n, int seed) => TestData.Uniform(n, seed).Select(x => MathF.Round(x * 12f) / 8f).ToArray();

    private static ushort[] Bf16(float[] x) => x.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();

    /// <summary>Values in [1, 1 + 2⁻⁷): one first-level bin; the second level decides, with ties (values repeat mod 40).</summary>
    private static float[] Near1(int n, int offset) =>
        Enumerable.Range(0, n).Select(i => BitConverter.UInt32BitsToSingle(0x3F800000u + (uint)((i * 7 + offset) % 40))).ToArray();

    private static long[] Ks(long n) => [0, 1, 2, n / 7, n / 3, n / 2, 2 * n / 3, n - 1, n];

    public static IEnumerable<object[]> Caps() => new[] { 1.0, 0.95, 0.7, 0.5, 0.31, 0.1, 0.0 }.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Caps))]
    public void Float32_Layers_OnDifferentScales(double cap)
    {
        // The small-scale layer reaches its cap long before the global bin; the others compete inside it.
        Array[] tensors = [Normal(500, 1, 1e-3f), Normal(300, 2), Normal(1, 3), new float[0], Normal(700, 4, 10f)];
        Check(tensors, cap, ks: Ks(1501));
    }

    [Theory]
    [MemberData(nameof(Caps))]
    public void Ties_Everywhere_WholeKeysAndTwoLevelKeysMixed(double cap)
    {
        Array[] tensors = [Grid(257, 5), Bf16(Grid(300, 6)), Grid(99, 7), Bf16(Normal(400, 8)), new float[40]];
        Check(tensors, cap, ks: Ks(1096));
    }

    [Theory]
    [MemberData(nameof(Caps))]
    public void OneFirstLevelBin_TheSecondLevelDecides(double cap)
    {
        Array[] tensors = [Near1(100, 0), Near1(90, 3), Near1(110, 11), Bf16(Near1(50, 0))];
        Check(tensors, cap, ks: Ks(350));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 100_000)]
    public void SharedSlots_Uncapped_SelectTheSame(int budget, int chunk)
    {
        // Uncapped, runs of same-type tensors share a slot; their ties go out in tensor order.
        Array[] tensors = [Grid(40, 9), Grid(33, 10), Grid(1, 11), Bf16(Grid(50, 12)), Bf16(Grid(17, 13)), Normal(60, 14), Grid(20, 15)];
        Check(tensors, 1.0, budget, chunk, Ks(221));
    }

    [Fact]
    public void LargeTensors_CountedThroughSubHistograms()
    {
        // Chunks of at least DirectCountLimit go through the 4 sub-histograms and MergeAndClear.
        int n = MagnitudeHistograms.DirectCountLimit + 123;
        Array[] tensors = [Normal(n, 16, 0.02f), Bf16(Normal(n, 17, 0.02f)), Grid(n, 18)];
        Check(tensors, 1.0, chunk: n, ks: [3L * n / 10, 3L * n / 2]);
        Check(tensors, 0.6, chunk: n, ks: [3L * n / 2]);
    }

    [Fact]
    public void RandomModels_MatchTheReference()
    {
        var rng = new Random(20);
        for (int model = 0; model < 60; model++)
        {
            int count = rng.Next(1, 7);
            Array[] tensors = new Array[count];
            for (int t = 0; t < count; t++)
            {
                int n = rng.Next(0, 400), seed = rng.Next();
                float[] x = rng.Next(4) switch
                {
                    0 => Grid(n, seed),
                    1 => Near1(n, seed % 40),
                    2 => Normal(n, seed, (float)Math.Pow(10, rng.Next(-4, 3))),
                    _ => new float[n],
                };
                tensors[t] = rng.Next(3) == 0 ? Bf16(x) : x;
            }
            long total = tensors.Sum(t => (long)t.Length);
            double cap = new[] { 1.0, 0.9, 0.5, 0.2 }[rng.Next(4)];
            Check(tensors, cap, rng.Next(1, 4), rng.Next(1, 300), rng.NextInt64(0, total + 1), rng.NextInt64(0, total + 1));
        }
    }
}
