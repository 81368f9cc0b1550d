using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

public class SplitInfoTests
{
    [Fact]
    public void TheSpeakerProtocolHoldsOutTheSameSideWhateverTheSeed()
    {
        var yaf1 = new SplitInfo(Protocol.Speaker, 1, "YAF");
        Assert.True(yaf1.SameTestSide(new SplitInfo(Protocol.Speaker, 7, "YAF")));
        Assert.False(yaf1.SameTestSide(new SplitInfo(Protocol.Speaker, 1, "OAF")));
        Assert.False(yaf1.SameTestSide(new SplitInfo(Protocol.Random, 1, null)));
    }

    [Theory]
    [InlineData(Protocol.Random)]
    [InlineData(Protocol.Word)]
    public void OtherProtocolsDrawTheTestSideFromTheSeed(Protocol protocol)
    {
        var split = new SplitInfo(protocol, 1, null);
        Assert.True(split.SameTestSide(new SplitInfo(protocol, 1, null)));
        Assert.False(split.SameTestSide(new SplitInfo(protocol, 2, null)));
    }
}

public class EnsembleMeanTests
{
    [Fact]
    public void OneModelComesBackUnchangedAndSeveralAreAveraged()
    {
        float[] a = [0.1f, 0.7f, 0.2f], b = [0.3f, 0.3f, 0.4f];
        Assert.Equal(a, Ensemble.Mean([a]));
        Assert.Equal(a, Ensemble.Mean([a, a]));
        var mean = Ensemble.Mean([a, b]);
        for (int i = 0; i < a.Length; i++) Assert.Equal((a[i] + b[i]) / 2, mean[i], 6);
    }
}
