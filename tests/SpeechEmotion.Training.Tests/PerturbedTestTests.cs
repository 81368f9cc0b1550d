using SpeechEmotion.Cli.Tests;
using SpeechEmotion.Training.Corpus;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training.Tests;

/// <summary>Test-time augmentation's input: the held-out side again, played at another speed or through a warped filter bank.</summary>
public sealed class PerturbedTestTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-tta-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PerturbedTestHoldsTheSameUtterancesPlayedFasterOrSlowerAndStandardisedAsAVoice()
    {
        SyntheticEmotions.Create(_root, words: 2);
        // Per-speaker normalisation, the default warps 0.9 and 1.1, and speeds 0.9 and 1.1.
        var recipe = Recipes.Create(RecipeKind.Frames, 7, new RecipeOverrides(SpeedFactors: [0.9, 1.1]));
        var data = Experiment.Prepare(_root, recipe, new SplitInfo(Protocol.Speaker, 1, "YAF"), cacheDirectory: null);
        Assert.Equal(14, data.Test.Count);
        Assert.Equal([(0.9, 1.0), (1.1, 1.0), (1.0, 0.9), (1.0, 1.1)], recipe.TestTimeViews);
        Assert.Equal(["speed=0.9", "speed=1.1", "vtlp=0.9", "vtlp=1.1"], recipe.TestTimeViews.Select(Recipe.ViewName));

        IReadOnlyList<Sample> Heard(double speed, double warp) =>
            TestTimeAugmentation.Heard(data, recipe, Part.Test, (speed, warp), cacheDirectory: null).PerSpeaker(recipe, data.TrainStatistics);
        var slower = Heard(0.9, 1.0);
        var faster = Heard(1.1, 1.0);
        var warped = Heard(1.0, 0.9);
        foreach (var perturbed in new[] { slower, faster, warped })
        {
            Assert.Equal(data.Test.Select(s => s.Path), perturbed.Select(s => s.Path));
            Assert.Equal(data.Test.Select(s => s.Label), perturbed.Select(s => s.Label));
            Assert.All(perturbed, s => Assert.Equal("tess:YAF", s.Speaker));
        }
        for (int i = 0; i < data.Test.Count; i++)
        {
            // Played at 0.9 the utterance lasts 1/0.9 as long, at 1.1 1/1.1: about that many more or fewer frames.
            int steps = data.Test[i].Input.Steps;
            Assert.InRange(slower[i].Input.Steps, (int)(steps / 0.9) - 3, (int)(steps / 0.9) + 3);
            Assert.InRange(faster[i].Input.Steps, (int)(steps / 1.1) - 3, (int)(steps / 1.1) + 3);
            // A warp moves the filter bank, not the time axis: the same frames, other values.
            Assert.Equal(steps, warped[i].Input.Steps);
            Assert.NotEqual(data.Test[i].Input.Values, warped[i].Input.Values);
        }
        // (YAF, speed 0.9) and (YAF, warp 0.9) are standardised as voices of their own: each column of all their frames
        // averages to zero.
        int width = slower[0].Input.Width;
        foreach (var voice in new[] { slower, warped })
            for (int column = 0; column < width; column++)
            {
                double sum = 0; int frames = 0;
                foreach (var s in voice)
                    for (int t = 0; t < s.Input.Steps; t++) { sum += s.Input.Values[t * width + column]; frames++; }
                Assert.InRange(sum / frames, -1e-3, 1e-3);
            }
    }
}
