using Span.Prune.Lab.Training;

namespace Span.Prune.Tests.Lab.Training;

/// <summary>
/// The mlp's fused training step against the unfused reference path (Forward, ComputeLoss, Backward, SgdMomentum.Step):
/// the same bits for every thread count, full and partial batches (the core GEMM's wide, 256-bit and narrow kernels),
/// odd hidden widths (ragged row blocks), and with masks.
/// </summary>
public class MlpFusedStepTests
{
    public static TheoryData<int, int, int, int> Cases() => new()
    {
        // threads, images (the last batch is images mod 64), hidden1, hidden2
        { 1, 320, 300, 100 },
        { 2, 330, 300, 100 },  // last batch 10
        { 2, 324, 300, 100 },  // last batch 4: the narrow kernel
        { 3, 200, 300, 100 },  // last batch 8
        { 2, 193, 37, 11 },    // ragged row blocks, last batch 1 (GEMV)
        { 4, 150, 5, 3 },      // fewer rows than chunks
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Train_FusedEqualsUnfused_BitForBit(int threads, int images, int hidden1, int hidden2)
    {
        var data = Synthetic.Images(images, seed: 21);
        var options = TrainingOptions.Mlp with { Epochs = 2, ShuffleSeed = 9 };
        var reference = Make(hidden1, hidden2, threads: 1, fuse: false);
        var fused = Make(hidden1, hidden2, threads, fuse: true);
        Assert.True(fused.CanFuseTrainingStep);

        var expected = Trainer.Train(reference, data.Pixels, data.Labels, data.Count, options);
        var actual = Trainer.Train(fused, data.Pixels, data.Labels, data.Count, options);

        Assert.Equal(expected.FinalLoss, actual.FinalLoss);
        Assert.Equal(reference.Parameters.ToArray(), fused.Parameters.ToArray());
        Assert.Equal(reference.Gradients.ToArray(), fused.Gradients.ToArray());
        for (int layer = 0; layer < 3; layer++)
        {
            Assert.Equal(reference.LayerInput(layer).Values.ToArray(), fused.LayerInput(layer).Values.ToArray());
            Assert.Equal(reference.LayerOutput(layer).Values.ToArray(), fused.LayerOutput(layer).Values.ToArray());
        }
        Assert.NotEqual(Make(hidden1, hidden2, 1, fuse: false).Parameters.ToArray(), fused.Parameters.ToArray()); // it trained
    }

    [Fact]
    public void Train_FusedWithMasks_EqualsUnfused_AndKeepsPrunedWeightsZero()
    {
        var data = Synthetic.Images(200, seed: 22);
        var options = TrainingOptions.Mlp with { Epochs = 2, ShuffleSeed = 3 };
        var reference = Make(300, 100, threads: 1, fuse: false);
        var fused = Make(300, 100, threads: 2, fuse: true);
        byte[] keep = Enumerable.Range(0, 300 * 784).Select(i => (byte)(i % 7 == 0 ? 0 : 1)).ToArray();
        var referenceMasks = new MaskSet(reference);
        referenceMasks.Restrict(reference.Tensor("fc1.weight"), keep);
        var fusedMasks = new MaskSet(fused);
        fusedMasks.Restrict(fused.Tensor("fc1.weight"), keep);

        Trainer.Train(reference, data.Pixels, data.Labels, data.Count, options, referenceMasks);
        Trainer.Train(fused, data.Pixels, data.Labels, data.Count, options, fusedMasks);

        Assert.Equal(reference.Parameters.ToArray(), fused.Parameters.ToArray());
        float[] w = fused.Tensor("fc1.weight").Values.ToArray();
        for (int i = 0; i < w.Length; i += 7) Assert.Equal(0f, w[i]);
    }

    [Fact]
    public void TrainStep_RejectsAnImageOutsideTheData()
    {
        var net = Make(300, 100, threads: 1, fuse: true);
        var optimizer = new SgdMomentum(net.Parameters.Length);
        byte[] pixels = new byte[3 * 784], labels = new byte[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainStep(pixels, [0, 3], labels, optimizer, 0.1f, null));
        Assert.Throws<ArgumentException>(() => net.TrainStep(pixels, [0, 1], labels, new SgdMomentum(5), 0.1f, null));
    }

    private static MlpNetwork Make(int hidden1, int hidden2, int threads, bool fuse)
    {
        var net = new MlpNetwork(64, hidden1, hidden2) { FuseTrainingStep = fuse };
        net.Initialize(4);
        net.MaxDegreeOfParallelism = threads;
        return net;
    }
}
