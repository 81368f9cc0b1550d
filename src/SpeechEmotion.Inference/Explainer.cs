using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;

namespace SpeechEmotion.Inference;

/// <summary>
/// Which frames and which coefficients moved an answer, two ways. <see cref="Attribution"/>: gradient × input, the
/// gradient of the chosen class's log-probability with respect to the model's input (the standardised features)
/// from the engine's own backward pass, times the input, per frame and coefficient. <see cref="Occlusion"/>, a check
/// that needs no gradient: how much the class's probability drops when a window of frames is replaced by the
/// utterance's mean. Both are of the model's softmax before temperature scaling (which rescales every logit alike).
/// <see cref="Input"/>, <see cref="Attribution"/>: [Frames × Width], the standardised features the model saw and their
/// attribution; <see cref="Occlusion"/>: [Frames].
/// </summary>
public sealed record Explanation(string Source, string Label, int ClassIndex, float Probability, int Frames, int Width,
    float[] Input, float[] Attribution, float[] Occlusion, int OcclusionWindow, double FrameSeconds)
{
    /// <summary>Σ over coefficients of |gradient × input|, per frame.</summary>
    public float[] ByFrame() => Enumerable.Range(0, Frames).Select(t => Attribution.AsSpan(t * Width, Width).ToArray().Sum(MathF.Abs)).ToArray();

    /// <summary>The name of each feature column as the front end makes them: "mfcc 3", "Δ mfcc 3", "ΔΔ mfcc 3", "pitch"….</summary>
    public static IReadOnlyList<string> FeatureNames(FrontEndSettings settings, int width)
    {
        var names = Enumerable.Range(0, settings.Coefficients).Select(k => $"mfcc {k}").ToList();
        if (settings.Deltas)
        {
            names.AddRange(Enumerable.Range(0, settings.Coefficients).Select(k => $"Δ mfcc {k}"));
            names.AddRange(Enumerable.Range(0, settings.Coefficients).Select(k => $"ΔΔ mfcc {k}"));
        }
        if (settings.Prosody) names.AddRange(["pitch", "voicing", "energy"]);
        return names.Count == width ? names : Enumerable.Range(0, width).Select(k => $"feature {k}").ToList();
    }

    /// <summary>Σ over frames of |gradient × input|, per coefficient (feature column).</summary>
    public float[] ByFeature() => Enumerable.Range(0, Width).Select(i => Enumerable.Range(0, Frames).Sum(t => MathF.Abs(Attribution[t * Width + i]))).ToArray();
}

/// <summary>Explains a model's answers (<see cref="Explanation"/>); holds the model with gradients, so one per thread.</summary>
public sealed class Explainer
{
    private readonly ModelBundle _bundle;
    private readonly FrontEnd _frontEnd;

    public Explainer(ModelBundle bundle)
    {
        if (bundle.Model.InferenceOnly) throw new OptionsException("Explainer needs a model loaded with gradients (ModelBundle.Load(path, inferenceOnly: false)).");
        _bundle = bundle;
        _frontEnd = new FrontEnd(bundle.Recipe.FrontEnd);
    }

    public static Explainer Load(string path) => new(ModelBundle.Load(path, inferenceOnly: false));

    public IReadOnlyList<string> Labels => _bundle.Labels;

    /// <summary>The mean of the windows' logits (<see cref="ScoringWindows"/>) of one input, each window predicted alone.</summary>
    private static float[] WindowLogits(SequenceClassifier model, Sequence input, int window, int classes) =>
        ScoringWindows.Logits([input], window, classes, windows =>
        {
            var each = new float[windows.Count * classes];
            for (int w = 0; w < windows.Count; w++)
            {
                model.Predict(windows[w].Values, [windows[w].Steps], windows[w].Steps, 1, new float[classes]);
                model.Logits.CopyTo(each.AsSpan(w * classes, classes));
            }
            return each;
        });

    /// <summary>
    /// Explains a file's answer, or, with <paramref name="label"/>, what speaks for that class; occlusion windows of
    /// <paramref name="window"/> frames (10 ≈ 0.23 s).
    /// </summary>
    public Explanation Explain(string path, string? label = null, int window = 10)
    {
        var features = _frontEnd.Extract(path);
        var input = ModelInputs.OneFile(_bundle.Recipe, _bundle.Statistics, _bundle.OneFileRelevance, features);
        var model = _bundle.Model;
        var probabilities = new float[_bundle.Labels.Count];
        // The probability reported is the one ser predict FILE gives (the one-file temperature; for a model scored by
        // windows, its windows' mean logits); the attributions below explain the network's own softmax over the whole
        // recording, whose arg max is the same without windows.
        float temperature = _bundle.TemperatureFor(oneFile: _bundle.Recipe.NeedsSpeakerStatistics);
        if (_bundle.ScoringWindow > 0) Calibration.Softmax(WindowLogits(model, input, _bundle.ScoringWindow, _bundle.Labels.Count), _bundle.Labels.Count, temperature, probabilities);
        else
        {
            model.Predict(input.Values, [input.Steps], input.Steps, 1, probabilities);
            if (temperature != 1f) Calibration.Softmax(model.Logits, _bundle.Labels.Count, temperature, probabilities);
        }
        int target = label is null ? Array.IndexOf(probabilities, probabilities.Max())
            : _bundle.Labels.ToList().IndexOf(label) is >= 0 and var k ? k
            : throw new OptionsException($"--class must be one of the model's labels ({string.Join(", ", _bundle.Labels)}), got '{label}'.");
        var attribution = Attribution(model, input.Values, input.Steps, input.Width, target);
        var occlusion = Occlusion(model, input.Values, input.Steps, input.Width, target, window);
        double frameSeconds = _bundle.Recipe.Kind == RecipeKind.Seed ? 0 : (double)_bundle.Recipe.FrontEnd.Mfcc.HopLength / _bundle.Recipe.FrontEnd.SampleRate;
        return new Explanation(path, _bundle.Labels[target], target, probabilities[target], input.Steps, input.Width, input.Values, attribution, occlusion, window, frameSeconds);
    }

    /// <summary>
    /// ∂ log p(class) / ∂x ⊙ x for one sequence x [T × I]: the cross-entropy's input gradient of the engine's backward
    /// pass (∂(−log p)/∂x), negated, times x. Dropout is off (the forward is the prediction's).
    /// </summary>
    public static float[] Attribution(SequenceClassifier model, float[] x, int steps, int width, int classIndex)
    {
        model.Parameters.ZeroGradients();
        model.Forward(x, [steps], steps, 1, training: false, rng: null);
        model.Loss([classIndex]);
        model.Backward(x, [classIndex], computeInputGradient: true);
        var gradient = model.InputGradient;
        var result = new float[steps * width];
        for (int i = 0; i < result.Length; i++) result[i] = -gradient[i] * x[i];
        model.Parameters.ZeroGradients();
        return result;
    }

    /// <summary>
    /// Per frame, p(class) minus p(class) with the window of <paramref name="window"/> frames starting at it
    /// (strided by the window) replaced by the sequence's mean frame; each frame of a window gets its window's drop.
    /// </summary>
    public static float[] Occlusion(SequenceClassifier model, float[] x, int steps, int width, int classIndex, int window)
    {
        if (window < 1) throw new OptionsException($"the occlusion window must be at least 1 frame, got {window}.");
        int classes = model.Config.Classes;
        var probabilities = new float[classes];
        model.Predict(x, [steps], steps, 1, probabilities);
        float baseline = probabilities[classIndex];
        var mean = new float[width];
        for (int t = 0; t < steps; t++) for (int i = 0; i < width; i++) mean[i] += x[t * width + i] / steps;
        var occluded = (float[])x.Clone();
        var drop = new float[steps];
        for (int start = 0; start < steps; start += window)
        {
            int end = Math.Min(steps, start + window);
            for (int t = start; t < end; t++) mean.CopyTo(occluded, t * width);
            model.Predict(occluded, [steps], steps, 1, probabilities);
            for (int t = start; t < end; t++) drop[t] = baseline - probabilities[classIndex];
            Array.Copy(x, start * width, occluded, start * width, (end - start) * width);
        }
        return drop;
    }
}
