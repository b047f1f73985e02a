using System.Numerics.Tensors;
using Span.Prune.Lab.Training.Kernels;
using Span.Prune.Lab.Training.Layers;

namespace Span.Prune.Lab.Training;

// The fused training step of the mlp: the same kernels, the same operands and the same formulas as Forward, ComputeLoss,
// Backward and SgdMomentum.Step, regrouped into six phases that a WorkerTeam runs on all threads:
//   1. input   x/255 of the batch's images in both layouts (image-major Xᵀ for dW1, feature-major X for fc1), by pixels;
//   2. fc1     h1 = ReLU(W1·X + b1), by output rows;
//   3. fc2     h2 = ReLU(W2·h1 + b2), by output rows;
//      (fc3's logits, on the calling thread)
//   4. head    softmax cross-entropy by halves of the batch (one loss term per image, summed in order afterwards), and
//              meanwhile the transposes h1ᵀ, h2ᵀ, W2ᵀ, W3ᵀ that the backward GEMMs need (the weights are the forward's);
//      (the loss, fc3's backward and its optimiser step, on the calling thread)
//   5. fc2 ←   dh1 = (W2ᵀ·dh2) ⊙ [h1 > 0] by rows of dh1, and dW2, db2 and the step of W2, b2 by rows of W2;
//   6. fc1 ←   dW1, db1 and the step of W1, b1, by rows of W1 (fc1's input gradient is not needed).
// Every GEMM is the core's single-threaded MatMul on a block of output rows; each output element is one fixed chain
// of fused multiply-adds whatever the row block, the optimiser and the loss are per element, and the loss terms are summed
// in the unfused order, so the bits equal the unfused path's for any thread count and any chunk-to-thread assignment
// (tests: MlpFusedStepTests). Before, only the GEMMs ran on two threads (each one a thread-pool round trip), and the glue
// between them (gather, conversion, transposes, loss, the optimiser), a fifth of a step, ran on one.
public sealed partial class MlpNetwork
{
    private const int RowAlign = 6; // the core GEMM's micro-kernel height: row blocks of whole micro-tiles

    private FusedStep? _fused;

    /// <summary>Test and benchmark hook: false makes the trainer take the unfused path (forward, loss, backward, step).</summary>
    internal bool FuseTrainingStep { get; set; } = true;

    internal override bool CanFuseTrainingStep =>
        FuseTrainingStep && _fc1.ForwardMultiply is null && _fc2.ForwardMultiply is null && _fc3.ForwardMultiply is null;

    internal override unsafe double TrainStep(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> images, ReadOnlySpan<byte> labels,
        SgdMomentum optimizer, float learningRate, WorkerTeam? team)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        int batch = images.Length;
        Check.Batch(batch, MaxBatch);
        if (labels.Length < batch) throw new ArgumentException("Labels are shorter than the batch.", nameof(labels));
        if (optimizer.Velocity.Length != Parameters.Length) throw new ArgumentException("The optimiser belongs to another network.", nameof(optimizer));
        int count = pixels.Length / InputSize;
        foreach (int image in images)
            if ((uint)image >= (uint)count) throw new ArgumentOutOfRangeException(nameof(images), $"Image {image} is outside the {count} images.");
        if (!CanFuseTrainingStep) throw new InvalidOperationException("The fused step is off, or a layer has a forward multiply override.");

        FusedStep step = _fused ??= new FusedStep(this);
        LastBatch = batch;
        fixed (byte* p = pixels)
        fixed (int* i = images)
        fixed (byte* l = labels)
        {
            step.Begin(p, i, l, batch, optimizer, learningRate);
            try
            {
                Run(team, step.Input, FusedStep.InputChunks);
                Run(team, step.Hidden1, FusedStep.Hidden1Chunks);
                Run(team, step.Hidden2, FusedStep.Hidden2Chunks);
                step.RunLogits();
                Run(team, step.Head, FusedStep.HeadChunks);
                step.RunHeadBackward();
                Run(team, step.Back2, FusedStep.Back2Chunks);
                Run(team, step.Back1, FusedStep.Back1Chunks);
            }
            finally
            {
                step.End();
            }
        }
        return step.Loss;
    }

    private static void Run(WorkerTeam? team, TeamPhase phase, int chunks)
    {
        if (team is not null)
        {
            team.Run(phase, chunks);
            return;
        }
        for (int c = 0; c < chunks; c++) phase.Run(c);
    }

    /// <summary>First row of block <paramref name="block"/> of <paramref name="blocks"/> over <paramref name="rows"/> rows, on whole micro-tiles.</summary>
    private static int RowBoundary(int block, int blocks, int rows) =>
        block >= blocks ? rows : rows * block / blocks / RowAlign * RowAlign;

    /// <summary>The state of one fused step: pinned inputs, scratch, and the phases that read them.</summary>
    private sealed unsafe class FusedStep
    {
        // fc1: 6 blocks of 48–54 rows, so two threads end together whichever claims which; fc2: 24–28 rows.
        public const int InputChunks = 4, Hidden1Chunks = 6, Hidden2Chunks = 4, HeadChunks = 4, Back2Chunks = 4, Back1Chunks = 6;

        private readonly MlpNetwork _n;
        private readonly int _h1, _h2;
        private readonly int _w1, _b1, _w2, _b2, _w3, _b3; // offsets of the tensors in the flat parameter array
        private readonly float[] _h1T, _h2T, _w2T, _w3T, _logitGradient;
        private readonly double[] _lossTerms;
        private byte* _pixels, _labels;
        private int* _images;
        private int _batch;
        private SgdMomentum? _optimizer;
        private float _learningRate;

        public FusedStep(MlpNetwork network)
        {
            _n = network;
            _h1 = network.Hidden1;
            _h2 = network.Hidden2;
            int b = network.MaxBatch;
            _w1 = 0;
            _b1 = _w1 + _h1 * InputSize;
            _w2 = _b1 + _h1;
            _b2 = _w2 + _h2 * _h1;
            _w3 = _b2 + _h2;
            _b3 = _w3 + Classes * _h2;
            _h1T = new float[b * _h1];
            _h2T = new float[b * _h2];
            _w2T = new float[_h1 * _h2];
            _w3T = new float[_h2 * Classes];
            _logitGradient = new float[Classes * b];
            _lossTerms = new double[b];
            Input = new Phase(this, 0);
            Hidden1 = new Phase(this, 1);
            Hidden2 = new Phase(this, 2);
            Head = new Phase(this, 3);
            Back2 = new Phase(this, 4);
            Back1 = new Phase(this, 5);
        }

        public TeamPhase Input { get; }
        public TeamPhase Hidden1 { get; }
        public TeamPhase Hidden2 { get; }
        public TeamPhase Head { get; }
        public TeamPhase Back2 { get; }
        public TeamPhase Back1 { get; }

        public double Loss { get; private set; }

        public void Begin(byte* pixels, int* images, byte* labels, int batch, SgdMomentum optimizer, float learningRate)
        {
            _pixels = pixels;
            _images = images;
            _labels = labels;
            _batch = batch;
            _optimizer = optimizer;
            _learningRate = learningRate;
        }

        public void End()
        {
            _pixels = _labels = null;
            _images = null;
            _optimizer = null;
        }

        private sealed class Phase(FusedStep step, int which) : TeamPhase
        {
            public override void Run(int chunk)
            {
                switch (which)
                {
                    case 0: step.RunInput(chunk); break;
                    case 1: step.RunHidden(chunk, Hidden1Chunks, step._n._fc1, step._n._input, step._n._h1, step._w1, step._b1); break;
                    case 2: step.RunHidden(chunk, Hidden2Chunks, step._n._fc2, step._n._h1, step._n._h2, step._w2, step._b2); break;
                    case 3: step.RunHead(chunk); break;
                    case 4: step.RunBack2(chunk); break;
                    default: step.RunBack1(chunk); break;
                }
            }
        }

        private Span<float> Parameters => _n.Parameters.Span;
        private Span<float> Gradients => _n.Gradients.Span;

        /// <summary>Pixels of chunk <paramref name="chunk"/> for every image: x/255 into Xᵀ (ReferenceNetwork.Forward's conversion) and into X (the same values, see PixelColumns).</summary>
        private void RunInput(int chunk)
        {
            int batch = _batch;
            int p0 = InputSize / 4 * chunk / InputChunks * 4, p1 = chunk == InputChunks - 1 ? InputSize : InputSize / 4 * (chunk + 1) / InputChunks * 4;
            Span<float> xT = _n._inputT.AsSpan(0, batch * InputSize);
            for (int i = 0; i < batch; i++)
            {
                var source = new ReadOnlySpan<byte>(_pixels + (nint)_images[i] * InputSize + p0, p1 - p0);
                Span<float> row = xT.Slice(i * InputSize + p0, p1 - p0);
                TensorPrimitives.ConvertTruncating<byte, float>(source, row);
                TensorPrimitives.Divide(row, 255f, row);
            }
            fixed (float* x = _n._input) PixelColumns.Write(_pixels, _images, batch, p0, p1, x);
        }

        /// <summary>Rows of <c>h = ReLU(W·x + b)</c> (Linear.Forward, then Relu.Forward, on a row block).</summary>
        private void RunHidden(int chunk, int chunks, Linear layer, float[] input, float[] output, int weightOffset, int biasOffset)
        {
            int batch = _batch, inF = layer.InFeatures, outF = layer.OutFeatures;
            int r0 = RowBoundary(chunk, chunks, outF), r1 = RowBoundary(chunk + 1, chunks, outF);
            if (r1 == r0) return;
            Span<float> y = output.AsSpan(r0 * batch, (r1 - r0) * batch);
            Gemm.Multiply(Parameters.Slice(weightOffset + r0 * inF, (r1 - r0) * inF), r1 - r0, inF, input.AsSpan(0, inF * batch), y, batch, 1);
            AddBias(y, Parameters.Slice(biasOffset + r0, r1 - r0), batch);
            Relu.Forward(y, y);
        }

        private static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int batch)
        {
            for (int r = 0; r < bias.Length; r++)
            {
                Span<float> row = y.Slice(r * batch, batch);
                TensorPrimitives.Add(row, bias[r], row);
            }
        }

        /// <summary>Bias gradient of a row block: <c>db[r] = Σ_b dY[r, b]</c> (Linear's sum).</summary>
        private static void BiasGradient(ReadOnlySpan<float> dy, Span<float> db, int batch)
        {
            for (int r = 0; r < db.Length; r++) db[r] = TensorPrimitives.Sum(dy.Slice(r * batch, batch));
        }

        /// <summary>fc3 (10 rows: one thread; what follows needs all of it).</summary>
        public void RunLogits()
        {
            int batch = _batch;
            Span<float> logits = _n._logits.AsSpan(0, Classes * batch);
            Gemm.Multiply(Parameters.Slice(_w3, Classes * _h2), Classes, _h2, _n._h2.AsSpan(0, _h2 * batch), logits, batch, 1);
            AddBias(logits, Parameters.Slice(_b3, Classes), batch);
        }

        /// <summary>Chunks 0–1: halves of the batch through softmax cross-entropy. Chunks 2–3: the transposes fc3's and
        /// fc2's backward passes need (h2ᵀ, W3ᵀ, h1ᵀ, W2ᵀ; the weights are still the forward's here).</summary>
        private void RunHead(int chunk)
        {
            int batch = _batch, h1 = _h1, h2 = _h2;
            switch (chunk)
            {
                case 0:
                case 1:
                    int b0 = batch * chunk / 2, b1 = batch * (chunk + 1) / 2;
                    SoftmaxCrossEntropy.ComputeColumns(_n._logits.AsSpan(0, Classes * batch), new ReadOnlySpan<byte>(_labels, batch), Classes, batch,
                        b0, b1, _logitGradient.AsSpan(0, Classes * batch), _lossTerms.AsSpan(b0, b1 - b0));
                    break;
                case 2:
                    Transpose.Run(_n._h1.AsSpan(0, h1 * batch), h1, batch, _h1T);
                    Transpose.Run(_n._h2.AsSpan(0, h2 * batch), h2, batch, _h2T);
                    break;
                default:
                    Transpose.Run(Parameters.Slice(_w2, h2 * h1), h2, h1, _w2T);
                    Transpose.Run(Parameters.Slice(_w3, Classes * h2), Classes, h2, _w3T);
                    break;
            }
        }

        /// <summary>The loss (the terms summed in column order, as SoftmaxCrossEntropy.Compute), then fc3's backward
        /// (Linear.Backward, then Relu.Backward on h2) and its step: small, on one thread.</summary>
        public void RunHeadBackward()
        {
            int batch = _batch, h2 = _h2;
            double loss = 0;
            foreach (double term in _lossTerms.AsSpan(0, batch)) loss += term;
            Loss = loss / batch;
            Span<float> p = Parameters, g = Gradients;
            Span<float> dz = _logitGradient.AsSpan(0, Classes * batch);
            Span<float> hidden2 = _n._h2.AsSpan(0, h2 * batch), dh2 = _n._dh2.AsSpan(0, h2 * batch);
            BiasGradient(dz, g.Slice(_b3, Classes), batch);
            Gemm.Multiply(dz, Classes, batch, _h2T.AsSpan(0, batch * h2), g.Slice(_w3, Classes * h2), h2, 1);
            Gemm.Multiply(_w3T, h2, Classes, dz, dh2, batch, 1);
            Relu.Backward(hidden2, dh2, dh2);
            _optimizer!.StepRange(p, g, _learningRate, _w3, _b3 + Classes - _w3);
        }

        /// <summary>Chunks 0–1: rows of dh1 = (W2ᵀ·dh2) ⊙ [h1 &gt; 0]. Chunks 2–3: rows of dW2, db2 and their step.</summary>
        private void RunBack2(int chunk)
        {
            int batch = _batch, h1 = _h1, h2 = _h2;
            ReadOnlySpan<float> dh2 = _n._dh2.AsSpan(0, h2 * batch);
            if (chunk < 2)
            {
                int r0 = RowBoundary(chunk, 2, h1), r1 = RowBoundary(chunk + 1, 2, h1);
                if (r1 == r0) return;
                Span<float> dh1 = _n._dh1.AsSpan(r0 * batch, (r1 - r0) * batch);
                Gemm.Multiply(_w2T.AsSpan(r0 * h2, (r1 - r0) * h2), r1 - r0, h2, dh2, dh1, batch, 1);
                Relu.Backward(_n._h1.AsSpan(r0 * batch, (r1 - r0) * batch), dh1, dh1);
                return;
            }
            int o0 = RowBoundary(chunk - 2, 2, h2), o1 = RowBoundary(chunk - 1, 2, h2);
            StepRows(dh2, _h1T.AsSpan(0, batch * h1), h1, o0, o1, _w2, _b2);
        }

        /// <summary>Rows of dW1, db1 and their step.</summary>
        private void RunBack1(int chunk)
        {
            int h1 = _h1;
            int r0 = RowBoundary(chunk, Back1Chunks, h1), r1 = RowBoundary(chunk + 1, Back1Chunks, h1);
            StepRows(_n._dh1.AsSpan(0, h1 * _batch), _n._inputT.AsSpan(0, _batch * InputSize), InputSize, r0, r1, _w1, _b1);
        }

        /// <summary>
        /// Rows <c>[r0, r1)</c> of a layer's gradients, <c>db = Σ_b dY</c> and <c>dW = dY·Xᵀ</c>
        /// (Linear.BackwardTransposedInput on a row block), then the optimiser on those rows of W and b.
        /// </summary>
        private void StepRows(ReadOnlySpan<float> dy, ReadOnlySpan<float> xT, int inF, int r0, int r1, int weightOffset, int biasOffset)
        {
            if (r1 == r0) return;
            int batch = _batch;
            Span<float> p = Parameters, g = Gradients;
            ReadOnlySpan<float> dyRows = dy.Slice(r0 * batch, (r1 - r0) * batch);
            BiasGradient(dyRows, g.Slice(biasOffset + r0, r1 - r0), batch);
            Gemm.Multiply(dyRows, r1 - r0, batch, xT, g.Slice(weightOffset + r0 * inF, (r1 - r0) * inF), inF, 1);
            _optimizer!.StepRange(p, g, _learningRate, weightOffset + r0 * inF, (r1 - r0) * inF);
            _optimizer.StepRange(p, g, _learningRate, biasOffset + r0, r1 - r0);
        }
    }
}
