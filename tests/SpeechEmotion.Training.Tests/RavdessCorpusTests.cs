using System.Text;
using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

/// <summary>RAVDESS's layout on generated folders that copy the real names exactly, and several corpora together.</summary>
public sealed class RavdessCorpusTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-ravdess-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Add(string corpus, string folder, string file)
    {
        string dir = Path.Combine(_root, corpus, folder);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, file);
        File.WriteAllBytes(path, TestAudio.Wav([TestAudio.Tone(300, 0.3, 22050)], 22050));
        return path;
    }

    [Fact]
    public void TheFileNamesSevenFieldsGiveSpeakerGenderStatementAndLabel()
    {
        Add("ravdess", "Actor_01", "03-01-05-02-01-01-01.wav"); // angry, strong, "kids", male actor 1
        Add("ravdess", "Actor_01", "03-01-02-01-02-02-01.wav"); // calm
        Add("ravdess", "Actor_01", "03-01-08-01-02-02-01.wav"); // surprised
        Add("ravdess", "Actor_12", "03-01-01-01-01-01-12.wav"); // neutral, female actor 12
        Add("ravdess", "Actor_12", "03-02-05-01-01-01-12.wav"); // song: not speech, passed over
        Add("ravdess", "Actor_12", "01-01-05-01-01-01-12.wav"); // audio-video: passed over
        string wrongActor = Add("ravdess", "Actor_12", "03-01-04-01-01-01-07.wav");
        string badName = Add("ravdess", "Actor_12", "take2.wav");
        var result = CorpusIndex.Load(Path.Combine(_root, "ravdess"));
        Assert.Equal("ravdess", result.Layout);
        Assert.Equal(4, result.Utterances.Count);
        Assert.Equal([wrongActor, badName], result.Problems.Select(p => p.Path).Order(StringComparer.Ordinal));
        var angry = result.Utterances.Single(u => u.Label == "angry");
        Assert.Equal(("ravdess:01", "male", "s01", "ravdess"), (angry.Speaker, angry.Gender, angry.Word, angry.Corpus));
        Assert.Equal(("ravdess:12", "female"), (result.Utterances.Single(u => u.Label == "neutral").Speaker, result.Utterances.Single(u => u.Label == "neutral").Gender));
        Assert.Equal(["angry", "neutral", "pleasant_surprise", "calm"], CorpusIndex.Labels(result.Utterances));
        Assert.Equal(8, CorpusIndex.RavdessEmotions.Count);
    }

    [Fact]
    public void TheCorpusProtocolTestsOnOneCorpusAndTrainsOnTheOthers()
    {
        foreach (var label in new[] { "angry", "sad", "neutral" })
            for (int w = 0; w < 10; w++) Add("tess", $"OAF_{label}", $"OAF_w{w}_{label}.wav");
        string[] codes = ["05", "04", "01", "02"];
        for (int actor = 1; actor <= 2; actor++)
            foreach (var code in codes)
                Add("ravdess", $"Actor_{actor:00}", $"03-01-{code}-01-01-01-{actor:00}.wav");
        string roots = Path.Combine(_root, "tess") + Path.PathSeparator + Path.Combine(_root, "ravdess");
        var index = CorpusIndex.Load(roots);
        Assert.Equal("tess+ravdess", index.Layout);
        Assert.Equal(38, index.Utterances.Count);
        var split = Splits.Make(index.Utterances, Protocol.Corpus, 3, testCorpus: "ravdess");
        Assert.All(split.Where(e => e.Part == Part.Test), e => Assert.Equal("ravdess", e.Utterance.Corpus));
        Assert.All(split.Where(e => e.Part != Part.Test), e => Assert.Equal("tess", e.Utterance.Corpus));
        Assert.Equal(8, split.Count(e => e.Part == Part.Test));
        Assert.Equal(3, split.Count(e => e.Part == Part.Validation)); // a tenth of each training class
        // The speaker protocol takes a bare or a corpus-qualified name.
        var bare = Splits.Make(index.Utterances, Protocol.Speaker, 3, testSpeaker: "OAF");
        var qualified = Splits.Make(index.Utterances, Protocol.Speaker, 3, testSpeaker: "TESS:OAF");
        Assert.Equal(bare.Select(e => e.Part), qualified.Select(e => e.Part));
        Assert.Equal(30, qualified.Count(e => e.Part == Part.Test));
        Assert.Equal(4, Splits.Make(index.Utterances, Protocol.Speaker, 3, testSpeaker: "RAVDESS:02").Count(e => e.Part == Part.Test));
        Assert.Contains("not in the data", Assert.Throws<OptionsException>(() => Splits.Make(index.Utterances, Protocol.Corpus, 3, testCorpus: "emodb")).Message);
        Assert.Contains("at least two corpora", Assert.Throws<OptionsException>(() =>
            Splits.Make(CorpusIndex.Load(Path.Combine(_root, "tess")).Utterances, Protocol.Corpus, 3, testCorpus: "tess")).Message);
    }

    /// <summary>Trained on TESS, scored on RAVDESS: calm, which TESS lacks, is left out of the test side and said so.</summary>
    [Fact]
    public void ATestCorpusIsScoredOnTheClassesTheTrainingCorporaHave()
    {
        foreach (var label in new[] { "angry", "sad" })
            for (int w = 0; w < 4; w++) Add("tess", $"OAF_{label}", $"OAF_w{w}_{label}.wav");
        foreach (var code in new[] { "05", "04", "02" })
            Add("ravdess", "Actor_03", $"03-01-{code}-01-01-01-03.wav");
        string roots = Path.Combine(_root, "tess") + Path.PathSeparator + Path.Combine(_root, "ravdess");
        var recipe = Recipes.Create(RecipeKind.Frames, 2);
        var data = Experiment.Prepare(roots, recipe, new SplitInfo(Protocol.Corpus, 1, null, "ravdess"), cacheDirectory: null);
        Assert.Equal(["angry", "sad"], data.Labels);
        Assert.Equal(2, data.Test.Count);
        var warning = Assert.Single(data.Warnings);
        Assert.Contains("1 test utterances of class(es) calm, which the model does not know, left out of the score", warning.Message);

        // The other way round, the class only the training corpus has is left out of training: a model learns the shared classes.
        var back = Experiment.Prepare(roots, recipe, new SplitInfo(Protocol.Corpus, 1, null, "tess"), cacheDirectory: null);
        Assert.Equal(["angry", "sad"], back.Labels);
        Assert.Equal(8, back.Test.Count);
        Assert.Equal(2, (back.TrainVersions?.Count ?? back.Train.Count) + back.Validation.Count); // recordings, not their single-file versions
        Assert.Contains("1 training utterances of class(es) calm, which the test corpus tess lacks, left out of training", Assert.Single(back.Warnings).Message);
    }

    [Fact]
    public void EmoDbNamesGiveSpeakerGenderTextAndLabelIncludingBoredom()
    {
        Add("emodb", "wav", "03a01Fa.wav"); // speaker 03 (male), text a01, Freude
        Add("emodb", "wav", "08a02Wb.wav"); // speaker 08 (female), Ärger
        Add("emodb", "wav", "16b10Lc.wav"); // Langeweile
        Add("emodb", "wav", "11b03Ta.wav"); // Trauer
        var result = CorpusIndex.Load(Path.Combine(_root, "emodb"));
        Assert.Equal("emodb", result.Layout);
        var byLabel = result.Utterances.ToDictionary(u => u.Label);
        Assert.Equal(["angry", "happy", "sad", "boredom"], CorpusIndex.Labels(result.Utterances));
        Assert.Equal(("emodb:03", "male", "a01", "emodb"), (byLabel["happy"].Speaker, byLabel["happy"].Gender, byLabel["happy"].Word, byLabel["happy"].Corpus));
        Assert.Equal(("emodb:08", "female"), (byLabel["angry"].Speaker, byLabel["angry"].Gender));
        Assert.Equal(("emodb:16", "female", "b10"), (byLabel["boredom"].Speaker, byLabel["boredom"].Gender, byLabel["boredom"].Word));
        Assert.Equal("male", byLabel["sad"].Gender);
        Assert.Equal(7, CorpusIndex.EmoDbEmotions.Count);
    }

    [Fact]
    public void CremaDNamesGiveActorSentenceAndLabelWithGenderFromTheDemographics()
    {
        Add("cremad", "AudioWAV", "1001_DFA_ANG_XX.wav");
        Add("cremad", "AudioWAV", "1001_IEO_HAP_HI.wav");
        Add("cremad", "AudioWAV", "1002_TIE_SAD_LO.wav");
        Add("cremad", "AudioWAV", "1091_WSI_NEU_MD.wav");
        string odd = Add("cremad", "AudioWAV", "1076_MTI_SAD_XX_copy.wav");
        File.WriteAllText(Path.Combine(_root, "cremad", "VideoDemographics.csv"), "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n");
        var result = CorpusIndex.Load(Path.Combine(_root, "cremad"));
        Assert.Equal("cremad", result.Layout);
        Assert.Equal(4, result.Utterances.Count);
        Assert.Equal(odd, Assert.Single(result.Problems).Path);
        var angry = result.Utterances.Single(u => u.Label == "angry");
        Assert.Equal(("cremad:1001", "male", "dfa", "cremad"), (angry.Speaker, angry.Gender, angry.Word, angry.Corpus));
        Assert.Equal("female", result.Utterances.Single(u => u.Label == "sad").Gender);
        Assert.Null(result.Utterances.Single(u => u.Label == "neutral").Gender); // not in the demographics file
        Assert.Equal(["angry", "happy", "neutral", "sad"], CorpusIndex.Labels(result.Utterances));
    }

    [Fact]
    public void ACsvManifestNamesAnythingElseWithPathsRelativeToIt()
    {
        string a = Add("mine", "clips", "a.wav"), b = Add("mine", "clips", "b.wav");
        string csv = Path.Combine(_root, "mine", "Studio.csv");
        File.WriteAllText(csv, "label,path,speaker,gender\nAnger,clips/a.wav,anna,F\n\"sad\",\"clips/b.wav\",bob,male\nhappy,clips/missing.wav,anna,f\n,clips/a.wav,anna,f\n");
        var result = CorpusIndex.Load(csv);
        Assert.Equal("csv", result.Layout);
        Assert.Equal([a, b], result.Utterances.Select(u => u.Path));
        Assert.Equal(("studio:anna", "female", "angry", "studio"), (result.Utterances[0].Speaker, result.Utterances[0].Gender, result.Utterances[0].Label, result.Utterances[0].Corpus));
        Assert.Equal(("studio:bob", "male", "sad"), (result.Utterances[1].Speaker, result.Utterances[1].Gender, result.Utterances[1].Label));
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.Path == $"{csv}, line 4" && p.Message.Contains("missing.wav not found"));
        Assert.Contains(result.Problems, p => p.Path == $"{csv}, line 5" && p.Message.Contains("no path or no label"));
        File.WriteAllText(csv, "file,emotion\nclips/a.wav,sad\n");
        Assert.Contains("must name the columns path and label", Assert.Throws<CorpusException>(() => CorpusIndex.Load(csv)).Message);
    }

    [Fact]
    public void ALayoutCanBeForcedWhereDetectionWouldGuessWrong()
    {
        Add("ravdess", "Actor_01", "03-01-05-02-01-01-01.wav");
        Add("ravdess", "Actor_02", "03-01-04-01-01-01-02.wav");
        string stray = Add("ravdess", "notes", "take1.wav"); // one odd folder: not every folder is Actor_NN
        string root = Path.Combine(_root, "ravdess");
        Assert.Equal("plain", CorpusIndex.Load(root).Layout);
        var forced = CorpusIndex.Load(root, "ravdess");
        Assert.Equal("ravdess", forced.Layout);
        Assert.Equal(["ravdess:01", "ravdess:02"], forced.Utterances.Select(u => u.Speaker));
        Assert.Contains("its folder 'notes' is not RAVDESS's Actor_NN", Assert.Single(forced.Problems, p => p.Path == stray).Message);
        Assert.Contains("--layout emodb, but no audio file here", Assert.Throws<CorpusException>(() => CorpusIndex.Load(root, "emodb")).Message);
        Assert.Contains("--layout must be tess, ravdess, emodb, cremad, plain, csv, got 'wav'", Assert.Throws<OptionsException>(() => CorpusIndex.Load(root, "wav")).Message);
    }

    /// <summary>The original RAVDESS files: 48 kHz, some stereo, FLLR, LIST, bext and _PMX chunks around the data.</summary>
    [Fact]
    public void AnOriginalRavdessFileWithItsExtraChunksReads()
    {
        var left = TestAudio.Tone(440, 0.25, 48000);
        var right = TestAudio.Tone(220, 0.25, 48000);
        byte[] file = TestAudio.Riff(
            TestAudio.Chunk("FLLR", new byte[4042]),
            TestAudio.Fmt(1, 2, 48000, 16),
            TestAudio.Chunk("LIST", [.. Encoding.ASCII.GetBytes("INFOISFT"), 5, 0, 0, 0, .. Encoding.ASCII.GetBytes("Pro\0\0"), 0]),
            TestAudio.Chunk("bext", new byte[602]),
            TestAudio.Chunk("data", TestAudio.Samples([left, right], 16, isFloat: false)),
            TestAudio.Chunk("_PMX", Encoding.UTF8.GetBytes("<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'/>")));
        var clip = AudioReader.Decode(file, "03-01-01-01-01-02-01.wav");
        Assert.Equal((48000, 2, 12000), (clip.SampleRate, clip.Channels, clip.Samples.Length));
        float expected = (MathF.Round(left[100] * 32768) + MathF.Round(right[100] * 32768)) / 2 / 32768;
        Assert.Equal(expected, clip.Samples[100], 4);
    }
}
