namespace SpeechEmotion.Inference;

/// <summary>
/// What a <see cref="EmotionRecognizer"/> heard in one recording: the most probable label, every label's
/// probability, and how long the recording was.
/// </summary>
public sealed class EmotionPrediction
{
    private readonly float[] _scores;

    internal EmotionPrediction(string source, IReadOnlyList<string> labels, float[] scores, TimeSpan duration)
    {
        Source = source;
        Labels = labels;
        _scores = scores;
        Duration = duration;
        LabelIndex = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(scores); // the first of equals
        var byLabel = new Dictionary<string, float>(labels.Count, StringComparer.Ordinal);
        for (int k = 0; k < labels.Count; k++) byLabel[labels[k]] = scores[k];
        Probabilities = byLabel.AsReadOnly();
    }

    /// <summary>The file name, or the name given with a stream or samples.</summary>
    public string Source { get; }

    /// <summary>The most probable label (the first of equals, in the model's label order).</summary>
    public string Label => Labels[LabelIndex];

    /// <summary>The probability of <see cref="Label"/>.</summary>
    public float Confidence => _scores[LabelIndex];

    /// <summary>Every label's probability; they sum to 1 (up to rounding).</summary>
    public IReadOnlyDictionary<string, float> Probabilities { get; }

    /// <summary>The probabilities in the order of <see cref="Labels"/>.</summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>The model's labels, in its order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The index of <see cref="Label"/> in <see cref="Labels"/>.</summary>
    public int LabelIndex { get; }

    /// <summary>How long the recording was (before any silence was trimmed).</summary>
    public TimeSpan Duration { get; }

    public override string ToString() => $"{Label} {Confidence:P1}";
}

/// <summary>How a batch of recordings is predicted.</summary>
public sealed record PredictionOptions
{
    /// <summary>
    /// The recordings are many utterances of one voice: a model with speaker normalisation standardises them with
    /// their own statistics instead of its training side's. A recording's prediction then depends on the others.
    /// </summary>
    public bool SameSpeaker { get; init; }

    /// <summary>Test-time augmentation: each recording is also scored through the perturbations the models were trained
    /// with — played at their training speeds, heard through their warped filter banks — and the probabilities
    /// averaged (<see cref="Recipe.TestTimeViews"/>). A model trained without either adds no views.</summary>
    public bool TestTimeAugmentation { get; init; }
}

/// <summary>
/// A recording decoded and turned into the recognizer's features, ready to predict: what
/// <see cref="EmotionRecognizer.Listen(string)"/> returns, to predict later or to group by voice.
/// </summary>
public sealed class HeardAudio
{
    internal HeardAudio(string source, Audio.AudioClip? clip, Audio.Features features, double seconds)
    {
        Source = source;
        Clip = clip;
        Features = features;
        Duration = TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The file name, or the name given with a stream or samples.</summary>
    public string Source { get; }

    /// <summary>
    /// The decoded audio, mono, at its own sample rate; null for a file over
    /// <see cref="EmotionRecognizer.StreamAboveBytes"/>, which was streamed and never held whole.
    /// </summary>
    public Audio.AudioClip? Clip { get; }

    /// <summary>The front end's features of the recording, [frames × feature size].</summary>
    public Audio.Features Features { get; }

    public TimeSpan Duration { get; }
}
