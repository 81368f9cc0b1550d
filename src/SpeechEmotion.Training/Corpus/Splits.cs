using SpeechEmotion.Core.IO;
using System.Globalization;
using System.Text;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Training.Corpus;

public enum Part { Train, Validation, Test }

/// <summary>An utterance and the part of the split it belongs to.</summary>
public sealed record SplitEntry(Utterance Utterance, Part Part);

/// <summary>
/// Seeded, deterministic train/validation/test splits (DESIGN.md's evaluation protocols):
/// random — stratified 75/25 by label, both speakers on both sides; speaker — test on one named speaker,
/// train on the rest; word — 25% of the words held out entirely. Validation (for early stopping and model
/// selection) is always carved from the training side, in the same spirit: stratified by label for random and
/// speaker, whole words for word. Nothing here looks at the test side beyond setting it apart.
/// </summary>
public static class Splits
{
    public const double TestFraction = 0.25, ValidationFraction = 0.1;

    public static IReadOnlyList<SplitEntry> Make(IReadOnlyList<Utterance> utterances, Protocol protocol, ulong seed, string? testSpeaker = null,
        string? testCorpus = null)
    {
        var rng = new Rng(seed);
        var ordered = utterances.OrderBy(u => u.Path, StringComparer.Ordinal).ToList(); // independent of input order
        var part = new Dictionary<Utterance, Part>();
        switch (protocol)
        {
            case Protocol.Random:
                {
                    var (test, train) = StratifiedTake(ordered, TestFraction, rng);
                    foreach (var u in test) part[u] = Part.Test;
                    var (validation, rest) = StratifiedTake(train, ValidationFraction, rng);
                    foreach (var u in validation) part[u] = Part.Validation;
                    foreach (var u in rest) part[u] = Part.Train;
                    break;
                }
            case Protocol.Speaker:
                {
                    var speakers = ordered.Select(u => u.Speaker).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
                    if (speakers.Count < 2)
                        throw new OptionsException($"The speaker protocol needs at least two speakers; the corpus has {speakers.Count} ({string.Join(", ", speakers)}).");
                    // A speaker is named bare ("YAF", "ravdess:03") or qualified by its corpus ("tess:YAF").
                    bool Is(Utterance u, string name) => string.Equals(u.Speaker, name, StringComparison.OrdinalIgnoreCase) ||
                        (!u.Speaker.Contains(':') && string.Equals($"{u.Corpus}:{u.Speaker}", name, StringComparison.OrdinalIgnoreCase));
                    string held = testSpeaker ?? speakers[^1];
                    if (!ordered.Any(u => Is(u, held)))
                        throw new OptionsException($"--test-speaker '{held}' is not in the corpus; its speakers are {string.Join(", ", speakers)}.");
                    HoldOut(ordered, u => Is(u, held), rng, part);
                    break;
                }
            case Protocol.Corpus:
                {
                    // Train on every other corpus, test on one never heard; validation comes from the training corpora.
                    var corpora = ordered.Select(u => u.Corpus).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
                    string held = testCorpus ?? throw new OptionsException($"The corpus protocol needs a test corpus; the data holds {string.Join(", ", corpora)}.");
                    if (!corpora.Contains(held, StringComparer.OrdinalIgnoreCase))
                        throw new OptionsException($"--test-corpus '{held}' is not in the data; it holds {string.Join(", ", corpora)}.");
                    if (corpora.Count < 2)
                        throw new OptionsException($"The corpus protocol needs at least two corpora; the data holds only {held}: give --data once per corpus.");
                    HoldOut(ordered, u => string.Equals(u.Corpus, held, StringComparison.OrdinalIgnoreCase), rng, part);
                    break;
                }
            case Protocol.Word:
                {
                    var words = ordered.Select(u => u.Word).Distinct().Order(StringComparer.Ordinal).ToArray();
                    rng.Shuffle(words.AsSpan());
                    int testWords = (int)Math.Round(words.Length * TestFraction);
                    var testSet = words[..testWords].ToHashSet();
                    var remaining = words[testWords..];
                    int validationWords = Math.Max(1, (int)Math.Round(remaining.Length * ValidationFraction));
                    var validationSet = remaining[..Math.Min(validationWords, remaining.Length)].ToHashSet();
                    foreach (var u in ordered)
                        part[u] = testSet.Contains(u.Word) ? Part.Test : validationSet.Contains(u.Word) ? Part.Validation : Part.Train;
                    break;
                }
            default:
                throw new OptionsException($"Unknown protocol {protocol}.");
        }
        return ordered.Select(u => new SplitEntry(u, part[u])).ToList();
    }

    /// <summary>The held-out utterances are the test side; the rest train, with a stratified validation part carved from them.</summary>
    private static void HoldOut(IReadOnlyList<Utterance> ordered, Func<Utterance, bool> held, Rng rng, Dictionary<Utterance, Part> part)
    {
        var train = new List<Utterance>();
        foreach (var u in ordered)
            if (held(u)) part[u] = Part.Test;
            else train.Add(u);
        var (validation, rest) = StratifiedTake(train, ValidationFraction, rng);
        foreach (var u in validation) part[u] = Part.Validation;
        foreach (var u in rest) part[u] = Part.Train;
    }

    /// <summary>Per label, a seeded shuffle, then round(fraction · count) go to the first list.</summary>
    private static (List<Utterance> Taken, List<Utterance> Remaining) StratifiedTake(IReadOnlyList<Utterance> items, double fraction, Rng rng)
    {
        var taken = new List<Utterance>();
        var rest = new List<Utterance>();
        foreach (var group in items.GroupBy(u => u.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            rng.Shuffle(members.AsSpan());
            int count = (int)Math.Round(members.Length * fraction);
            taken.AddRange(members[..count]);
            rest.AddRange(members[count..]);
        }
        return (taken, rest);
    }
}

/// <summary>A split as CSV (path, speaker, word, label, part): written atomically, read back exactly.</summary>
public static class Manifest
{
    private const string Header = "path,speaker,word,label,part";

    public static void Write(string path, IEnumerable<SplitEntry> entries)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var e in entries)
            text.Append(string.Join(',', new[] { e.Utterance.Path, e.Utterance.Speaker, e.Utterance.Word, e.Utterance.Label, e.Part.ToString().ToLowerInvariant() }.Select(Quote))).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    public static IReadOnlyList<SplitEntry> Read(string path)
    {
        if (!File.Exists(path)) throw new CorpusException($"{path}: manifest not found.");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header) throw new CorpusException($"{path}: not a split manifest (first line must be '{Header}').");
        var entries = new List<SplitEntry>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var fields = ParseLine(lines[i]);
            if (fields.Count != 5) throw new CorpusException($"{path}, line {i + 1}: expected 5 fields, found {fields.Count}.");
            if (!Enum.TryParse<Part>(fields[4], ignoreCase: true, out var part))
                throw new CorpusException($"{path}, line {i + 1}: part must be train, validation or test, got '{fields[4]}'.");
            entries.Add(new SplitEntry(new Utterance(fields[0], fields[1], fields[2], fields[3]), part));
        }
        return entries;
    }

    private static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    private static List<string> ParseLine(string line)
    {
        var fields = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
