using SpeechEmotion.Training;

namespace SpeechEmotion.Cli.Tests;

public class ProgressDisplayTests
{
    /// <summary>The terminal display once crashed on its first line (Spectre read "[2K" as markup): text with brackets must pass through.</summary>
    [Fact]
    public void TerminalDisplayWritesAnyTextAndRewritesItsStatusLine()
    {
        var output = new StringWriter();
        var display = ProgressDisplay.LiveOn(output);
        display.Stage("Training [bracketed] text");
        display.Extraction(5, 10);
        display.Batch(1, 2, 3);
        display.Epoch(new EpochRecord(1, 0.5, 0.8, 0.4, 0.9, 2.0, 100, Best: true), 10);
        display.Warning("odd [file].wav");
        display.Done();
        string text = output.ToString();
        Assert.Contains("Training [bracketed] text", text);
        Assert.Contains("features 5/10 (50%)", text);
        Assert.Contains("epoch 1  batch 2/3", text);
        Assert.Contains("epoch   1/10  loss 0.5000  acc 80.0 %", text);
        Assert.Contains("odd [file].wav", text);
        Assert.Contains("\r\u001b[2K", text); // status lines are erased and rewritten in place
    }
}
