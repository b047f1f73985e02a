using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Span.Prune.Lab.Training.Layers;

/// <summary>2×2 max-pooling with stride 2 over <c>[planes × H × W]</c> (H and W even), as <c>nn.MaxPool2d(2)</c>.</summary>
/// <remarks>
/// Each output keeps the position of its maximum (the first in row-major window order on ties, as PyTorch's CPU
/// kernel) so that the backward pass routes the gradient to it; every other input gets 0.
/// </remarks>
public sealed class MaxPool2x2
{
    private readonly byte[] _argmax;

    /// <summary>A pool for up to <paramref name="maxPlanes"/> planes of <paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or not even.</exception>
    public MaxPool2x2(int height, int width, int maxPlanes)
    {
        if (height <= 0 || width <= 0 || height % 2 != 0 || width % 2 != 0) throw new ArgumentOutOfRangeException(nameof(height), "Height and width must be positive and even.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPlanes);
        Height = height;
        Width = width;
        MaxPlanes = maxPlanes;
        _argmax = new byte[maxPlanes * height * width / 4];
    }

    /// <summary>Input height.</summary>
    public int Height { get; }

    /// <summary>Input width.</summary>
    public int Width { get; }

    /// <summary>Largest number of planes (channels × images).</summary>
    public int MaxPlanes { get; }

    /// <summary>Pools <paramref name="x"/> (<c>[planes × H × W]</c>) into <paramref name="y"/> (<c>[planes × H/2 × W/2]</c>).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int planes)
    {
        if (planes <= 0 || planes > MaxPlanes) throw new ArgumentOutOfRangeException(nameof(planes));
        int outputs = planes * Height * Width / 4;
        if (x.Length < planes * Height * Width || y.Length < outputs) throw new ArgumentException("A span is too short.", nameof(x));
        x = x[..(planes * Height * Width)];
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        ref byte pa = ref MemoryMarshal.GetArrayDataReference(_argmax);
        int w = Width, w2 = Width / 2, rowPairs = planes * Height / 2;
        nint o = 0;
        // Row pairs of consecutive planes are consecutive too (H is even), so one loop walks every plane.
        for (int rp = 0; rp < rowPairs; rp++)
        {
            ref float r0 = ref Unsafe.Add(ref px, (nint)rp * 2 * w);
            ref float r1 = ref Unsafe.Add(ref r0, w);
            int j = 0;
            if (Avx512F.IsSupported && w2 <= 16)
            {
                // 16 outputs per step from 32 columns of each row, deinterleaved into the four window positions.
                // A step may read past the row pair and write past its outputs (never past the spans): the later row
                // pairs overwrite those outputs with their own values, as the loop runs in order.
                for (; j < w2 && (long)rp * 2 * w + w + 2 * j + 32 <= x.Length && o + 16 <= outputs; j += 16, o += 16)
                    ForwardStep(ref Unsafe.Add(ref r0, 2 * j), ref Unsafe.Add(ref r1, 2 * j), ref Unsafe.Add(ref py, o), ref Unsafe.Add(ref pa, o));
                if (j >= w2)
                {
                    o -= j - w2;
                    continue;
                }
            }
            for (; j < w2; j++, o++)
            {
                float best = Unsafe.Add(ref r0, 2 * j);
                byte at = 0;
                float v = Unsafe.Add(ref r0, 2 * j + 1);
                if (v > best) { best = v; at = 1; }
                v = Unsafe.Add(ref r1, 2 * j);
                if (v > best) { best = v; at = 2; }
                v = Unsafe.Add(ref r1, 2 * j + 1);
                if (v > best) { best = v; at = 3; }
                Unsafe.Add(ref py, o) = best;
                Unsafe.Add(ref pa, o) = at;
            }
        }
    }

    /// <summary>Routes <paramref name="dy"/> to the maxima of the last forward: overwrites <paramref name="dx"/> (<c>[planes × H × W]</c>).</summary>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx, int planes)
    {
        if (planes <= 0 || planes > MaxPlanes) throw new ArgumentOutOfRangeException(nameof(planes));
        int outputs = planes * Height * Width / 4;
        if (dx.Length < planes * Height * Width || dy.Length < outputs) throw new ArgumentException("A span is too short.", nameof(dx));
        dx = dx[..(planes * Height * Width)];
        ref float pdy = ref MemoryMarshal.GetReference(dy);
        ref float pdx = ref MemoryMarshal.GetReference(dx);
        ref byte pa = ref MemoryMarshal.GetArrayDataReference(_argmax);
        int w = Width, w2 = Width / 2, rowPairs = planes * Height / 2;
        nint o = 0;
        for (int rp = 0; rp < rowPairs; rp++)
        {
            ref float r0 = ref Unsafe.Add(ref pdx, (nint)rp * 2 * w);
            ref float r1 = ref Unsafe.Add(ref r0, w);
            int j = 0;
            if (Avx512F.IsSupported && w2 <= 16)
            {
                // Writes may run past the row pair into the next one, which is written after it; never past the spans.
                for (; j < w2 && (long)rp * 2 * w + w + 2 * j + 32 <= dx.Length && o + 16 <= outputs; j += 16, o += 16)
                    BackwardStep(ref Unsafe.Add(ref pdy, o), ref Unsafe.Add(ref pa, o), ref Unsafe.Add(ref r0, 2 * j), ref Unsafe.Add(ref r1, 2 * j));
                if (j >= w2)
                {
                    o -= j - w2;
                    continue;
                }
            }
            for (; j < w2; j++, o++)
            {
                float g = Unsafe.Add(ref pdy, o);
                int at = Unsafe.Add(ref pa, o);
                Unsafe.Add(ref r0, 2 * j) = at == 0 ? g : 0f;
                Unsafe.Add(ref r0, 2 * j + 1) = at == 1 ? g : 0f;
                Unsafe.Add(ref r1, 2 * j) = at == 2 ? g : 0f;
                Unsafe.Add(ref r1, 2 * j + 1) = at == 3 ? g : 0f;
            }
        }
    }

    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    // The same comparisons as the scalar loop, lane-wise: strictly greater replaces, so the first maximum wins.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardStep(ref float r0, ref float r1, ref float y, ref byte arg)
    {
        Vector512<float> a0 = Vector512.LoadUnsafe(ref r0), b0 = Vector512.LoadUnsafe(ref r0, 16);
        Vector512<float> a1 = Vector512.LoadUnsafe(ref r1), b1 = Vector512.LoadUnsafe(ref r1, 16);
        Vector512<float> best = Avx512F.PermuteVar16x32x2(a0, Evens, b0);
        Vector512<int> at = Vector512<int>.Zero;
        Vector512<float> v = Avx512F.PermuteVar16x32x2(a0, Odds, b0);
        Vector512<float> m = Vector512.GreaterThan(v, best);
        best = Vector512.ConditionalSelect(m, v, best);
        at = Vector512.ConditionalSelect(m.AsInt32(), Vector512.Create(1), at);
        v = Avx512F.PermuteVar16x32x2(a1, Evens, b1);
        m = Vector512.GreaterThan(v, best);
        best = Vector512.ConditionalSelect(m, v, best);
        at = Vector512.ConditionalSelect(m.AsInt32(), Vector512.Create(2), at);
        v = Avx512F.PermuteVar16x32x2(a1, Odds, b1);
        m = Vector512.GreaterThan(v, best);
        best = Vector512.ConditionalSelect(m, v, best);
        at = Vector512.ConditionalSelect(m.AsInt32(), Vector512.Create(3), at);
        best.StoreUnsafe(ref y);
        Avx512F.ConvertToVector128Byte(at).StoreUnsafe(ref arg);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardStep(ref float dy, ref byte arg, ref float r0, ref float r1)
    {
        Vector512<float> g = Vector512.LoadUnsafe(ref dy);
        Vector512<int> at = Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref arg));
        Vector512<float> e0 = g & Vector512.Equals(at, Vector512<int>.Zero).AsSingle();
        Vector512<float> o0 = g & Vector512.Equals(at, Vector512.Create(1)).AsSingle();
        Vector512<float> e1 = g & Vector512.Equals(at, Vector512.Create(2)).AsSingle();
        Vector512<float> o1 = g & Vector512.Equals(at, Vector512.Create(3)).AsSingle();
        Avx512F.PermuteVar16x32x2(e0, InterleaveLow, o0).StoreUnsafe(ref r0);
        Avx512F.PermuteVar16x32x2(e0, InterleaveHigh, o0).StoreUnsafe(ref r0, 16);
        Avx512F.PermuteVar16x32x2(e1, InterleaveLow, o1).StoreUnsafe(ref r1);
        Avx512F.PermuteVar16x32x2(e1, InterleaveHigh, o1).StoreUnsafe(ref r1, 16);
    }
}
