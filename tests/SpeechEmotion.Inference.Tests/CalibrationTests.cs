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
    /// <summary>The floor is what the ECE averages to when every row is right with its confidence: checked against 20,000
    /// label sets drawn that way (each scored by <see cref="Calibration.ExpectedCalibrationError"/>), within 4 standard
    /// errors; certain rows give 0; 300 rows near 65 % give the 0.05–0.06 the documentation says.</summary>
    [Fact]
    public void TheFloorIsTheMeanEceOfACalibratedModel()
    {
        const int rows = 300, classes = 4;
        var rng = new Rng(7);
        var probabilities = new float[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            double top = 0.3 + 0.7 * rng.NextDouble(); // the largest of four: at least 0.25
            probabilities[r * classes + r % classes] = (float)top;
            for (int c = 1; c < classes; c++) probabilities[r * classes + (r + c) % classes] = (float)((1 - top) / (classes - 1));
        }
        double floor = Calibration.ExpectedCalibrationErrorFloor(probabilities, classes);

        var labels = new int[rows];
        double sum = 0, squares = 0;
        const int draws = 20_000;
        for (int d = 0; d < draws; d++)
        {
            for (int r = 0; r < rows; r++)
            {
                int predicted = r % classes;
                labels[r] = rng.NextDouble() < probabilities[r * classes + predicted] ? predicted : (predicted + 1) % classes;
            }
            double ece = Calibration.ExpectedCalibrationError(probabilities, labels, classes);
            sum += ece; squares += ece * ece;
        }
        double mean = sum / draws, standardError = Math.Sqrt((squares / draws - mean * mean) / draws);
        Assert.InRange(floor, mean - 4 * standardError, mean + 4 * standardError);
        Assert.InRange(floor, 0.04, 0.08);

        float[] certain = [1f, 0f, 0f, 1f, 0f, 1f];
        Assert.Equal(0, Calibration.ExpectedCalibrationErrorFloor(certain, 2), 12);
        Assert.Equal(0, Calibration.ExpectedCalibrationErrorFloor([], 2));
    }

    /// <summary>A bin of more than <see cref="Calibration.ExactFloorRows"/> rows takes the normal approximation: for 5,000
    /// rows at 0.7 it is within 0.1 % of the binomial's exact mean absolute deviation, summed here in log space.</summary>
    [Fact]
    public void ALargeBinsFloorIsTheBinomialsMeanDeviation()
    {
        const int n = 5000;
        const double c = 0.7;
        var probabilities = new float[n * 2];
        for (int r = 0; r < n; r++) (probabilities[2 * r], probabilities[2 * r + 1]) = ((float)c, (float)(1 - c));
        double mean = (double)(float)c, exact = 0, logChoose = 0; // the rows' confidence is the float nearest 0.7
        for (int k = 0; k <= n; k++)
        {
            if (k > 0) logChoose += Math.Log(n - k + 1) - Math.Log(k);
            exact += Math.Exp(logChoose + k * Math.Log(mean) + (n - k) * Math.Log(1 - mean)) * Math.Abs(k / (double)n - mean);
        }
        double floor = Calibration.ExpectedCalibrationErrorFloor(probabilities, 2);
        Assert.InRange(floor / exact, 0.999, 1.001);
    }

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
