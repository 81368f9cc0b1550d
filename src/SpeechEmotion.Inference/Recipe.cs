using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Inference;

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

    /// <summary>Simulated rooms (reverberation and noise) whose copies of the training side are added (empty = none).</summary>
    public IReadOnlyList<Room> Rooms { get; init; } = [];

    /// <summary>Speed factors whose copies of the validation part alone are added to it (model selection only; empty =
    /// none): a stand-in for a voice training never heard, so the chosen epoch is the one that carries over best.</summary>
    public IReadOnlyList<double> ValidationSpeedFactors { get; init; } = [];

    /// <summary>Relevances (frames) of extra versions of each training recording standardised as a single file is at
    /// prediction (<see cref="ModelInputs.OneFile"/>: the training side's statistics adapted towards the recording's own)
    /// instead of with its speaker's; training only, speaker statistics only (empty = none).</summary>
    public IReadOnlyList<double> FileCopyRelevances { get; init; } = [];

    /// <summary>How the training copies above train (training only, not stored in the model): false — every copy joins the
    /// training side and the validation part's copies its validation part, so an epoch costs (copies + 1) times as much;
    /// true — each epoch trains on one version of every training utterance (the original or one of its copies, drawn
    /// afresh), so an epoch costs what it does without copies, and the validation part gets none of these copies (only
    /// those <see cref="ValidationSpeedFactors"/> asks for).</summary>
    public bool DrawCopies { get; init; }

    /// <summary>The views test-time augmentation hears a recording through besides the plain one: each training speed (warp
    /// 1), then each training warp (speed 1) — the perturbations the model learnt from, as it learnt them.</summary>
    public IReadOnlyList<(double Speed, double Warp)> TestTimeViews => [.. SpeedFactors.Select(speed => (speed, 1.0)), .. WarpFactors.Select(warp => (1.0, warp))];

    /// <summary>A test-time view's name, as its feature cache names it: <c>speed=0.9</c>, <c>vtlp=1.1</c>.</summary>
    public static string ViewName((double Speed, double Warp) view) =>
        view.Speed != 1.0 ? "speed=" + FormatFactors([view.Speed]) : "vtlp=" + FormatFactors([view.Warp]);

    /// <summary>Augmentation factors as the model file stores them: comma-separated, round-trip precision.</summary>
    public static string FormatFactors(IEnumerable<double> factors) =>
        string.Join(',', factors.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Factors as <see cref="FormatFactors"/> writes them ("" for none), each positive and finite; <paramref name="field"/> names them in messages.</summary>
    public static IReadOnlyList<double> ParseFactors(string text, string field)
    {
        if (text.Length == 0) return [];
        return text.Split(',').Select(part => double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) && f > 0 && double.IsFinite(f)
            ? f : throw new OptionsException($"{field} must be positive numbers, comma-separated; got '{part}'.")).ToList();
    }

    public static RecipeKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "frames" => RecipeKind.Frames,
        "seed" => RecipeKind.Seed,
        _ => throw new OptionsException($"Recipe must be frames or seed, got '{text}'."),
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

/// <summary>A model input: [Steps × Width] values, row-major in time.</summary>
public sealed record Sequence(float[] Values, int Steps, int Width);

