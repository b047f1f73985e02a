namespace Span.Prune.Lab.Demo.Experiments;

/// <summary>
/// The gradual-pruning ramp of Zhu &amp; Gupta 2017 (eq. 1): prune every <see cref="Interval"/> optimiser steps from step 0
/// to step <c>E = min(⌊End·T⌋, T − 1)</c> of a T-step run (steps 0 … T − 1), to <c>s_t = s_f + (s_i − s_f)·(1 − t/E)³</c>
/// (and s_f at E), then train the rest of the run at s_f.
/// </summary>
/// <remarks>
/// <para>The initial sparsity s_i is given as a multiple of the final density: the ramp starts at
/// <c>StartDensity·(1 − s_f)</c> of the weights kept, <c>s_i = max(0, 1 − StartDensity·(1 − s_f))</c>. Infinity starts
/// from the dense network (s_i = 0, the form the paper's ImageNet runs use); 2 starts from twice the final density
/// (s_i = 0.96 for s_f = 0.98). Written as a density multiple rather than a sparsity so that one value means the same
/// thing at every s_f: the cubic then spends its steps where the weights removed matter.</para>
/// <para><see cref="Default"/> was chosen by <see cref="ScheduleStudy"/> on training images held out of training,
/// never on the test images.</para>
/// </remarks>
/// <param name="StartDensity">Density at step 0 as a multiple of the final density (≥ 1; infinity = dense).</param>
/// <param name="End">Fraction of the run after which s_f is reached, in (0, 1].</param>
/// <param name="Interval">Optimiser steps between two pruning steps (≥ 1).</param>
public readonly record struct AgpRamp(double StartDensity, double End, int Interval)
{
    /// <summary>
    /// The ramp the schedule experiment runs: from twice the final density to s_f at the run's last step, every 10 steps
    /// (<see cref="ScheduleStudy"/>'s choice; every end from 60% on was within 0.3 pt of it on the held-out images).
    /// </summary>
    public static AgpRamp Default => new(2, 1.0, 10);

    /// <summary>s_i for a final sparsity.</summary>
    /// <param name="final">s_f in [0, 1].</param>
    /// <returns><c>max(0, 1 − StartDensity·(1 − s_f))</c>; 0 when <see cref="StartDensity"/> is infinite.</returns>
    public double InitialSparsity(double final) =>
        double.IsPositiveInfinity(StartDensity) ? 0 : Math.Max(0, 1 - StartDensity * (1 - final));

    /// <summary>The sparsity to prune to before optimiser step <paramref name="step"/>, or null for no pruning there.</summary>
    /// <param name="final">s_f.</param>
    /// <param name="step">t, from 0.</param>
    /// <param name="total">T, the optimiser steps of the run.</param>
    /// <returns>s_t, or null.</returns>
    public double? Target(double final, long step, long total)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Interval, 1);
        if (!(StartDensity >= 1)) throw new ArgumentOutOfRangeException(nameof(StartDensity), StartDensity, "The ramp must start at or above the final density (≥ 1, infinity for the dense network).");
        if (!(End > 0 && End <= 1)) throw new ArgumentOutOfRangeException(nameof(End), End, "The ramp must end within the run, in (0, 1].");
        long end = Math.Clamp((long)(End * total), 1, Math.Max(1, total - 1));
        if (step > end || (step % Interval != 0 && step != end)) return null;
        if (step == end) return final;
        double initial = InitialSparsity(final);
        return final + (initial - final) * Math.Pow(1 - (double)step / end, 3);
    }

    /// <summary>A short label: <c>from 2× density, to s_f at 80%, every 10 steps</c>.</summary>
    /// <returns>The label.</returns>
    public override string ToString() =>
        $"from {(double.IsPositiveInfinity(StartDensity) ? "dense" : $"{StartDensity:0.##}× density")}, to s_f at {End:0%}, every {Interval} steps";
}
