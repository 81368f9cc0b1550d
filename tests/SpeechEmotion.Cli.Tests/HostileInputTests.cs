namespace SpeechEmotion.Cli.Tests;

/// <summary>A speaker name from a file name is text, never markup, in the report (and the page forbids scripts anyway).</summary>
public sealed class HostileNameTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-hostile-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void AHostileSpeakerNameIsEscapedInTheReport()
    {
        string tess = SyntheticEmotions.Create(Path.Combine(_root, "tess"), words: 2);
        string plain = Path.Combine(_root, "plain");
        const string hostile = "<svg onload=alert(2)>";
        int n = 0;
        foreach (var file in Directory.EnumerateFiles(tess, "*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string label = Path.GetFileNameWithoutExtension(file).Split('_')[^1];
            Directory.CreateDirectory(Path.Combine(plain, label));
            File.Copy(file, Path.Combine(plain, label, $"{hostile}_w{n++}_{label}.wav"));
        }
        string run = Path.Combine(_root, "run");
        var (exit, output, error) = CliRunner.Run("train", "--data", plain, "--out", run, "--epochs", "1", "--cache", "none");
        Assert.True(exit == 0, output + error);
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.DoesNotContain(hostile, html);
        Assert.Contains("&lt;svg onload=alert(2)&gt;", html);
        Assert.Contains("Content-Security-Policy", html);
        Assert.Contains("default-src 'none'", html);
    }
}

/// <summary>predict walks a folder without following links: a link to the folder itself is not a loop.</summary>
public sealed class FolderWalkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-walk-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ALinkToTheFolderItselfIsNotFollowed()
    {
        string corpus = SyntheticEmotions.Create(Path.Combine(_root, "corpus"), words: 2);
        string run = Path.Combine(_root, "run");
        var trained = CliRunner.Run("train", "--data", corpus, "--out", run, "--epochs", "1", "--cache", "none");
        Assert.True(trained.Exit == 0, trained.Output + trained.Error);
        string folder = Path.Combine(_root, "clips");
        Directory.CreateDirectory(folder);
        File.Copy(Directory.GetFiles(Path.Combine(corpus, "OAF_angry"))[0], Path.Combine(folder, "one.wav"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "loop"), folder);
        File.CreateSymbolicLink(Path.Combine(folder, "again.wav"), Path.Combine(folder, "one.wav"));
        var (exit, output, error) = CliRunner.Run("predict", "--model", run, folder);
        Assert.True(exit == 0, output + error);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith(Path.Combine(folder, "one.wav") + ": ", output);
    }
}

/// <summary>An --out that cannot be made is one line naming it and exit 2, not a stack trace.</summary>
public sealed class UnwritableOutputTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-out-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void AnOutFolderBehindAFileIsOneLineAndExit2()
    {
        string corpus = SyntheticEmotions.Create(Path.Combine(_root, "corpus"), words: 2);
        string file = Path.Combine(_root, "a-file");
        File.WriteAllText(file, "in the way");
        var (exit, _, error) = CliRunner.Run("train", "--data", corpus, "--out", Path.Combine(file, "run"), "--epochs", "1", "--cache", "none");
        Assert.Equal(2, exit);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("  warning", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(file, lines[0]);
    }
}
