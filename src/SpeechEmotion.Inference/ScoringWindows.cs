using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>
/// Scoring a recording as a model trained on random crops saw its training recordings (<c>ser train --score-window</c>,
/// <see cref="ModelBundle.ScoringWindow"/>): a sequence longer than the window is cut into windows of that many frames,
/// one every half window from the first frame, the last one ending at the last frame; each window is scored alone, and
/// the recording's logits are the mean of its windows' (in window order), to which the temperature and the softmax then
/// apply as to any logits. A sequence no longer than the window is one window: itself. A window of 0 = whole recordings.
/// </summary>
public static class ScoringWindows
{
    /// <summary>How far apart two windows start: half a window (at least one frame).</summary>
    public static int Hop(int window) => Math.Max(1, window / 2);

    /// <summary>How many windows a sequence of <paramref name="steps"/> frames is scored by.</summary>
    public static int Count(int steps, int window) =>
        window <= 0 || steps <= window ? 1 : (steps - window + Hop(window) - 1) / Hop(window) + 1;

    /// <summary>The first frame of window <paramref name="k"/>: every hop, the last one moved back to end at the last frame.</summary>
    public static int Start(int steps, int window, int k) =>
        window <= 0 || steps <= window ? 0 : Math.Min(k * Hop(window), steps - window);

    /// <summary>The windows of every input in order (an input's windows together; a short input is itself), and for
    /// each input the index of its first window (one more entry at the end: the number of windows).</summary>
    public static (IReadOnlyList<Sequence> Windows, int[] First) Split(IReadOnlyList<Sequence> inputs, int window)
    {
        if (window < 0) throw new OptionsException($"ScoringWindows.Split: window must be 0 (whole recordings) or more frames, got {window}.");
        var windows = new List<Sequence>();
        var first = new int[inputs.Count + 1];
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            first[i] = windows.Count;
            int count = Count(input.Steps, window);
            if (count == 1) { windows.Add(input); continue; }
            for (int k = 0; k < count; k++)
                windows.Add(new Sequence(input.Values.AsSpan(Start(input.Steps, window, k) * input.Width, window * input.Width).ToArray(), window, input.Width));
        }
        first[inputs.Count] = windows.Count;
        return (windows, first);
    }

    /// <summary>Each input's logits [inputs × classes]: the mean of its windows' (<see cref="Split"/>, <see cref="MeanLogits"/>),
    /// whose logits [windows × classes] <paramref name="logitsOf"/> gives — every scoring path (the library, evaluation,
    /// explanations) scores by windows through here with its own forward.</summary>
    public static float[] Logits(IReadOnlyList<Sequence> inputs, int window, int classes, Func<IReadOnlyList<Sequence>, float[]> logitsOf)
    {
        var (windows, first) = Split(inputs, window);
        var mean = new float[inputs.Count * classes];
        MeanLogits(logitsOf(windows), first, classes, mean);
        return mean;
    }

    /// <summary>Logits [windows × classes] → each input's mean over its windows [inputs × classes], summed in window order.</summary>
    public static void MeanLogits(ReadOnlySpan<float> windowLogits, ReadOnlySpan<int> first, int classes, Span<float> logits)
    {
        int inputs = first.Length - 1;
        if (windowLogits.Length != first[inputs] * classes || logits.Length != inputs * classes)
            throw new ShapeException($"ScoringWindows.MeanLogits: {windowLogits.Length} window logits and {logits.Length} outputs for {first[inputs]} windows of {inputs} inputs and {classes} classes.");
        for (int i = 0; i < inputs; i++)
        {
            var mean = logits.Slice(i * classes, classes);
            mean.Clear();
            int count = first[i + 1] - first[i];
            for (int w = first[i]; w < first[i + 1]; w++)
                for (int c = 0; c < classes; c++) mean[c] += windowLogits[w * classes + c];
            for (int c = 0; c < classes; c++) mean[c] /= count;
        }
    }
}
