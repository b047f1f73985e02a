
namespace Span.Prune;

/// <summary>
/// One-call pruning: score → exact-k select → apply the mask in place. Each method is the composition of the
/// public <see cref="Scoring"/>, <see cref="Selection"/> and <see cref="Masking"/> operations, with working memory
/// from the shared pool (<c>SpanOwner&lt;T&gt;</c>; zero managed allocations in steady state).
/// </summary>
/// <remarks>
/// Counting follows <c>torch.nn.utils.prune</c>: a sparsity <c>s</c> prunes exactly <c>round-half-even(s·units)</c>
/// units; ties at the threshold are pruned lowest index first. NaN or ±∞ weights or statistics throw
/// <see cref="ArgumentException"/> before anything is written, and so does an empty tensor: asking to prune nothing
/// is a caller bug, not a no-op. (The lower-level <see cref="Scoring"/> and <see cref="Selection"/> kernels accept
/// empty spans, as TensorPrimitives does.)
/// </remarks>
public static partial class Pruning
{
}
