namespace Span.Prune.SafeTensors;

/// <summary>
/// A safetensors file (or byte buffer) violates the format. <see cref="Rule"/> says which rule, <see cref="TensorName"/>
/// which tensor (when one is involved), so that no caller needs to parse the message.
/// </summary>
/// <remarks>
/// Derives from <see cref="FormatException"/> so that callers who catch "bad input" generally also catch this.
/// The reader throws only this type for malformed content, including a file that turns out shorter than its header
/// says while it is being read (<see cref="SafeTensorsFormatRule.Truncated"/>); failing to open the file surfaces as
/// the usual <see cref="IOException"/> family.
/// </remarks>
public sealed class SafeTensorsFormatException : FormatException
{
    /// <summary>Creates the exception for a file-wide or unclassified problem (<see cref="SafeTensorsFormatRule.Json"/>).</summary>
    /// <param name="message">What is wrong; names the tensor when there is one.</param>
    /// <param name="tensorName">The offending tensor, or <see langword="null"/> when the problem is file-wide.</param>
    /// <param name="innerException">The JSON reader's exception, when that is the cause.</param>
    public SafeTensorsFormatException(string message, string? tensorName = null, Exception? innerException = null)
        : this(SafeTensorsFormatRule.Json, message, tensorName, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="rule">The format rule that is broken.</param>
    /// <param name="message">What is wrong; names the tensor when there is one.</param>
    /// <param name="tensorName">The offending tensor (or <c>__metadata__</c>), or <see langword="null"/> when the problem is file-wide.</param>
    /// <param name="innerException">The JSON reader's exception, when that is the cause.</param>
    public SafeTensorsFormatException(SafeTensorsFormatRule rule, string message, string? tensorName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Rule = rule;
        TensorName = tensorName;
    }

    /// <summary>The format rule that the input breaks.</summary>
    public SafeTensorsFormatRule Rule { get; }

    /// <summary>The tensor the problem was found in (<c>__metadata__</c> for the metadata map), or <see langword="null"/> for a file-wide problem.</summary>
    public string? TensorName { get; }
}

/// <summary>The rules of the safetensors format that <see cref="SafeTensorsFile"/> enforces, one per way a file can be refused.</summary>
public enum SafeTensorsFormatRule
{
    /// <summary>The header is not valid JSON: syntax, an escape that is not a Unicode scalar (lone surrogate), a number
    /// out of the 64-bit float range, nesting deeper than 127, a byte-order mark, or content after the root object.</summary>
    Json,
    /// <summary>The file is shorter than the 8-byte header-length prefix.</summary>
    FileTooShort,
    /// <summary>The header length N exceeds 100,000,000 bytes.</summary>
    HeaderTooLarge,
    /// <summary>The header length N runs past the end of the file.</summary>
    HeaderLength,
    /// <summary>The header bytes are not valid UTF-8.</summary>
    Utf8,
    /// <summary>The header, or a tensor entry, is not a JSON object.</summary>
    NotAnObject,
    /// <summary><c>__metadata__</c> appears twice, or is neither <c>null</c> nor an object of string values.</summary>
    Metadata,
    /// <summary>A tensor entry repeats one of its fields.</summary>
    DuplicateField,
    /// <summary>A tensor entry lacks <c>dtype</c>, <c>shape</c> or <c>data_offsets</c>.</summary>
    MissingField,
    /// <summary>The dtype is not a string naming a safetensors dtype (case-sensitive).</summary>
    DType,
    /// <summary>The shape is not a list of non-negative integers, has more than <see cref="SafeTensorsFile.MaxRank"/>
    /// dimensions, or has a dimension above <see cref="long.MaxValue"/>.</summary>
    Shape,
    /// <summary><c>data_offsets</c> is not a list of exactly two non-negative 64-bit integers.</summary>
    DataOffsets,
    /// <summary>Element count × bits per element overflows 64 bits.</summary>
    Overflow,
    /// <summary>A sub-byte dtype (F4, F6) whose element count × bits is not a whole number of bytes.</summary>
    PartialByte,
    /// <summary><c>end − begin</c> differs from element count × dtype size.</summary>
    ByteLength,
    /// <summary>Sorted by offset, a tensor does not begin where the previous one ends (the first at 0), or its end is
    /// before its begin: a gap, an overlap or an out-of-order pair.</summary>
    Offset,
    /// <summary>The last tensor does not end exactly at the end of the file (trailing bytes, or data missing).</summary>
    IncompleteBuffer,
    /// <summary>The file ended before the header or a tensor could be read in full (it was truncated while open).</summary>
    Truncated,
}
