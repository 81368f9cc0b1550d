using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

public sealed class CorpusTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-corpus-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Add(string folder, string file, float[]? samples = null)
    {
        string dir = Path.Combine(_root, folder);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, file);
        File.WriteAllBytes(path, TestAudio.Wav([samples ?? TestAudio.Tone(300, 0.3, 24414)], 24414));
        return path;
    }

    [Fact]
    public void EveryTessSpellingNormalisesToTheSevenLabels()
    {
        Add("OAF_angry", "OAF_back_angry.wav");
        Add("OAF_Fear", "OAF_back_fear.wav");
        Add("OAF_Pleasant_surprise", "OAF_back_ps.wav");
        Add("OAF_Sad", "OAF_back_sad.wav");
        Add("YAF_pleasant_surprised", "YAF_back_ps.wav");
        Add("YAF_disgust", "YAF_back_disgust.wav");
        Add("YAF_happy", "YAF_back_happy.wav");
        Add("YAF_neutral", "YAF_back_neutral.wav");
        var result = CorpusIndex.Load(_root);
        Assert.Equal("tess", result.Layout);
        Assert.Empty(result.Problems);
        Assert.Equal(8, result.Utterances.Count);
        Assert.Equal(EmotionLabels.All, CorpusIndex.Labels(result.Utterances));
        var ps = result.Utterances.Where(u => u.Label == "pleasant_surprise").OrderBy(u => u.Speaker).ToList();
        Assert.Equal(["OAF", "YAF"], ps.Select(u => u.Speaker));
        Assert.All(result.Utterances, u => Assert.Equal("back", u.Word));
    }

    [Fact]
    public void AFileWhoseNameAndFolderDisagreeIsReportedAndLeftOut()
    {
        Add("OAF_angry", "OAF_back_angry.wav");
        string wrong = Add("OAF_angry", "OAF_bar_sad.wav");
        string odd = Add("YAF_sad", "notes.wav");
        string typo = Add("OAF_angry", "OA_bite_angry.wav");
        var result = CorpusIndex.Load(_root);
        Assert.Equal(2, result.Utterances.Count);
        Assert.Equal("OAF", result.Utterances.Single(u => u.Path == typo).Speaker);
        Assert.Contains("kept as OAF", Assert.Single(result.Warnings).Message);
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.Path == wrong && p.Message.Contains("name says 'sad' but its folder 'OAF_angry' says 'angry'"));
        Assert.Contains(result.Problems, p => p.Path == odd && p.Message.Contains("not SPEAKER_word_emotion"));
    }

    [Fact]
    public void PlainLayoutUsesFolderNamesAsLabels()
    {
        Add("happy", "me_hello_1.wav");
        Add("Sad", "take2.wav");
        Add("bored", "x.wav");
        var result = CorpusIndex.Load(_root);
        Assert.Equal("plain", result.Layout);
        Assert.Equal(["happy", "sad", "bored"], CorpusIndex.Labels(result.Utterances));
        Assert.Equal("me", result.Utterances.Single(u => u.Label == "happy").Speaker);
        Assert.Equal("unknown", result.Utterances.Single(u => u.Label == "sad").Speaker);
    }

    [Fact]
    public void MissingOrEmptyFoldersGiveAClearError()
    {
        var missing = Assert.Throws<CorpusException>(() => CorpusIndex.Load(Path.Combine(_root, "nope")));
        Assert.Contains("corpus folder not found", missing.Message);
        Directory.CreateDirectory(Path.Combine(_root, "OAF_angry"));
        var empty = Assert.Throws<CorpusException>(() => CorpusIndex.Load(_root));
        Assert.Contains("no audio files found", empty.Message);
        Assert.Contains(_root, empty.Message);
    }

    private static List<Utterance> Synthetic()
    {
        var list = new List<Utterance>();
        foreach (var speaker in new[] { "OAF", "YAF" })
            foreach (var label in EmotionLabels.All)
                for (int w = 0; w < 40; w++)
                    list.Add(new Utterance($"/c/{speaker}_{label}/{speaker}_w{w}_{label}.wav", speaker, $"w{w}", label));
        return list;
    }

    [Fact]
    public void RandomSplitIsStratifiedAndSeeded()
    {
        var split = Splits.Make(Synthetic(), Protocol.Random, 7);
        foreach (var label in EmotionLabels.All)
        {
            Assert.Equal(20, split.Count(e => e.Part == Part.Test && e.Utterance.Label == label)); // 25% of 80
            Assert.Equal(6, split.Count(e => e.Part == Part.Validation && e.Utterance.Label == label)); // 10% of 60
        }
        Assert.Equal(split, Splits.Make(Synthetic().AsEnumerable().Reverse().ToList(), Protocol.Random, 7)); // same seed, same split
        Assert.NotEqual(split.Select(e => e.Part), Splits.Make(Synthetic(), Protocol.Random, 8).Select(e => e.Part));
    }

    [Fact]
    public void SpeakerSplitKeepsTheTestSpeakerOut()
    {
        var split = Splits.Make(Synthetic(), Protocol.Speaker, 1, "OAF");
        Assert.All(split.Where(e => e.Part == Part.Test), e => Assert.Equal("OAF", e.Utterance.Speaker));
        Assert.All(split.Where(e => e.Part != Part.Test), e => Assert.Equal("YAF", e.Utterance.Speaker));
        Assert.Equal(280, split.Count(e => e.Part == Part.Test));
        Assert.Equal(28, split.Count(e => e.Part == Part.Validation));
        var error = Assert.Throws<OptionsException>(() => Splits.Make(Synthetic(), Protocol.Speaker, 1, "ZZZ"));
        Assert.Contains("'ZZZ' is not in the corpus; its speakers are OAF, YAF", error.Message);
    }

    [Fact]
    public void WordSplitHoldsOutWholeWords()
    {
        var split = Splits.Make(Synthetic(), Protocol.Word, 3);
        var testWords = split.Where(e => e.Part == Part.Test).Select(e => e.Utterance.Word).ToHashSet();
        var validationWords = split.Where(e => e.Part == Part.Validation).Select(e => e.Utterance.Word).ToHashSet();
        var trainWords = split.Where(e => e.Part == Part.Train).Select(e => e.Utterance.Word).ToHashSet();
        Assert.Equal(10, testWords.Count);
        Assert.Equal(3, validationWords.Count);
        Assert.Empty(testWords.Intersect(trainWords));
        Assert.Empty(validationWords.Intersect(trainWords));
        foreach (var label in EmotionLabels.All) Assert.Equal(20, split.Count(e => e.Part == Part.Test && e.Utterance.Label == label));
    }

    [Fact]
    public void ManifestRoundTrips()
    {
        var split = Splits.Make(Synthetic(), Protocol.Random, 7).ToList();
        split[0] = split[0] with { Utterance = split[0].Utterance with { Path = "/odd, \"quoted\" path.wav" } };
        string path = Path.Combine(_root, "split.csv");
        Manifest.Write(path, split);
        Assert.Equal(split, Manifest.Read(path));
        File.WriteAllText(path, "not,a,manifest\n");
        Assert.Contains("not a split manifest", Assert.Throws<CorpusException>(() => Manifest.Read(path)).Message);
    }
}
