using System.Text.Json;
using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;

namespace SpeechEmotion.Cli.Tests;

public sealed class FeaturesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-cli-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void JsonHasTheMfccMatrixInTimeOrder()
    {
        string path = Path.Combine(_dir, "stereo 24-bit.wav");
        float[] left = TestAudio.Tone(440, 1.0, 44100), right = TestAudio.Tone(660, 1.0, 44100);
        File.WriteAllBytes(path, TestAudio.Wav([left, right], 44100, bits: 24));
        var (exit, output, error) = CliRunner.Run("features", path, "--json");
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(path, root.GetProperty("file").GetString());
        Assert.Equal(22050, root.GetProperty("sample_rate").GetInt32());
        Assert.Equal(40, root.GetProperty("n_mfcc").GetInt32());
        var frames = root.GetProperty("frames");
        var expected = new FrontEnd(new FrontEndSettings(window: WindowMode.Whole, deltas: false)).Extract(path);
        Assert.Equal(expected.Frames, frames.GetArrayLength());
        Assert.Equal(40, frames[0].GetArrayLength());
        Assert.Equal(expected.Values[3 * 40 + 5], frames[3][5].GetSingle());
    }

    [Fact]
    public void DeltasAndWindowOptionsChangeTheMatrix()
    {
        string path = Path.Combine(_dir, "tone.wav");
        var samples = new float[3 * 22050];
        TestAudio.Tone(300, 1.0, 22050).CopyTo(samples, 22050);
        File.WriteAllBytes(path, TestAudio.Wav([samples], 22050));
        using var whole = JsonDocument.Parse(CliRunner.Run("features", path, "--json").Output);
        using var trimmed = JsonDocument.Parse(CliRunner.Run("features", path, "--json", "--window", "trim", "--deltas").Output);
        Assert.Equal(1 + 3 * 22050 / 512, whole.RootElement.GetProperty("frames").GetArrayLength());
        Assert.InRange(trimmed.RootElement.GetProperty("frames").GetArrayLength(), 40, 50);
        Assert.Equal(120, trimmed.RootElement.GetProperty("frames")[0].GetArrayLength());
    }

    [Fact]
    public void BadInputAndBadOptionsGiveAClearMessageAndExitCode()
    {
        string corrupt = Path.Combine(_dir, "corrupt.wav");
        File.WriteAllBytes(corrupt, "RIFF\u0010\0\0\0WAVEfmt "u8.ToArray());
        var (exit, output, error) = CliRunner.Run("features", corrupt);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains($"error: {corrupt}: truncated header", error);

        (exit, _, error) = CliRunner.Run("features", corrupt, "--window", "sideways");
        Assert.Equal(2, exit);
        Assert.Contains("--window must be whole, seed or trim, got 'sideways'", error);

        (exit, _, _) = CliRunner.Run("features");
        Assert.Equal(1, exit); // missing argument: System.CommandLine's parse error
    }
}
