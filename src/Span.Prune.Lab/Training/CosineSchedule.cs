namespace Span.Prune.Lab.Training;

/// <summary>Cosine annealing to zero, stepped once per optimiser step (<c>CosineAnnealingLR(T_max = T, eta_min = 0)</c>).</summary>
public static class CosineSchedule
{
    /// <summary><c>lr_t = lr₀·(1 + cos(π·t/T))/2</c>, evaluated in double.</summary>
    /// <param name="baseRate">lr₀.</param>
    /// <param name="step">t, the step index from 0.</param>
    /// <param name="totalSteps">T, the number of steps in the run.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="totalSteps"/> is not positive or <paramref name="step"/> is negative.</exception>
    public static float LearningRate(float baseRate, long step, long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return (float)(baseRate * (1.0 + Math.Cos(Math.PI * step / totalSteps)) / 2.0);
    }
}
