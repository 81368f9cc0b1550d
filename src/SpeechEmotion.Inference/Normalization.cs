using System.Globalization;
using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>How features are standardised before the model sees them. None of them looks at a label.</summary>
public enum NormalizationMode
{
    /// <summary>One mean and standard deviation per feature, from the training side; stored in the model.</summary>
    Global,
    /// <summary>Per speaker, from all of that speaker's frames (labels unseen), so a new voice is centred on itself.</summary>
    Speaker,
    /// <summary>Per utterance (cepstral mean and variance normalisation).</summary>
    Utterance,
}

/// <summary>Per-feature mean and standard deviation over a set of frames.</summary>
public sealed record FeatureStats(float[] Mean, float[] Std)
{
    /// <summary>Floors the standard deviation so a constant feature does not blow up.</summary>
    public const float MinStd = 1e-3f;

    public static FeatureStats Compute(IEnumerable<Audio.Features> utterances, int featureSize)
    {
        var (sum, squares, frames) = Moments(utterances, featureSize);
        if (frames == 0) throw new SpeechEmotionException("Cannot compute feature statistics from zero frames.");
        var mean = new float[featureSize];
        var std = new float[featureSize];
        for (int c = 0; c < featureSize; c++)
        {
            double m = sum[c] / frames;
            mean[c] = (float)m;
            std[c] = (float)Math.Max(MinStd, Math.Sqrt(Math.Max(0, squares[c] / frames - m * m)));
        }
        return new FeatureStats(mean, std);
    }

    /// <summary>Per feature, the sum and the sum of squares over every frame of <paramref name="utterances"/>, and the frames counted.</summary>
    private static (double[] Sum, double[] Squares, long Frames) Moments(IEnumerable<Audio.Features> utterances, int featureSize)
    {
        var sum = new double[featureSize];
        var squares = new double[featureSize];
        long frames = 0;
        foreach (var u in utterances)
        {
            for (int f = 0; f < u.Frames; f++)
                for (int c = 0; c < featureSize; c++)
                {
                    double v = u.Values[f * featureSize + c];
                    sum[c] += v; squares[c] += v * v;
                }
            frames += u.Frames;
        }
        return (sum, squares, frames);
    }

    /// <summary>
    /// These statistics (a prior, e.g. the training side's) adapted towards one recording's own, as MAP adaptation
    /// does with a relevance factor: mean = (n·mean_file + τ·mean) / (n + τ), the second moment likewise, n the file's
    /// frames and τ <paramref name="relevance"/> (in frames). τ = 0 gives the file's own statistics (per-utterance
    /// normalisation), τ = +∞ these unchanged; between, a short file leans on the prior more than a long one.
    /// </summary>
    public FeatureStats AdaptedTo(Audio.Features file, double relevance)
    {
        if (!(relevance >= 0)) throw new OptionsException($"relevance must be 0 or more (frames), got {relevance}.");
        if (double.IsPositiveInfinity(relevance) || file.Frames == 0) return this;
        int size = Mean.Length;
        if (file.FeatureSize != size) throw new ShapeException($"AdaptedTo: a file of {file.FeatureSize} features against statistics of {size}.");
        var (sum, squares, frames) = Moments([file], size);
        double n = frames, total = n + relevance;
        var mean = new float[size];
        var std = new float[size];
        for (int c = 0; c < size; c++)
        {
            double priorMean = Mean[c], priorSecond = (double)Std[c] * Std[c] + priorMean * priorMean;
            double m = (sum[c] + relevance * priorMean) / total;
            double second = (squares[c] + relevance * priorSecond) / total;
            mean[c] = (float)m;
            std[c] = (float)Math.Max(MinStd, Math.Sqrt(Math.Max(0, second - m * m)));
        }
        return new FeatureStats(mean, std);
    }

    /// <summary>These statistics for the columns before <paramref name="from"/>, <paramref name="other"/>'s from there on.</summary>
    public FeatureStats Splice(FeatureStats other, int from)
    {
        if (other.Mean.Length != Mean.Length || from < 0 || from > Mean.Length)
            throw new SpeechEmotionException($"Cannot splice statistics of {other.Mean.Length} features into {Mean.Length} at column {from}.");
        return new FeatureStats([.. Mean[..from], .. other.Mean[from..]], [.. Std[..from], .. other.Std[from..]]);
    }

    public float[] Apply(Audio.Features features)
    {
        int size = Mean.Length;
        var result = new float[features.Values.Length];
        for (int i = 0; i < result.Length; i++) result[i] = (features.Values[i] - Mean[i % size]) / Std[i % size];
        return result;
    }

    /// <summary>Schema 1 model files' "mean,…;std,…" (<see cref="ModelMetadata"/> stores them as JSON arrays now).</summary>
    public static FeatureStats Parse(string text)
    {
        var halves = text.Split(';');
        if (halves.Length != 2) throw new OptionsException("Normalisation statistics must be 'mean,…;std,…'.");
        float[] Numbers(string part) => part.Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new FeatureStats(Numbers(halves[0]), Numbers(halves[1]));
    }
}
