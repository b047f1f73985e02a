namespace Span.Prune.SafeTensors;

/// <summary>One tensor entry of a safetensors header, validated.</summary>
/// <remarks>
/// <see cref="DataOffset"/> is relative to the start of the data buffer (file byte 8 + header length), as in the
/// header's <c>data_offsets[0]</c>; <see cref="ByteLength"/> = <see cref="ElementCount"/> × dtype size
/// = <c>data_offsets[1] − data_offsets[0]</c> (the reader enforces the equality).
/// </remarks>
public sealed class SafeTensorInfo
{
    private readonly long[] _shape;

    internal SafeTensorInfo(int index, string name, SafeTensorsDType dtype, long[] shape, long elementCount, long dataOffset, long byteLength)
    {
        Index = index;
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        DataOffset = dataOffset;
        ByteLength = byteLength;
    }

    /// <summary>Position of the tensor in header order (0-based, <c>__metadata__</c> not counted).</summary>
    public int Index { get; }

    /// <summary>Tensor name as written in the header.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public SafeTensorsDType DType { get; }

    /// <summary>
    /// The library's <see cref="Prune.ElementType"/> of the tensor: F32, F16, BF16 and F64 map to
    /// <see cref="Prune.ElementType.Float32"/>, <see cref="Prune.ElementType.Float16"/>,
    /// <see cref="Prune.ElementType.BFloat16"/> and <see cref="Prune.ElementType.Float64"/>; every other dtype to
    /// <see langword="null"/>.
    /// </summary>
    public ElementType? ElementType => DType switch
    {
        SafeTensorsDType.F32 => Prune.ElementType.Float32,
        SafeTensorsDType.F16 => Prune.ElementType.Float16,
        SafeTensorsDType.BF16 => Prune.ElementType.BFloat16,
        SafeTensorsDType.F64 => Prune.ElementType.Float64,
        _ => null,
    };

    /// <summary>Dimensions, outermost first (row-major). Empty for a scalar (one element).</summary>
    public ReadOnlySpan<long> Shape => _shape;

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar, 0 if any dimension is 0).</summary>
    public long ElementCount { get; }

    /// <summary>Offset of the first byte in the data buffer.</summary>
    public long DataOffset { get; }

    /// <summary>Number of data bytes.</summary>
    public long ByteLength { get; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: {SafeTensorsDTypeInfo.GetName(DType)}[{string.Join(", ", _shape)}] @ {DataOffset}+{ByteLength}";
}
