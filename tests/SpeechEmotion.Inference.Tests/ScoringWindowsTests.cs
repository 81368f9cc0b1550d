using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core;

namespace SpeechEmotion.Inference.Tests;

public sealed class ScoringWindowsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>The windows of a sequence lie inside it, are the window's length, start every half window from the first
    /// frame, end with one that ends at the last frame, and together hear every frame; a sequence no longer than the
    /// window (or a window of 0) is one window, itself.</summary>
    [Fact]
    public void WindowsStartEveryHalfWindowAndTheLastEndsAtTheEnd()
    {
        Assert.Equal([0, 32, 35], Starts(100, 65));
        Assert.Equal([0, 32, 64, 96, 100], Starts(165, 65));
        Assert.Equal([0], Starts(65, 65));
        Assert.Equal([0], Starts(12, 65));
        Assert.Equal([0], Starts(500, 0));
        Assert.Equal([0, 1, 2], Starts(3, 1));
        for (int window = 1; window <= 20; window++)
            for (int steps = 1; steps <= 80; steps++)
            {
                var starts = Starts(steps, window);
                int length = Math.Min(steps, window), hop = ScoringWindows.Hop(window);
                var heard = new bool[steps];
                for (int k = 0; k < starts.Length; k++)
                {
                    Assert.InRange(starts[k], 0, steps - length);
                    if (k < starts.Length - 1) Assert.Equal(k * hop, starts[k]);
                    for (int t = starts[k]; t < starts[k] + length; t++) heard[t] = true;
                }
                Assert.Equal(steps - length, starts[^1]);
                Assert.All(heard, Assert.True);
                if (starts.Length > 1) Assert.True(starts[^2] + window < steps, $"{steps} steps, window {window}: a window too many");
            }
    }

    /// <summary>Split copies each window's frames in order, an input's windows together; MeanLogits averages them back.</summary>
    [Fact]
    public void SplitCopiesTheWindowsAndMeanLogitsAveragesThem()
    {
        var inputs = new List<Sequence> { Numbered(5, 2, 0), Numbered(2, 2, 100) };
        var (windows, first) = ScoringWindows.Split(inputs, 3);
        Assert.Equal([0, 3, 4], first);
        Assert.Equal([0f, 1, 2, 3, 4, 5], windows[0].Values);
        Assert.Equal([2f, 3, 4, 5, 6, 7], windows[1].Values);
        Assert.Equal([4f, 5, 6, 7, 8, 9], windows[2].Values);
        Assert.Same(inputs[1], windows[3]);
        Assert.All(windows.Take(3), w => Assert.Equal((3, 2), (w.Steps, w.Width)));

        float[] windowLogits = [1, 2, 3, 5, 8, 11, 7, 7];
        var mean = new float[4];
        ScoringWindows.MeanLogits(windowLogits, first, 2, mean);
        Assert.Equal([4f, 6, 7, 7], mean);
        Assert.Throws<ShapeException>(() => ScoringWindows.MeanLogits(windowLogits, first, 2, new float[6]));
        Assert.Throws<OptionsException>(() => ScoringWindows.Split(inputs, -1));
    }

    /// <summary>
    /// A model with a scoring window, saved and loaded as a file: each recording's answer is the softmax, at the model's
    /// temperature, of the mean of its windows' logits, each window predicted alone; a window longer than every recording
    /// answers as whole recordings do.
    /// </summary>
    [Fact]
    public void TheRecognizerScoresEachRecordingByItsWindows()
    {
        var whole = TestModels.Frames(11) with { Temperature = 1.5f };
        var recognizer = EmotionRecognizer.Load(TestModels.Save(whole with { ScoringWindow = 9 }, _folder.Path, "windowed.safetensors"));
        var model = recognizer.Models[0];
        Assert.Equal(9, model.ScoringWindow);
        var heard = TestModels.Wavs(_folder.Path, 4).Select(recognizer.Listen).ToList();
        var windowed = recognizer.Predict(heard);
        var plain = EmotionRecognizer.FromModels([model with { ScoringWindow = 0 }]).Predict(heard);
        var longest = EmotionRecognizer.FromModels([model with { ScoringWindow = heard.Max(h => h.Features.Frames) }]).Predict(heard);
        int classes = TestModels.Labels.Length;
        for (int i = 0; i < heard.Count; i++)
        {
            var input = ModelInputs.OneFile(model.Recipe, model.Statistics, model.OneFileRelevance, heard[i].Features);
            int count = ScoringWindows.Count(input.Steps, 9);
            Assert.True(count > 1, $"file {i}: {input.Steps} frames, one window");
            var mean = new float[classes];
            for (int k = 0; k < count; k++)
            {
                int start = ScoringWindows.Start(input.Steps, 9, k);
                model.Model.Predict(input.Values.AsSpan(start * input.Width, 9 * input.Width), [9], 9, 1, new float[classes]);
                for (int c = 0; c < classes; c++) mean[c] += model.Model.Logits[c] / count;
            }
            var expected = new float[classes];
            Calibration.Softmax(mean, classes, 1.5f, expected);
            for (int c = 0; c < classes; c++)
            {
                Assert.Equal(expected[c], windowed[i].Scores[c], 1e-5f);
                Assert.Equal(plain[i].Scores[c], longest[i].Scores[c], 1e-6f);
            }
            Assert.NotEqual(plain[i].Scores.ToArray(), windowed[i].Scores.ToArray());
        }
    }

    /// <summary>An explanation of a model scored by windows reports the label and probability <c>ser predict</c> gives.</summary>
    [Fact]
    public void AnExplanationReportsTheWindowedAnswer()
    {
        string path = TestModels.Save(TestModels.Frames(12) with { Temperature = 1.3f, ScoringWindow = 9 }, _folder.Path, "explained.safetensors");
        var recognizer = EmotionRecognizer.Load(path);
        var explainer = Explainer.Load(path);
        foreach (var wav in TestModels.Wavs(_folder.Path, 3))
        {
            var predicted = recognizer.Predict(wav);
            var explained = explainer.Explain(wav);
            int top = Array.IndexOf(predicted.Scores.ToArray(), predicted.Scores.ToArray().Max());
            Assert.Equal((TestModels.Labels[top], top), (explained.Label, explained.ClassIndex));
            Assert.Equal(predicted.Scores[top], explained.Probability, 1e-5f);
        }
    }

    private static int[] Starts(int steps, int window) =>
        Enumerable.Range(0, ScoringWindows.Count(steps, window)).Select(k => ScoringWindows.Start(steps, window, k)).ToArray();

    /// <summary>[steps × width] holding offset, offset + 1, … in order.</summary>
    private static Sequence Numbered(int steps, int width, int offset) =>
        new(Enumerable.Range(offset, steps * width).Select(v => (float)v).ToArray(), steps, width);
}
