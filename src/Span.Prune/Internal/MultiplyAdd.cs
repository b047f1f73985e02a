using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace Span.Prune.Internal;

/// <summary>
/// <c>a·b + c</c> for every kernel of the library, at every width: fused (one rounding) where the CPU fuses, a separate
/// multiply and add where it does not.
/// </summary>
/// <remarks>
/// <para>Why not always fused: on an x86 CPU without FMA3 (and under <c>DOTNET_EnableAVX2=0</c>, which turns FMA off
/// with AVX2 in .NET 10) <c>Vector128.FusedMultiplyAdd</c> and <c>MathF.FusedMultiplyAdd</c> are emulated in software,
/// 7–30× slower than a multiply and an add. The choice is one JIT-time constant for the whole process, so every
/// width and every thread still takes the same path, and a kernel's bits still do not depend on the tier or the thread
/// split on a given machine. What changes is only across machines: a CPU without FMA rounds twice.</para>
/// </remarks>
internal static class MultiplyAdd
{
    /// <summary>True when the hardware fuses multiply-add (x86 FMA3, every Arm64 CPU).</summary>
    public static bool IsFused
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => X86Fma.IsSupported || AdvSimd.IsSupported;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Of(float a, float b, float c) => IsFused ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Of(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
        IsFused ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Of(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        IsFused ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        IsFused ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c;
}
