using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Training.Tests;

/// <summary>The learning-rate schedule (<see cref="TrainOptions.Schedule"/>) and the epoch a run keeps
/// (<see cref="TrainOptions.Keep"/>), through the <see cref="Trainer"/>.</summary>
public sealed class ScheduleTests
{
    [Fact]
    public void TheCosineFallsFromTheRateToNearZeroAndTheConstantStays()
    {
        var constant = new TrainOptions(epochs: 40, learningRate: 4e-3f);
        var cosine = new TrainOptions(epochs: 40, learningRate: 4e-3f, schedule: LearningRateSchedule.Cosine);
        Assert.All(Enumerable.Range(0, 40), e => Assert.Equal(4e-3f, constant.LearningRateAt(e)));
        Assert.Equal(4e-3f, cosine.LearningRateAt(0));
        Assert.Equal(2e-3f, cosine.LearningRateAt(20));
        Assert.Equal((float)(4e-3 * 0.5 * (1 + Math.Cos(Math.PI * 39 / 40))), cosine.LearningRateAt(39));
        Assert.InRange(cosine.LearningRateAt(39), 4e-3f * 0.0015f, 4e-3f * 0.0016f); // lr·π²/(4·40²), about lr/650
        for (int e = 1; e < 40; e++) Assert.True(cosine.LearningRateAt(e) < cosine.LearningRateAt(e - 1), $"epoch {e}");
        Assert.Equal(0f, cosine.LearningRateAt(40)); // at the horizon, and beyond it
        Assert.Equal(0f, cosine.LearningRateAt(45));
    }

    /// <summary>Each epoch trains at its scheduled rate; with the last epoch kept, every epoch runs though the patience is 1
    /// and the weights at the end are the last epoch's; the same run repeats bit for bit.</summary>
    [Fact]
    public void TheTrainerStepsAtTheScheduledRateAndKeepsTheLastEpoch()
    {
        var options = new TrainOptions(epochs: 5, batchSize: 4, learningRate: 0.01f, patience: 1, threads: 1,
            schedule: LearningRateSchedule.Cosine, keep: EpochChoice.Last);
        var (model, samples) = Problem();
        var rates = new List<float>();
        float[] atLastEpoch = [];
        var state = new Trainer(model, options, 8).Train(samples[..8], samples[8..], new Rng(9), onEpoch: (record, _) =>
        {
            rates.Add(model.Optimizer.Options.LearningRate);
            atLastEpoch = model.Parameters.ReadAll().ToArray();
        });
        Assert.Equal(Enumerable.Range(0, 5).Select(options.LearningRateAt), rates);
        Assert.Equal((5, 5), (state.Epoch, state.BestEpoch));
        Assert.Equal(atLastEpoch, model.Parameters.Values);

        var (again, _) = Problem();
        new Trainer(again, options, 8).Train(samples[..8], samples[8..], new Rng(9));
        Assert.Equal(model.Parameters.Values, again.Parameters.Values);

        // The constant rate trains other weights from the same start.
        var (constant, _) = Problem();
        new Trainer(constant, new TrainOptions(epochs: 5, batchSize: 4, learningRate: 0.01f, patience: 100, threads: 1, keep: EpochChoice.Last), 8)
            .Train(samples[..8], samples[8..], new Rng(9));
        Assert.NotEqual(model.Parameters.Values, constant.Parameters.Values);
    }

    /// <summary>Twelve short sequences of two classes.</summary>
    private static (SequenceClassifier Model, List<Sample> Samples) Problem() =>
        ToyProblems.Sequences(12, 2, (rng, _, label, _) => (float)rng.NextGaussian() + label, ["corpus:a"]);
}
