using System.Text.Json;

namespace SpeechEmotion.Cli.Tests;

/// <summary>ser train on two corpora with the corpus protocol: train on one, test on the other, through the real command.</summary>
public sealed class CorpusProtocolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-corpora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The generated TESS corpus renamed as RAVDESS names its files (OAF → actor 01, YAF → actor 02), plus
    /// calm copies of the neutral files, which TESS lacks.</summary>
    private static void AsRavdess(string tess, string ravdess)
    {
        var codes = new Dictionary<string, string> { ["neutral"] = "01", ["happy"] = "03", ["sad"] = "04", ["angry"] = "05", ["fear"] = "06", ["disgust"] = "07", ["ps"] = "08" };
        foreach (var file in Directory.EnumerateFiles(tess, "*.wav", SearchOption.AllDirectories))
        {
            var parts = Path.GetFileNameWithoutExtension(file).Split('_'); // SPEAKER_wN_emotion
            string actor = parts[0] == "OAF" ? "01" : "02", repetition = $"{int.Parse(parts[1][1..]) + 1:00}";
            string folder = Path.Combine(ravdess, $"Actor_{actor}");
            Directory.CreateDirectory(folder);
            File.Copy(file, Path.Combine(folder, $"03-01-{codes[parts[2]]}-01-01-{repetition}-{actor}.wav"));
            if (parts[2] == "neutral") File.Copy(file, Path.Combine(folder, $"03-01-02-01-02-{repetition}-{actor}.wav"));
        }
    }

    [Fact]
    public void TrainOnOneCorpusAndScoreTheOtherOnTheClassesTheyShare()
    {
        string tess = SyntheticEmotions.Create(Path.Combine(_root, "tess"), words: 3);
        string ravdess = Path.Combine(_root, "ravdess");
        AsRavdess(SyntheticEmotions.Create(Path.Combine(_root, "source"), words: 3), ravdess);
        string run = Path.Combine(_root, "run");
        var (exit, output, error) = CliRunner.Run("train", "--data", tess, "--data", ravdess, "--protocol", "corpus", "--test-corpus", "ravdess",
            "--epochs", "2", "--batch", "16", "--cache", "none", "--out", run);
        Assert.True(exit == 0, output + error);
        Assert.Contains("6 test utterances of class(es) calm, which the training corpora lack, left out of the score", output + error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("corpus", root.GetProperty("protocol").GetString());
        Assert.Equal("ravdess", root.GetProperty("test_corpus").GetString());
        Assert.Equal(42, root.GetProperty("test_count").GetInt32()); // 2 actors × 7 emotions × 3 repetitions; calm left out
        Assert.Equal(42, root.GetProperty("corpora").GetProperty("tess").GetInt32());
        Assert.Equal(42, root.GetProperty("corpora").GetProperty("ravdess").GetInt32());

        // evaluate rebuilds the same test side from the model's own split.
        var evaluated = CliRunner.Run("evaluate", "--model", run, "--data", tess, "--data", ravdess, "--cache", "none");
        Assert.True(evaluated.Exit == 0, evaluated.Output + evaluated.Error);
        Assert.Contains("corpus (test corpus ravdess)", evaluated.Output);
        Assert.Contains("42 utterances", evaluated.Output);

        CliRunner.Refused("--protocol corpus needs --test-corpus NAME", "train", "--data", tess, "--data", ravdess, "--protocol", "corpus");
        CliRunner.Refused("--test-corpus 'emodb' is not in the data", "train", "--data", tess, "--data", ravdess, "--protocol", "corpus", "--test-corpus", "emodb",
            "--out", Path.Combine(_root, "never"));
    }
}
