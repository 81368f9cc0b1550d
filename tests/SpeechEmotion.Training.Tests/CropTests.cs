using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>Random crops (<see cref="TrainOptions.Crop"/>): windows cut from the longer sequences as the batch is
/// filled, and training with them.</summary>
public sealed class CropTests
{
    private const int Width = 2;

    /// <summary>A sequence longer than the crop becomes that many consecutive frames of itself, starting where the
    /// generator says (one draw per cropped sequence, in batch order); a shorter one stays whole, padded with zeros.</summary>
    [Fact]
    public void LongerSequencesBecomeWindowsDrawnFromTheGenerator()
    {
        var samples = ToyProblems.Numbered(Width, 10, 4, 7);
        var batcher = new Batcher(10, 3, Width);
        var rng = new Rng(21);
        var batch = batcher.Fill(samples, [0, 1, 2], new int[3], crop: 5, rng: rng);
        Assert.Equal([5, 4, 5], batch.Lengths.ToArray());
        Assert.Equal(5, batch.Steps);
        var expected = new Rng(21);
        int[] starts = [expected.NextInt(10 - 5 + 1), 0, expected.NextInt(7 - 5 + 1)];
        Assert.Equal(expected.State, rng.State); // exactly two draws, none for the short sequence
        var x = batch.X.ToArray();
        for (int b = 0; b < 3; b++)
            for (int t = 0; t < 5; t++)
                for (int k = 0; k < Width; k++)
                    Assert.Equal(t < batch.Lengths[b] ? 100 * (b + 1) + 10 * (starts[b] + t) + k : 0f, x[(t * 3 + b) * Width + k]);

        // Over many fills every start of the long sequence is drawn: the window moves over the whole recording.
        var seen = new HashSet<float>();
        for (int i = 0; i < 200; i++) seen.Add(batcher.Fill(samples, [0], new int[1], crop: 5, rng: rng).X[0]);
        Assert.Equal(Enumerable.Range(0, 6).Select(s => 100f + 10 * s).ToHashSet(), seen);

        // Without a crop nothing is drawn and every sequence is whole.
        var untouched = new Rng(21);
        var whole = batcher.Fill(samples, [0, 1, 2], new int[3], crop: 0, rng: untouched);
        Assert.Equal([10, 4, 7], whole.Lengths.ToArray());
        Assert.Equal(new Rng(21).State, untouched.State);
        Assert.Throws<ArgumentNullException>(() => batcher.Fill(samples, [0], new int[1], crop: 5));
    }

    /// <summary>Training on crops of 3 frames (every toy sequence has 4 to 6) learns an easy three-class problem scored
    /// on whole sequences, repeats bit for bit from the seed, and trains other weights than without crops; a crop as long
    /// as the longest sequence is no crop; a negative crop is refused naming the option.</summary>
    [Fact]
    public void TrainingOnCropsLearnsRepeatsAndDiffersFromWithout()
    {
        var (_, plain) = ToyProblems.AssertLearnsRepeatsAndDiffers(new TrainOptions(epochs: 30, batchSize: 8, threads: 1, crop: 3),
            new TrainOptions(epochs: 30, batchSize: 8, threads: 1), "on crops");

        // A crop as long as the longest sequence cuts nothing and draws nothing: the plain model, bit for bit.
        var (uncut, samples) = ToyProblems.EasyThreeClasses();
        new Trainer(uncut, new TrainOptions(epochs: 30, batchSize: 8, threads: 1, crop: 6), 8).Train(samples, [], new Rng(9));
        Assert.Equal(plain, uncut.Parameters.Values);

        Assert.Contains("--crop must be 0 (off) or a positive length, got -1 frames", Assert.Throws<OptionsException>(() => new TrainOptions(crop: -1)).Message);
    }

    /// <summary>Scoring by windows (<see cref="TrainOptions.ScoreWindow"/>): each sequence's probabilities are the softmax,
    /// at the temperature, of the mean of its windows' logits, each window predicted alone; the logits returned are those
    /// means and the loss their cross-entropy; a window as long as the longest sequence scores whole sequences; the
    /// trainer's validation scores go through it; a negative window is refused naming the option.</summary>
    [Fact]
    public void ScoringByWindowsAveragesTheWindowsLogits()
    {
        var (model, samples) = ToyProblems.EasyThreeClasses();
        var batcher = new Batcher(6, 8, 3);
        int classes = 3, window = 3;
        var logits = new float[samples.Count * classes];
        var windowed = Trainer.Predict(model, batcher, samples, out double loss, temperature: 2f, logits: logits, window: window);
        double expectedLoss = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            var input = samples[i].Input;
            int count = ScoringWindows.Count(input.Steps, window);
            Assert.True(count >= 2);
            var mean = new float[classes];
            for (int k = 0; k < count; k++)
            {
                int start = ScoringWindows.Start(input.Steps, window, k);
                model.Predict(input.Values.AsSpan(start * input.Width, window * input.Width), [window], window, 1, new float[classes]);
                for (int c = 0; c < classes; c++) mean[c] += model.Logits[c] / count;
            }
            var expected = new float[classes];
            Calibration.Softmax(mean, classes, 2f, expected);
            var plain = new float[classes];
            Calibration.Softmax(mean, classes, 1f, plain);
            expectedLoss -= Math.Log(plain[samples[i].Label]) / samples.Count;
            for (int c = 0; c < classes; c++)
            {
                Assert.Equal(mean[c], logits[i * classes + c], 1e-5f);
                Assert.Equal(expected[c], windowed[i * classes + c], 1e-5f);
            }
        }
        Assert.Equal(expectedLoss, loss, 1e-5);

        var whole = Trainer.Predict(model, batcher, samples, out double wholeLoss);
        var longest = Trainer.Predict(model, batcher, samples, out double longestLoss, window: 6);
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], longest[i], 1e-6f);
        Assert.Equal(wholeLoss, longestLoss, 1e-5);
        Assert.NotEqual(whole, windowed);

        var (validationScore, _) = new Trainer(model, new TrainOptions(threads: 1, scoreWindow: window), 8).Score(samples);
        Assert.Equal(loss, validationScore, 1e-9);
        Assert.Contains("--score-window must be 0 (whole recordings) or a positive length", Assert.Throws<OptionsException>(() => new TrainOptions(scoreWindow: -1)).Message);
    }
}
