using SpeechEmotion.Audio;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

/// <summary>
/// The real TESS corpus, when decoded into data/tess (../shared/data/get-tess data/tess) or $SER_DATA.
/// Without it they are reported as skipped (Xunit.SkippableFact), never as passed; CI decodes it first.
/// </summary>
public class RealCorpusTests
{
    /// <summary>The folder of a real corpus (data/NAME or $SER_DATA's) when it is decoded there, else null.</summary>
    internal static string? Decoded(string corpus)
    {
        string root = DataLocation.Default(corpus);
        return Directory.Exists(root) && Directory.EnumerateDirectories(root).Any() ? root : null;
    }

    [SkippableFact]
    public void IndexesAllOf2800AndReadsEveryFile()
    {
        string? root = Decoded("tess");
        Skip.If(root is null, "TESS not decoded: run ../shared/data/get-tess data/tess (CI does).");
        var result = CorpusIndex.Load(root!);
        Assert.True(result.Problems.Count == 0, string.Join("\n", result.Problems.Take(5)));
        Assert.Equal(2800, result.Utterances.Count);
        var warning = Assert.Single(result.Warnings); // the corpus's one misnamed file, kept under its folder's speaker
        Assert.EndsWith("OA_bite_neutral.wav", warning.Path);
        Assert.All(result.Utterances.GroupBy(u => u.Label), g => Assert.Equal(400, g.Count()));
        Assert.All(result.Utterances.GroupBy(u => u.Speaker), g => Assert.Equal(1400, g.Count()));
        Assert.Equal(7, result.Utterances.Select(u => u.Label).Distinct().Count());
        Assert.Equal(200, result.Utterances.Select(u => u.Word).Distinct().Count());

        var rates = new Dictionary<int, int>();
        var containers = new Dictionary<string, int>();
        Parallel.ForEach(result.Utterances, u =>
        {
            var clip = AudioReader.Read(u.Path);
            Assert.InRange(clip.Duration, 1.2, 3.0);
            lock (rates)
            {
                rates[clip.SampleRate] = rates.GetValueOrDefault(clip.SampleRate) + 1;
                containers[clip.Container] = containers.GetValueOrDefault(clip.Container) + 1;
            }
        });
        Assert.Equal(2799, rates[24414]);
        Assert.Equal(1, rates[96000]); // OAF_Fear/OAF_food_fear.wav
        Assert.Equal(2, containers["AIFF"]); // YAF_germ_angry.wav and YAF_neat_fear.wav
    }

    /// <summary>RAVDESS's speech part, when decoded into data/ravdess (../shared/data/get-ravdess data/ravdess; CI does).</summary>
    [SkippableFact]
    public void RavdessIndexesAll1440WithTwentyFourActorsOfBothGenders()
    {
        string? root = Decoded("ravdess");
        Skip.If(root is null, "RAVDESS not decoded: run ../shared/data/get-ravdess data/ravdess (CI does).");
        var result = CorpusIndex.Load(root);
        Assert.Equal("ravdess", result.Layout);
        Assert.Empty(result.Problems);
        Assert.Equal(1440, result.Utterances.Count);
        Assert.All(result.Utterances.GroupBy(u => u.Speaker), g => Assert.Equal(60, g.Count()));
        Assert.Equal(24, result.Utterances.Select(u => u.Speaker).Distinct().Count());
        Assert.Equal(720, result.Utterances.Count(u => u.Gender == "female"));
        Assert.Equal(96, result.Utterances.Count(u => u.Label == "neutral")); // neutral has no strong intensity
        Assert.All(result.Utterances.Where(u => u.Label != "neutral").GroupBy(u => u.Label), g => Assert.Equal(192, g.Count()));
        // The stereo files the README names read as mono downmixes at the copy's 22,050 Hz.
        var stereo = AudioReader.Read(Path.Combine(root, "Actor_01", "03-01-02-01-01-02-01.wav"));
        Assert.Equal((22050, 2), (stereo.SampleRate, stereo.Channels));
        // The folds of the loso protocol deal every actor once, each fold of both genders.
        var folds = Splits.LosoFolds(result.Utterances, 5, 1);
        Assert.Equal(24, folds.SelectMany(f => f.Split(',')).Distinct().Count());
        Assert.All(folds, f => Assert.Equal(2, f.Split(',').Select(s => int.Parse(s[^2..]) % 2).Distinct().Count()));
    }
}
