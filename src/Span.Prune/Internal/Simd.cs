using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Internal;

/// <summary>
/// One SIMD width as a type argument. The matrix-multiply kernels are written once against this interface and
/// instantiated with <see cref="Simd512"/>, <see cref="Simd256"/>, <see cref="Simd128"/> or <see cref="SimdScalar"/>;
/// because every implementation is a struct, the JIT (and NativeAOT) compiles one specialised copy per width with
/// the static calls inlined, so the kernels keep their accumulators in registers exactly as hand-written code would.
/// </summary>
/// <remarks>
/// <see cref="Fma"/> is <see cref="MultiplyAdd"/>, one path per process (fused where the CPU fuses): a kernel gives the same bits at every tier and on every
/// thread, which is what lets the multi-threaded kernels promise results identical to the single-threaded ones.
/// </remarks>
internal interface ISimd<TV> where TV : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    static abstract TV Zero { get; }

    static abstract TV Load(ref float source);

    static abstract void Store(TV value, ref float destination);

    static abstract TV Broadcast(float value);

    /// <summary><c>a·b + c</c> with a single rounding.</summary>
    static abstract TV Fma(TV a, TV b, TV c);

    static abstract TV Add(TV a, TV b);

    /// <summary>Horizontal sum in a fixed order.</summary>
    static abstract float Sum(TV value);
}

internal readonly struct Simd512 : ISimd<Vector512<float>>
{
    public static int Width => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => MultiplyAdd.Of(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
}

internal readonly struct Simd256 : ISimd<Vector256<float>>
{
    public static int Width => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => MultiplyAdd.Of(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
}

internal readonly struct Simd128 : ISimd<Vector128<float>>
{
    public static int Width => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Broadcast(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> c) => MultiplyAdd.Of(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
}

internal readonly struct SimdScalar : ISimd<float>
{
    public static int Width => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float source) => source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, ref float destination) => destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Broadcast(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Fma(float a, float b, float c) => MultiplyAdd.Of(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float value) => value;
}

/// <summary>Which <see cref="ISimd{TV}"/> width the kernels use on this machine (decided once by the JIT).</summary>
internal static class SimdLevel
{
    public static bool Has512 => Vector512.IsHardwareAccelerated;
    public static bool Has256 => Vector256.IsHardwareAccelerated;
    public static bool Has128 => Vector128.IsHardwareAccelerated;
}
