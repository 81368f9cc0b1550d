using SpeechEmotion.Cli.Tests;
using SpeechEmotion.Training.Corpus;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training.Tests;

/// <summary>Test-time augmentation's input: the held-out side again, played at another speed.</summary>
public sealed class PerturbedTestTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-tta-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PerturbedTestHoldsTheSameUtterancesPlayedFasterOrSlowerAndStandardisedAsAVoice()
    {
        SyntheticEmotions.Create(_root, words: 2);
        var recipe = Recipes.Create(RecipeKind.Frames, 7); // per-speaker normalisation
        var data = Experiment.Prepare(_root, recipe, new SplitInfo(Protocol.Speaker, 1, "YAF"), cacheDirectory: null);
        Assert.Equal(14, data.Test.Count);

        var slower = TestTimeAugmentation.AtSpeed(data, recipe, data.TrainStatistics, 0.9, cacheDirectory: null);
        var faster = TestTimeAugmentation.AtSpeed(data, recipe, data.TrainStatistics, 1.1, cacheDirectory: null);
        foreach (var perturbed in new[] { slower, faster })
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
        }
        // (YAF, 0.9) is standardised as a voice of its own: each column of all its frames averages to zero.
        int width = slower[0].Input.Width;
        for (int column = 0; column < width; column++)
        {
            double sum = 0; int frames = 0;
            foreach (var s in slower)
                for (int t = 0; t < s.Input.Steps; t++) { sum += s.Input.Values[t * width + column]; frames++; }
            Assert.InRange(sum / frames, -1e-3, 1e-3);
        }
    }
}
