using System.Globalization;
using System.Text;
using Span.Prune.Lab.Data;
using Span.Prune.Lab.Training;

namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// The validation study that chose <see cref="AgpRamp.Default"/>: every candidate ramp against one-shot pruning, with
/// the schedule experiment's fine-tuning loop, scored on training images held out of training, never on test images.
/// </summary>
/// <remarks>
/// <para>Every <see cref="HoldOutEvery"/>-th training image (index ≡ 7 mod 8, so every class keeps its share) is held
/// out. For each seed, a dense mlp is trained on the rest with the recipe, then each schedule fine-tunes a copy of it
/// to s_f ∈ <see cref="ScheduleExperiment.Sparsities"/> once per shuffle seed; the table gives validation accuracy
/// averaged over seeds and shuffles (the per-run noise on 1,000 images is about ±0.3 pt, the averages' about ±0.1 pt).
/// The chosen ramp is the one with the highest mean over both s_f.</para>
/// <para>Several shuffles per seed because one fine-tuning run cannot tell two schedules 0.2 pt apart; the demo itself
/// runs one, as every other experiment does.</para>
/// </remarks>
public static class ScheduleStudy
{
    /// <summary>One training image in this many is held out for validation.</summary>
    public const int HoldOutEvery = 8;

    /// <summary>The ramps compared: start density ∈ {dense, 4×, 2×, 1.5×} × end ∈ {0.2, 0.4, 0.6, 0.8, 1.0}, every 10 steps.</summary>
    public static IReadOnlyList<AgpRamp> Candidates { get; } =
        [.. from start in new[] { double.PositiveInfinity, 4, 2, 1.5 } from end in new[] { 0.2, 0.4, 0.6, 0.8, 1.0 } select new AgpRamp(start, end, 10)];

    /// <summary>Splits <paramref name="train"/> into the images trained on and the held-out validation images.</summary>
    /// <param name="train">The training images.</param>
    /// <returns>Index mod <see cref="HoldOutEvery"/> ≠ 7, and = 7, each in the original order.</returns>
    public static (ImageSet Fit, ImageSet Validation) HoldOut(ImageSet train)
    {
        ArgumentNullException.ThrowIfNull(train);
        int[] all = [.. Enumerable.Range(0, train.Count)];
        static bool IsHeldOut(int index) => index % HoldOutEvery == HoldOutEvery - 1;
        return (train.Select([.. all.Where(i => !IsHeldOut(i))]), train.Select([.. all.Where(IsHeldOut)]));
    }

    /// <summary>Runs the study and renders it as a markdown table, the chosen ramp last.</summary>
    /// <param name="train">The training images (the held-out part is taken from them).</param>
    /// <param name="seeds">Seeds of the dense networks (initialisation and shuffles).</param>
    /// <param name="shuffles">Fine-tuning runs per seed and schedule, each with its own shuffle seed.</param>
    /// <param name="candidates">The ramps to compare (default <see cref="Candidates"/>).</param>
    /// <param name="progress">One line per dense network and ramp, or null.</param>
    /// <returns>The table and the chosen ramp.</returns>
    public static (string Markdown, AgpRamp Chosen) Run(ImageSet train, IReadOnlyList<ulong> seeds, int shuffles,
        IReadOnlyList<AgpRamp>? candidates = null, TextWriter? progress = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentOutOfRangeException.ThrowIfLessThan(shuffles, 1);
        ArgumentOutOfRangeException.ThrowIfZero(seeds.Count);
        candidates ??= Candidates;
        (ImageSet fit, ImageSet validation) = HoldOut(train);
        IReadOnlyList<double> finals = ScheduleExperiment.Sparsities;
        // Row 0 is one-shot, row r + 1 is candidates[r]; each cell the sum of validation accuracies over seeds × shuffles.
        double[,] sums = new double[candidates.Count + 1, finals.Count];
        foreach (ulong seed in seeds)
        {
            // The demo's own context on the split: its test set is the held-out part, so Dense trains with the recipe
            // exactly as a demo run with this seed would, and Accuracy scores on the held-out images.
            var context = new DemoContext(new DemoOptions(new DigitData(fit, validation), DemoModels.Mlp, Seed: seed), progress);
            ReferenceNetwork dense = context.Dense(ReferenceArchitecture.Mlp);
            progress?.WriteLine($"schedule study: seed {seed}, dense validation {context.Accuracy(dense):P2}");
            for (int row = 0; row <= candidates.Count; row++)
            {
                for (int f = 0; f < finals.Count; f++)
                {
                    double final = finals[f];
                    for (int s = 0; s < shuffles; s++)
                    {
                        ReferenceNetwork network = DemoContext.Copy(dense);
                        Func<long, long, double?> target = row == 0
                            ? (t, total) => ScheduleExperiment.Target(DemoSchedule.OneShot, default, final, t, total)
                            : (t, total) => candidates[row - 1].Target(final, t, total);
                        ScheduleExperiment.FineTuneWhilePruning(network, fit, seed + 1 + 100 * (ulong)s, target);
                        sums[row, f] += context.Accuracy(network);
                    }
                }
            }
        }

        int runs = seeds.Count * shuffles, chosen = 1;
        double Mean(int row) => Enumerable.Range(0, finals.Count).Average(f => sums[row, f]) / runs;
        for (int row = 2; row <= candidates.Count; row++)
            if (Mean(row) > Mean(chosen)) chosen = row;

        var table = new StringBuilder();
        table.Append(CultureInfo.InvariantCulture, $"Validation accuracy (%), mean of {seeds.Count} seed(s) × {shuffles} shuffle(s); {fit.Count} training and {validation.Count} held-out images\n\n");
        table.Append("| schedule |");
        foreach (double final in finals) table.Append(CultureInfo.InvariantCulture, $" s_f {final} | Δ one-shot |");
        table.Append("\n|---|");
        foreach (double _ in finals) table.Append("---:|---:|");
        table.Append('\n');
        for (int row = 0; row <= candidates.Count; row++)
        {
            table.Append(row == 0 ? "| one-shot |" : $"| agp {candidates[row - 1]}{(row == chosen ? " **(chosen)**" : "")} |");
            for (int f = 0; f < finals.Count; f++)
                table.Append(CultureInfo.InvariantCulture, $" {sums[row, f] / runs * 100:0.00} | {(sums[row, f] - sums[0, f]) / runs * 100:+0.00;−0.00} |");
            table.Append('\n');
        }
        table.Append(CultureInfo.InvariantCulture, $"\nChosen (highest mean over both s_f): agp {candidates[chosen - 1]}\n");
        return (table.ToString(), candidates[chosen - 1]);
    }
}
