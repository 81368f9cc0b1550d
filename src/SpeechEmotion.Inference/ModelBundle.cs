using System.Globalization;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.IO;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Inference;

/// <summary>How the evaluation protocols (DESIGN.md) split a corpus: what a model file records of its training.</summary>
public enum Protocol { Random, Speaker, Word, Corpus }

/// <summary>How a model was trained: enough for <c>ser evaluate</c> to rebuild the exact test side.</summary>
public sealed record SplitInfo(Protocol Protocol, ulong Seed, string? TestSpeaker, string? TestCorpus = null)
{
    /// <summary>Whether both splits hold out the same utterances: the speaker protocol's test side is the whole test
    /// speaker whatever the seed (the seed only draws the validation part); the others draw it from the seed.</summary>
    public bool SameTestSide(SplitInfo other) =>
        Protocol == other.Protocol && TestSpeaker == other.TestSpeaker && TestCorpus == other.TestCorpus &&
        (Protocol is Protocol.Speaker or Protocol.Corpus || Seed == other.Seed);
}

/// <summary>
/// A model file with everything needed to use it: the classifier, its labels, the recipe (front-end settings,
/// normalisation, architecture), the training side's feature statistics, and the split it was trained on.
/// </summary>
public sealed record ModelBundle(SequenceClassifier Model, IReadOnlyList<string> Labels, Recipe Recipe, FeatureStats Statistics, SplitInfo Split)
{
    /// <summary>The file it was loaded from, to name it in messages ("a model" when it was never saved).</summary>
    public string Source { get; init; } = "a model";

    /// <summary>Rounds of self-training on the unlabelled test side of <see cref="Split"/>, or on <see cref="AdaptedTo"/>'s
    /// recordings (0: the model never heard either).</summary>
    public int AdaptationRounds { get; init; }

    /// <summary>The folder of recordings the model adapted to (<c>ser train --adapt-to</c>); null with
    /// <see cref="AdaptationRounds"/> above 0: the split's test side.</summary>
    public string? AdaptedTo { get; init; }

    /// <summary>Temperature scaling (<see cref="Calibration"/>) fitted on the validation part: 1 = the softmax as is.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>The relevance (frames) with which a single file's own statistics adapt the training side's
    /// (<see cref="ModelInputs.OneFile"/>), fitted on the validation part; +∞ = the training side's as they are.</summary>
    public double OneFileRelevance { get; init; } = double.PositiveInfinity;

    /// <summary>The temperature for single files (inputs of <see cref="ModelInputs.OneFile"/>), fitted on the validation
    /// part standardised that way: a single file's inputs are not its speaker's, and neither is its confidence. Null
    /// (every model before it, or a recipe without speaker statistics): <see cref="Temperature"/>.</summary>
    public float? OneFileTemperature { get; init; }

    /// <summary>Windows (frames) a recording is scored by (<see cref="ScoringWindows"/>): each window alone, their logits
    /// averaged; 0 = the whole recording at once, as every model before it.</summary>
    public int ScoringWindow { get; init; }

    /// <summary>The temperature for inputs standardised one file at a time (<paramref name="oneFile"/>) or otherwise.</summary>
    public float TemperatureFor(bool oneFile) => oneFile && OneFileTemperature is { } t ? t : Temperature;

    /// <summary>This model calibrated for single files: its <see cref="Temperature"/> the one-file one, for scoring
    /// inputs standardised one file at a time.</summary>
    public ModelBundle ForOneFile() => this with { Temperature = TemperatureFor(oneFile: true) };

    /// <summary>The longest scoring window a model file may hold (frames: about 12 minutes at the front end's hop).</summary>
    public const int MaxScoringWindow = 1 << 20;

    /// <summary>Models whose probabilities are averaged must score the same classes in the same order.</summary>
    public static void RequireSameLabels(IReadOnlyList<ModelBundle> ensemble)
    {
        var first = ensemble[0];
        foreach (var other in ensemble.Skip(1))
            if (!other.Labels.SequenceEqual(first.Labels))
                throw new OptionsException($"{other.Source} has labels [{string.Join(", ", other.Labels)}], {first.Source} has [{string.Join(", ", first.Labels)}]: an ensemble needs the same labels.");
    }

    /// <summary>The model file: parameters as safetensors, everything else in one <see cref="ModelMetadata"/> document.</summary>
    public void Save(string path)
    {
        if (Labels.Count != Model.Config.Classes) throw new ShapeException($"{Labels.Count} labels for a model of {Model.Config.Classes} classes.");
        var document = new ModelMetadata
        {
            Labels = Labels.ToArray(),
            Architecture = ArchitectureMetadata.Of(Model.Config),
            FrontEnd = FrontEndMetadata.Of(Recipe.FrontEnd),
            Recipe = Recipe.Kind.ToString().ToLowerInvariant(),
            Normalization = Recipe.Normalization.ToString().ToLowerInvariant(),
            SpeedFactors = Recipe.SpeedFactors.ToArray(),
            WarpFactors = Recipe.WarpFactors.ToArray(),
            Rooms = Recipe.Rooms.Select(r => r.ToString()).ToArray(),
            Statistics = new StatisticsMetadata(Statistics.Mean, Statistics.Std),
            Temperature = Temperature,
            OneFileRelevance = double.IsPositiveInfinity(OneFileRelevance) ? null : OneFileRelevance,
            OneFileTemperature = OneFileTemperature,
            ScoringWindow = ScoringWindow > 0 ? ScoringWindow : null,
            Training = new TrainingMetadata(Split.Protocol.ToString().ToLowerInvariant(), Split.Seed, Split.TestSpeaker, AdaptationRounds, Split.TestCorpus, AdaptedTo),
        };
        ModelFile.Save(path, Model, new Dictionary<string, string> { [ModelMetadata.FormatKey] = ModelMetadata.Format, [ModelMetadata.Key] = document.ToJson() });
    }

    /// <summary>A model file, loaded to predict (<paramref name="inferenceOnly"/>: parameters without gradients or
    /// optimiser state). Files of earlier releases (key=value metadata, schema 1) load too.</summary>
    public static ModelBundle Load(string path, bool inferenceOnly = true) =>
        Read(path, architecture => ModelFile.Load(path, architecture, inferenceOnly));

    /// <summary>A model file already in memory; <paramref name="name"/> names it in messages.</summary>
    public static ModelBundle Load(byte[] file, string name, bool inferenceOnly = true) =>
        Read(name, architecture => ModelFile.Load(file, name, architecture, inferenceOnly));

    /// <summary>One pass over the metadata: the description read while ModelFile asks for the architecture serves the bundle too.</summary>
    private static ModelBundle Read(string name, Func<Func<IReadOnlyDictionary<string, string>, ClassifierConfig>, ModelFile.Loaded> load)
    {
        Description? d = null;
        var loaded = load(metadata => (d = Describe(metadata, name)).Config);
        return new ModelBundle(loaded.Model, d!.Labels, d.Recipe, d.Statistics, d.Split) { Source = name, AdaptationRounds = d.AdaptationRounds, AdaptedTo = d.AdaptedTo, Temperature = d.Temperature, OneFileRelevance = d.OneFileRelevance, OneFileTemperature = d.OneFileTemperature, ScoringWindow = d.ScoringWindow };
    }

    /// <summary>Everything but the parameters, from either metadata format.</summary>
    private sealed record Description(ClassifierConfig Config, IReadOnlyList<string> Labels, Recipe Recipe, FeatureStats Statistics, SplitInfo Split, int AdaptationRounds)
    {
        public float Temperature { get; init; } = 1f;
        public double OneFileRelevance { get; init; } = double.PositiveInfinity;
        public float? OneFileTemperature { get; init; }
        public int ScoringWindow { get; init; }
        public string? AdaptedTo { get; init; }
    }

    private static Description Describe(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (metadata.TryGetValue(ModelMetadata.Key, out var json)) return FromDocument(ModelMetadata.FromJson(json));
        if (metadata.ContainsKey("architecture")) return FromSchema1(metadata, path);
        throw new ModelFileException(path, $"a safetensors file, but not a SpeechEmotion model: __metadata__ has no '{ModelMetadata.Key}'.");
    }

    private static Description FromDocument(ModelMetadata m)
    {
        var config = (m.Architecture ?? throw new FormatException("architecture is missing.")).ToConfig();
        var frontEnd = (m.FrontEnd ?? throw new FormatException("front_end is missing.")).ToSettings();
        var recipe = new Recipe(Recipe.ParseKind(m.Recipe), frontEnd, ParseNormalization(m.Normalization), config)
        {
            SpeedFactors = CheckFactors(m.SpeedFactors, "speed_factors"),
            WarpFactors = CheckFactors(m.WarpFactors, "warp_factors"),
            Rooms = (m.Rooms ?? []).Select(r => Audio.Room.Parse(r ?? "", "rooms")).ToList(),
        };
        var statistics = m.Statistics ?? throw new FormatException("statistics is missing.");
        var training = m.Training ?? throw new FormatException("training is missing.");
        if (training.AdaptationRounds < 0) throw new FormatException($"training.adaptation_rounds must be 0 or more, got {training.AdaptationRounds}.");
        if (!(m.Temperature > 0) || !float.IsFinite(m.Temperature)) throw new FormatException($"temperature must be positive and finite, got {m.Temperature}.");
        if (m.OneFileTemperature is { } oneFileTemperature && !(oneFileTemperature > 0 && float.IsFinite(oneFileTemperature)))
            throw new FormatException($"one_file_temperature must be positive and finite, got {oneFileTemperature}.");
        if (m.OneFileRelevance is { } relevance && !(relevance >= 0 && double.IsFinite(relevance)))
            throw new FormatException($"one_file_relevance must be 0 or more and finite (frames), got {relevance}.");
        if (m.ScoringWindow is { } window && !(window > 0 && window <= MaxScoringWindow))
            throw new FormatException($"scoring_window must be 1 to {MaxScoringWindow:N0} frames when present (absent: whole recordings), got {window}.");
        return Check(new Description(config, m.Labels ?? throw new FormatException("labels is missing."), recipe,
            new FeatureStats(statistics.Mean ?? [], statistics.Std ?? []),
            new SplitInfo(ParseProtocol(training.Protocol), training.Seed, training.TestSpeaker is { Length: > 0 } s ? s : null,
                training.TestCorpus is { Length: > 0 } c ? c : null), training.AdaptationRounds) { AdaptedTo = training.AdaptedTo is { Length: > 0 } to ? to : null, Temperature = m.Temperature, OneFileRelevance = m.OneFileRelevance ?? double.PositiveInfinity, OneFileTemperature = m.OneFileTemperature, ScoringWindow = m.ScoringWindow ?? 0 });
    }

    /// <summary>Schema 1, written by releases before the JSON document: one key per field, key=value; lists inside.</summary>
    private static Description FromSchema1(IReadOnlyDictionary<string, string> metadata, string path)
    {
        string Get(string key) => metadata.TryGetValue(key, out var value) ? value
            : throw new ModelFileException(path, $"a model without '{key}' in its metadata: not written by ser train.");
        var config = ClassifierConfig.Parse(Get("architecture"));
        var recipe = new Recipe(Recipe.ParseKind(Get("recipe")), FrontEndSettings.Parse(Get("frontend")), ParseNormalization(Get("normalization")), config)
        {
            SpeedFactors = metadata.TryGetValue("augment", out var augment) ? Recipe.ParseFactors(augment, "augment") : [],
            WarpFactors = metadata.TryGetValue("vtlp", out var vtlp) ? Recipe.ParseFactors(vtlp, "vtlp") : [],
        };
        var split = new SplitInfo(ParseProtocol(Get("protocol")), ulong.Parse(Get("seed"), CultureInfo.InvariantCulture),
            Get("test_speaker") is { Length: > 0 } speaker ? speaker : null);
        int rounds = metadata.TryGetValue("adaptation_rounds", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        return Check(new Description(config, Get("labels").Split(','), recipe, FeatureStats.Parse(Get("statistics")), split, rounds));
    }

    private static Description Check(Description d)
    {
        if (d.Labels.Count != d.Config.Classes) throw new FormatException($"{d.Labels.Count} labels for a model of {d.Config.Classes} classes.");
        if (d.Labels.Any(string.IsNullOrEmpty) || d.Labels.Distinct(StringComparer.Ordinal).Count() != d.Labels.Count)
            throw new FormatException($"labels must be distinct and non-empty, got [{string.Join(", ", d.Labels)}].");
        int size = d.Recipe.FrontEnd.FeatureSize;
        if (d.Statistics.Mean.Length != size || d.Statistics.Std.Length != size)
            throw new FormatException($"statistics hold {d.Statistics.Mean.Length} means and {d.Statistics.Std.Length} deviations for {size} features.");
        if (d.Statistics.Std.Any(s => !(s >= 1e-6f && s <= 1e6f)) || d.Statistics.Mean.Any(m => !(MathF.Abs(m) <= 1e6f)))
            throw new FormatException("statistics must be finite: means at most 1e6 in magnitude, deviations within [1e-6, 1e6].");
        if (d.Recipe.InputSize != d.Config.InputSize)
            throw new FormatException($"the recipe feeds {d.Recipe.InputSize} values a step to an architecture of input size {d.Config.InputSize}.");
        return d;
    }

    private static IReadOnlyList<double> CheckFactors(double[]? factors, string field) =>
        (factors ?? []).All(f => f > 0.5 && f < 2) ? factors ?? [] : throw new FormatException($"{field} must lie in (0.5, 2), got [{string.Join(", ", factors!)}].");

    public static NormalizationMode ParseNormalization(string text) => text?.ToLowerInvariant() switch
    {
        "global" => NormalizationMode.Global,
        "speaker" => NormalizationMode.Speaker,
        "utterance" => NormalizationMode.Utterance,
        _ => throw new OptionsException($"Normalization must be global, speaker or utterance, got '{text}'."),
    };

    public static Protocol ParseProtocol(string text) => text?.ToLowerInvariant() switch
    {
        "random" => Protocol.Random,
        "speaker" => Protocol.Speaker,
        "word" => Protocol.Word,
        "corpus" => Protocol.Corpus,
        _ => throw new OptionsException($"Protocol must be random, speaker, word or corpus, got '{text}'."),
    };
}
