using SpeechEmotion.Core.IO;
using System.Globalization;
using System.Text;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Training.Corpus;

/// <summary>Where an utterance goes: training, the validation part that chooses (epoch, temperature, relevance), the test
/// side, or the audit part — whole speakers of the training side held out of training and of every choice, scored at
/// the end as the validation part is (<c>--audit-speakers</c>): a training-side estimate no choice has looked at.</summary>
public enum Part { Train, Validation, Test, Audit }

/// <summary>An utterance and the part of the split it belongs to.</summary>
public sealed record SplitEntry(Utterance Utterance, Part Part);

/// <summary>
/// Seeded, deterministic train/validation/test splits (DESIGN.md's evaluation protocols):
/// random — stratified 75/25 by label, both speakers on both sides; speaker — test on one or more named speakers,
/// train on the rest (loso: every speaker once, fold by fold, <see cref="LosoFolds"/>); corpus — test on one corpus,
/// train on the others; word — 25% of the words held out entirely. Validation (for early stopping, model selection
/// and the temperature) is always carved from the training side, in the same spirit: stratified by label for random,
/// whole words for word, and for speaker and corpus whole speakers where a training corpus has enough of them
/// (else a stratified tenth). Nothing here looks at the test side beyond setting it apart.
/// </summary>
public static class Splits
{
    public const double TestFraction = 0.25, ValidationFraction = 0.1;

    /// <param name="auditSpeakers">Whole speakers per corpus held out as the audit part (<see cref="Part.Audit"/>), taken after
    /// the validation speakers from the same seeded queues (so the validation part is the one drawn without them); only
    /// the speaker and corpus protocols, and only corpora with at least <see cref="SpeakersForSpeakerValidation"/> training
    /// speakers besides them, give any.</param>
    public static IReadOnlyList<SplitEntry> Make(IReadOnlyList<Utterance> utterances, Protocol protocol, ulong seed, string? testSpeaker = null,
        string? testCorpus = null, int auditSpeakers = 0)
    {
        if (auditSpeakers < 0) throw new OptionsException($"--audit-speakers must be 0 or more, got {auditSpeakers}.");
        if (auditSpeakers > 0 && protocol is not (Protocol.Speaker or Protocol.Corpus))
            throw new OptionsException($"--audit-speakers holds whole speakers out of the training side: the speaker, corpus and loso protocols have them, not {protocol.ToString().ToLowerInvariant()}.");
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
                    var held = testSpeaker is null ? [speakers[^1]] : ParseSpeakers(testSpeaker);
                    foreach (var name in held)
                    {
                        var matches = ordered.Where(u => IsSpeaker(u, name)).Select(u => u.Speaker).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
                        if (matches.Count == 0)
                            throw new OptionsException($"--test-speaker '{name}' is not in the corpus; its speakers are {string.Join(", ", speakers)}.");
                        if (matches.Count > 1)
                            throw new OptionsException($"--test-speaker '{name}' is ambiguous ({string.Join(", ", matches)}): name it with its corpus.");
                    }
                    if (ordered.All(u => held.Any(name => IsSpeaker(u, name))))
                        throw new OptionsException($"--test-speaker '{testSpeaker}' holds out every speaker: nothing is left to train on.");
                    HoldOut(ordered, u => held.Any(name => IsSpeaker(u, name)), rng, part, auditSpeakers);
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
                    HoldOut(ordered, u => string.Equals(u.Corpus, held, StringComparison.OrdinalIgnoreCase), rng, part, auditSpeakers);
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
        if (auditSpeakers > 0 && !part.Values.Contains(Part.Audit))
            throw new OptionsException($"--audit-speakers {auditSpeakers}: no training corpus has {SpeakersForSpeakerValidation} speakers besides them to give.");
        return ordered.Select(u => new SplitEntry(u, part[u])).ToList();
    }

    /// <summary>
    /// Leave-speakers-out cross-validation: the speakers (of <paramref name="corpus"/> only, when given; the other
    /// corpora then always train) dealt into <paramref name="folds"/> groups, every speaker in exactly one. Each gender's
    /// speakers are shuffled by the seed and dealt in turn, so every fold holds both genders where it can. Each group
    /// is one fold's comma-separated <c>--test-speaker</c> list.
    /// </summary>
    public static IReadOnlyList<string> LosoFolds(IReadOnlyList<Utterance> utterances, int folds, ulong seed, string? corpus = null)
    {
        var pool = utterances.Where(u => corpus is null || string.Equals(u.Corpus, corpus, StringComparison.OrdinalIgnoreCase)).ToList();
        if (pool.Count == 0)
            throw new OptionsException($"--test-corpus '{corpus}' is not in the data; it holds {string.Join(", ", utterances.Select(u => u.Corpus).Distinct().Order(StringComparer.Ordinal))}.");
        var speakers = pool.GroupBy(u => u.Speaker, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.First().Speaker.Contains(':') ? g.First().Speaker : $"{g.First().Corpus}:{g.First().Speaker}", Gender: g.First().Gender ?? "")).ToList();
        if (folds < 2 || folds > speakers.Count)
            throw new OptionsException($"--folds must be 2 to the number of speakers ({speakers.Count}), got {folds}.");
        var dealt = ShuffledByGender(speakers, new Rng(seed)).SelectMany(names => names).ToList();
        var groups = Enumerable.Range(0, folds).Select(_ => new List<string>()).ToList();
        for (int i = 0; i < dealt.Count; i++) groups[i % folds].Add(dealt[i]);
        return groups.Select(g => string.Join(',', g.Order(StringComparer.Ordinal))).ToList();
    }

    /// <summary>Test speakers as given: one name or several separated by commas ("ravdess:03,ravdess:04").</summary>
    public static IReadOnlyList<string> ParseSpeakers(string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) throw new OptionsException($"--test-speaker needs a speaker name (e.g. YAF or ravdess:03), got '{text}'.");
        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>A speaker is named qualified by its corpus ("tess:YAF", "ravdess:03") or bare ("YAF") where that is unambiguous.</summary>
    public static bool IsSpeaker(Utterance u, string name) => string.Equals(u.Speaker, name, StringComparison.OrdinalIgnoreCase) ||
        (!name.Contains(':') && u.Speaker.EndsWith(":" + name, StringComparison.OrdinalIgnoreCase)) ||
        (!u.Speaker.Contains(':') && string.Equals($"{u.Corpus}:{u.Speaker}", name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A corpus with at least this many training speakers gives whole speakers to the validation part.</summary>
    public const int SpeakersForSpeakerValidation = 4;

    /// <summary>
    /// The held-out utterances are the test side; the rest train, with a validation part carved from them. Where a
    /// corpus has <see cref="SpeakersForSpeakerValidation"/> or more training speakers, its validation part is whole
    /// speakers (a tenth of them, at least one, taken from each gender in turn), so that model selection and the
    /// temperature are fitted on voices training never heard — what the test side is too. A corpus with fewer
    /// speakers gives a stratified tenth of its utterances.
    /// </summary>
    private static void HoldOut(IReadOnlyList<Utterance> ordered, Func<Utterance, bool> held, Rng rng, Dictionary<Utterance, Part> part, int auditSpeakers)
    {
        var train = new List<Utterance>();
        foreach (var u in ordered)
            if (held(u)) part[u] = Part.Test;
            else train.Add(u);
        foreach (var corpus in train.GroupBy(u => u.Corpus).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = corpus.ToList();
            var speakers = members.GroupBy(u => u.Speaker, StringComparer.OrdinalIgnoreCase).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => (Name: g.Key, Gender: g.First().Gender ?? "")).ToList();
            if (speakers.Count < SpeakersForSpeakerValidation)
            {
                var (validation, rest) = StratifiedTake(members, ValidationFraction, rng);
                foreach (var u in validation) part[u] = Part.Validation;
                foreach (var u in rest) part[u] = Part.Train;
                continue;
            }
            // Each gender's speakers in a seeded order, then taken from the genders in turn.
            var queues = ShuffledByGender(speakers, rng).Select(names => new Queue<string>(names)).ToList();
            int count = Math.Max(1, (int)Math.Round(speakers.Count * ValidationFraction));
            var chosen = Take(queues, count);
            // The audit speakers next, from where the validation speakers left the queues, where enough remain to train on.
            var audited = speakers.Count - count - auditSpeakers >= SpeakersForSpeakerValidation ? Take(queues, auditSpeakers) : [];
            foreach (var u in members) part[u] = chosen.Contains(u.Speaker) ? Part.Validation : audited.Contains(u.Speaker) ? Part.Audit : Part.Train;
        }
    }

    /// <summary><paramref name="count"/> speakers from the gender queues, one from each in turn (a queue run dry is skipped).</summary>
    private static HashSet<string> Take(List<Queue<string>> queues, int count)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; taken.Count < count; i++)
            if (queues[i % queues.Count].TryDequeue(out var name)) taken.Add(name);
        return taken;
    }

    /// <summary>Each gender's speakers (genders in name order, speakers in the order given) shuffled by the generator:
    /// what validation speakers and loso's folds are both dealt from, so each gets both genders where it can.</summary>
    private static List<string[]> ShuffledByGender(IEnumerable<(string Name, string Gender)> speakers, Rng rng) =>
        speakers.GroupBy(s => s.Gender).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var names = g.Select(s => s.Name).ToArray();
            rng.Shuffle(names.AsSpan());
            return names;
        }).ToList();

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
            text.Append(string.Join(',', new[] { e.Utterance.Path, e.Utterance.Speaker, e.Utterance.Word, e.Utterance.Label, e.Part.ToString().ToLowerInvariant() }.Select(Csv.Quote))).Append('\n');
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
            var fields = Csv.ParseLine(lines[i]);
            if (fields.Count != 5) throw new CorpusException($"{path}, line {i + 1}: expected 5 fields, found {fields.Count}.");
            if (!Enum.TryParse<Part>(fields[4], ignoreCase: true, out var part))
                throw new CorpusException($"{path}, line {i + 1}: part must be train, validation, test or audit, got '{fields[4]}'.");
            entries.Add(new SplitEntry(new Utterance(fields[0], fields[1], fields[2], fields[3]), part));
        }
        return entries;
    }
}

/// <summary>One line of comma-separated values, RFC 4180 quoting ("a, b" and doubled quotes inside).</summary>
public static class Csv
{
    /// <summary>A field as one CSV cell: quoted (quotes doubled) when it holds a comma, a quote or a line break.</summary>
    public static string Quote(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    public static List<string> ParseLine(string line)
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
