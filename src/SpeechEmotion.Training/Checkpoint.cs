using System.Text.Json;
using System.Text.Json.Serialization;
using SpeechEmotion.Core;

namespace SpeechEmotion.Training;

/// <summary>
/// What a checkpoint (checkpoint.safetensors, beside its parameters, best parameters and Adam moments) says about
/// the run, as one JSON document in <c>__metadata__</c> under <see cref="Key"/>: where training stands (epoch, best
/// epoch and scores, Adam's step count, the generator's state) and the options it was started with, so that
/// <c>ser train --resume</c> continues the same run bit for bit.
/// </summary>
public sealed record CheckpointMetadata
{
    public const string Key = "speech_emotion_checkpoint";
    public const int CurrentSchema = 3;

    public int Schema { get; init; } = CurrentSchema;
    public required int Epoch { get; init; }
    public required int BestEpoch { get; init; }
    public required double BestValidationAccuracy { get; init; }
    public required double BestValidationLoss { get; init; }
    public required int AdamSteps { get; init; }
    /// <summary>The xoshiro256** state, four words.</summary>
    public required ulong[] Rng { get; init; }
    public required string Data { get; init; }
    public string? Layout { get; init; }
    public required string Recipe { get; init; }
    public required string Protocol { get; init; }
    public required ulong Seed { get; init; }
    /// <summary>The seed of the initialisation and of every draw in training (<c>--init-seed</c>); null (checkpoints
    /// before it): <see cref="Seed"/>.</summary>
    public ulong? InitSeed { get; init; }
    public string? TestSpeaker { get; init; }
    public string? TestCorpus { get; init; }
    public required int Epochs { get; init; }
    public required int Batch { get; init; }
    public required float LearningRate { get; init; }
    public RecipeOverrides? Overrides { get; init; }
    public double MaskTime { get; init; }
    public int MaskCoefficients { get; init; }
    public float LabelSmoothing { get; init; }
    public float WeightAverage { get; init; }
    /// <summary>The loss's sample weighting (<see cref="LossBalance"/>; checkpoints written before it was an option: none).</summary>
    public LossBalance Balance { get; init; }
    /// <summary>Early stopping's patience in epochs (checkpoints written before it was an option: 10).</summary>
    public int Patience { get; init; } = 10;
    /// <summary>SHA-256 (hex) of the four tensors' float32 bytes in file order: a flipped bit refuses the resume.</summary>
    public string? Checksum { get; init; }
    /// <summary>Every completed epoch's record, so that history.csv is rebuilt from the checkpoint on resume (a kill
    /// between writing the checkpoint and the history cannot lose an epoch).</summary>
    public EpochRecord[] History { get; init; } = [];
    /// <summary>The speaker adversary's weight λ (<see cref="TrainOptions.Adversary"/>; checkpoints written before it was an option: 0).</summary>
    public float Adversary { get; init; }
    /// <summary>The arousal task's weight μ (<see cref="TrainOptions.Arousal"/>; checkpoints written before it was an option: 0).</summary>
    public float Arousal { get; init; }
    /// <summary>Mixup's α (<see cref="TrainOptions.Mixup"/>; checkpoints written before it was an option: 0).</summary>
    public float Mixup { get; init; }
    /// <summary>Random crops' length in frames (<see cref="TrainOptions.Crop"/>; checkpoints written before it was an option: 0, none).</summary>
    public int Crop { get; init; }
    /// <summary>Scoring windows' length in frames (<see cref="TrainOptions.ScoreWindow"/>; checkpoints before it: 0, whole recordings).</summary>
    public int ScoreWindow { get; init; }
    /// <summary>Adam's decoupled weight decay (<see cref="TrainOptions.WeightDecay"/>; checkpoints written before it was an option: the default).</summary>
    public float WeightDecay { get; init; } = TrainOptions.DefaultWeightDecay;
    /// <summary>The learning-rate schedule (<see cref="TrainOptions.Schedule"/>; checkpoints written before it was an option: constant).</summary>
    public LearningRateSchedule Schedule { get; init; }
    /// <summary>Which epoch the run keeps (<see cref="TrainOptions.Keep"/>; checkpoints written before it was an option: the best).</summary>
    public EpochChoice Keep { get; init; }
    public int Adapt { get; init; }
    /// <summary>The folder adapted to (<see cref="TrainRunOptions.AdaptTo"/>); null: the test side (and every checkpoint before it was an option).</summary>
    public string? AdaptTo { get; init; }
    /// <summary>The audit part's speakers per corpus (<see cref="TrainRunOptions.AuditSpeakers"/>; before it was an option: 0).</summary>
    public int AuditSpeakers { get; init; }
    public bool AdaptBalanced { get; init; }
    public bool ClusterVote { get; init; }
    /// <summary>Whether the run also scores with test-time augmentation (<see cref="TrainRunOptions.TestTimeScores"/>; before it was an option: no).</summary>
    public bool TestTimeScores { get; init; }

    /// <summary>The checksum <see cref="Checksum"/> holds: SHA-256 over the tensors' bytes, in order.</summary>
    public static string ChecksumOf(IEnumerable<float[]> tensors)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var t in tensors) sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.AsSpan()));
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    public string ToJson() => JsonSerializer.Serialize(this, CheckpointJson.Default.CheckpointMetadata);

    /// <summary>The document of a checkpoint's metadata; <see cref="ModelFileException"/> naming the file otherwise.</summary>
    public static CheckpointMetadata From(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(Key, out var json))
            throw new ModelFileException(path, $"not a checkpoint of this release (no '{Key}' in its metadata): start the run again without --resume.");
        try
        {
            var document = JsonSerializer.Deserialize(json, CheckpointJson.Default.CheckpointMetadata) ?? throw new JsonException("null document");
            if (document.Schema != CurrentSchema) throw new JsonException($"schema {document.Schema}, this release reads {CurrentSchema}");
            if (document.Rng is not { Length: 4 }) throw new JsonException("rng must be four words");
            if (document.Checksum is not { Length: 64 }) throw new JsonException("checksum is missing");
            return document;
        }
        catch (JsonException e) { throw new ModelFileException(path, $"bad checkpoint metadata: {e.Message}", e); }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CheckpointMetadata))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
