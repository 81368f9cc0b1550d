using SpeechEmotion.Audio;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Tests;

/// <summary>
/// Every recording of the real corpora, when decoded (CI decodes both), is heard as speech by the default front end:
/// none is refused as "no speech found" by <see cref="EmotionRecognizer.MinSpeechSeconds"/> or
/// <see cref="EmotionRecognizer.MinVoicedSeconds"/>, and the least voiced keeps the margin the README quotes.
/// Reported as skipped when the corpus is absent.
/// </summary>
public sealed class RealCorpusSpeechTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-speech-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [SkippableTheory]
    [InlineData("tess", 2800)]
    [InlineData("ravdess", 1440)]
    public void EveryCorpusRecordingHasVoiceEnoughForALabel(string corpus, int count)
    {
        string? data = RealCorpusTests.Decoded(corpus);
        Skip.If(data is null, $"{corpus} not decoded: run ../shared/data/get-{corpus} data/{corpus} (CI does).");
        // The default recipe's front end (trim at 30 dB, prosody); the weights play no part in listening.
        var recipe = SpeechEmotion.Training.Recipes.Create(RecipeKind.Frames, 7, new SpeechEmotion.Training.RecipeOverrides(Normalization: NormalizationMode.Global));
        Assert.True(recipe.FrontEnd.Prosody);
        var model = new SequenceClassifier(recipe.Model);
        model.Initialize(new Rng(1));
        int width = recipe.FrontEnd.FeatureSize;
        var bundle = new ModelBundle(model, ["angry", "disgust", "fear", "happy", "neutral", "pleasant_surprise", "sad"], recipe,
            new FeatureStats(new float[width], Enumerable.Repeat(1f, width).ToArray()), new SplitInfo(Protocol.Random, 1, null));
        string path = Path.Combine(_root, "model.safetensors");
        bundle.Save(path);
        var recognizer = EmotionRecognizer.Load(path);

        var files = CorpusIndex.Load(data!).Utterances.Select(u => u.Path).ToList();
        Assert.Equal(count, files.Count);
        var heard = recognizer.ListenAll(files);
        var refused = heard.Where(h => h.Failure is not null).Select(h => h.Failure!.Message).ToList();
        Assert.True(refused.Count == 0, $"{refused.Count} refused, e.g. {string.Join("; ", refused.Take(3))}");
        var settings = recipe.FrontEnd;
        double least = heard.Min(h => Prosody.CountVoiced(h.Heard!.Features.Values, h.Heard.Features.Frames, width, settings.SpectralSize)
            * (double)settings.Mfcc.HopLength / settings.SampleRate);
        Assert.True(least >= 0.44 - 1e-9, $"the least voiced {corpus} recording holds {least:F3} s; the README quotes 0.44 s for both corpora");
    }
}
