using System.Numerics;

namespace Span.Prune.SelectionKernels;

/// <summary>
/// How elements of type <typeparamref name="T"/> become magnitude keys, and the kernels that count and mask by them:
/// the global magnitude engine is generic over a key maker (<see cref="Float32Key"/>, <see cref="BFloat16Key"/>,
/// <see cref="Float16Key"/>, <see cref="WidenedFloat16Key"/>, <see cref="Float64Key"/>), passed as a type argument
/// so that the JIT and NativeAOT compile one specialised loop per element type, with no delegate and no boxing.
/// </summary>
/// <typeparam name="TSelf">The key maker itself (for the default implementations).</typeparam>
/// <typeparam name="T">The element type it reads.</typeparam>
/// <remarks>
/// <para><b>Keys.</b> A full key is 31 bits, <c>bin &lt;&lt; 16 | low</c>: the first-level histogram counts the high
/// 15 bits (<c>bin</c>), the second level the low 16 within one bin. Keys order like the magnitudes <c>|w|</c>.
/// 16-bit element types have 15-bit keys (<see cref="WholeKeyInFirstLevel"/>: <c>low</c> is 0, one counting pass
/// decides, ties included).</para>
/// <para><b>Defaults.</b> A key maker that only converts (<see cref="Keys"/>) gets counting and masking by converting a
/// stack buffer of keys at a time; the types whose bits are their keys override them with the direct kernels of
/// <see cref="MagnitudeRadix"/>.</para>
/// </remarks>
internal interface IMagnitudeKey<TSelf, T>
    where TSelf : IMagnitudeKey<TSelf, T>
    where T : unmanaged, INumberBase<T>
{
    /// <summary>Keys converted per stack buffer by the default implementations (2 KiB of stack).</summary>
    private const int KeyBuffer = 512;

    /// <summary>Whether keys have 15 bits, so that the first-level bin is the whole key.</summary>
    static virtual bool WholeKeyInFirstLevel => false;

    /// <summary>The first first-level bin holding ±∞ and NaN keys (<c>0x7F80</c> for float32 keys).</summary>
    static virtual int FirstNonFiniteBin => 0x7F80;

    /// <summary>The full 31-bit key of one element (the scalar definition the kernels must match).</summary>
    static abstract uint Key(T value);

    /// <summary>The full keys of <paramref name="source"/> into the first <c>source.Length</c> of <paramref name="keys"/>.</summary>
    static abstract void Keys(ReadOnlySpan<T> source, Span<uint> keys);

    /// <summary>
    /// Counts the first-level bins of <paramref name="chunk"/> into 4 sub-histograms <paramref name="subStride"/>
    /// apart (see <see cref="MagnitudeRadix.Count32"/>).
    /// </summary>
    static virtual void CountHigh(ReadOnlySpan<T> chunk, Span<uint> histograms, int subStride)
    {
        Span<uint> keys = stackalloc uint[KeyBuffer];
        for (int start = 0; start < chunk.Length; start += KeyBuffer)
        {
            int n = Math.Min(KeyBuffer, chunk.Length - start);
            TSelf.Keys(chunk.Slice(start, n), keys);
            MagnitudeRadix.Count32(keys[..n], histograms, subStride);
        }
    }

    /// <summary>Counts the low 16 key bits of the elements in first-level bin <paramref name="bin"/> into <paramref name="low"/>.</summary>
    static virtual void CountLow(ReadOnlySpan<T> chunk, uint bin, Span<uint> low)
    {
        Span<uint> keys = stackalloc uint[KeyBuffer];
        for (int start = 0; start < chunk.Length; start += KeyBuffer)
        {
            int n = Math.Min(KeyBuffer, chunk.Length - start);
            TSelf.Keys(chunk.Slice(start, n), keys);
            MagnitudeRadix.CountLow(keys[..n], bin, low);
        }
    }

    /// <summary>
    /// Masks <paramref name="source"/> into <paramref name="destination"/> (may be the same memory): +0 where
    /// <c>key &lt; cut</c>, and where <c>key == cut</c> while <paramref name="ties"/> lasts (index order); the
    /// element's bits elsewhere. Adds the output's zero-magnitude elements to <paramref name="zeros"/>; returns the
    /// tie quota left. The quota never exceeds the keys equal to the cut in the tensor (none for a cut with low bits
    /// under 15-bit keys, which the 16-bit loops round up to the next key).
    /// </summary>
    static virtual long Apply(ReadOnlySpan<T> source, Span<T> destination, uint cut, long ties, ref long zeros)
    {
        Span<uint> keys = stackalloc uint[KeyBuffer];
        for (int start = 0; start < source.Length; start += KeyBuffer)
        {
            int n = Math.Min(KeyBuffer, source.Length - start);
            TSelf.Keys(source.Slice(start, n), keys);
            ties = MagnitudeRadix.ApplyByKeys(keys[..n], source.Slice(start, n), destination.Slice(start, n), cut, ties, ref zeros);
        }
        return ties;
    }
}
