namespace Span.Prune.Lab.Data;

/// <summary>A training set and a disjoint test set of 28×28 digit images, as <see cref="IdxDataset"/> loads them.</summary>
/// <remarks>
/// A sealed record (a class) rather than a record struct: it is made once per run and passed around, and the two
/// <see cref="ImageSet"/> references are all it holds. Equality is the record's: the same two set instances.
/// </remarks>
/// <param name="Train">The training images (8,004 for the embedded digits).</param>
/// <param name="Test">The test images (1,996 for the embedded digits).</param>
public sealed record DigitData(ImageSet Train, ImageSet Test);
