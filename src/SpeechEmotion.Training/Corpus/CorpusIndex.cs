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
/// EmoDB — files SSTTTEV.wav (03a01Fa.wav: speaker 03, text a01, emotion letter in German, version) in the folder
/// or its wav/ sub-folder; speakers "emodb:SS", gender from the speaker, the word the text code (<see cref="EmoDbEmotions"/>).
/// CREMA-D — files AAAA_SSS_EEE_LL.wav (1001_DFA_ANG_XX.wav: actor, sentence, emotion, level) in the folder or its
/// AudioWAV/ sub-folder; speakers "cremad:AAAA", gender from VideoDemographics.csv beside them when it is there.
/// A CSV manifest — a .csv file given as the corpus, with a header naming path and label and optionally speaker,
/// gender and corpus; paths relative to the CSV's folder.
/// Several roots (<c>--data</c> given more than once, or joined by the path separator) are indexed one by one and
/// merged; each utterance keeps its corpus.
/// </summary>
public static class CorpusIndex
{
    public static IReadOnlyList<string> AudioExtensions => Audio.AudioReader.Extensions;

    /// <summary>Problems are files left out; warnings are files kept despite a harmless inconsistency.</summary>
    public sealed record Result(IReadOnlyList<Utterance> Utterances, IReadOnlyList<CorpusProblem> Problems, IReadOnlyList<CorpusProblem> Warnings, string Layout);

    /// <summary>RAVDESS's emotion codes 01–08 → labels: its surprise joins TESS's pleasant surprise (RAVDESS's is not
    /// only pleasant), and calm, which TESS lacks, is a label of its own.</summary>
    public static readonly IReadOnlyDictionary<string, string> RavdessEmotions = new Dictionary<string, string>
    {
        ["01"] = "neutral", ["02"] = "calm", ["03"] = "happy", ["04"] = "sad",
        ["05"] = "angry", ["06"] = "fear", ["07"] = "disgust", ["08"] = "pleasant_surprise",
    };

    /// <summary>EmoDB's emotion letters (German initials) → labels: Ärger, Ekel, Angst, Freude, Neutral, Trauer, and
    /// Langeweile (boredom), which neither TESS nor RAVDESS has and is a label of its own.</summary>
    public static readonly IReadOnlyDictionary<char, string> EmoDbEmotions = new Dictionary<char, string>
    {
        ['W'] = "angry", ['E'] = "disgust", ['A'] = "fear", ['F'] = "happy", ['N'] = "neutral", ['T'] = "sad", ['L'] = "boredom",
    };

    /// <summary>EmoDB's ten speakers: 03, 10, 11, 12 and 15 are male, the others female.</summary>
    private static readonly HashSet<string> EmoDbMale = ["03", "10", "11", "12", "15"];

    /// <summary>CREMA-D's six emotion codes → labels.</summary>
    public static readonly IReadOnlyDictionary<string, string> CremaDEmotions = new Dictionary<string, string>
    {
        ["ANG"] = "angry", ["DIS"] = "disgust", ["FEA"] = "fear", ["HAP"] = "happy", ["NEU"] = "neutral", ["SAD"] = "sad",
    };

    /// <summary>The layouts a folder can be read as (<c>--layout</c> forces one; without it each folder's is found).</summary>
    public static readonly IReadOnlyList<string> Layouts = ["tess", "ravdess", "emodb", "cremad", "plain", "csv"];

    /// <summary>One root, or several joined by <see cref="Path.PathSeparator"/>: their utterances merged, in order.
    /// <paramref name="layout"/> forces every root to be read as that layout instead of finding each one's.</summary>
    public static Result Load(string root, string? layout = null)
    {
        layout = layout?.ToLowerInvariant();
        if (layout is not null && !Layouts.Contains(layout))
            throw new OptionsException($"--layout must be {string.Join(", ", Layouts)}, got '{layout}'.");
        var roots = root.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (roots.Length <= 1) return LoadOne(root, layout);
        var results = roots.Select(r => LoadOne(r, layout)).ToList();
        // The same speaker from two folders is one corpus given twice (or two copies of it): its files would count twice.
        var duplicates = results.SelectMany((r, i) => r.Utterances.Select(u => (u.Speaker, Root: i))).GroupBy(x => x.Speaker, StringComparer.OrdinalIgnoreCase)
            .Where(g => g.Select(x => x.Root).Distinct().Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
            throw new CorpusException($"{root}: speaker(s) {string.Join(", ", duplicates)} appear in more than one folder; give each corpus once.");
        return new Result(results.SelectMany(r => r.Utterances).ToList(), results.SelectMany(r => r.Problems).ToList(),
            results.SelectMany(r => r.Warnings).ToList(), string.Join('+', results.Select(r => r.Layout)));
    }

    private static Result LoadOne(string root, string? layout)
    {
        if (layout == "csv" || (layout is null && File.Exists(root) && root.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)))
            return File.Exists(root) ? LoadCsv(root) : throw new CorpusException($"{root}: --layout csv needs a CSV file, and there is none here.");
        if (!Directory.Exists(root))
            throw new CorpusException($"{root}: corpus folder not found. Get TESS with '../shared/data/get-tess data/tess' or 'ser download tess', or pass --data.");
        if (layout is null or "emodb" or "cremad")
        {
            if (FlatCorpus(root, layout) is { } flat) return flat;
            if (layout is not null) throw new CorpusException($"{root}: --layout {layout}, but no audio file here (or in its wav/ or AudioWAV/ folder) is named as {layout} names them.");
        }
        var folders = Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal).ToArray();
        bool tess = layout == "tess" || (layout is null && folders.Length > 0 && folders.All(f => ParseTessFolder(Path.GetFileName(f)) is not null));
        var utterances = new List<Utterance>();
        var problems = new List<CorpusProblem>();
        var warnings = new List<CorpusProblem>();
        if (layout == "ravdess" || (layout is null && folders.Length > 0 && folders.All(f => RavdessActor(Path.GetFileName(f)) is not null)))
        {
            foreach (var folder in folders)
                foreach (var file in AudioFiles(folder, problems))
                {
                    var fields = Path.GetFileNameWithoutExtension(file).Split('-');
                    string? actor = RavdessActor(Path.GetFileName(folder));
                    if (actor is null)
                        problems.Add(new(file, $"its folder '{Path.GetFileName(folder)}' is not RAVDESS's Actor_NN; left out."));
                    else if (fields.Length != 7 || fields.Any(f => f.Length != 2 || !f.All(char.IsAsciiDigit)) || !RavdessEmotions.ContainsKey(fields[2]))
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
            var files = AudioFiles(folder, problems);
            if (tess)
            {
                if (ParseTessFolder(folderName) is not var (speaker, folderLabel))
                {
                    foreach (var file in files) problems.Add(new(file, $"its folder '{folderName}' is not TESS's SPEAKER_emotion; left out."));
                    continue;
                }
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
                        utterances.Add(new Utterance(file, $"tess:{speaker}", parts[1].ToLowerInvariant(), folderLabel)
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
                    string speaker = "plain:" + (parts.Length >= 3 ? parts[0] : "unknown");
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

    /// <summary>EmoDB or CREMA-D: every audio file of the folder (or of its wav/ or AudioWAV/ sub-folder) named as that
    /// corpus names them; null when the folder is not one of them.</summary>
    private static Result? FlatCorpus(string root, string? only = null)
    {
        foreach (var folder in new[] { root, Path.Combine(root, "wav"), Path.Combine(root, "AudioWAV") })
        {
            if (!Directory.Exists(folder)) continue;
            var skipped = new List<CorpusProblem>();
            var files = AudioFiles(folder, skipped);
            if (files.Length == 0) continue;
            var stems = files.Select(Path.GetFileNameWithoutExtension).ToArray();
            if (only is null or "emodb" && stems.All(n => EmoDbName(n!) is not null))
                return new Result(files.Select(f =>
                {
                    var (speaker, text, label) = EmoDbName(Path.GetFileNameWithoutExtension(f))!.Value;
                    return new Utterance(f, $"emodb:{speaker}", text, label) { Corpus = "emodb", Gender = EmoDbMale.Contains(speaker) ? "male" : "female" };
                }).ToList(), skipped, [], "emodb");
            if (only is null or "cremad" && stems.Count(n => CremaDName(n!) is not null) * 2 > stems.Length) // CREMA-D's release has a few odd names
            {
                var genders = CremaDGenders(root, folder);
                var utterances = new List<Utterance>();
                var problems = skipped;
                foreach (var f in files)
                {
                    if (CremaDName(Path.GetFileNameWithoutExtension(f)) is not var (actor, sentence, label))
                    {
                        problems.Add(new(f, "name is not CREMA-D's ACTOR_SENTENCE_EMOTION_LEVEL (e.g. 1001_DFA_ANG_XX.wav); left out."));
                        continue;
                    }
                    utterances.Add(new Utterance(f, $"cremad:{actor}", sentence.ToLowerInvariant(), label) { Corpus = "cremad", Gender = genders.GetValueOrDefault(actor) });
                }
                return new Result(utterances, problems, [], "cremad");
            }
        }
        return null;
    }

    /// <summary>"03a01Fa" → ("03", "a01", "happy"); else null.</summary>
    private static (string Speaker, string Text, string Label)? EmoDbName(string stem) =>
        stem.Length == 7 && char.IsAsciiDigit(stem[0]) && char.IsAsciiDigit(stem[1]) && stem[2] is 'a' or 'b' && char.IsAsciiDigit(stem[3]) && char.IsAsciiDigit(stem[4]) &&
        EmoDbEmotions.TryGetValue(stem[5], out var label) && char.IsAsciiLetterLower(stem[6])
            ? (stem[..2], stem[2..5], label) : null;

    /// <summary>"1001_DFA_ANG_XX" → ("1001", "DFA", "angry"); else null.</summary>
    private static (string Actor, string Sentence, string Label)? CremaDName(string stem)
    {
        var parts = stem.Split('_');
        return parts.Length == 4 && parts[0].Length == 4 && parts[0].All(char.IsAsciiDigit) && parts[1].Length == 3 && parts[1].All(char.IsAsciiLetterUpper) &&
               CremaDEmotions.TryGetValue(parts[2], out var label) && parts[3] is "LO" or "MD" or "HI" or "XX"
            ? (parts[0], parts[1], label) : null;
    }

    /// <summary>Actor → "male"/"female" from CREMA-D's VideoDemographics.csv (ActorID,Age,Sex,…), beside the audio or above it; empty without it.</summary>
    private static Dictionary<string, string> CremaDGenders(string root, string folder)
    {
        var genders = new Dictionary<string, string>(StringComparer.Ordinal);
        string? file = new[] { Path.Combine(folder, "VideoDemographics.csv"), Path.Combine(root, "VideoDemographics.csv") }.FirstOrDefault(File.Exists);
        if (file is null) return genders;
        var lines = File.ReadLines(file).Take(10_000).ToList();
        if (lines.Count == 0) return genders;
        var header = Csv.ParseLine(lines[0]);
        int id = header.FindIndex(h => h.Trim() == "ActorID"), sex = header.FindIndex(h => h.Trim() == "Sex");
        if (id < 0 || sex < 0) return genders;
        foreach (var line in lines.Skip(1))
        {
            var fields = Csv.ParseLine(line);
            if (fields.Count <= Math.Max(id, sex)) continue;
            string g = fields[sex].Trim().ToLowerInvariant();
            if (g is "male" or "female") genders[fields[id].Trim()] = g;
        }
        return genders;
    }

    /// <summary>
    /// A CSV manifest: a header with the columns path and label (and optionally speaker, gender, corpus, in any order),
    /// one utterance per line, paths relative to the CSV's folder. The corpus defaults to the CSV's name; a speaker
    /// is qualified by it ("mycorpus:anna"). A line with a missing file or no label is reported and left out.
    /// </summary>
    private static Result LoadCsv(string csv)
    {
        var lines = File.ReadAllLines(csv);
        if (lines.Length == 0) throw new CorpusException($"{csv}: empty manifest; its first line must name the columns, e.g. path,label,speaker.");
        var header = Csv.ParseLine(lines[0]).Select(h => h.Trim().ToLowerInvariant()).ToList();
        int Column(string name) => header.IndexOf(name);
        int path = Column("path"), label = Column("label"), speaker = Column("speaker"), gender = Column("gender"), corpus = Column("corpus");
        if (path < 0 || label < 0)
            throw new CorpusException($"{csv}: the first line must name the columns path and label (and optionally speaker, gender, corpus); got '{lines[0]}'.");
        string folder = Path.GetDirectoryName(Path.GetFullPath(csv))!;
        string defaultCorpus = Path.GetFileNameWithoutExtension(csv).ToLowerInvariant();
        var utterances = new List<Utterance>();
        var problems = new List<CorpusProblem>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var fields = Csv.ParseLine(lines[i]);
            string Field(int column) => column >= 0 && column < fields.Count ? fields[column].Trim() : "";
            string file = Field(path).Length > 0 ? Path.GetFullPath(Path.Combine(folder, Field(path))) : "";
            string name = $"{csv}, line {i + 1}";
            if (file.Length == 0 || Field(label).Length == 0) { problems.Add(new(name, "no path or no label; left out.")); continue; }
            if (!File.Exists(file)) { problems.Add(new(name, $"{file} not found; left out.")); continue; }
            string corpusName = Field(corpus).Length > 0 ? Field(corpus).ToLowerInvariant() : defaultCorpus;
            string who = Field(speaker).Length > 0 ? Field(speaker) : "unknown";
            string? sex = Field(gender).ToLowerInvariant() switch { "m" or "male" => "male", "f" or "female" => "female", _ => null };
            utterances.Add(new Utterance(file, who.Contains(':') ? who : $"{corpusName}:{who}", Path.GetFileNameWithoutExtension(file).ToLowerInvariant(),
                EmotionLabels.Normalize(Field(label)) ?? Field(label).ToLowerInvariant()) { Corpus = corpusName, Gender = sex });
        }
        if (utterances.Count == 0) throw new CorpusException($"{csv}: no usable line (each needs a path to an existing file and a label).");
        return new Result(utterances, problems, [], "csv");
    }

    private static bool IsAudio(string path) => AudioExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Why a walk leaves a file out: its name does not end in an audio extension.</summary>
    public static string NotAudio => $"not an audio file ({string.Join(", ", AudioExtensions)})";

    /// <summary>
    /// <paramref name="files"/> in ordinal order, split into the audio files (by extension) and the others a walk
    /// reports as skipped: every one but a hidden one (a name starting with '.', such as get-tess's .verified marker).
    /// </summary>
    public static (string[] Audio, string[] Skipped) PartitionAudio(IEnumerable<string> files)
    {
        var all = files.Order(StringComparer.Ordinal).ToArray();
        return (all.Where(IsAudio).ToArray(), all.Where(f => !IsAudio(f) && !Path.GetFileName(f).StartsWith('.')).ToArray());
    }

    /// <summary>
    /// Every file under <paramref name="folder"/>, split as <see cref="PartitionAudio"/> splits them. Symbolic links inside
    /// the folder are not followed: a link to the folder itself (or to a parent) would walk it again and again, and a
    /// linked file would be read twice.
    /// </summary>
    public static (string[] Audio, string[] Skipped) AudioFilesUnder(string folder)
    {
        var walk = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        return PartitionAudio(Directory.EnumerateFiles(folder, "*", walk));
    }

    /// <summary>A folder's audio files; every other file (but hidden ones) goes into <paramref name="skipped"/> with why.</summary>
    private static string[] AudioFiles(string folder, List<CorpusProblem> skipped)
    {
        var (audio, others) = PartitionAudio(Directory.GetFiles(folder));
        foreach (var other in others) skipped.Add(new(other, $"{NotAudio}; left out."));
        return audio;
    }

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
