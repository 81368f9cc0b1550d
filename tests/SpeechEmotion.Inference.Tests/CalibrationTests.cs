using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Inference.Tests;

public sealed class CalibrationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Labels drawn from softmax(z / 2.5): the fitted temperature comes back near 2.5.</summary>
    [Fact]
    public void TheFittedTemperatureRecoversTheOneTheLabelsWereDrawnWith()
    {
        var rng = new Rng(4);
        const int n = 4000, classes = 5;
        var logits = new float[n * classes];
        var labels = new int[n];
        var p = new float[classes];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < classes; k++) logits[i * classes + k] = (float)(4 * rng.NextGaussian());
            Calibration.Softmax(logits.AsSpan(i * classes, classes), classes, 2.5f, p);
            double u = rng.NextDouble(), sum = 0;
            labels[i] = classes - 1;
            for (int k = 0; k < classes; k++) { sum += p[k]; if (u < sum) { labels[i] = k; break; } }
        }
        float fitted = Calibration.FitTemperature(logits, labels, classes);
        Assert.InRange(fitted, 2.3f, 2.7f);
        double atFit = Calibration.NegativeLogLikelihood(logits, labels, classes, fitted);
        Assert.True(atFit < Calibration.NegativeLogLikelihood(logits, labels, classes, 1.0));
        Assert.True(atFit <= Calibration.NegativeLogLikelihood(logits, labels, classes, fitted * 1.05) + 1e-9);
        Assert.True(atFit <= Calibration.NegativeLogLikelihood(logits, labels, classes, fitted / 1.05) + 1e-9);
        Assert.Equal(1f, Calibration.FitTemperature([], [], classes));
        // Labels drawn from sharper probabilities than the logits say (T0 = 0.5 < 1): temperature scaling never sharpens.
        for (int i = 0; i < n; i++) labels[i] = Enumerable.Range(0, classes).MaxBy(k => logits[i * classes + k]);
        Assert.Equal(1f, Calibration.FitTemperature(logits, labels, classes));
    }

    /// <summary>ECE by hand: 4 rows, confidences 0.9, 0.9 (one right) in bin 13, 0.5 (right) in bin 7, 1.0 (right) in bin 14.</summary>
    [Fact]
    public void TheExpectedCalibrationErrorIsTheWeightedGapPerBin()
    {
        float[] probabilities = [0.9f, 0.1f, 0.1f, 0.9f, 0.5f, 0.5f, 1f, 0f];
        int[] labels = [0, 0, 0, 0];
        double expected = 2 / 4.0 * Math.Abs(0.5 - 0.9) + 1 / 4.0 * Math.Abs(1 - 0.5) + 1 / 4.0 * Math.Abs(1 - 1.0);
        Assert.Equal(expected, Calibration.ExpectedCalibrationError(probabilities, labels, 2), 6);
        Assert.Equal(0, Calibration.ExpectedCalibrationError([], [], 2));
    }

    /// <summary>A model's temperature reaches every prediction: softmax(logits / T) is softmax(logits) raised to 1/T, renormalised.</summary>
    [Fact]
    public void TheRecognizerAppliesTheModelsTemperature()
    {
        var plain = TestModels.Frames(41);
        string wav = TestModels.Wavs(_folder.Path, 2)[1];
        string one = TestModels.Save(plain, _folder.Path, "t1.safetensors");
        string two = TestModels.Save(plain with { Temperature = 2f }, _folder.Path, "t2.safetensors");
        var p1 = EmotionRecognizer.Load(one).Predict(wav);
        var p2 = EmotionRecognizer.Load(two).Predict(wav);
        Assert.Equal(2f, ModelBundle.Load(two).Temperature);
        var expected = p1.Scores.ToArray().Select(p => Math.Sqrt(p)).ToArray();
        double sum = expected.Sum();
        for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k] / sum, p2.Scores[k], 5);
        Assert.Equal(p1.Label, p2.Label); // temperature changes confidence, never the prediction
        Assert.True(p2.Confidence < p1.Confidence);
    }
}
