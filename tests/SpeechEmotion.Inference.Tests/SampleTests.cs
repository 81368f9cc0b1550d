using System.Diagnostics;
using System.Globalization;

namespace SpeechEmotion.Inference.Tests;

/// <summary>The sample in src/samples/Predict (the README's snippet) runs as a user would run it and prints what the API returns.</summary>
public sealed class SampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The sample's build output beside this test assembly's: same configuration, same target framework.</summary>
    private static string SampleDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = here.Name, configuration = here.Parent!.Name;
        var root = here;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "SpeechEmotion.sln"))) root = root.Parent;
        Assert.NotNull(root);
        string dll = Path.Combine(root.FullName, "src", "samples", "Predict", "bin", configuration, framework, "Predict.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        return dll;
    }

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(SampleDll());
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "the sample did not finish within a minute");
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void TheSamplePrintsTheRecognizersPrediction()
    {
        string model = TestModels.Save(TestModels.Frames(21), _folder.Path, "model.safetensors");
        string wav = TestModels.Wavs(_folder.Path, 3)[2];
        var prediction = EmotionRecognizer.Load(model).Predict(wav);
        var expected = new List<string> { $"{wav}: {prediction.Label} ({prediction.Confidence:P1}, {prediction.Duration.TotalSeconds:F2} s)" };
        expected.AddRange(prediction.Probabilities.Select(p => $"  {p.Key,-18} {p.Value:F3}"));

        var (exit, output, error) = Run(model, wav);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Equal(expected, output.TrimEnd('\n').Split('\n'));
        Assert.Equal(CultureInfo.InvariantCulture, CultureInfo.CurrentCulture); // the invariant globalisation both processes run with
    }

    [Fact]
    public void TheSampleReportsAMissingModelInOneLineWithExit2()
    {
        string missing = Path.Combine(_folder.Path, "none.safetensors");
        var (exit, output, error) = Run(missing, "clip.wav");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Equal($"error: {missing}: file not found.\n", error);
    }
}
