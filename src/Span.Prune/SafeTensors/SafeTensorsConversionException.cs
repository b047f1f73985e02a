namespace Span.Prune.SafeTensors;

/// <summary>
/// A tensor's values cannot be converted to float32 without changing them beyond rounding: an F64 element is finite but
/// outside the float32 range, so narrowing would turn it into an infinity.
/// </summary>
/// <remarks>
/// Derives from <see cref="InvalidOperationException"/>: the file is well-formed, the requested conversion is what
/// cannot be done. Read such a tensor as bytes (<see cref="SafeTensorsFile.ReadByteRange"/>) to keep it exact.
/// </remarks>
public sealed class SafeTensorsConversionException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What cannot be converted.</param>
    /// <param name="tensorName">The tensor, or <see langword="null"/> when converting a bare span.</param>
    /// <param name="elementIndex">Index of the first offending element (within the tensor, or within the span).</param>
    /// <param name="value">The offending value.</param>
    public SafeTensorsConversionException(string message, string? tensorName, long elementIndex, double value)
        : base(message)
    {
        TensorName = tensorName;
        ElementIndex = elementIndex;
        Value = value;
    }

    /// <summary>The tensor, or <see langword="null"/> when a bare span was converted.</summary>
    public string? TensorName { get; }

    /// <summary>Index of the first element that cannot be converted.</summary>
    public long ElementIndex { get; }

    /// <summary>The value of that element.</summary>
    public double Value { get; }
}
