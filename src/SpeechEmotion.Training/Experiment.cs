using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Training.Corpus;
using SpeechEmotion.Training.Features;

namespace SpeechEmotion.Training;

/// <summary>Everything one protocol needs: the split, the features, and the samples of each part.</summary>
public sealed record PreparedData(
    IReadOnlyList<string> Labels,
    IReadOnlyList<SplitEntry> Split,
    IReadOnlyList<CorpusProblem> Problems,
    IReadOnlyList<CorpusProblem> Warnings,
    ExtractionResult Extraction,
    FeatureStats TrainStatistics,
    IReadOnlyList<Sample> Train,
    IReadOnlyList<Sample> Validation,
    IReadOnlyList<Sample> Test,
    int MaxSteps)
{
    /// <summary>The validation part's own utterances (no perturbed copies) with their raw features, in the order of
    /// <see cref="Validation"/>: what choosing a model's one-file standardisation scores.</summary>
    public IReadOnlyList<RawSample> ValidationRaw { get; init; } = [];

    /// <summary>With the training copies drawn (<see cref="Recipe.DrawCopies"/>): per training utterance, the indices into
    /// <see cref="Train"/> of its versions (the original first); null when every sample trains every epoch.</summary>
    public IReadOnlyList<int[]>? TrainVersions { get; init; }

    /// <summary>The test side's utterances with their raw features, in the order of <see cref="Test"/>.</summary>
    public IReadOnlyList<RawSample> TestRaw { get; init; } = [];

    /// <summary>The audit part (<see cref="Part.Audit"/>): whole training-side speakers no training and no choice used,
    /// standardised as the validation part is; empty without <c>--audit-speakers</c>.</summary>
    public IReadOnlyList<Sample> Audit { get; init; } = [];

    /// <summary>The audit part's utterances with their raw features, in the order of <see cref="Audit"/>.</summary>
    public IReadOnlyList<RawSample> AuditRaw { get; init; } = [];

    /// <summary>
    /// Utterances as <c>ser predict</c> sees single files (<see cref="ModelInputs.OneFile"/>): under speaker
    /// normalisation each standardised by itself, from the training side's statistics adapted towards its own by
    /// <paramref name="relevance"/>, instead of with its speaker's (which need the voice's other recordings).
    /// </summary>
    public IReadOnlyList<Sample> OneFileAtATime(Recipe recipe, IReadOnlyList<RawSample> part, double relevance) =>
        part.Select(r => new Sample(ModelInputs.OneFile(recipe, TrainStatistics, relevance, r.Features), r.Label, r.Speaker, r.Path)).ToList();

    /// <summary>A part one file at a time (the inductive score): <see cref="OneFileAtATime(Recipe, IReadOnlyList{RawSample}, double)"/>
    /// of its raw features, or <paramref name="standardised"/> (the part as already standardised) where the recipe
    /// standardises without a speaker's statistics, so one file is already all it uses.</summary>
    public IReadOnlyList<Sample> OneFileAtATime(Recipe recipe, IReadOnlyList<RawSample> raw, IReadOnlyList<Sample> standardised, double relevance) =>
        recipe.NeedsSpeakerStatistics ? OneFileAtATime(recipe, raw, relevance) : standardised;

    /// <summary>The test side one file at a time.</summary>
    public IReadOnlyList<Sample> TestOneFileAtATime(Recipe recipe, double relevance) => OneFileAtATime(recipe, TestRaw, Test, relevance);

    /// <summary>The raw (unstandardised) features of each test sample, in the order of <see cref="Test"/>.</summary>
    public IReadOnlyList<Audio.Features> TestFeatures() => TestRaw.Select(r => r.Features).ToList();
}

/// <summary>One utterance of a part, unstandardised: its features as extracted, with its label, speaker and path.</summary>
public sealed record RawSample(Audio.Features Features, int Label, string Speaker, string Path);

/// <summary>
/// The data side of an experiment, shared by <c>train</c> and <c>evaluate</c> so both see the same split and the
/// same features: index the corpus, split it by protocol and seed, extract (or load cached) features, standardise
/// them without looking at any label, and turn them into the recipe's input sequences.
/// </summary>
public static class Experiment
{
    public static PreparedData Prepare(string dataRoot, Recipe recipe, SplitInfo split, string? cacheDirectory,
        IReadOnlyList<string>? labels = null, Action<int, int>? progress = null, int threads = 0, CancellationToken cancellation = default,
        FeatureStats? storedStatistics = null, bool stopOnError = false, string? layout = null, bool everyFileIsTest = false, int auditSpeakers = 0)
    {
        var index = CorpusIndex.Load(dataRoot, layout);
        var warnings = index.Warnings.ToList();
        IReadOnlyList<SplitEntry> entries;
        // The entries of one side whose class is not in `known` are left out, and the run says how many and which.
        void LeaveOut(Func<SplitEntry, bool> onSide, HashSet<string> known, string where, string what, string why)
        {
            var left = entries.Where(e => onSide(e) && !known.Contains(e.Utterance.Label)).ToList();
            if (left.Count == 0) return;
            warnings.Add(new CorpusProblem(where, $"{left.Count} {what} of class(es) {string.Join(", ", left.Select(e => e.Utterance.Label).Distinct())}, {why}"));
            entries = entries.Except(left).ToList();
        }
        const string Unknown = "which the model does not know, left out of the score.";
        if (everyFileIsTest)
        {
            // A stored model scored on a labelled folder of one's own: every file is the test side, nothing trains, and the
            // classes the model does not know are left out (and said so).
            if (labels is null || storedStatistics is null) throw new OptionsException("Scoring every file needs a trained model's labels and statistics.");
            entries = index.Utterances.Select(u => new SplitEntry(u, Part.Test)).ToList();
            LeaveOut(_ => true, labels.ToHashSet(), dataRoot, "utterances", Unknown);
            entries = entries.OrderBy(e => e.Utterance.Path, StringComparer.Ordinal).ToList();
            if (entries.Count == 0) throw new CorpusException($"{dataRoot}: no file of a class the model knows ({string.Join(", ", labels)}).");
        }
        else entries = Splits.Make(index.Utterances, split.Protocol, split.Seed, split.TestSpeaker, split.TestCorpus, auditSpeakers);
        if (split.Protocol == Protocol.Corpus)
        {
            // Across corpora a model is trained and scored on the classes both sides have (a new model learns only those;
            // a stored model keeps its own); what either side has beyond them is left out, and said so.
            labels ??= CorpusIndex.Labels(entries.Where(e => e.Part != Part.Test).Select(e => e.Utterance))
                .Intersect(entries.Where(e => e.Part == Part.Test).Select(e => e.Utterance.Label)).ToList();
            var known = labels.ToHashSet();
            LeaveOut(e => e.Part == Part.Test, known, split.TestCorpus ?? "", "test utterances", Unknown);
            LeaveOut(e => e.Part != Part.Test, known, dataRoot, "training utterances", $"which the test corpus {split.TestCorpus} lacks, left out of training.");
        }
        labels ??= CorpusIndex.Labels(index.Utterances);
        var unknown = entries.Select(e => e.Utterance.Label).Distinct().Except(labels).ToList();
        if (unknown.Count > 0)
            throw new CorpusException($"{dataRoot}: labels {string.Join(", ", unknown)} are not among the model's ({string.Join(", ", labels)}).");
        var cache = cacheDirectory is null ? null : new FeatureCache(cacheDirectory, recipe.FrontEnd);
        // The VTLP-warped versions of the utterances copied below (see there) come out of the same pass as the plain
        // features: each file read and prepared once, its prosody and power spectra shared by every filter bank.
        // Which parts get perturbed copies: the training part, and the validation part too unless the copies are drawn.
        bool IsCopied(Part part) => part == Part.Train || (part == Part.Validation && !recipe.DrawCopies);
        var warpedSet = entries.Where(e => IsCopied(e.Part)).Select(e => e.Utterance).ToHashSet();
        var featureVersions = recipe.WarpFactors.Select(a => new FeatureVersion(a, VariantCache(cacheDirectory, recipe, 1.0, a, null), warpedSet))
            .Prepend(new FeatureVersion(1.0, cache)).ToList();
        var extractions = FeatureExtraction.ExtractVersions(entries.Select(e => e.Utterance).ToList(), recipe.FrontEnd, featureVersions, threads, stopOnError, progress, cancellation);
        var extraction = extractions[0];
        if (cache?.WriteProblem is { } problem)
            warnings.Add(new CorpusProblem(cacheDirectory!, $"the feature cache cannot be written ({problem}); features were computed but not cached."));
        var features = new Dictionary<Utterance, Audio.Features>();
        for (int i = 0; i < extraction.Utterances.Count; i++) features[extraction.Utterances[i]] = extraction.Features[i];
        var parts = entries.Where(e => features.ContainsKey(e.Utterance)).ToList();

        int size = recipe.FrontEnd.FeatureSize;
        // A trained model's own statistics win (evaluate must standardise as training did); else the training side's.
        var trainStats = storedStatistics ?? FeatureStats.Compute(parts.Where(e => e.Part == Part.Train).Select(e => recipe.StatisticsView(features[e.Utterance])), size);
        var speakerStats = recipe.NeedsSpeakerStatistics
            ? parts.GroupBy(e => e.Utterance.Speaker).ToDictionary(g => g.Key, g => FeatureStats.Compute(g.Select(e => features[e.Utterance]), size))
            : null;

        var samples = new Dictionary<Part, List<Sample>> { [Part.Train] = new(), [Part.Validation] = new(), [Part.Test] = new(), [Part.Audit] = new() };
        int maxSteps = 1;
        void Add(Part part, Utterance utterance, Audio.Features f, FeatureStats? speaker)
        {
            var input = ModelInputs.Prepare(recipe, trainStats, speaker, f);
            maxSteps = Math.Max(maxSteps, input.Steps);
            samples[part].Add(new Sample(input, IndexOf(labels, utterance.Label), utterance.Speaker, utterance.Path));
        }
        foreach (var entry in parts)
            Add(entry.Part, entry.Utterance, features[entry.Utterance], speakerStats?[entry.Utterance.Speaker]);
        List<RawSample> Raw(Part part) => parts.Where(e => e.Part == part)
            .Select(e => new RawSample(features[e.Utterance], IndexOf(labels, e.Utterance.Label), e.Utterance.Speaker, e.Utterance.Path)).ToList();
        var validationRaw = Raw(Part.Validation);
        var testRaw = Raw(Part.Test);

        // Speed-perturbed and VTLP-warped copies of the training side — its training and validation parts both — each (speaker,
        // factor) normalised as a voice of its own. Perturbed validation copies make model selection prefer what
        // carries over to another voice, still without touching the test side. --validate-speeds adds copies of the
        // validation part alone, at speeds training never hears. With the copies drawn (Recipe.DrawCopies) only the
        // training part is copied, and each epoch trains on one version of every utterance (Trainer.Train's versions).
        var trainSide = parts.Where(e => e.Part is Part.Train or Part.Validation).ToDictionary(e => e.Utterance, e => e.Part);
        var trainUtterances = trainSide.Keys.ToList();
        var validationUtterances = trainUtterances.Where(u => trainSide[u] == Part.Validation).ToList();
        var copied = trainUtterances.Where(u => IsCopied(trainSide[u])).ToList();
        // In this order: speeds, warps (extracted above, in the plain features' pass, for the same utterances in the same
        // order), rooms, validation speeds.
        var perturbed = recipe.SpeedFactors.Select(f => Perturbed(copied, recipe, cacheDirectory, f, 1.0, threads, progress, cancellation))
            .Concat(extractions.Skip(1).Select(e => (Extraction: e, VoiceStats: VoiceStats(e, recipe))))
            .Concat(recipe.Rooms.Select(r => Perturbed(copied, recipe, cacheDirectory, 1.0, 1.0, threads, progress, cancellation, r)))
            .Concat(recipe.ValidationSpeedFactors.Select(f => Perturbed(validationUtterances, recipe, cacheDirectory, f, 1.0, threads, progress, cancellation)));
        foreach (var (variant, voiceStats) in perturbed)
            for (int i = 0; i < variant.Utterances.Count; i++)
                Add(trainSide[variant.Utterances[i]], variant.Utterances[i], variant.Features[i], voiceStats?[variant.Utterances[i].Speaker]);
        // Versions standardised as ser predict standardises one file: the training side's statistics adapted towards the
        // recording's own, so the model also learns the inputs a single file gives it.
        foreach (double relevance in recipe.FileCopyRelevances)
            foreach (var utterance in copied)
                Add(trainSide[utterance], utterance, features[utterance], trainStats.AdaptedTo(features[utterance], relevance));
        // One group per training utterance, its original first (copies keep their original's path).
        var versions = recipe.DrawCopies
            ? samples[Part.Train].Select((sample, i) => (sample.Path, i)).GroupBy(x => x.Path, StringComparer.Ordinal).Select(g => g.Select(x => x.i).ToArray()).ToList()
            : null;
        return new PreparedData(labels, entries, extraction.Problems, warnings, extraction, trainStats,
            samples[Part.Train], samples[Part.Validation], samples[Part.Test], maxSteps)
            { ValidationRaw = validationRaw, TestRaw = testRaw, TrainVersions = versions, Audit = samples[Part.Audit], AuditRaw = Raw(Part.Audit) };
    }

    /// <summary>
    /// Features of the utterances played at <paramref name="speed"/> or through a <paramref name="warp"/>ed filter
    /// bank (one of the two, the other 1), cached under the variant's own name, and — when the recipe needs them —
    /// the statistics of each (speaker, variant) as a voice of its own.
    /// </summary>
    internal static (ExtractionResult Extraction, Dictionary<string, FeatureStats>? VoiceStats) Perturbed(IReadOnlyList<Utterance> utterances, Recipe recipe,
        string? cacheDirectory, double speed, double warp, int threads, Action<int, int>? progress, CancellationToken cancellation, Room? room = null)
    {
        var cache = VariantCache(cacheDirectory, recipe, speed, warp, room);
        var extraction = FeatureExtraction.ExtractAll(utterances, recipe.FrontEnd, cache, threads, progress: progress, cancellation: cancellation, speed: speed, warp: warp, room: room);
        return (extraction, VoiceStats(extraction, recipe));
    }

    /// <summary>The cache of one perturbed variant (one of speed, warp and room set), under the variant's own name.</summary>
    private static FeatureCache? VariantCache(string? cacheDirectory, Recipe recipe, double speed, double warp, Room? room)
    {
        string variant = room is not null ? "room=" + room : Recipe.ViewName((speed, warp));
        return cacheDirectory is null ? null : new FeatureCache(cacheDirectory, recipe.FrontEnd, variant);
    }

    /// <summary>When the recipe needs them, the statistics of each speaker of a perturbed variant, as a voice of its own.</summary>
    private static Dictionary<string, FeatureStats>? VoiceStats(ExtractionResult extraction, Recipe recipe) =>
        VoiceStats(extraction.Utterances.Select((u, i) => (u.Speaker, extraction.Features[i])), recipe);

    /// <summary>When the recipe needs them, the statistics of each speaker's recordings, as a voice of its own.</summary>
    internal static Dictionary<string, FeatureStats>? VoiceStats(IEnumerable<(string Speaker, Audio.Features Features)> recordings, Recipe recipe) =>
        recipe.NeedsSpeakerStatistics
            ? recordings.GroupBy(x => x.Speaker)
                .ToDictionary(g => g.Key, g => FeatureStats.Compute(g.Select(x => x.Features), recipe.FrontEnd.FeatureSize))
            : null;

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (int i = 0; i < labels.Count; i++) if (labels[i] == label) return i;
        throw new CorpusException($"label '{label}' is not among {string.Join(", ", labels)}.");
    }
}
