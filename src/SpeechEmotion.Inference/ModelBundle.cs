using System.Globalization;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.IO;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Inference;

/// <summary>How the evaluation protocols (DESIGN.md) split a corpus: what a model file records of its training.</summary>
public enum Protocol { Random, Speaker, Word }

/// <summary>How a model was trained: enough for <c>ser evaluate</c> to rebuild the exact test side.</summary>
public sealed record SplitInfo(Protocol Protocol, ulong Seed, string? TestSpeaker)
{
    /// <summary>Whether both splits hold out the same utterances: the speaker protocol's test side is the whole test
    /// speaker whatever the seed (the seed only draws the validation part); the others draw it from the seed.</summary>
    public bool SameTestSide(SplitInfo other) =>
        Protocol == other.Protocol && TestSpeaker == other.TestSpeaker && (Protocol == Protocol.Speaker || Seed == other.Seed);
}

/// <summary>
/// A model file with everything needed to use it: the classifier, its labels, the recipe (front-end settings,
/// normalisation, architecture), the training side's feature statistics, and the split it was trained on.
/// </summary>
public sealed record ModelBundle(SequenceClassifier Model, IReadOnlyList<string> Labels, Recipe Recipe, FeatureStats Statistics, SplitInfo Split)
{
    /// <summary>The file it was loaded from, to name it in messages ("a model" when it was never saved).</summary>
    public string Source { get; init; } = "a model";

    /// <summary>Rounds of self-training on the unlabelled test side of <see cref="Split"/> (0: the model never heard it).</summary>
    public int AdaptationRounds { get; init; }

    /// <summary>Models whose probabilities are averaged must score the same classes in the same order.</summary>
    public static void RequireSameLabels(IReadOnlyList<ModelBundle> ensemble)
    {
        var first = ensemble[0];
        foreach (var other in ensemble.Skip(1))
            if (!other.Labels.SequenceEqual(first.Labels))
                throw new OptionsException($"{other.Source} has labels [{string.Join(", ", other.Labels)}], {first.Source} has [{string.Join(", ", first.Labels)}]: an ensemble needs the same labels.");
    }

    public void Save(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            ["frontend"] = Recipe.FrontEnd.Serialize(),
            ["recipe"] = Recipe.Kind.ToString().ToLowerInvariant(),
            ["normalization"] = Recipe.Normalization.ToString().ToLowerInvariant(),
            ["augment"] = Recipe.FormatFactors(Recipe.SpeedFactors),
            ["vtlp"] = Recipe.FormatFactors(Recipe.WarpFactors),
            ["statistics"] = Statistics.Serialize(),
            ["protocol"] = Split.Protocol.ToString().ToLowerInvariant(),
            ["seed"] = Split.Seed.ToString(CultureInfo.InvariantCulture),
            ["test_speaker"] = Split.TestSpeaker ?? "",
            ["adaptation_rounds"] = AdaptationRounds.ToString(CultureInfo.InvariantCulture),
        };
        ModelFile.Save(path, Model, Labels, metadata);
    }

    /// <summary>A model file, loaded to predict (<paramref name="inferenceOnly"/>: parameters without gradients or
    /// optimiser state).</summary>
    public static ModelBundle Load(string path, bool inferenceOnly = true) => FromFile(ModelFile.Load(path, inferenceOnly), path);

    /// <summary>A model file already in memory; <paramref name="name"/> names it in messages.</summary>
    public static ModelBundle Load(byte[] file, string name, bool inferenceOnly = true) => FromFile(ModelFile.Load(file, name, inferenceOnly), name);

    private static ModelBundle FromFile(ModelFile.Loaded loaded, string path)
    {
        string Get(string key) => loaded.Metadata.TryGetValue(key, out var value) ? value
            : throw new ModelFileException(path, $"a model without '{key}' in its metadata: not written by ser train.");
        try
        {
            var kind = Recipe.ParseKind(Get("recipe"));
            var normalization = Enum.Parse<NormalizationMode>(Get("normalization"), ignoreCase: true);
            var recipe = new Recipe(kind, FrontEndSettings.Parse(Get("frontend")), normalization, loaded.Model.Config)
            {
                SpeedFactors = loaded.Metadata.TryGetValue("augment", out var augment) ? Recipe.ParseFactors(augment, "augment") : [],
                WarpFactors = loaded.Metadata.TryGetValue("vtlp", out var vtlp) ? Recipe.ParseFactors(vtlp, "vtlp") : [],
            };
            var split = new SplitInfo(ParseProtocol(Get("protocol")), ulong.Parse(Get("seed"), CultureInfo.InvariantCulture),
                Get("test_speaker") is { Length: > 0 } speaker ? speaker : null);
            return new ModelBundle(loaded.Model, loaded.Labels, recipe, FeatureStats.Parse(Get("statistics")), split)
            {
                Source = path,
                AdaptationRounds = loaded.Metadata.TryGetValue("adaptation_rounds", out var rounds) ? int.Parse(rounds, CultureInfo.InvariantCulture) : 0,
            };
        }
        catch (Exception e) when (e is OptionsException or FormatException or ArgumentException or OverflowException)
        {
            throw new ModelFileException(path, $"bad metadata: {e.Message}", e);
        }
    }

    public static Protocol ParseProtocol(string text) => text.ToLowerInvariant() switch
    {
        "random" => Protocol.Random,
        "speaker" => Protocol.Speaker,
        "word" => Protocol.Word,
        _ => throw new OptionsException($"Protocol must be random, speaker or word, got '{text}'."),
    };
}
