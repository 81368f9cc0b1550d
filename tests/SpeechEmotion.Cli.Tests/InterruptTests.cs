using System.Diagnostics;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// Ctrl+C through a real signal to a real `ser` process (the in-process tests cancel their own token, so they could
/// not see that the signal killed the process): training stops after the batch and still writes its run folder.
/// </summary>
public sealed class InterruptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-sigint-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task SigintStopsTrainingAfterTheBatchAndKeepsTheRun()
    {
        string data = SyntheticEmotions.Create(Path.Combine(_root, "corpus"));
        string run = Path.Combine(_root, "run");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "ser.dll"), "train", "--data", data, "--out", run, "--epochs", "100000",
                     "--batch", "4", "--cache", "none", "--patience", "100000" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        string? line;
        // Wait for the second epoch, so that a checkpoint and a best model exist, then interrupt. An epoch here takes
        // milliseconds and the pipe holds hundreds of progress lines, so on a busy machine ser may be far ahead of the line
        // read here: a budget of 100,000 epochs and the same patience, so neither the budget nor early stopping can end
        // the run before the signal arrives (with 1,000, a CI run once finished first).
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("epoch   2/", StringComparison.Ordinal)) lines.Add(line);
        Assert.NotNull(line);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString()])) kill.WaitForExit();
        string rest = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "ser train did not stop within a minute of SIGINT");

        string errors = await error;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {errors}");
        Assert.True(rest.Contains("Stopped by request after epoch"), $"no stop message after SIGINT; the rest of the output:\n{rest}\nstandard error:\n{errors}");
        foreach (var file in new[] { "model.safetensors", "metrics.json", "report.html", "checkpoint.safetensors", "history.csv" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing after SIGINT");
        int epochs = File.ReadAllLines(Path.Combine(run, "history.csv")).Length - 1;
        Assert.InRange(epochs, 2, 99_999); // stopped long before the budget
    }
}
