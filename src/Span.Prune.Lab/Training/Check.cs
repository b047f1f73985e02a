namespace Span.Prune.Lab.Training;

/// <summary>Argument checks shared by the layers (outside the hot loops).</summary>
internal static class Check
{
    public static void Length(Memory<float> view, int expected, string name)
    {
        if (view.Length != expected) throw new ArgumentException($"Length {view.Length} does not match the expected {expected}.", name);
    }

    public static void Batch(int batch, int maxBatch)
    {
        if (batch <= 0 || batch > maxBatch) throw new ArgumentOutOfRangeException(nameof(batch), $"Batch {batch} is outside 1..{maxBatch}.");
    }
}
