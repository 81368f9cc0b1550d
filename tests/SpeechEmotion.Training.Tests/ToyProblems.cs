using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Training.Tests;

/// <summary>The small problems the <see cref="Trainer"/>'s tests train on: a bidirectional LSTM of 6 units over 3 inputs,
/// mean pooling, Dense 5, on one thread, initialised from seed 2, and short sequences of 4–6 steps drawn from seed 4.</summary>
internal static class ToyProblems
{
    /// <summary><paramref name="count"/> sequences, the i-th of class i mod <paramref name="classes"/> and of speaker
    /// <paramref name="speakers"/>[i mod their count], its k-th value <paramref name="value"/>(generator, k, class, i) in order.</summary>
    public static (SequenceClassifier Model, List<Sample> Samples) Sequences(int count, int classes, Func<Rng, int, int, int, float> value,
        string[] speakers, AdamOptions? adam = null)
    {
        var model = new SequenceClassifier(new ClassifierConfig(3, 6, 1, true, PoolingKind.Mean, [5], classes, 0f), adam, new WorkerPool(1));
        model.Initialize(new Rng(2));
        var rng = new Rng(4);
        var samples = new List<Sample>();
        for (int i = 0; i < count; i++)
        {
            int steps = 4 + i % 3, label = i % classes;
            var values = new float[steps * 3];
            for (int k = 0; k < values.Length; k++) values[k] = value(rng, k, label, i);
            samples.Add(new Sample(new Sequence(values, steps, 3), label, speakers[i % speakers.Length], $"u{i}.wav"));
        }
        return (model, samples);
    }

    /// <summary>Sequences whose values say where they sit: sequence i has <paramref name="lengths"/>[i] frames of
    /// <paramref name="width"/> values, frame t's k-th holding 100·(i + 1) + 10·t + k; its label i.</summary>
    public static List<Sample> Numbered(int width, params int[] lengths) => lengths.Select((steps, i) =>
    {
        var values = new float[steps * width];
        for (int t = 0; t < steps; t++)
            for (int k = 0; k < width; k++) values[t * width + k] = 100 * (i + 1) + 10 * t + k;
        return new Sample(new Sequence(values, steps, width), i, "s", $"/{i}.wav");
    }).ToList();

    /// <summary>An easy three-class problem: 24 sequences, each value Gaussian (σ 0.5) plus 3 on the coefficient of its class.</summary>
    public static (SequenceClassifier Model, List<Sample> Samples) EasyThreeClasses() =>
        Sequences(24, 3, (rng, k, label, _) => 0.5f * (float)rng.NextGaussian() + (k % 3 == label ? 3f : 0f), ["s"], new AdamOptions(0.02f));

    /// <summary>
    /// What a training option's test asks first: <see cref="EasyThreeClasses"/> trained with <paramref name="options"/>
    /// (batches of 8, generator seed 9) is learnt (at least 90 % of it right afterwards), runs every epoch, gives the same
    /// bits when trained again, and other weights than training with <paramref name="without"/>. Returns both models'
    /// parameters, for the test's own further checks.
    /// </summary>
    public static (float[] With, float[] Without) AssertLearnsRepeatsAndDiffers(TrainOptions options, TrainOptions without, string what)
    {
        var (first, samples) = EasyThreeClasses();
        var state = new Trainer(first, options, 8).Train(samples, [], new Rng(9));
        double accuracy = new Trainer(first, options, 8).Score(samples).Accuracy;
        Assert.True(accuracy >= 0.9, $"accuracy {accuracy} after training {what}");
        Assert.Equal(options.Epochs, state.History.Count);

        var (second, _) = EasyThreeClasses();
        new Trainer(second, options, 8).Train(samples, [], new Rng(9));
        Assert.Equal(first.Parameters.Values, second.Parameters.Values);

        var (plain, _) = EasyThreeClasses();
        new Trainer(plain, without, 8).Train(samples, [], new Rng(9));
        Assert.NotEqual(first.Parameters.Values, plain.Parameters.Values);
        return (first.Parameters.Values, plain.Parameters.Values);
    }
}
