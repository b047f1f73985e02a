namespace Span.Prune.Lab.Data;

/// <summary>
/// An IDX file (MNIST's format, raw or gzipped) is missing or breaks a rule of the format or of the digit data sets:
/// wrong magic number, images that are not 28×28, a header count that is out of range or does not match the data,
/// image and label counts that differ, a label that is not &lt; 10, or a corrupt gzip stream.
/// </summary>
/// <remarks>
/// <para>Derives from <see cref="FormatException"/>, like the core library's <c>SafeTensorsFormatException</c>, so that
/// callers who catch "bad input" in general also catch this.</para>
/// <para>The <see cref="IdxDataset"/> readers throw only this type for missing files and malformed content; errors
/// of the file system other than a missing file (permissions, a failing disk) surface as the usual
/// <see cref="IOException"/> family. The message is one line, <c>file name: rule</c>, e.g.
/// <c>train-labels-idx1-ubyte.gz: label 12 at index 345 is not &lt; 10</c>, fit for a CLI to print as it is;
/// programs branch on <see cref="Problem"/>, <see cref="FileName"/> and <see cref="Index"/> instead of the text.</para>
/// </remarks>
public sealed class IdxFormatException : FormatException
{
    /// <summary>Creates the exception; the message is <c>"{fileName}: {rule}"</c>.</summary>
    /// <param name="fileName">The file (or stream name) the problem was found in.</param>
    /// <param name="problem">Which rule is broken.</param>
    /// <param name="rule">The broken rule with the offending values, one line, without the file name.</param>
    /// <param name="index">The offending item (a label's index) when there is one.</param>
    /// <param name="innerException">The decompressor's or file system's exception, when that is the cause.</param>
    public IdxFormatException(string fileName, IdxProblem problem, string rule, long? index = null, Exception? innerException = null)
        : base($"{fileName}: {rule}", innerException)
    {
        FileName = fileName;
        Problem = problem;
        Index = index;
    }

    /// <summary>The file name (without directory) or stream name the problem was found in.</summary>
    public string FileName { get; }

    /// <summary>Which rule the file breaks.</summary>
    public IdxProblem Problem { get; }

    /// <summary>The index of the offending item (for <see cref="IdxProblem.LabelOutOfRange"/>), otherwise <see langword="null"/>.</summary>
    public long? Index { get; }
}
