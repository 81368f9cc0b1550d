using System.Text.Json;
using System.Text.Json.Serialization;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Inference;

/// <summary>
/// What a model file says about itself, as one JSON document in the safetensors <c>__metadata__</c> under
/// <see cref="Key"/> (the Core project's README lists every field). Its <see cref="Schema"/> grows with the format:
/// a reader takes every schema up to its own and refuses newer ones by name.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>The <c>__metadata__</c> key that holds the document.</summary>
    public const string Key = "speech_emotion";

    /// <summary>The <c>__metadata__</c> key "format" says what wrote the file: <see cref="Format"/>.</summary>
    public const string FormatKey = "format", Format = "speech-emotion/2";

    /// <summary>Schema 1 is the key=value metadata of earlier releases (still read); 2 is this document.</summary>
    public const int CurrentSchema = 2;

    public int Schema { get; init; } = CurrentSchema;
    public required string[] Labels { get; init; }
    public required ArchitectureMetadata Architecture { get; init; }
    public required FrontEndMetadata FrontEnd { get; init; }
    /// <summary>"frames" or "seed".</summary>
    public required string Recipe { get; init; }
    /// <summary>"global", "speaker" or "utterance".</summary>
    public required string Normalization { get; init; }
    /// <summary>Speed-perturbation factors of training (what test-time augmentation replays).</summary>
    public double[] SpeedFactors { get; init; } = [];
    /// <summary>Vocal-tract-length perturbation factors of training.</summary>
    public double[] WarpFactors { get; init; } = [];
    /// <summary>Simulated rooms of training, each "RT60:SNR" (seconds:dB).</summary>
    public string[] Rooms { get; init; } = [];
    public required StatisticsMetadata Statistics { get; init; }
    /// <summary>Temperature scaling fitted on the validation part: probabilities = softmax(logits / temperature); 1 = none.</summary>
    public float Temperature { get; init; } = 1f;
    /// <summary>How a single file is standardised under speaker statistics: the training side's adapted towards the
    /// file's own with this relevance (frames; <see cref="FeatureStats.AdaptedTo"/>), fitted on the validation part;
    /// absent (null) = the training side's as they are, as every model before it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? OneFileRelevance { get; init; }
    /// <summary>The temperature for single files, fitted on the validation part standardised one file at a time; absent
    /// (null) = <see cref="Temperature"/>, as every model before it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? OneFileTemperature { get; init; }
    /// <summary>The windows (frames) a recording is scored by, their logits averaged (<see cref="ScoringWindows"/>);
    /// absent (null) = the whole recording at once, as every model before it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ScoringWindow { get; init; }
    public required TrainingMetadata Training { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, ModelMetadataJson.Default.ModelMetadata);

    /// <summary>The document of <paramref name="json"/>, or a <see cref="FormatException"/> saying what is wrong.</summary>
    public static ModelMetadata FromJson(string json)
    {
        ModelMetadata? metadata;
        try { metadata = JsonSerializer.Deserialize(json, ModelMetadataJson.Default.ModelMetadata); }
        catch (JsonException e) { throw new FormatException($"'{Key}' is not a model document: {e.Message}", e); }
        if (metadata is null) throw new FormatException($"'{Key}' is null.");
        if (metadata.Schema > CurrentSchema) throw new FormatException($"schema {metadata.Schema} is newer than this release reads ({CurrentSchema}): update SpeechEmotion.");
        if (metadata.Schema < 2) throw new FormatException($"schema {metadata.Schema} is not a JSON schema (they start at 2).");
        return metadata;
    }
}

/// <summary><see cref="ClassifierConfig"/> as stored.</summary>
public sealed record ArchitectureMetadata(int InputSize, int HiddenSize, int Layers, bool Bidirectional, string Pooling, int[] Dense, int Classes, float Dropout)
{
    public static ArchitectureMetadata Of(ClassifierConfig c) =>
        new(c.InputSize, c.HiddenSize, c.Layers, c.Bidirectional, c.Pooling.ToString().ToLowerInvariant(), c.DenseSizes.ToArray(), c.Classes, c.Dropout)
        {
            ConvChannels = c.HasConv ? c.ConvChannels : null,
            ConvKernel = c.HasConv ? c.ConvKernel : null,
        };

    /// <summary>The convolution before the LSTM: its output channels and kernel in frames; absent (null) = none, as every
    /// model before convolutions.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ConvChannels { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ConvKernel { get; init; }

    /// <summary>The validated configuration (<see cref="OptionsException"/> naming the field otherwise).</summary>
    public ClassifierConfig ToConfig()
    {
        if (ConvChannels is null != ConvKernel is null)
            throw new OptionsException("architecture.conv_channels and architecture.conv_kernel come together: one is missing.");
        if (ConvChannels == 0) throw new OptionsException("architecture.conv_channels must be positive when present (absent: no convolution), got 0.");
        return new(InputSize, HiddenSize, Layers, Bidirectional,
            Enum.TryParse<PoolingKind>(Pooling, ignoreCase: true, out var p) && Enum.IsDefined(p) && !char.IsDigit(Pooling.FirstOrDefault()) ? p
                : throw new OptionsException($"architecture.pooling must be last, mean, attention or stats, got '{Pooling}'."),
            Dense ?? throw new OptionsException("architecture.dense is missing."), Classes, Dropout, ConvChannels ?? 0, ConvKernel ?? 0);
    }
}

/// <summary><see cref="FrontEndSettings"/> as stored; the MFCC details follow from the sample rate and coefficients.</summary>
public sealed record FrontEndMetadata(int SampleRate, int Coefficients, string Window, bool Deltas, double OffsetSeconds, double DurationSeconds,
    double TrimTopDb, bool Prosody, int FrontEndVersion)
{
    public static FrontEndMetadata Of(FrontEndSettings s) => new(s.SampleRate, s.Coefficients, s.Window.ToString().ToLowerInvariant(), s.Deltas,
        s.OffsetSeconds, s.DurationSeconds, s.TrimTopDb, s.Prosody, Audio.FrontEnd.Version);

    public FrontEndSettings ToSettings() => new(SampleRate, Coefficients,
        Enum.TryParse<WindowMode>(Window, ignoreCase: true, out var w) && Enum.IsDefined(w) && !char.IsDigit(Window.FirstOrDefault()) ? w
            : throw new OptionsException($"front_end.window must be whole, seed or trim, got '{Window}'."),
        Deltas, OffsetSeconds, DurationSeconds, TrimTopDb, Prosody);
}

/// <summary>The training side's per-feature mean and standard deviation (see <see cref="FeatureStats"/>).</summary>
public sealed record StatisticsMetadata(float[] Mean, float[] Std);

/// <summary>How the model was trained: the split (protocol, seed, held-out speaker or corpus) and rounds of self-training on its test side.</summary>
/// <param name="AdaptedTo">The folder whose recordings the rounds of self-training adapted to (<c>--adapt-to</c>); null: the
/// split's test side (files before it was an option).</param>
public sealed record TrainingMetadata(string Protocol, ulong Seed, string? TestSpeaker, int AdaptationRounds, string? TestCorpus = null, string? AdaptedTo = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, RespectRequiredConstructorParameters = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ModelMetadata))]
internal sealed partial class ModelMetadataJson : JsonSerializerContext;
