using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Inference.Tests;

/// <summary>A single file's statistics adapted from the training side's (MAP adaptation with a relevance factor).</summary>
public sealed class NormalizationTests
{
    private const int Size = 5;

    /// <summary>A recording of <paramref name="frames"/> frames whose column c is centred on <paramref name="centre"/> + c.</summary>
    private static Features File(int frames, double centre, ulong seed)
    {
        var rng = new Rng(seed);
        var values = new float[frames * Size];
        for (int f = 0; f < frames; f++)
            for (int c = 0; c < Size; c++) values[f * Size + c] = (float)(centre + c + (1 + c) * rng.NextGaussian());
        return new Features(values, frames, Size);
    }

    private static readonly FeatureStats Prior = new([-3f, 0f, 1f, 2f, 40f], [2f, 1f, 0.5f, 3f, 10f]);

    [Fact]
    public void RelevanceZeroIsTheFilesOwnStatisticsAndInfinityThePriorUnchanged()
    {
        var file = File(80, 6, 1);
        var own = FeatureStats.Compute([file], Size);
        var adapted = Prior.AdaptedTo(file, 0);
        Assert.Equal(own.Mean, adapted.Mean); // bit for bit: per-utterance normalisation is the τ = 0 end
        Assert.Equal(own.Std, adapted.Std);
        Assert.Same(Prior, Prior.AdaptedTo(file, double.PositiveInfinity));
    }

    /// <summary>Between the ends: mean and second moment are the frame-weighted blend of the file's and the prior's.</summary>
    [Theory]
    [InlineData(16)]
    [InlineData(80)]
    [InlineData(1024)]
    public void BetweenTheEndsTheMomentsAreBlendedByFrames(double relevance)
    {
        var file = File(80, 6, 2);
        var own = FeatureStats.Compute([file], Size);
        var adapted = Prior.AdaptedTo(file, relevance);
        double w = 80 / (80 + relevance);
        for (int c = 0; c < Size; c++)
        {
            double mean = w * own.Mean[c] + (1 - w) * Prior.Mean[c];
            double second = w * ((double)own.Std[c] * own.Std[c] + (double)own.Mean[c] * own.Mean[c])
                          + (1 - w) * ((double)Prior.Std[c] * Prior.Std[c] + (double)Prior.Mean[c] * Prior.Mean[c]);
            Assert.Equal(mean, adapted.Mean[c], 1e-4);
            Assert.Equal(Math.Sqrt(second - mean * mean), adapted.Std[c], 1e-3);
            // The mean lies between the two it blends.
            Assert.InRange(adapted.Mean[c], Math.Min(own.Mean[c], Prior.Mean[c]) - 1e-5, Math.Max(own.Mean[c], Prior.Mean[c]) + 1e-5);
        }
    }

    /// <summary>A longer recording of the same voice leans on the prior less: its mean ends nearer its own.</summary>
    [Fact]
    public void ALongerFileLeansLessOnThePrior()
    {
        var shortFile = File(40, 6, 3);
        var longFile = new Features([.. shortFile.Values, .. shortFile.Values, .. shortFile.Values, .. shortFile.Values], 160, Size);
        var own = FeatureStats.Compute([shortFile], Size);
        var fromShort = Prior.AdaptedTo(shortFile, 64);
        var fromLong = Prior.AdaptedTo(longFile, 64);
        for (int c = 0; c < Size; c++)
            Assert.True(Math.Abs(fromLong.Mean[c] - own.Mean[c]) < Math.Abs(fromShort.Mean[c] - own.Mean[c]), $"column {c}");
    }

    [Fact]
    public void ABadRelevanceOrAFileOfAnotherWidthIsRefused()
    {
        var file = File(10, 0, 4);
        Assert.Contains("relevance must be 0 or more (frames), got -1", Assert.Throws<OptionsException>(() => Prior.AdaptedTo(file, -1)).Message);
        Assert.Throws<OptionsException>(() => Prior.AdaptedTo(file, double.NaN));
        var wide = new Features(new float[6 * 3], 3, 6);
        Assert.Contains("a file of 6 features against statistics of 5", Assert.Throws<ShapeException>(() => Prior.AdaptedTo(wide, 8)).Message);
    }

    /// <summary>A constant column keeps the floor of the deviation, never a division by zero.</summary>
    [Fact]
    public void AConstantColumnKeepsTheFloor()
    {
        var file = new Features(Enumerable.Repeat(7f, 20 * Size).ToArray(), 20, Size);
        var adapted = Prior.AdaptedTo(file, 0);
        Assert.All(adapted.Std, s => Assert.Equal(FeatureStats.MinStd, s));
    }
}
