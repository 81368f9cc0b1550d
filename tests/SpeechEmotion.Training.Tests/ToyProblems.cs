using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

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
}
