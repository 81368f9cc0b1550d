using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>Mixup (<see cref="TrainOptions.Mixup"/>): the batch mixed frame by frame, and training with it.</summary>
public sealed class MixupTests
{
    private const int Width = 2;

    [Fact]
    public void EachSequenceMixesWithItsPartnerOverItsOwnFramesAndKeepsItsPadding()
    {
        var samples = ToyProblems.Numbered(Width, 3, 2, 1);
        var batcher = new Batcher(3, 3, Width, mixing: true);
        var batch = batcher.Fill(samples, [0, 1, 2], new int[3]);
        // 0 (3 frames) with 2 (1 frame); 1 (2 frames) with 0 (3 frames); 2 with itself.
        batcher.Mix(3, [2, 0, 2], [0.75f, 0.5f, 0.6f]);
        var x = batch.X.ToArray();
        float At(int t, int b, int k) => x[(t * 3 + b) * Width + k];
        float Value(int i, int t, int k) => 100 * (i + 1) + 10 * t + k;
        for (int k = 0; k < Width; k++)
        {
            Assert.Equal(0.75f * Value(0, 0, k) + 0.25f * Value(2, 0, k), At(0, 0, k));
            Assert.Equal(0.75f * Value(0, 1, k), At(1, 0, k)); // past the partner's end: its frames count as 0
            Assert.Equal(0.75f * Value(0, 2, k), At(2, 0, k));
            Assert.Equal(0.5f * Value(1, 0, k) + 0.5f * Value(0, 0, k), At(0, 1, k)); // reads sequence 0 as filled, not as mixed
            Assert.Equal(0.5f * Value(1, 1, k) + 0.5f * Value(0, 1, k), At(1, 1, k));
            Assert.Equal(0f, At(2, 1, k)); // its own padding stays 0, though the partner goes on
            Assert.Equal(0.6f * Value(2, 0, k) + 0.4f * Value(2, 0, k), At(0, 2, k));
            Assert.Equal(0f, At(1, 2, k));
        }
        Assert.Equal([3, 2, 1], batch.Lengths.ToArray());

        Assert.Throws<InvalidOperationException>(() => new Batcher(3, 3, Width).Mix(3, [0, 1, 2], [1f, 1f, 1f]));
        Assert.Throws<ShapeException>(() => batcher.Mix(3, [0, 1, 3], [1f, 1f, 1f]));
        Assert.Throws<ShapeException>(() => batcher.Mix(3, [0, 1, 2], [1f, 1.5f, 1f]));
    }

    /// <summary>Training with mixup learns an easy three-class problem, repeats bit for bit from the seed, and trains other
    /// weights than without it; α outside [0, 10] is refused naming the option.</summary>
    [Fact]
    public void TrainingWithMixupLearnsRepeatsAndDiffersFromWithout()
    {
        ToyProblems.AssertLearnsRepeatsAndDiffers(new TrainOptions(epochs: 30, batchSize: 8, threads: 1, mixup: 0.4f, labelSmoothing: 0.1f),
            new TrainOptions(epochs: 30, batchSize: 8, threads: 1, labelSmoothing: 0.1f), "with mixup");

        Assert.Contains("--mixup must be a Beta parameter α in [0, 10] (0 = off), got -0.5", Assert.Throws<OptionsException>(() => new TrainOptions(mixup: -0.5f)).Message);
        Assert.Contains("got NaN", Assert.Throws<OptionsException>(() => new TrainOptions(mixup: float.NaN)).Message);
    }
}
