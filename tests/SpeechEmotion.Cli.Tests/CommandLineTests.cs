namespace SpeechEmotion.Cli.Tests;

/// <summary>The command line as the dotnet CLI shapes it: a line that does not parse is exit 1 with the error and a
/// one-line hint on stderr (nothing on stdout); `ser help` explains; defaults read the same everywhere.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void AMistypedOptionAmongPathsIsAnErrorNotAFileName()
    {
        var (exit, output, error) = CliRunner.Run("predict", "--model", "m.safetensors", "--josn", "a.wav", "b.wav");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal(["error: Unrecognized option '--josn' for 'ser predict'.", "Run 'ser predict --help' for its options."],
            error.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void AnUnknownOptionOrAMissingCommandIsExit1WithAHint()
    {
        var (exit, output, error) = CliRunner.Run("train", "--epoch", "3");
        Assert.Equal((1, ""), (exit, output));
        Assert.Contains("error: Unrecognized command or argument '--epoch'.", error);
        Assert.EndsWith("Run 'ser train --help' for its options.\n", error);

        (exit, output, error) = CliRunner.Run();
        Assert.Equal((1, ""), (exit, output));
        Assert.EndsWith("Run 'ser --help' for its options.\n", error);
        Assert.Equal(2, error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void HelpIsACommand()
    {
        var (exit, viaHelp, error) = CliRunner.Run("help", "predict");
        Assert.Equal((0, ""), (exit, error));
        var (_, viaOption, _) = CliRunner.Run("predict", "--help");
        Assert.Equal(viaOption, viaHelp);
        Assert.Contains("Predict the emotion of audio files.", viaHelp);
        (exit, var all, _) = CliRunner.Run("help");
        Assert.Equal(0, exit);
        foreach (var command in new[] { "train", "evaluate", "predict", "inspect", "report", "download", "bench", "features", "explain", "export", "help" })
            Assert.Matches($@"\n\s+{command}\s", all);
    }

    /// <summary>Every default is shown one way, "[default: …]": by System.CommandLine for fixed ones, in the text for the rest.</summary>
    [Fact]
    public void DefaultsReadTheSameEverywhere()
    {
        foreach (var command in new[] { "train", "evaluate", "predict", "inspect", "report", "download", "bench", "features", "explain", "export" })
        {
            var (exit, help, _) = CliRunner.Run(command, "--help");
            Assert.Equal(0, exit);
            Assert.DoesNotContain("(default", help);
            Assert.DoesNotContain("default)", help);
        }
        var (_, train, _) = CliRunner.Run("train", "--help");
        Assert.Contains("[default: 60 for frames, 40 for seed]", train);
        Assert.Contains("[default: speaker for frames, global for seed]", train);
    }

    [Fact]
    public void AFolderWithoutAModelIsRefusedByName()
    {
        string folder = Directory.CreateTempSubdirectory("se-nomodel-").FullName;
        try { CliRunner.Refused($"{folder}: a folder without model.safetensors", "inspect", "--model", folder); }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
