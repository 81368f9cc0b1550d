using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Training;

public enum RecipeKind { Frames, Seed }

/// <summary>
/// A model recipe (DESIGN.md): the front end, how features become the model's input sequence, the
/// normalisation and the architecture, all of which travel in the model file.
/// seed — the original notebook: 40 mean MFCCs of the (0.5 s, 3 s) window fed as a 40-step sequence of one value
/// (standardised with training-side statistics, which the notebook did not do) into LSTM(256) and its dense head.
/// frames — the default: trimmed MFCC frames with deltas, per-speaker standardisation, a bidirectional LSTM,
/// mean-pooled over valid frames.
/// </summary>
public sealed record Recipe(RecipeKind Kind, FrontEndSettings FrontEnd, NormalizationMode Normalization, ClassifierConfig Model)
{
    /// <summary>Speed-perturbation factors whose copies of the training side are added (training only; empty = none).</summary>
    public IReadOnlyList<double> SpeedFactors { get; init; } = [];

    /// <summary>Vocal-tract-length perturbation factors whose copies of the training side are added (empty = none).</summary>
    public IReadOnlyList<double> WarpFactors { get; init; } = [];

    /// <summary>Speed factors whose copies of the validation part alone are added to it (model selection only; empty =
    /// none): a stand-in for a voice training never heard, so the chosen epoch is the one that carries over best.</summary>
    public IReadOnlyList<double> ValidationSpeedFactors { get; init; } = [];

    public static Recipe Create(RecipeKind kind, int classes, RecipeOverrides? overrides = null)
    {
        var o = overrides ?? new RecipeOverrides();
        if (kind == RecipeKind.Seed)
        {
            if (o.Prosody == true) throw new OptionsException("--prosody is for the frames recipe: the seed recipe keeps the notebook's 40 mean MFCCs.");
            var seed = o.Hidden is { } hidden ? new ClassifierConfig(1, hidden, 1, false, PoolingKind.Last, [128, 64], classes, 0.2f) : ClassifierConfig.Seed(classes);
            return new Recipe(kind, new FrontEndSettings(coefficients: o.Coefficients ?? 40, window: WindowMode.Seed, deltas: false),
                o.Normalization ?? NormalizationMode.Global, seed) { SpeedFactors = o.SpeedFactors ?? [], WarpFactors = o.WarpFactors ?? [], ValidationSpeedFactors = o.ValidationSpeedFactors ?? [] };
        }
        if (kind != RecipeKind.Frames) throw new OptionsException($"Unknown recipe {kind}.");
        var frontEnd = new FrontEndSettings(coefficients: o.Coefficients ?? 40, window: WindowMode.Trim, deltas: true, prosody: o.Prosody ?? false);
        return new Recipe(kind, frontEnd, o.Normalization ?? NormalizationMode.Speaker,
            new ClassifierConfig(inputSize: frontEnd.FeatureSize, hiddenSize: o.Hidden ?? 64, layers: 1, bidirectional: true, PoolingKind.Mean, [64], classes, dropout: 0.3f))
        { SpeedFactors = o.SpeedFactors ?? [], WarpFactors = o.WarpFactors ?? [], ValidationSpeedFactors = o.ValidationSpeedFactors ?? [] };
    }

    public static RecipeKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "frames" => RecipeKind.Frames,
        "seed" => RecipeKind.Seed,
        _ => throw new OptionsException($"--recipe must be frames or seed, got '{text}'."),
    };

    /// <summary>Whether inputs need each speaker's (or voice's) own feature statistics: per-speaker normalisation, or
    /// prosody features, which are always standardised per speaker.</summary>
    public bool NeedsSpeakerStatistics => Normalization == NormalizationMode.Speaker || FrontEnd.Prosody;

    /// <summary>Width of one input step: the feature size for frames, 1 for seed.</summary>
    public int InputSize => Kind == RecipeKind.Seed ? 1 : FrontEnd.FeatureSize;

    /// <summary>
    /// Normalised features → the model's input sequence [steps × InputSize]. For seed: the mean over time of each
    /// coefficient, as a sequence of Coefficients steps of one value.
    /// </summary>
    public Sequence ToSequence(float[] normalized, int frames, int featureSize)
    {
        if (Kind == RecipeKind.Frames) return new Sequence(normalized, frames, featureSize);
        var means = new float[featureSize];
        for (int f = 0; f < frames; f++)
            for (int c = 0; c < featureSize; c++) means[c] += normalized[f * featureSize + c];
        for (int c = 0; c < featureSize; c++) means[c] /= frames;
        return new Sequence(means, featureSize, 1);
    }

    /// <summary>For seed, the statistics are those of the per-utterance means: the notebook's input vector.</summary>
    public Audio.Features StatisticsView(Audio.Features features)
    {
        if (Kind == RecipeKind.Frames) return features;
        var means = ToSequence(features.Values, features.Frames, features.FeatureSize).Values;
        return new Audio.Features(means, 1, means.Length);
    }
}

/// <summary>Changes to a recipe's defaults, each measured in the README (null keeps the default).</summary>
public sealed record RecipeOverrides(int? Coefficients = null, int? Hidden = null, NormalizationMode? Normalization = null, IReadOnlyList<double>? SpeedFactors = null,
    IReadOnlyList<double>? WarpFactors = null, bool? Prosody = null, IReadOnlyList<double>? ValidationSpeedFactors = null)
{
    public static IReadOnlyList<double> ParseWarps(string text) =>
        ParseFactors(text, a => a >= 0.8 && a <= 1.25, "--vtlp takes warp factors in [0.8, 1.25]");

    /// <summary>Speed factors for <paramref name="option"/> (<c>--augment</c> or <c>--validate-speeds</c>), each in (0.5, 2).</summary>
    public static IReadOnlyList<double> ParseSpeeds(string text, string option = "--augment") =>
        ParseFactors(text, f => f > 0.5 && f < 2, $"{option} takes speed factors in (0.5, 2)");

    /// <summary>Comma-separated augmentation factors, each in range and other than 1 ("" or "none": no copies).</summary>
    private static IReadOnlyList<double> ParseFactors(string text, Func<double, bool> inRange, string rule)
    {
        if (text is "" or "none") return [];
        return text.Split(',').Select(part => double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) && inRange(f) && f != 1
            ? f : throw new OptionsException($"{rule} other than 1, comma-separated (e.g. 0.9,1.1); got '{part}'.")).ToList();
    }

    /// <summary>Factors as <see cref="ParseSpeeds"/> and <see cref="ParseWarps"/> read them back (round-trip precision).</summary>
    public static string FormatFactors(IEnumerable<double> factors) =>
        string.Join(',', factors.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    public static NormalizationMode ParseNormalization(string text) => text.ToLowerInvariant() switch
    {
        "global" => NormalizationMode.Global,
        "speaker" => NormalizationMode.Speaker,
        "utterance" => NormalizationMode.Utterance,
        _ => throw new OptionsException($"--normalization must be global, speaker or utterance, got '{text}'."),
    };
}

/// <summary>A model input: [Steps × Width] values, row-major in time.</summary>
public sealed record Sequence(float[] Values, int Steps, int Width);

/// <summary>A labelled model input, with the speaker for reports.</summary>
public sealed record Sample(Sequence Input, int Label, string Speaker, string Path);
