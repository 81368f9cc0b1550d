using SpeechEmotion.Core.Optim;

namespace SpeechEmotion.Core.Tests.Optim;

public class AdamTests
{
    /// <summary>Three steps against the update written out by hand in double precision.</summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void MatchesHandComputedSteps(float weightDecay)
    {
        var options = new AdamOptions(learningRate: 0.1f, weightDecay: weightDecay);
        var adam = new Adam(2, options);
        float[] parameters = [1f, -2f];
        double[] p = [1, -2], m = [0, 0], v = [0, 0];
        float[][] gradients = [[0.5f, -1f], [0.25f, 3f], [-1f, 0.125f]];
        for (int t = 1; t <= 3; t++)
        {
            var g = (float[])gradients[t - 1].Clone();
            adam.Step(parameters, g);
            for (int i = 0; i < 2; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.999, t));
                p[i] = p[i] * (1 - 0.1 * weightDecay) - 0.1 * mHat / (Math.Sqrt(vHat) + 1e-8);
                Assert.Equal(p[i], parameters[i], 5);
            }
        }
        // First step of Adam moves each parameter by lr·sign(g) (m̂/√v̂ = g/|g|).
        Assert.Equal(3, adam.StepCount);
    }

    [Fact]
    public void ClippingMatchesItsDefinition()
    {
        float[] g = [3f, 4f];
        float norm = Adam.ClipGradientNorm(g, 1f);
        Assert.Equal(5f, norm);
        Assert.Equal(3f / (5f + 1e-6f), g[0], 6);
        Assert.Equal(4f / (5f + 1e-6f), g[1], 6);
        float[] small = [0.3f, 0.4f];
        Adam.ClipGradientNorm(small, 1f);
        Assert.Equal([0.3f, 0.4f], small); // below the threshold: untouched
    }

    [Fact]
    public void BadOptionsNameTheField()
    {
        Assert.Contains("LearningRate", Assert.Throws<OptionsException>(() => new AdamOptions(learningRate: 0f)).Message);
        Assert.Contains("Beta2", Assert.Throws<OptionsException>(() => new AdamOptions(beta2: 1f)).Message);
        Assert.Contains("MaxGradientNorm", Assert.Throws<OptionsException>(() => new AdamOptions(maxGradientNorm: -1f)).Message);
    }
}
