using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Training.Corpus;
using SpeechEmotion.Training.Features;

namespace SpeechEmotion.Training.Tests;

public sealed class FeatureCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-cache-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Utterance Make(string name, double frequency)
    {
        string path = Path.Combine(_root, "audio", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestAudio.Wav([TestAudio.Tone(frequency, 0.4, 24414)], 24414));
        return new Utterance(path, "S", name, "happy");
    }

    [Fact]
    public void UnchangedIsServedChangedIsRecomputedCorruptIsRebuilt()
    {
        var settings = new FrontEndSettings();
        var cache = new FeatureCache(Path.Combine(_root, "cache"), settings);
        var items = new[] { Make("a.wav", 200), Make("b.wav", 300), Make("c.wav", 400) };

        var first = FeatureExtraction.ExtractAll(items, settings, cache);
        Assert.Equal((0, 3), (first.FromCache, first.Computed));
        var second = FeatureExtraction.ExtractAll(items, settings, cache);
        Assert.Equal((3, 0), (second.FromCache, second.Computed));
        for (int i = 0; i < 3; i++) Assert.Equal(first.Features[i].Values, second.Features[i].Values);

        File.WriteAllBytes(items[1].Path, TestAudio.Wav([TestAudio.Tone(350, 0.4, 24414)], 24414)); // a changed file
        var third = FeatureExtraction.ExtractAll(items, settings, cache);
        Assert.Equal((2, 1), (third.FromCache, third.Computed));
        Assert.NotEqual(first.Features[1].Values, third.Features[1].Values);

        var other = new FrontEndSettings(window: WindowMode.Whole); // a changed setting: its own entries
        var fourth = FeatureExtraction.ExtractAll(items, other, new FeatureCache(Path.Combine(_root, "cache"), other));
        Assert.Equal((0, 3), (fourth.FromCache, fourth.Computed));

        var entry = Directory.GetFiles(cache.Directory, "*.sefeat", SearchOption.AllDirectories).First();
        var bytes = File.ReadAllBytes(entry);
        bytes[^40] ^= 0xFF; // flip a value bit: the checksum no longer matches
        File.WriteAllBytes(entry, bytes);
        var fifth = FeatureExtraction.ExtractAll(items, settings, cache);
        Assert.Equal((2, 1), (fifth.FromCache, fifth.Computed));
        File.WriteAllBytes(entry, bytes[..20]); // a truncated entry
        Assert.Equal(1, FeatureExtraction.ExtractAll(items, settings, cache).Computed);
        Assert.Empty(Directory.GetFiles(_root, "*.tmp-*", SearchOption.AllDirectories));
    }

    /// <summary>Warped versions taken in the plain features' pass are what one pass per version gives, bit for bit, each
    /// for its own utterances, cached under its own name and served from there; a bad file is a problem of every version.</summary>
    [Fact]
    public void VersionsInOnePassAreTheSameAsOnePassEach()
    {
        var settings = new FrontEndSettings(window: WindowMode.Trim, prosody: true);
        var items = new List<Utterance> { Make("a.wav", 200), Make("b.wav", 300), Make("bad.wav", 1), Make("c.wav", 400) };
        File.WriteAllBytes(items[2].Path, "RIFF\0\0\0\0WAVEjunk"u8.ToArray());
        var some = new HashSet<Utterance> { items[0], items[2], items[3] };
        FeatureCache Cache(string variant) => new(Path.Combine(_root, "cache"), settings, variant);
        FeatureVersion[] versions = [new(1.0, Cache("")), new(0.9, Cache("vtlp=0.9"), some), new(1.1, Cache("vtlp=1.1"), some)];
        var together = FeatureExtraction.ExtractVersions(items, settings, versions);
        var alone = new[] { FeatureExtraction.ExtractAll(items, settings, null), FeatureExtraction.ExtractAll(some.OrderBy(items.IndexOf).ToList(), settings, null, warp: 0.9),
            FeatureExtraction.ExtractAll(some.OrderBy(items.IndexOf).ToList(), settings, null, warp: 1.1) };
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(alone[k].Utterances, together[k].Utterances);
            Assert.Equal(alone[k].Features.Select(f => f.Values), together[k].Features.Select(f => f.Values));
            Assert.Equal(items[2].Path, Assert.Single(together[k].Problems).Path);
            Assert.Equal((0, k == 0 ? 3 : 2), (together[k].FromCache, together[k].Computed));
        }
        Assert.Equal(new[] { "a.wav", "c.wav" }, together[1].Utterances.Select(u => Path.GetFileName(u.Path)));
        var again = FeatureExtraction.ExtractVersions(items, settings, versions);
        Assert.Equal(new[] { (3, 0), (2, 0), (2, 0) }, again.Select(r => (r.FromCache, r.Computed)));
        Assert.Equal(together[2].Features.Select(f => f.Values), again[2].Features.Select(f => f.Values));
    }

    [Fact]
    public void ABadFileIsReportedAndTheRestGoOnUnlessToldToStop()
    {
        var settings = new FrontEndSettings();
        var items = new List<Utterance> { Make("good1.wav", 250), Make("bad.wav", 300), Make("good2.wav", 350) };
        File.WriteAllBytes(items[1].Path, "RIFF\0\0\0\0WAVEjunk"u8.ToArray());
        var result = FeatureExtraction.ExtractAll(items, settings, cache: null);
        Assert.Equal(2, result.Utterances.Count);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(items[1].Path, problem.Path);
        Assert.Contains("truncated header", problem.Message);
        var error = Assert.Throws<AudioException>(() => FeatureExtraction.ExtractAll(items, settings, null, threads: 1, stopOnError: true));
        Assert.Contains("bad.wav", error.Message);
    }

    /// <summary>A cache folder that cannot be written (here a file stands where it should be) leaves the run uncached, with a warning.</summary>
    [Fact]
    public void AnUnwritableCacheFallsBackToNoCache()
    {
        string root = Directory.CreateTempSubdirectory("se-nocache-").FullName;
        try
        {
            string corpus = Path.Combine(root, "corpus", "OAF_angry");
            Directory.CreateDirectory(corpus);
            foreach (var label in new[] { "angry", "sad" })
            {
                string folder = Path.Combine(root, "corpus", $"OAF_{label}");
                Directory.CreateDirectory(folder);
                for (int w = 0; w < 4; w++)
                    File.WriteAllBytes(Path.Combine(folder, $"OAF_w{w}_{label}.wav"), TestAudio.Wav([TestAudio.Tone(200 + 50 * w, 0.5, 16000)], 16000));
            }
            string blocked = Path.Combine(root, "cache");
            File.WriteAllText(blocked, "a file, not a folder");
            var data = Experiment.Prepare(Path.Combine(root, "corpus"), Recipes.Create(RecipeKind.Frames, 2), new SplitInfo(Protocol.Random, 1, null), blocked);
            Assert.Equal(8, data.Extraction.Features.Count);
            var warning = Assert.Single(data.Warnings);
            Assert.Equal(blocked, warning.Path);
            Assert.Contains("the feature cache cannot be written", warning.Message);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
