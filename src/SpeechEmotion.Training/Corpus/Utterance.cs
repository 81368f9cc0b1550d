namespace SpeechEmotion.Training.Corpus;

/// <summary>One recording: where it is, who says which word, and the emotion it is labelled with.</summary>
public sealed record Utterance(string Path, string Speaker, string Word, string Label)
{
    /// <summary>The corpus it belongs to: "tess", "ravdess", or "plain" for a folder of one's own.</summary>
    public string Corpus { get; init; } = "plain";

    /// <summary>"female", "male", or null where the corpus does not say.</summary>
    public string? Gender { get; init; }
}

/// <summary>Speaker names as training and scoring carry them, qualified by their corpus ("ravdess:07").</summary>
public static class SpeakerNames
{
    /// <summary>The corpus of a qualified speaker name ("ravdess" for "ravdess:07"); "unknown" for an unqualified one.</summary>
    public static string CorpusOf(string speaker) => speaker.IndexOf(':') is var colon and >= 0 ? speaker[..colon] : "unknown";
}

/// <summary>The seven TESS emotions and the spellings public copies use for them.</summary>
public static class EmotionLabels
{
    public static readonly IReadOnlyList<string> All = ["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad"];

    /// <summary>
    /// Maps a spelling to its label, case-insensitively: "ps", "pleasant_surprised", "Pleasant_surprise" →
    /// pleasant_surprise; null when it names none of the seven.
    /// </summary>
    public static string? Normalize(string spelling)
    {
        string s = spelling.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
        return s switch
        {
            "ps" or "pleasant_surprise" or "pleasant_surprised" or "pleasantsurprise" or "surprise" or "surprised" => "pleasant_surprise",
            "angry" or "anger" => "angry",
            "disgust" or "disgusted" => "disgust",
            "fear" or "fearful" => "fear",
            "happy" or "happiness" => "happy",
            "neutral" => "neutral",
            "sad" or "sadness" => "sad",
            _ => null,
        };
    }
}
