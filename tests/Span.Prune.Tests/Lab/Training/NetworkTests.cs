using Span.Prune.Lab.Training;
using Span.Prune.Sparse;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>Whole networks: finite differences through every layer, names and shapes, initialisation, activation views, forward overrides.</summary>
public class NetworkTests
{
    [Fact]
    public void TinyMlp_GradientsMatchFiniteDifferences()
    {
        var net = new MlpNetwork(maxBatch: 4, hidden1: 8, hidden2: 6);
        net.Initialize(7);
        CheckWholeNetwork(net, batch: 3);
    }

    [Fact]
    public void TinyCnn_GradientsMatchFiniteDifferences()
    {
        var net = new CnnNetwork(maxBatch: 2, channels1: 2, channels2: 3);
        net.Initialize(8);
        // Non-trivial BatchNorm parameters, so that γ and β gradients are not at their initial symmetry.
        TestData.Uniform(2, 81, 0.5f).Select(v => v + 1f).ToArray().CopyTo(net.Tensor("bn1.weight").Values);
        TestData.Uniform(3, 82, 0.5f).CopyTo(net.Tensor("bn2.bias").Values);
        CheckWholeNetwork(net, batch: 2);
    }

    private static void CheckWholeNetwork(ReferenceNetwork net, int batch)
    {
        float[] images = TestData.Uniform(batch * ReferenceNetwork.InputSize, 9).Select(v => (v + 1f) / 2f).ToArray();
        byte[] labels = Enumerable.Range(0, batch).Select(i => (byte)(i * 3 % 10)).ToArray();
        double Objective()
        {
            net.Forward(images, batch, training: true);
            return net.ComputeLoss(labels);
        }
        Objective();
        net.Backward();
        float[] gradients = net.Gradients.ToArray();
        foreach (var t in net.Tensors.Where(t => t.IsTrainable))
        {
            ReadOnlySpan<float> g = gradients.AsSpan(Offset(net, t), t.Length);
            GradientCheck.AssertAnyStep(t.Name, t.Values, g, Objective, [1e-2f, 1e-3f, 1e-4f], 1.5e-7, 1e-2, GradientCheck.Spread(t.Length, 24));
        }
    }

    private static int Offset(ReferenceNetwork net, NetworkTensor t)
    {
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<float>(t.Gradient, out var seg));
        return seg.Offset;
    }

    [Fact]
    public void Tensors_HaveStateDictNamesAndShapes()
    {
        var mlp = new MlpNetwork(1);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"], mlp.Tensors.Select(t => t.Name));
        Assert.Equal([300, 784], mlp.Tensor("fc1.weight").Shape);
        Assert.Equal([10, 100], mlp.Tensor("fc3.weight").Shape);
        Assert.Equal(266_610, mlp.Parameters.Length);
        Assert.Equal(0, mlp.Buffers.Length);

        var cnn = new CnnNetwork(1);
        Assert.Equal(
            ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
             "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "fc.weight", "fc.bias"],
            cnn.Tensors.Select(t => t.Name));
        Assert.Equal([16, 1, 3, 3], cnn.Tensor("conv1.weight").Shape);
        Assert.Equal([32, 16, 3, 3], cnn.Tensor("conv2.weight").Shape);
        Assert.Equal([10, 1568], cnn.Tensor("fc.weight").Shape);
        Assert.False(cnn.Tensor("bn2.running_var").IsTrainable);
        Assert.True(cnn.Tensor("bn2.running_var").Gradient.IsEmpty);
        Assert.Equal(TensorRole.BatchNormScale, cnn.Tensor("bn1.weight").Role);
        Assert.Equal(160 + 32 + 4640 + 64 + 15_690, cnn.Parameters.Length);
        Assert.Equal(96, cnn.Buffers.Length);
        foreach (var t in cnn.Tensors) Assert.Equal(t.Shape.Aggregate(1, (a, d) => a * d), t.Length);

        Assert.Equal(["conv1", "conv2", "fc"], cnn.Layers.Select(l => l.Name));
        Assert.Same(cnn.Tensor("bn2.bias"), cnn.Layers[1].BatchNormShift);
        Assert.Equal(WeightShape.Conv2D(32, 16, 3, 3), cnn.Layers[1].Shape);
        Assert.Null(cnn.Layers[2].BatchNormScale);
    }

    [Fact]
    public void Initialize_IsWithinPyTorchBoundsAndDeterministic()
    {
        foreach (var arch in new[] { ReferenceArchitecture.Mlp, ReferenceArchitecture.Cnn })
        {
            var a = ReferenceNetwork.Create(arch, 2, seed: 42);
            var b = ReferenceNetwork.Create(arch, 2, seed: 42);
            var c = ReferenceNetwork.Create(arch, 2, seed: 43);
            Assert.Equal(a.Parameters.ToArray(), b.Parameters.ToArray());
            Assert.NotEqual(a.Parameters.ToArray(), c.Parameters.ToArray());
            foreach (var layer in a.Layers)
            {
                float bound = 1f / MathF.Sqrt(layer.Shape.RowLength);
                foreach (var t in new[] { layer.Weight, layer.Bias })
                {
                    ReadOnlySpan<float> v = t.Values.Span;
                    float max = 0;
                    double sum = 0;
                    foreach (float x in v)
                    {
                        Assert.InRange(x, -bound, bound);
                        max = Math.Max(max, Math.Abs(x));
                        sum += x;
                    }
                    if (t.Length >= 1000)
                    {
                        Assert.True(max > 0.99f * bound, $"{t.Name}: max {max} of bound {bound}");
                        Assert.InRange(sum / t.Length, -0.05 * bound, 0.05 * bound);
                    }
                }
                if (layer.BatchNormScale is not null)
                {
                    Assert.All(layer.BatchNormScale.Values.ToArray(), x => Assert.Equal(1f, x));
                    Assert.All(layer.BatchNormShift!.Values.ToArray(), x => Assert.Equal(0f, x));
                    Assert.All(layer.RunningMean!.Values.ToArray(), x => Assert.Equal(0f, x));
                    Assert.All(layer.RunningVariance!.Values.ToArray(), x => Assert.Equal(1f, x));
                }
            }
        }
    }

    [Fact]
    public void SeededRandom_IsSplitMix64()
    {
        // Reference outputs of SplitMix64 seeded with 0 (as java.util.SplittableRandom / the published C code).
        var r = new SeededRandom(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, r.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, r.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, r.NextUInt64());
        var s = new SeededRandom(5);
        int[] counts = new int[3];
        for (int i = 0; i < 3000; i++) counts[s.NextInt(3)]++;
        Assert.All(counts, n => Assert.InRange(n, 900, 1100));
        int[] perm = Enumerable.Range(0, 50).ToArray();
        new SeededRandom(1).Shuffle(perm);
        Assert.Equal(Enumerable.Range(0, 50), perm.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), perm);
    }

    [Fact]
    public void ActivationViews_FollowTheDocumentedLayouts()
    {
        var cnn = (CnnNetwork)ReferenceNetwork.Create(ReferenceArchitecture.Cnn, 3, seed: 3);
        byte[] images = Synthetic.Images(3, seed: 4).Pixels;
        cnn.Forward(images, 3, training: false);
        var input = cnn.LayerInput(0);
        Assert.Equal((1, 3, 784), (input.Features, input.Batch, input.Spatial));
        Assert.Equal(images[784 + 300] / 255f, input.Values[1 * 784 + 300]);

        // fc input feature c·49 + s of image b is the 2×2 maximum of conv2's post-ReLU output at channel c.
        var z2 = cnn.LayerOutput(1);
        var f = cnn.LayerInput(2);
        Assert.Equal((32, 3, 196), (z2.Features, z2.Batch, z2.Spatial));
        Assert.Equal((1568, 3, 1), (f.Features, f.Batch, f.Spatial));
        for (int c = 0; c < 32; c += 5)
            for (int b = 0; b < 3; b++)
                for (int s = 0; s < 49; s += 6)
                {
                    int py = s / 7, px = s % 7;
                    ReadOnlySpan<float> plane = z2.Values.Slice((c * 3 + b) * 196, 196);
                    float m = Math.Max(Math.Max(plane[2 * py * 14 + 2 * px], plane[2 * py * 14 + 2 * px + 1]),
                        Math.Max(plane[(2 * py + 1) * 14 + 2 * px], plane[(2 * py + 1) * 14 + 2 * px + 1]));
                    Assert.Equal(m, f.Values[(c * 49 + s) * 3 + b]);
                }
        foreach (float v in cnn.LayerOutput(0).Values) Assert.True(v >= 0f);

        // The logits are fc.weight · f + fc.bias.
        ReadOnlySpan<float> w = cnn.Tensor("fc.weight").Values.Span, bias = cnn.Tensor("fc.bias").Values.Span;
        for (int j = 0; j < 10; j++)
            for (int b = 0; b < 3; b++)
            {
                double s = bias[j];
                for (int i = 0; i < 1568; i++) s += (double)w[j * 1568 + i] * f.Values[i * 3 + b];
                Assert.Equal(s, cnn.Logits[j * 3 + b], 1e-4);
            }

        var mlp = (MlpNetwork)ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 3, seed: 3);
        mlp.Forward(images, 2, training: false);
        var x = mlp.LayerInput(0);
        Assert.Equal((784, 2, 1), (x.Features, x.Batch, x.Spatial));
        Assert.Equal(images[784 + 300] / 255f, x.Feature(300)[1]);
        Assert.Equal(300, mlp.LayerOutput(0).Features);
        foreach (float v in mlp.LayerOutput(1).Values) Assert.True(v >= 0f);
    }

    [Fact]
    public void Predict_BreaksTiesTowardsTheLowestClass()
    {
        var mlp = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 8, seed: 1);
        mlp.Tensor("fc3.weight").Values.Span.Clear();
        mlp.Tensor("fc3.bias").Values.Span.Clear();
        mlp.Tensor("fc3.bias").Values.Span[4] = 1f;
        mlp.Tensor("fc3.bias").Values.Span[7] = 1f;
        var data = Synthetic.Images(20, seed: 2);
        byte[] predictions = new byte[20];
        mlp.Predict(data.Pixels, 20, predictions, batch: 8);
        Assert.All(predictions, p => Assert.Equal(4, p));
    }

    [Fact]
    public void ForwardMultiply_SparseLayerGivesTheDenseAnswer()
    {
        var mlp = ReferenceNetwork.Create(ReferenceArchitecture.Mlp, 32, seed: 5);
        var cnn = ReferenceNetwork.Create(ReferenceArchitecture.Cnn, 32, seed: 5);
        var data = Synthetic.Images(32, seed: 6);
        foreach (var net in new[] { mlp, cnn })
        {
            // Prune half of every weight so that a sparse format is meaningful.
            foreach (var layer in net.Layers)
            {
                Span<float> w = layer.Weight.Values.Span;
                for (int i = 0; i < w.Length; i += 2) w[i] = 0f;
            }
            foreach (int batch in new[] { 1, 32 })
            {
                net.Forward(data.Pixels, batch, training: false);
                float[] dense = net.Logits.ToArray();
                for (int l = 0; l < net.Layers.Count; l++)
                {
                    var layer = net.Layers[l];
                    var sparse = SparseLayer.Create(layer.Weight.Values.Span, layer.Shape.Out, layer.Shape.RowLength, SparseLayout.Csr);
                    net.SetForwardMultiply(l, new SparseLayerMultiply(sparse));
                }
                net.Forward(data.Pixels, batch, training: false);
                float[] viaSparse = net.Logits.ToArray();
                for (int l = 0; l < net.Layers.Count; l++) net.SetForwardMultiply(l, null);
                for (int i = 0; i < dense.Length; i++) Assert.Equal(dense[i], viaSparse[i], 1e-4);
            }
        }
    }
}

/// <summary>
/// A training step allocates nothing once warm. In the process-wide collection: the cnn's im2col GEMMs take scratch
/// larger than 64 KiB from the library's shared pool (clamp(cores, 2, 64) buffers), which allocates only when more large
/// multiplies run at once than it holds, as other test classes running in parallel would make it.
/// </summary>
[Collection(nameof(Span.Prune.Tests.Sparse.ProcessAllocationCollection))]
public class TrainingAllocationTests
{
    [Fact]
    public void TrainingStep_AllocatesNothing()
    {
        foreach (var arch in new[] { ReferenceArchitecture.Mlp, ReferenceArchitecture.Cnn })
        {
            var net = ReferenceNetwork.Create(arch, 16, seed: 1);
            var data = Synthetic.Images(16, seed: 2);
            var sgd = new SgdMomentum(net.Parameters.Length);
            void Step()
            {
                net.Forward(data.Pixels, 16, training: true);
                net.ComputeLoss(data.Labels);
                net.Backward();
                sgd.Step(net.Parameters.Span, net.Gradients.Span, 0.01f);
            }
            Step();
            Step();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 3; i++) Step();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}

public class InputScalingTests
{
    [Fact]
    public void ByteInput_IsExactlyXOver255()
    {
        var net = new MlpNetwork(1, 4, 4);
        byte[] image = Enumerable.Range(0, 784).Select(i => (byte)(i * 7 % 256)).ToArray();
        net.Forward(image, 1, training: false);
        var x = net.LayerInput(0);
        for (int i = 0; i < 784; i++) Assert.Equal((float)image[i] / 255f, x.Values[i]);
    }
}
