namespace Span.Prune;

/// <summary>What an exact-k selection did: the threshold it settled on and how many units it pruned.</summary>
/// <remarks>
/// <see cref="Threshold"/> is the largest pruned score: every unit scoring below it was pruned, and units scoring exactly
/// <see cref="Threshold"/> were pruned lowest index first until <see cref="Pruned"/> was reached. When nothing is pruned,
/// <see cref="Threshold"/> is <see cref="float.NegativeInfinity"/> (no finite score lies at or below it).
/// </remarks>
public readonly struct SelectionResult : IEquatable<SelectionResult>
{
    /// <summary>Creates a result.</summary>
    /// <param name="threshold">The largest pruned score, or <see cref="float.NegativeInfinity"/> when nothing was pruned.</param>
    /// <param name="pruned">The number of pruned units.</param>
    public SelectionResult(float threshold, int pruned)
    {
        Threshold = threshold;
        Pruned = pruned;
    }

    /// <summary>The largest pruned score; <see cref="float.NegativeInfinity"/> when <see cref="Pruned"/> is 0.</summary>
    public float Threshold { get; }

    /// <summary>The number of pruned units (always exactly the requested count).</summary>
    public int Pruned { get; }

    /// <inheritdoc/>
    public bool Equals(SelectionResult other) => Threshold.Equals(other.Threshold) && Pruned == other.Pruned;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is SelectionResult other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Threshold, Pruned);

    /// <summary>Value equality.</summary>
    public static bool operator ==(SelectionResult left, SelectionResult right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(SelectionResult left, SelectionResult right) => !left.Equals(right);

    /// <inheritdoc/>
    public override string ToString() => $"Pruned = {Pruned}, Threshold = {Threshold}";
}
