using Span.Prune.Internal;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Span.Prune.Lab.Training;

/// <summary>SGD with momentum and weight decay in PyTorch's form (<c>torch.optim.SGD</c>, dampening 0, not Nesterov).</summary>
/// <remarks>
/// <para>Per element: <c>d = g + wd·w</c>; <c>v = μ·v + d</c>; <c>w = w − lr·v</c>. The velocity starts at 0, so the
/// first step has <c>v = d</c> exactly, as PyTorch's first-step <c>buf = d.clone()</c>. Weight decay applies to every
/// parameter handed in (PyTorch's default puts weights, biases, γ and β in one group).</para>
/// <para>Rounding follows ATen's vectorised kernels: <c>d = fma(w, wd, g)</c>, <c>v = (v·μ) + d</c>,
/// <c>w = fma(v, −lr, w)</c>, identically in the vector and scalar paths.</para>
/// </remarks>
public sealed class SgdMomentum
{
    private readonly float[] _velocity;

    /// <summary>An optimiser for <paramref name="length"/> parameters with zero velocity.</summary>
    public SgdMomentum(int length, float momentum = 0.9f, float weightDecay = 1e-4f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _velocity = new float[length];
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>wd.</summary>
    public float WeightDecay { get; }

    /// <summary>The momentum buffer v.</summary>
    public ReadOnlySpan<float> Velocity => _velocity;

    /// <summary>Sets v = 0 (fresh momentum).</summary>
    public void Reset() => Array.Clear(_velocity);

    /// <summary>One step over all parameters.</summary>
    /// <exception cref="ArgumentException">A length differs from the optimiser's.</exception>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate)
    {
        int n = _velocity.Length;
        if (parameters.Length != n || gradients.Length != n) throw new ArgumentException($"Expected {n} parameters and gradients.", nameof(parameters));
        Update(parameters, gradients, _velocity, learningRate);
    }

    /// <summary>
    /// The step of <see cref="Step"/> over parameters <c>[start, start + length)</c> only (a fused training step updates
    /// each layer's rows as soon as their gradient is ready). Every element is updated by the same formula, so steps over
    /// disjoint ranges that cover all parameters give the bits of one <see cref="Step"/>.
    /// </summary>
    internal void StepRange(Span<float> parameters, ReadOnlySpan<float> gradients, float learningRate, int start, int length)
    {
        int n = _velocity.Length;
        if (parameters.Length != n || gradients.Length != n) throw new ArgumentException($"Expected {n} parameters and gradients.", nameof(parameters));
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (start > n - length) throw new ArgumentOutOfRangeException(nameof(length));
        Update(parameters.Slice(start, length), gradients.Slice(start, length), _velocity.AsSpan(start, length), learningRate);
    }

    private void Update(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> velocity, float learningRate)
    {
        int n = velocity.Length;
        ref float w = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float v = ref MemoryMarshal.GetReference(velocity);
        float mu = Momentum, wd = WeightDecay, step = -learningRate;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vmu = Vector512.Create(mu), vwd = Vector512.Create(wd), vstep = Vector512.Create(step);
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> wi = Vector512.LoadUnsafe(ref w, (nuint)i);
                Vector512<float> d = MultiplyAdd.Of(wi, vwd, Vector512.LoadUnsafe(ref g, (nuint)i));
                Vector512<float> vi = Vector512.LoadUnsafe(ref v, (nuint)i) * vmu + d;
                vi.StoreUnsafe(ref v, (nuint)i);
                MultiplyAdd.Of(vi, vstep, wi).StoreUnsafe(ref w, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vmu = Vector256.Create(mu), vwd = Vector256.Create(wd), vstep = Vector256.Create(step);
            for (; i + 8 <= n; i += 8)
            {
                Vector256<float> wi = Vector256.LoadUnsafe(ref w, (nuint)i);
                Vector256<float> d = MultiplyAdd.Of(wi, vwd, Vector256.LoadUnsafe(ref g, (nuint)i));
                Vector256<float> vi = Vector256.LoadUnsafe(ref v, (nuint)i) * vmu + d;
                vi.StoreUnsafe(ref v, (nuint)i);
                MultiplyAdd.Of(vi, vstep, wi).StoreUnsafe(ref w, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float d = MultiplyAdd.Of(parameters[i], wd, gradients[i]);
            float vi = velocity[i] * mu + d;
            velocity[i] = vi;
            parameters[i] = MultiplyAdd.Of(vi, step, parameters[i]);
        }
    }
}
