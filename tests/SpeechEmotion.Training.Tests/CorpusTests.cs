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
        Assert.Equal(["tess:OAF", "tess:YAF"], ps.Select(u => u.Speaker));
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
        Assert.Equal("tess:OAF", result.Utterances.Single(u => u.Path == typo).Speaker);
        Assert.Contains("kept as OAF", Assert.Single(result.Warnings).Message);
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.Path == wrong && p.Message.Contains("name says 'sad' but its folder 'OAF_angry' says 'angry'"));
        Assert.Contains(result.Problems, p => p.Path == odd && p.Message.Contains("not SPEAKER_word_emotion"));
    }

    [Fact]
    public void CompressedFilesAreTakenAndEveryOtherFileIsReportedAsSkipped()
    {
        Add("OAF_angry", "OAF_back_angry.wav");
        string flac = Path.Combine(_root, "OAF_angry", "OAF_bean_angry.flac"), mp3 = Path.Combine(_root, "OAF_angry", "OAF_cab_angry.mp3");
        File.WriteAllBytes(flac, [.. "fLaC"u8, 0]); // indexed by name; read (and refused if broken) when its features are made
        File.WriteAllBytes(mp3, [0xFF, 0xFB, 0]);
        string notes = Path.Combine(_root, "OAF_angry", "notes.txt");
        File.WriteAllText(notes, "session notes");
        File.WriteAllText(Path.Combine(_root, "OAF_angry", ".DS_Store"), "");
        var result = CorpusIndex.Load(_root);
        Assert.Equal([Path.Combine(_root, "OAF_angry", "OAF_back_angry.wav"), flac, mp3], result.Utterances.Select(u => u.Path).Order(StringComparer.Ordinal));
        var skipped = Assert.Single(result.Problems);
        Assert.Equal(notes, skipped.Path);
        Assert.StartsWith("not an audio file (.wav, .wave, .aif, .aiff, .aifc, .flac, .mp3, .ogg, .oga)", skipped.Message);
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
        Assert.Equal("plain:me", result.Utterances.Single(u => u.Label == "happy").Speaker);
        Assert.Equal("plain:unknown", result.Utterances.Single(u => u.Label == "sad").Speaker);
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

    /// <summary>A RAVDESS-like corpus: twelve actors (odd male, even female), each saying two statements in every emotion.</summary>
    private static List<Utterance> Actors(int count = 12, string corpus = "ravdess")
    {
        var list = new List<Utterance>();
        for (int a = 1; a <= count; a++)
            foreach (var label in EmotionLabels.All)
                for (int w = 1; w <= 2; w++)
                    list.Add(new Utterance($"/{corpus}/Actor_{a:00}/{label}-{w}.wav", $"{corpus}:{a:00}", $"s{w}", label)
                    { Corpus = corpus, Gender = a % 2 == 1 ? "male" : "female" });
        return list;
    }

    [Fact]
    public void SeveralTestSpeakersAreHeldOutAndValidationIsWholeSpeakersOfTheTrainingSide()
    {
        var split = Splits.Make(Actors(), Protocol.Speaker, 1, "RAVDESS:03,ravdess:04");
        Assert.Equal(["ravdess:03", "ravdess:04"], split.Where(e => e.Part == Part.Test).Select(e => e.Utterance.Speaker).Distinct().Order());
        // Ten training speakers: a tenth of them (one) is the validation part, all of their utterances and nobody else's.
        var validation = split.Where(e => e.Part == Part.Validation).Select(e => e.Utterance.Speaker).Distinct().ToList();
        Assert.Single(validation);
        Assert.DoesNotContain(split, e => e.Part == Part.Train && validation.Contains(e.Utterance.Speaker));
        Assert.Equal(14, split.Count(e => e.Part == Part.Validation));
        // Twenty training speakers give two, one of each gender.
        var wider = Splits.Make(Actors(22), Protocol.Speaker, 5, "ravdess:01,ravdess:02");
        var chosen = wider.Where(e => e.Part == Part.Validation).Select(e => e.Utterance).DistinctBy(u => u.Speaker).ToList();
        Assert.Equal(["female", "male"], chosen.Select(u => u.Gender!).Order());
        // A corpus of two speakers beside it still gives a stratified tenth of its utterances.
        var mixed = Splits.Make([.. Actors(), .. Synthetic().Select(u => u with { Corpus = "tess" })], Protocol.Speaker, 1, "YAF");
        Assert.Equal(28, mixed.Count(e => e.Part == Part.Validation && e.Utterance.Corpus == "tess"));
        Assert.Equal(14, mixed.Count(e => e.Part == Part.Validation && e.Utterance.Corpus == "ravdess"));
        Assert.Contains("holds out every speaker", Assert.Throws<OptionsException>(() => Splits.Make(Synthetic(), Protocol.Speaker, 1, "OAF,YAF")).Message);
        Assert.Contains("'ravdess:99' is not in the corpus", Assert.Throws<OptionsException>(() => Splits.Make(Actors(), Protocol.Speaker, 1, "ravdess:01,ravdess:99")).Message);
    }

    /// <summary>Audit speakers come after the validation speakers from the same queues: the validation part is the one drawn
    /// without them, the audit part is whole speakers of both genders that neither train nor validate, and the test side
    /// is unchanged.</summary>
    [Fact]
    public void AuditSpeakersLeaveTheValidationPartAndTheTestSideAsTheyWere()
    {
        var plain = Splits.Make(Actors(22), Protocol.Speaker, 5, "ravdess:01,ravdess:02");
        var audited = Splits.Make(Actors(22), Protocol.Speaker, 5, "ravdess:01,ravdess:02", auditSpeakers: 2);
        HashSet<string> Speakers(IEnumerable<SplitEntry> split, Part part) => split.Where(e => e.Part == part).Select(e => e.Utterance.Speaker).ToHashSet();
        Assert.Equal(Speakers(plain, Part.Validation), Speakers(audited, Part.Validation));
        Assert.Equal(Speakers(plain, Part.Test), Speakers(audited, Part.Test));
        var audit = Speakers(audited, Part.Audit);
        Assert.Equal(2, audit.Count);
        Assert.Equal(["female", "male"], audited.Where(e => e.Part == Part.Audit).Select(e => e.Utterance).DistinctBy(u => u.Speaker).Select(u => u.Gender!).Order());
        Assert.Equal(Speakers(plain, Part.Train), [.. Speakers(audited, Part.Train), .. audit]);
        Assert.Empty(Speakers(audited, Part.Train).Intersect(audit));
        Assert.Equal(Speakers(plain, Part.Train), Speakers(Splits.Make(Actors(22), Protocol.Speaker, 5, "ravdess:01,ravdess:02", auditSpeakers: 0), Part.Train));
        Assert.Contains("not word", Assert.Throws<OptionsException>(() => Splits.Make(Actors(), Protocol.Word, 1, auditSpeakers: 1)).Message);
        Assert.Contains("no training corpus has 4 speakers besides them", Assert.Throws<OptionsException>(() => Splits.Make(Synthetic(), Protocol.Speaker, 1, "OAF", auditSpeakers: 1)).Message);
        Assert.Contains("must be 0 or more", Assert.Throws<OptionsException>(() => Splits.Make(Actors(), Protocol.Speaker, 1, "ravdess:01", auditSpeakers: -1)).Message);
    }

    [Fact]
    public void LosoFoldsTestEverySpeakerOnceWithBothGendersInEachFold()
    {
        var actors = Actors();
        var folds = Splits.LosoFolds(actors, 4, 1);
        Assert.Equal(4, folds.Count);
        var all = folds.SelectMany(f => f.Split(',')).ToList();
        Assert.Equal(actors.Select(u => u.Speaker).Distinct().Order(), all.Order());
        foreach (var fold in folds)
        {
            var genders = fold.Split(',').Select(s => int.Parse(s[^2..]) % 2).ToHashSet();
            Assert.Equal(2, genders.Count);
            Assert.Equal(3, fold.Split(',').Length);
        }
        Assert.Equal(folds, Splits.LosoFolds(actors.AsEnumerable().Reverse().ToList(), 4, 1));
        Assert.NotEqual(folds, Splits.LosoFolds(actors, 4, 2));
        // With a second corpus, only the named corpus's speakers are held out; TESS's bare names come corpus-qualified.
        var tess = Synthetic().Select(u => u with { Corpus = "tess" }).ToList();
        Assert.DoesNotContain(Splits.LosoFolds([.. actors, .. tess], 3, 1, "ravdess").SelectMany(f => f.Split(',')), s => s.StartsWith("tess:"));
        Assert.Equal(["tess:OAF", "tess:YAF"], Splits.LosoFolds([.. actors, .. tess], 2, 1, "tess").Order());
        Assert.Contains("--folds must be 2 to the number of speakers (12), got 13", Assert.Throws<OptionsException>(() => Splits.LosoFolds(actors, 13, 1)).Message);
        Assert.Contains("--test-corpus 'emodb' is not in the data", Assert.Throws<OptionsException>(() => Splits.LosoFolds(actors, 2, 1, "emodb")).Message);
    }

    [Fact]
    public void WithoutDataEveryCorpusFolderUnderDataIsUsed()
    {
        foreach (var name in new[] { "tess", "ravdess", "cache", "empty" }) Directory.CreateDirectory(Path.Combine(_root, name));
        Directory.CreateDirectory(Path.Combine(_root, "tess", "OAF_angry"));
        Directory.CreateDirectory(Path.Combine(_root, "ravdess", "Actor_01"));
        Directory.CreateDirectory(Path.Combine(_root, "cache", "0123"));
        File.WriteAllText(Path.Combine(_root, "README.md"), "not a corpus");
        Assert.Equal([Path.Combine(_root, "ravdess"), Path.Combine(_root, "tess")], DataLocation.Corpora(_root));
        Assert.Empty(DataLocation.Corpora(Path.Combine(_root, "missing")));
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
