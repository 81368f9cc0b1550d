using SpeechEmotion.Core;

namespace SpeechEmotion.Training.Corpus;

/// <summary>A corpus problem that does not stop indexing: the file and what is wrong with it.</summary>
public sealed record CorpusProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>A corpus folder that cannot be used at all (missing, empty, no recognisable layout).</summary>
public sealed class CorpusException : SpeechEmotionException
{
    public CorpusException(string message) : base(message) { }
}

/// <summary>
/// Finds the utterances of a corpus folder. Two layouts:
/// TESS — one folder per SPEAKER_emotion (spellings vary: OAF_Fear, YAF_pleasant_surprised,
/// OAF_Pleasant_surprise), files SPEAKER_word_emotion.wav; a file whose name and folder disagree is reported
/// and left out. Plain — ROOT/&lt;label&gt;/*.wav for a user's own recordings: the label is the folder's name,
/// the speaker "unknown" unless the file is named SPEAKER_word..., the word the file's stem.
/// RAVDESS — Actor_NN folders of MM-VV-EE-II-SS-RR-AA.wav (modality, vocal channel, emotion, intensity, statement,
/// repetition, actor): audio-only speech files (03-01-…) are taken, song and video files left out; the speaker is
/// "ravdess:AA" (odd actors male, even female), the word the statement ("s01", "s02"), the label RAVDESS's emotion
/// mapped onto this project's label set (<see cref="RavdessEmotions"/>).
/// Several roots (<c>--data</c> given more than once, or joined by the path separator) are indexed one by one and
/// merged; each utterance keeps its corpus.
/// </summary>
public static class CorpusIndex
{
    public static readonly string[] AudioExtensions = [".wav", ".wave", ".aif", ".aiff"];

    /// <summary>Problems are files left out; warnings are files kept despite a harmless inconsistency.</summary>
    public sealed record Result(IReadOnlyList<Utterance> Utterances, IReadOnlyList<CorpusProblem> Problems, IReadOnlyList<CorpusProblem> Warnings, string Layout);

    /// <summary>RAVDESS's emotion codes 01–08 → labels: its surprise joins TESS's pleasant surprise (RAVDESS's is not
    /// only pleasant), and calm, which TESS lacks, is a label of its own.</summary>
    public static readonly IReadOnlyDictionary<string, string> RavdessEmotions = new Dictionary<string, string>
    {
        ["01"] = "neutral", ["02"] = "calm", ["03"] = "happy", ["04"] = "sad",
        ["05"] = "angry", ["06"] = "fear", ["07"] = "disgust", ["08"] = "pleasant_surprise",
    };

    /// <summary>One root, or several joined by <see cref="Path.PathSeparator"/>: their utterances merged, in order.</summary>
    public static Result Load(string root)
    {
        var roots = root.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (roots.Length <= 1) return LoadOne(root);
        var results = roots.Select(LoadOne).ToList();
        var duplicates = results.SelectMany(r => r.Utterances).GroupBy(u => u.Speaker, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Select(u => u.Corpus).Distinct().Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            throw new CorpusException($"{root}: speaker(s) {string.Join(", ", duplicates)} appear in more than one corpus; give each corpus once.");
        return new Result(results.SelectMany(r => r.Utterances).ToList(), results.SelectMany(r => r.Problems).ToList(),
            results.SelectMany(r => r.Warnings).ToList(), string.Join('+', results.Select(r => r.Layout)));
    }

    private static Result LoadOne(string root)
    {
        if (!Directory.Exists(root))
            throw new CorpusException($"{root}: corpus folder not found. Get TESS with '../shared/data/get-tess data/tess' or 'ser download tess', or pass --data.");
        var folders = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        bool tess = folders.Length > 0 && folders.All(f => ParseTessFolder(Path.GetFileName(f)) is not null);
        var utterances = new List<Utterance>();
        var problems = new List<CorpusProblem>();
        var warnings = new List<CorpusProblem>();
        if (folders.Length > 0 && folders.All(f => RavdessActor(Path.GetFileName(f)) is not null))
        {
            foreach (var folder in folders)
                foreach (var file in Directory.GetFiles(folder).Where(IsAudio).OrderBy(f => f, StringComparer.Ordinal))
                {
                    var fields = Path.GetFileNameWithoutExtension(file).Split('-');
                    string actor = RavdessActor(Path.GetFileName(folder))!;
                    if (fields.Length != 7 || fields.Any(f => f.Length != 2 || !f.All(char.IsAsciiDigit)) || !RavdessEmotions.ContainsKey(fields[2]))
                        problems.Add(new(file, "name is not RAVDESS's MM-VV-EE-II-SS-RR-AA (e.g. 03-01-05-02-01-01-07.wav); left out."));
                    else if (fields[0] != "03" || fields[1] != "01") { } // video or song: not this corpus's speech audio
                    else if (fields[6] != actor)
                        problems.Add(new(file, $"name says actor {fields[6]} but its folder says {actor}; left out."));
                    else
                        utterances.Add(new Utterance(file, $"ravdess:{actor}", $"s{fields[4]}", RavdessEmotions[fields[2]])
                        {
                            Corpus = "ravdess", Gender = int.Parse(actor, System.Globalization.CultureInfo.InvariantCulture) % 2 == 1 ? "male" : "female",
                        });
                }
            if (utterances.Count == 0) throw new CorpusException($"{root}: RAVDESS's Actor_NN folders, but no audio-only speech files (03-01-…) in them.");
            return new Result(utterances, problems, warnings, "ravdess");
        }
        foreach (var folder in folders)
        {
            string folderName = Path.GetFileName(folder);
            var files = Directory.GetFiles(folder).Where(IsAudio).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            if (tess)
            {
                var (speaker, folderLabel) = ParseTessFolder(folderName)!.Value;
                foreach (var file in files)
                {
                    var parts = Path.GetFileNameWithoutExtension(file).Split('_');
                    string? fileLabel = parts.Length >= 3 ? EmotionLabels.Normalize(string.Join('_', parts[2..])) ?? EmotionLabels.Normalize(parts[^1]) : null;
                    if (parts.Length < 3 || fileLabel is null)
                        problems.Add(new(file, $"name is not SPEAKER_word_emotion (expected e.g. {speaker}_back_{folderLabel}.wav); left out."));
                    else if (fileLabel != folderLabel)
                        problems.Add(new(file, $"name says '{fileLabel}' but its folder '{folderName}' says '{folderLabel}'; left out."));
                    else
                    {
                        // The real corpus has OAF_neutral/OA_bite_neutral.wav: the folder decides the speaker.
                        if (!string.Equals(parts[0], speaker, StringComparison.OrdinalIgnoreCase))
                            warnings.Add(new(file, $"name says speaker '{parts[0]}' but its folder says '{speaker}'; kept as {speaker}."));
                        utterances.Add(new Utterance(file, speaker, parts[1].ToLowerInvariant(), folderLabel)
                        {
                            Corpus = "tess", Gender = "female",
                        });
                    }
                }
            }
            else
            {
                string? label = EmotionLabels.Normalize(folderName) ?? (folderName.Length > 0 ? folderName.ToLowerInvariant() : null);
                foreach (var file in files)
                {
                    var parts = Path.GetFileNameWithoutExtension(file).Split('_');
                    string speaker = parts.Length >= 3 ? parts[0] : "unknown";
                    string word = parts.Length >= 3 ? parts[1].ToLowerInvariant() : Path.GetFileNameWithoutExtension(file).ToLowerInvariant();
                    utterances.Add(new Utterance(file, speaker, word, label!));
                }
            }
        }
        if (utterances.Count == 0)
            throw new CorpusException($"{root}: no audio files found (looked for {string.Join(", ", AudioExtensions)} in its sub-folders: " +
                "TESS's SPEAKER_emotion folders or one folder per label).");
        return new Result(utterances, problems, warnings, tess ? "tess" : "plain");
    }

    private static bool IsAudio(string path) => AudioExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>"Actor_07" → "07"; else null.</summary>
    private static string? RavdessActor(string folder) =>
        folder.Length == 8 && folder.StartsWith("Actor_", StringComparison.Ordinal) && char.IsAsciiDigit(folder[6]) && char.IsAsciiDigit(folder[7]) ? folder[6..] : null;

    /// <summary>"OAF_Fear" → ("OAF", "fear"); "YAF_pleasant_surprised" → ("YAF", "pleasant_surprise"); else null.</summary>
    public static (string Speaker, string Label)? ParseTessFolder(string name)
    {
        int underscore = name.IndexOf('_');
        if (underscore <= 0) return null;
        string speaker = name[..underscore].ToUpperInvariant();
        string? label = EmotionLabels.Normalize(name[(underscore + 1)..]);
        return label is null ? null : (speaker, label);
    }

    /// <summary>The labels present, in the canonical TESS order first, then any others alphabetically.</summary>
    public static IReadOnlyList<string> Labels(IEnumerable<Utterance> utterances)
    {
        var present = utterances.Select(u => u.Label).ToHashSet();
        return EmotionLabels.All.Where(present.Contains).Concat(present.Except(EmotionLabels.All).Order(StringComparer.Ordinal)).ToList();
    }
}
