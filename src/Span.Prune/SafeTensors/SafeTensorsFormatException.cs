namespace Span.Prune.SafeTensors;

/// <summary>
/// A safetensors file (or byte buffer) violates the format: bad header length, invalid UTF-8 or JSON, unknown dtype,
/// bad shape, data offsets out of range or overlapping, byte length not matching shape × dtype size, duplicate names.
/// </summary>
/// <remarks>
/// Derives from <see cref="FormatException"/> so that callers who catch "bad input" generally also catch this.
/// The reader throws only this type for malformed content (I/O errors opening the file surface as the usual
/// <see cref="IOException"/> family). The message names the tensor (when one is involved) and the problem.
/// </remarks>
public sealed class SafeTensorsFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong; names the tensor when there is one.</param>
    /// <param name="tensorName">The offending tensor, or <see langword="null"/> when the problem is file-wide.</param>
    /// <param name="innerException">The JSON reader's exception, when that is the cause.</param>
    public SafeTensorsFormatException(string message, string? tensorName = null, Exception? innerException = null)
        : base(message, innerException) => TensorName = tensorName;

    /// <summary>The tensor the problem was found in, or <see langword="null"/> for a file-wide problem.</summary>
    public string? TensorName { get; }
}
