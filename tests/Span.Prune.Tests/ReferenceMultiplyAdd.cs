using System.Runtime.Intrinsics.Arm;
using X86Fma = System.Runtime.Intrinsics.X86.Fma;

namespace Span.Prune.Tests;

/// <summary>
/// The scalar reference for kernels that promise bit-exact <c>a·b + c</c>: one rounding where the CPU has fused
/// multiply-add, two where it has not (the library's rule, restated here from the hardware flags rather than read
/// from the library, so a kernel that took the wrong path on either kind of CPU fails).
/// </summary>
internal static class ReferenceMultiplyAdd
{
    public static bool IsFused => X86Fma.IsSupported || AdvSimd.IsSupported;

    public static float Of(float a, float b, float c) => IsFused ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
}
