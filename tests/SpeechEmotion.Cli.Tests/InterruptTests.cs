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
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "ser.dll"), "train", "--data", data, "--out", run, "--epochs", "1000",
                     "--batch", "4", "--cache", "none", "--patience", "1000" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        string? line;
        // Wait for the second epoch, so that a checkpoint and a best model exist, then interrupt. Patience 1000: early
        // stopping cannot end the run first, however long a busy machine takes to deliver the signal.
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("epoch   2/", StringComparison.Ordinal)) lines.Add(line);
        Assert.NotNull(line);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString()])) kill.WaitForExit();
        string rest = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "ser train did not stop within a minute of SIGINT");

        string errors = await error;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {errors}");
        Assert.Contains("Stopped by request after epoch", rest);
        foreach (var file in new[] { "model.safetensors", "metrics.json", "report.html", "checkpoint.safetensors", "history.csv" })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing after SIGINT");
        int epochs = File.ReadAllLines(Path.Combine(run, "history.csv")).Length - 1;
        Assert.InRange(epochs, 2, 999); // stopped long before the budget of 1000
    }
}
