using SpeechEmotion.Core;

namespace SpeechEmotion.Training.Tests;

public sealed class CheckpointMetadataTests
{
    [Fact]
    public void EveryFieldSurvivesTheJsonDocument()
    {
        var original = new CheckpointMetadata
        {
            Epoch = 7, BestEpoch = 5, BestValidationAccuracy = 0.875, BestValidationLoss = double.PositiveInfinity, AdamSteps = 812,
            Rng = [0x99ec5f36cb75f2b4UL, 1, ulong.MaxValue, 42], Data = "/data/tess:/data/ravdess", Recipe = "frames", Protocol = "corpus", Seed = 3,
            TestCorpus = "ravdess", Epochs = 30, Batch = 16, LearningRate = 2e-3f,
            Overrides = new RecipeOverrides(Coefficients: 20, Normalization: NormalizationMode.Utterance, SpeedFactors: [0.9, 1.1], Prosody: true, DrawCopies: true),
            Adapt = 2, AdaptBalanced = true, ClusterVote = true, Checksum = new string('a', 64),
            History = [new EpochRecord(1, 1.5, 0.25, 1.75, 0.5, 3.25, 400, Best: true)],
        };
        var json = original.ToJson();
        Assert.Contains("\"normalization\":\"Utterance\"", json);
        var back = CheckpointMetadata.From(new Dictionary<string, string> { [CheckpointMetadata.Key] = json }, "run/checkpoint.safetensors");
        Assert.Equal((7, 5, 0.875, double.PositiveInfinity, 812), (back.Epoch, back.BestEpoch, back.BestValidationAccuracy, back.BestValidationLoss, back.AdamSteps));
        Assert.Equal(original.Rng, back.Rng);
        Assert.Equal((original.Data, "corpus", 3UL, (string?)null, "ravdess"), (back.Data, back.Protocol, back.Seed, back.TestSpeaker, back.TestCorpus));
        Assert.Equal((30, 16, 2e-3f, 2, true, true), (back.Epochs, back.Batch, back.LearningRate, back.Adapt, back.AdaptBalanced, back.ClusterVote));
        Assert.Equal((20, NormalizationMode.Utterance, true), (back.Overrides!.Coefficients, back.Overrides.Normalization, back.Overrides.Prosody));
        Assert.Equal([0.9, 1.1], back.Overrides.SpeedFactors!);
        Assert.Null(back.Overrides.Hidden);
        Assert.Equal(true, back.Overrides.DrawCopies);
        Assert.Equal(original.History, back.History);
        Assert.Equal(original.Checksum, back.Checksum);
    }

    [Fact]
    public void ACheckpointOfAnEarlierReleaseIsRefusedByName()
    {
        var error = Assert.Throws<ModelFileException>(() => CheckpointMetadata.From(new Dictionary<string, string> { ["epoch"] = "3" }, "run/checkpoint.safetensors"));
        Assert.Equal("run/checkpoint.safetensors: not a checkpoint of this release (no 'speech_emotion_checkpoint' in its metadata): start the run again without --resume.", error.Message);
        var bad = Assert.Throws<ModelFileException>(() => CheckpointMetadata.From(new Dictionary<string, string> { [CheckpointMetadata.Key] = "{\"schema\":2}" }, "c"));
        Assert.StartsWith("c: bad checkpoint metadata: ", bad.Message);
    }
}
