namespace Span.Prune;

/// <summary>
/// The floating-point element types the library reads and writes in their own format (no conversion to float32),
/// as the streamed global selection (<see cref="GlobalMagnitudePruning"/>) does.
/// </summary>
/// <remarks>
/// File formats map their own type tags onto this enum (for safetensors,
/// <see cref="SafeTensors.SafeTensorInfo.ElementType"/>), so the pruning API does not depend on a file format.
/// </remarks>
public enum ElementType
{
    /// <summary>IEEE 754 binary32, given as <see cref="float"/>.</summary>
    Float32,

    /// <summary>IEEE 754 binary16, given as <see cref="Half"/>.</summary>
    Float16,

    /// <summary>bfloat16 (the upper 16 bits of a binary32), given as its raw bits in a <see cref="ushort"/>.</summary>
    BFloat16,

    /// <summary>IEEE 754 binary64, given as <see cref="double"/>.</summary>
    Float64,
}
