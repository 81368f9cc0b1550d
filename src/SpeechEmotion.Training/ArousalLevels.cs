using SpeechEmotion.Core;

namespace SpeechEmotion.Training;

/// <summary>
/// Arousal — how activated an emotion is — of the project's labels in two levels, for the auxiliary arousal task
/// (<see cref="TrainOptions.Arousal"/>): high for angry, fear, happy and pleasant surprise; low for sad, neutral, calm,
/// boredom and disgust (the binary mapping cross-corpus studies use for EmoDB's classes, Schuller et al. 2010, which puts
/// disgust on the low side). Fixed before any measurement with it.
/// </summary>
public static class ArousalLevels
{
    public const int Low = 0, High = 1;

    private static readonly Dictionary<string, int> Table = new(StringComparer.Ordinal)
    {
        ["angry"] = High, ["fear"] = High, ["happy"] = High, ["pleasant_surprise"] = High,
        ["sad"] = Low, ["neutral"] = Low, ["calm"] = Low, ["boredom"] = Low, ["disgust"] = Low,
    };

    /// <summary>The level of each label, in the labels' order; <see cref="OptionsException"/> naming a label the table lacks.</summary>
    public static int[] Of(IReadOnlyList<string> labels) => labels.Select(label => Table.TryGetValue(label, out int level) ? level
        : throw new OptionsException($"--arousal knows the arousal of {string.Join(", ", Table.Keys)}; the label '{label}' is not among them.")).ToArray();
}
