// Prunes a small weight matrix, stores it as CSR, multiplies, and checks the result against the exact answer and a
// naive dense product. Exit code 1 on any mismatch. Small integers keep every product exact in float.
using Span.Prune;
using Span.Prune.Sparse;

const int rows = 3, cols = 4, batch = 2;
float[] w = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12];
PruneReport report = Pruning.Magnitude(w, sparsity: 0.5);              // the six smallest |w| become 0
float[] prunedExpected = [0, 0, 0, 0, 0, 0, 7, -8, 9, -10, 11, -12];

CsrMatrix csr = CsrMatrix.FromDense(w, rows, cols);
float[] x = [1, 2, 3, 4, 5, 6, 7, 8];                                  // [cols × batch], row-major
float[] y = new float[rows * batch];
Array.Fill(y, float.NaN);
MatMul.Multiply(csr, x, y, batch);                                     // y = W · x

float[] dense = new float[rows * batch];
for (int r = 0; r < rows; r++)
    for (int b = 0; b < batch; b++)
        for (int k = 0; k < cols; k++)
            dense[r * batch + b] += w[r * cols + k] * x[k * batch + b];
float[] yExpected = [0, 0, -21, -22, -50, -52];

Console.WriteLine($"pruned {report.PrunedElements} of {report.ElementCount}: [{string.Join(", ", w)}]");
Console.WriteLine($"csr nonzeros {csr.NonZeroCount}; y = [{string.Join(", ", y)}]");
bool ok = w.AsSpan().SequenceEqual(prunedExpected) && report.PrunedElements == 6 && csr.NonZeroCount == 6
    && y.AsSpan().SequenceEqual(yExpected) && y.AsSpan().SequenceEqual(dense);
Console.WriteLine(ok ? "consumer: OK" : "consumer: MISMATCH");
return ok ? 0 : 1;
