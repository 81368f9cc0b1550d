using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Fuzz;

/// <summary>
/// The three parsers that take files from strangers, each as one function of the input's bytes: the audio reader
/// (through the whole prediction path, as <c>ser predict</c> runs it), the model loader (then a prediction), and the
/// download's zip unpacker. The rule each checks is the README's promise: bad input is refused with a
/// <see cref="SpeechEmotionException"/> (the CLI's one line and exit 2); anything else that escapes, or an answer
/// that is not a probability distribution, is a finding. AFL++ drives them through SharpFuzz (fuzz.sh); CI replays
/// the corpus they found (FuzzCorpusTests).
/// </summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyList<string> Names = ["audio", "model", "zip", "stream"];

    /// <summary>Runs one target on one input: true when the input was answered (a prediction, an unpacked corpus),
    /// false when it was refused with a SpeechEmotionException; anything else escapes.</summary>
    public static bool Run(string target, ReadOnlySpan<byte> input) => target switch
    {
        "audio" => Audio(input),
        "model" => Model(input),
        "zip" => Zip(input),
        "stream" => Stream(input),
        _ => throw new ArgumentException($"unknown fuzz target '{target}': expected {string.Join(", ", Names)}."),
    };

    private static readonly Lazy<EmotionRecognizer> Recognizer = new(() => EmotionRecognizer.FromModels([SmallModel()]));

    /// <summary>Any bytes as an audio file: decoded, resampled, featurised and predicted.</summary>
    public static bool Audio(ReadOnlySpan<byte> input)
    {
        try
        {
            using var stream = new MemoryStream(input.ToArray(), writable: false);
            Check(Recognizer.Value.Predict(stream, "fuzz.wav"));
            return true;
        }
        catch (SpeechEmotionException) { return false; }
    }

    /// <summary>Any bytes as a model file: loaded, then asked about a fixed second of voice-like sound.</summary>
    public static bool Model(ReadOnlySpan<byte> input)
    {
        try
        {
            using var stream = new MemoryStream(input.ToArray(), writable: false);
            Check(EmotionRecognizer.Load(stream, "fuzz.safetensors").Predict(Voice, 16000, "voice"));
            return true;
        }
        catch (SpeechEmotionException) { return false; }
    }

    /// <summary>Any bytes as a downloaded corpus zip: unpacked into a scratch folder, which is emptied after.</summary>
    public static bool Zip(ReadOnlySpan<byte> input)
    {
        string folder = Path.Combine(Path.GetTempPath(), "ser-fuzz-zip-" + Guid.NewGuid().ToString("N"));
        string zip = Path.Combine(folder, "corpus.zip"), destination = Path.Combine(folder, "out");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllBytes(zip, input.ToArray());
            return CorpusDownloader.Unpack(zip, destination) > 0;
        }
        catch (SpeechEmotionException) { return false; }
        finally { Directory.Delete(folder, recursive: true); }
    }

    // Lazy, as every instrumented object is: constructed before Fuzzer.Run maps AFL's coverage memory, it would crash.
    private static readonly Lazy<FrontEndSettings[]> StreamSettings = new(() => [new(trimTopDb: 30), new(window: WindowMode.Whole, coefficients: 13), new(window: WindowMode.Seed)]);

    /// <summary>
    /// Differential: any bytes as a file, featurised streamed (<see cref="AudioStream"/>) and read whole, under three
    /// front-end settings; both must refuse, or both give the same features bit for bit.
    /// </summary>
    public static bool Stream(ReadOnlySpan<byte> input)
    {
        string path = Path.Combine(Path.GetTempPath(), "ser-fuzz-stream-" + Guid.NewGuid().ToString("N") + ".wav");
        File.WriteAllBytes(path, input.ToArray());
        try
        {
            bool answered = false;
            foreach (var settings in StreamSettings.Value)
            {
                Features? whole = null, streamed = null;
                string? wholeError = null, streamError = null;
                try { whole = new FrontEnd(settings).Extract(path); } catch (SpeechEmotionException e) { wholeError = e.Message; }
                try { using var audio = AudioStream.Open(path); streamed = new FrontEnd(settings).Extract(audio); } catch (SpeechEmotionException e) { streamError = e.Message; }
                if ((whole is null) != (streamed is null))
                    throw new InvalidOperationException($"read whole: {wholeError ?? "features"}; streamed: {streamError ?? "features"} ({settings.Window})");
                if (whole is null || streamed is null) continue;
                if (whole.Frames != streamed.Frames || !whole.Values.AsSpan().SequenceEqual(streamed.Values))
                    throw new InvalidOperationException($"streamed features differ from the whole file's ({settings.Window}: {streamed.Frames} vs {whole.Frames} frames)");
                answered = true;
            }
            return answered;
        }
        finally { File.Delete(path); }
    }

    private static void Check(EmotionPrediction prediction)
    {
        double sum = 0;
        foreach (var (label, p) in prediction.Probabilities)
        {
            if (!float.IsFinite(p) || p < 0 || p > 1)
                throw new InvalidOperationException($"a prediction holds the probability {p} for {label}");
            sum += p;
        }
        if (Math.Abs(sum - 1) > 1e-4) throw new InvalidOperationException($"a prediction's probabilities sum to {sum}");
    }

    private static readonly float[] Voice = TestAudio.Tone(180, 1.0, 16000, amplitude: 0.3);

    /// <summary>A small seeded frames model (13 MFCCs with deltas, BiLSTM 8, three classes), built here, not trained.</summary>
    public static ModelBundle SmallModel()
    {
        var frontEnd = new FrontEndSettings(coefficients: 13, window: WindowMode.Trim, deltas: true);
        var config = new ClassifierConfig(frontEnd.FeatureSize, 8, 1, true, PoolingKind.Mean, [8], 3, 0f);
        var recipe = new Recipe(RecipeKind.Frames, frontEnd, NormalizationMode.Global, config);
        var model = new SequenceClassifier(config);
        model.Initialize(new Rng(7));
        var mean = new float[frontEnd.FeatureSize];
        var std = Enumerable.Repeat(10f, frontEnd.FeatureSize).ToArray();
        return new ModelBundle(model, ["angry", "calm", "sad"], recipe, new FeatureStats(mean, std), new SplitInfo(Protocol.Random, 7, null));
    }

    /// <summary>Small valid inputs for each target, for the fuzzer to start from (made here: no corpus audio).</summary>
    public static IEnumerable<(string Target, string Name, byte[] Bytes)> Seeds()
    {
        // One file long enough to be heard (0.35 s at 8 kHz: the whole front end and model run), the rest a few
        // samples each, so the fuzzer's mutations land on headers rather than on sample data.
        yield return ("audio", "pcm16-8k-heard", TestAudio.Wav([TestAudio.Tone(200, 0.35, 8000, amplitude: 0.4)], 8000));
        yield return ("audio", "float-stereo-22k", TestAudio.Wav([TestAudio.Tone(220, 0.002, 22050), TestAudio.Tone(330, 0.002, 22050)], 22050, bits: 32, isFloat: true));
        yield return ("audio", "pcm24-extensible-8k", TestAudio.Wav([TestAudio.Tone(150, 0.004, 8000)], 8000, bits: 24, extensible: true));
        yield return ("audio", "aiff-11k", TestAudio.Aiff([TestAudio.Tone(170, 0.003, 11025)], 11025));
        yield return ("audio", "aifc-sowt-16k", TestAudio.Aiff([TestAudio.Tone(170, 0.002, 16000)], 16000, aifcType: "sowt"));
        // FLAC (our decoder), MP3 (NLayer) and Ogg Vorbis (NVorbis): 50 ms each, copied beside the program.
        foreach (var format in new[] { "flac", "mp3", "ogg" })
            yield return ("audio", $"tiny-{format}", File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "fixtures", "audio", $"tiny.{format}")));
        yield return ("stream", "pcm16-8k-heard", TestAudio.Wav([TestAudio.Tone(200, 0.7, 8000, amplitude: 0.4)], 8000));
        yield return ("stream", "aiff-11k", TestAudio.Aiff([TestAudio.Tone(170, 0.6, 11025)], 11025));
        yield return ("stream", "float-stereo-8k", TestAudio.Wav([TestAudio.Tone(220, 0.6, 8000), TestAudio.Tone(330, 0.6, 8000)], 8000, bits: 32, isFloat: true));

        string folder = Path.Combine(Path.GetTempPath(), $"ser-fuzz-seed-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            string model = Path.Combine(folder, "model.safetensors");
            SmallModel().Save(model);
            yield return ("model", "small-frames", File.ReadAllBytes(model));

            string zip = Path.Combine(folder, "corpus.zip");
            using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create))
            {
                using (var entry = archive.CreateEntry("Corpus/OAF_angry/OAF_back_angry.wav").Open())
                    entry.Write(TestAudio.Wav([TestAudio.Tone(200, 0.05, 8000)], 8000));
                using (var entry = archive.CreateEntry("Corpus/YAF_sad/YAF_back_sad.wav", System.IO.Compression.CompressionLevel.NoCompression).Open())
                    entry.Write(TestAudio.Wav([TestAudio.Tone(300, 0.05, 8000)], 8000));
            }
            yield return ("zip", "two-wavs", File.ReadAllBytes(zip));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
