using System.Text.Json;
using SpeechEmotion.Training;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// With the real TESS decoded (CI runs ../shared/data/get-tess first), one short real training through
/// <c>ser train</c>: three epochs of the default recipe on the random protocol must score far above chance.
/// Reported as skipped when the corpus is absent.
/// </summary>
public sealed class RealCorpusTrainingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-real-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SkippableFact]
    public void AShortRealTrainingIsFarAboveChance()
    {
        string data = DataLocation.Resolve();
        Skip.IfNot(Directory.Exists(data) && Directory.EnumerateDirectories(data).Any(), "TESS not decoded: run ../shared/data/get-tess data/tess (CI does).");
        string run = Path.Combine(_root, "run");
        var (exit, output, error) = CliRunner.Run("train", "--data", data, "--out", run, "--epochs", "3", "--cache", Path.Combine(_root, "cache"));
        Assert.True(exit == 0, output + error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        Assert.Equal(700, metrics.RootElement.GetProperty("test_count").GetInt32());
        double accuracy = metrics.RootElement.GetProperty("accuracy").GetDouble();
        Assert.True(accuracy > 0.8, $"accuracy {accuracy:P1} after 3 epochs; chance is 14%");
    }
}
