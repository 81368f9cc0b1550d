using SpeechEmotion.Audio;
using SpeechEmotion.Audio.Tests;
using SpeechEmotion.Core;

namespace SpeechEmotion.Inference.Tests;

public sealed class EmotionRecognizerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static void Identical(EmotionPrediction expected, EmotionPrediction actual, string what)
    {
        Assert.Equal(expected.Labels, actual.Labels);
        for (int k = 0; k < expected.Scores.Length; k++)
            Assert.True(BitConverter.SingleToInt32Bits(expected.Scores[k]) == BitConverter.SingleToInt32Bits(actual.Scores[k]),
                $"{what}: {expected.Labels[k]} {expected.Scores[k]:R} vs {actual.Scores[k]:R}");
    }

    /// <summary>
    /// One recognizer shared by 8 threads, 50 calls each on mixed files, all started together: every result has the
    /// same bits as the single-threaded prediction of its file (the reproduction got 63 of 64 wrong).
    /// </summary>
    /// <summary>A file over StreamAboveBytes is streamed (no Clip kept) and predicted exactly as the same recording
    /// read whole; test-time augmentation, which needs the samples, says so in one line.</summary>
    [Fact]
    public void A_long_file_is_streamed_and_predicted_as_if_read_whole()
    {
        const int rate = 44100;
        var voice = TestModels.Voice(3, rate);
        var channel = new float[(int)(EmotionRecognizer.StreamAboveBytes / 2 / 2 / rate + 3) * rate]; // stereo 16-bit over the threshold
        for (int i = 0; i < channel.Length; i++) channel[i] = voice[i % voice.Length];
        string path = Path.Combine(_folder.Path, "long.wav");
        File.WriteAllBytes(path, SpeechEmotion.Audio.Tests.TestAudio.Wav([channel, channel], rate));
        Assert.True(new FileInfo(path).Length > EmotionRecognizer.StreamAboveBytes);
        var recognizer = EmotionRecognizer.FromModels([TestModels.Frames(5, speeds: [0.9, 1.1])]);
        var streamed = recognizer.Listen(path);
        Assert.Null(streamed.Clip);
        var whole = recognizer.Listen(SpeechEmotion.Audio.AudioReader.Read(path).Samples, rate, path);
        Assert.Equal(whole.Features.Values, streamed.Features.Values);
        Assert.Equal(whole.Duration, streamed.Duration);
        Assert.Equal(recognizer.Predict([whole])[0].Scores.ToArray(), recognizer.Predict([streamed])[0].Scores.ToArray());
        var error = Assert.Throws<SpeechEmotion.Core.OptionsException>(() => recognizer.Predict([streamed], new PredictionOptions { TestTimeAugmentation = true }));
        Assert.Contains("was streamed", error.Message);
    }

    [Fact]
    public void EightThreadsSharingOneRecognizerGetTheBitsOfSequentialCalls()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(3), _folder.Path, "model.safetensors"));
        var files = TestModels.Wavs(_folder.Path, 7);
        var reference = files.Select(recognizer.Predict).ToList();
        Assert.True(reference.Select(r => r.Scores[0]).Distinct().Count() == files.Count, "every file should get probabilities of its own");

        const int threads = 8, calls = 50;
        var results = new EmotionPrediction[threads, calls];
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int c = 0; c < calls; c++) results[t, c] = recognizer.Predict(files[(t * 3 + c) % files.Count]);
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        int compared = 0;
        for (int t = 0; t < threads; t++)
            for (int c = 0; c < calls; c++)
            {
                int file = (t * 3 + c) % files.Count;
                Assert.Equal(files[file], results[t, c].Source);
                Identical(reference[file], results[t, c], $"thread {t} call {c} ({Path.GetFileName(files[file])})");
                compared++;
            }
        Assert.Equal(threads * calls, compared);
    }

    /// <summary>The batch overload (files read and chunks run in parallel) gives every file its single prediction's bits.</summary>
    [Fact]
    public void ABatchGivesEachFileTheBitsOfItsOwnPrediction()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(4), _folder.Path, "model.safetensors"));
        var files = TestModels.Wavs(_folder.Path, 40); // more than one chunk of 16
        var batch = recognizer.Predict(files);
        Assert.Equal(files.Count, batch.Count);
        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal(files[i], batch[i].Source);
            Identical(recognizer.Predict(files[i]), batch[i], $"file {i}");
        }
    }

    [Fact]
    public void FileStreamAndSamplesOfOneRecordingGetTheSameBits()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(5), _folder.Path, "model.safetensors"));
        string file = TestModels.Wavs(_folder.Path, 2)[1]; // 22,050 Hz, 0.85 s of voice + 0.2 s of silence
        var fromFile = recognizer.Predict(file);
        using var stream = File.OpenRead(file);
        var fromStream = recognizer.Predict(stream, "upload.wav");
        var clip = AudioReader.Read(file);
        var fromSamples = recognizer.Predict(clip.Samples, clip.SampleRate, "mic");
        Identical(fromFile, fromStream, "stream");
        Identical(fromFile, fromSamples, "samples");
        Assert.Equal(("upload.wav", "mic"), (fromStream.Source, fromSamples.Source));

        int samples = (int)(0.85 * 22050) + 2 * 2205;
        Assert.Equal(samples / 22050.0, fromFile.Duration.TotalSeconds, 6);
        Assert.Equal(TestModels.Labels, recognizer.Labels);
        Assert.Equal(TestModels.Labels, fromFile.Probabilities.Keys);
        Assert.Equal(1.0, fromFile.Probabilities.Values.Sum(p => (double)p), 5);
        float max = fromFile.Probabilities.Values.Max();
        Assert.Equal(fromFile.Probabilities.First(p => p.Value == max).Key, fromFile.Label);
        Assert.Equal(max, fromFile.Confidence);
    }

    /// <summary>An ensemble's probabilities are its members' averaged, each scaled by 1/count then summed in order.</summary>
    [Fact]
    public void AnEnsembleAveragesItsMembers()
    {
        string a = TestModels.Save(TestModels.Frames(6), _folder.Path, "a.safetensors"), b = TestModels.Save(TestModels.Frames(7), _folder.Path, "b.safetensors");
        string file = TestModels.Wavs(_folder.Path, 3)[2];
        var pa = EmotionRecognizer.Load(a).Predict(file);
        var pb = EmotionRecognizer.Load(b).Predict(file);
        var both = EmotionRecognizer.Load([a, b]);
        Assert.Equal(2, both.Models.Count);
        var mean = both.Predict(file);
        for (int k = 0; k < mean.Scores.Length; k++)
        {
            float expected = 0f;
            expected += pa.Scores[k] / 2;
            expected += pb.Scores[k] / 2;
            Assert.Equal(expected, mean.Scores[k]);
        }
        Assert.NotEqual(pa.Scores[0], pb.Scores[0]);
    }

    /// <summary>
    /// Loading to predict allocates the parameters, not gradients or Adam's two moments: measured as the bytes
    /// this thread allocates while loading, against the same file loaded for training.
    /// </summary>
    [Fact]
    public void LoadingToPredictAllocatesNoGradientsOrOptimizerState()
    {
        string path = TestModels.Save(TestModels.Frames(8), _folder.Path, "model.safetensors");
        EmotionRecognizer.Load(path); // JIT and first-use allocations out of the way
        ModelBundle.Load(path, inferenceOnly: false);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var recognizer = EmotionRecognizer.Load(path);
        long loaded = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        ModelBundle.Load(path, inferenceOnly: true);
        long inference = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        var trainable = ModelBundle.Load(path, inferenceOnly: false);
        long training = GC.GetAllocatedBytesForCurrentThread() - before;

        var network = recognizer.Models[0].Model;
        long parameterBytes = 4L * network.Parameters.Count;
        Assert.True(network.InferenceOnly);
        Assert.False(network.Parameters.HasGradients);
        Assert.Throws<InvalidOperationException>(() => network.Optimizer);
        Assert.Throws<InvalidOperationException>(() => network.Parameters.Gradients);
        Assert.True(trainable.Model.Parameters.HasGradients);
        // Gradients, first and second moments: three more buffers of the parameters' size, and nothing else differs
        // but for a few bytes the runtime allocates once, on whichever load comes first (CI once saw 52 bytes fewer).
        Assert.InRange(training - inference, 3 * parameterBytes - 1024, 3 * parameterBytes + 4096);
        // File bytes, the tensors read from them and the parameters themselves, plus the metadata.
        Assert.InRange(loaded, parameterBytes, 3 * parameterBytes + 64 * 1024);
    }

    [Fact]
    public void PredictionsBuildForwardOnlyWorkspaces()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(9), _folder.Path, "model.safetensors"));
        var network = recognizer.Models[0].Model;
        var workspace = network.CreateInferenceWorkspace(10, 2);
        Assert.True(workspace.ForwardOnly);
        Assert.Throws<InvalidOperationException>(() =>
            network.Forward(workspace, new float[10 * 2 * network.Config.InputSize], [10, 10], 10, 2, training: true, new Core.Tensors.Rng(1)));
    }

    /// <summary>Same-speaker normalisation standardises the files together; per-file prediction does not depend on the others.</summary>
    [Fact]
    public void SameSpeakerStandardisesTheFilesTogetherOnlyWhenAsked()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(10, NormalizationMode.Speaker), _folder.Path, "model.safetensors"));
        Assert.True(recognizer.NormalizesBySpeaker);
        var files = TestModels.Wavs(_folder.Path, 4);
        var heard = files.Select(recognizer.Listen).ToList();
        var alone = recognizer.Predict(heard);
        Identical(recognizer.Predict(files[0]), alone[0], "first file alone and in a batch");
        var together = recognizer.Predict(heard, new PredictionOptions { SameSpeaker = true });
        var stats = FeatureStats.Compute(heard.Select(h => h.Features), recognizer.FrontEnd.FeatureSize);
        var model = recognizer.Models[0];
        var input = ModelInputs.Prepare(model.Recipe, model.Statistics, stats, heard[2].Features);
        var direct = EmotionRecognizer.FromModels([model]);
        Assert.NotEqual(alone[2].Scores[0], together[2].Scores[0]);
        // The same standardisation by hand gives the same input the recognizer used: check through the first value.
        Assert.Equal((heard[2].Features.Values[0] - stats.Mean[0]) / stats.Std[0], input.Values[0]);
        Identical(together[2], direct.Predict(heard, new PredictionOptions { SameSpeaker = true })[2], "a second recognizer over the same model");
    }

    /// <summary>
    /// A model that stores a one-file relevance standardises each file from the training side's statistics adapted
    /// towards the file's own (what the model run on <see cref="ModelInputs.OneFile"/> gives), the same after a save
    /// and load; files predicted as one speaker take their joint statistics, whatever the relevance.
    /// </summary>
    [Fact]
    public void OneFileIsStandardisedWithTheStoredRelevance()
    {
        string path = TestModels.Save(TestModels.Frames(11, NormalizationMode.Speaker) with { OneFileRelevance = 64 }, _folder.Path, "adapted.safetensors");
        var recognizer = EmotionRecognizer.Load(path);
        var model = recognizer.Models[0];
        Assert.Equal(64, model.OneFileRelevance);
        var unadapted = EmotionRecognizer.FromModels([model with { OneFileRelevance = double.PositiveInfinity }]);
        var heard = TestModels.Wavs(_folder.Path, 3).Select(recognizer.Listen).ToList();
        var alone = recognizer.Predict(heard);
        for (int i = 0; i < heard.Count; i++)
        {
            var input = ModelInputs.OneFile(model.Recipe, model.Statistics, 64, heard[i].Features);
            var expected = new float[TestModels.Labels.Length];
            model.Model.Predict(input.Values, [input.Steps], input.Steps, 1, expected);
            for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], alone[i].Scores[k], 1e-6f);
            Assert.NotEqual(unadapted.Predict(heard)[i].Scores.ToArray(), alone[i].Scores.ToArray());
        }
        var together = new PredictionOptions { SameSpeaker = true };
        Identical(unadapted.Predict(heard, together)[1], recognizer.Predict(heard, together)[1], "one speaker's files, relevance 64 or none");
    }

    /// <summary>
    /// A model with a one-file temperature answers single files with softmax(logits / that temperature) and one
    /// speaker's files with its own temperature; the answer's arg max is the same either way.
    /// </summary>
    [Fact]
    public void SingleFilesTakeTheOneFileTemperatureAndOneSpeakersFilesTheModels()
    {
        var bundle = TestModels.Frames(11, NormalizationMode.Speaker) with { OneFileRelevance = 64, Temperature = 1.5f, OneFileTemperature = 4f };
        var recognizer = EmotionRecognizer.Load(TestModels.Save(bundle, _folder.Path, "one-file-temperature.safetensors"));
        var model = recognizer.Models[0];
        Assert.Equal((1.5f, 4f), (model.Temperature, model.OneFileTemperature!.Value));
        var heard = TestModels.Wavs(_folder.Path, 3).Select(recognizer.Listen).ToList();
        var alone = recognizer.Predict(heard);
        int classes = TestModels.Labels.Length;
        for (int i = 0; i < heard.Count; i++)
        {
            var input = ModelInputs.OneFile(model.Recipe, model.Statistics, 64, heard[i].Features);
            var network = new float[classes];
            model.Model.Predict(input.Values, [input.Steps], input.Steps, 1, network);
            var expected = new float[classes];
            Calibration.Softmax(model.Model.Logits, classes, 4f, expected);
            for (int k = 0; k < classes; k++) Assert.Equal(expected[k], alone[i].Scores[k], 1e-6f);
            Assert.Equal(Array.IndexOf(network, network.Max()), Array.IndexOf(expected, expected.Max()));
        }
        var together = new PredictionOptions { SameSpeaker = true };
        var withoutOneFileTemperature = EmotionRecognizer.FromModels([model with { OneFileTemperature = null }]);
        Identical(withoutOneFileTemperature.Predict(heard, together)[0], recognizer.Predict(heard, together)[0], "one speaker's files, temperature 1.5 either way");
        Assert.NotEqual(withoutOneFileTemperature.Predict(heard)[0].Scores.ToArray(), alone[0].Scores.ToArray());
    }

    /// <summary>Test-time augmentation adds one view per training speed and one per training warp: each file's answer is
    /// the mean of its plain view's probabilities, its speed view's and its warp view's, each predicted as the plain one is
    /// — one file by itself, or (one speaker, speaker normalisation) each view's files standardised together as a voice.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TestTimeAugmentationAveragesTheTrainingSpeedsAndWarps(bool sameSpeaker)
    {
        var frames = TestModels.Frames(11, sameSpeaker ? NormalizationMode.Speaker : NormalizationMode.Global, speeds: [0.9]);
        var bundle = frames with { Recipe = frames.Recipe with { WarpFactors = [1.1] }, Temperature = 1.5f };
        var recognizer = EmotionRecognizer.Load(TestModels.Save(bundle, _folder.Path, $"model-{sameSpeaker}.safetensors"));
        Assert.Equal([(0.9, 1.0), (1.0, 1.1)], recognizer.TestTimeViews);
        var heard = TestModels.Wavs(_folder.Path, 3).Select(recognizer.Listen).ToList();
        var plain = recognizer.Predict(heard, new PredictionOptions { SameSpeaker = sameSpeaker });
        var augmented = recognizer.Predict(heard, new PredictionOptions { SameSpeaker = sameSpeaker, TestTimeAugmentation = true });
        var model = recognizer.Models[0];
        int classes = TestModels.Labels.Length;
        var frontEnd = new FrontEnd(model.Recipe.FrontEnd);
        var slow = heard.Select(h => frontEnd.Extract(h.Clip!, h.Source, speed: 0.9)).ToList();
        var warped = heard.Select(h => frontEnd.Extract(h.Clip!, h.Source, warp: 1.1)).ToList();
        // Each view's inputs as the plain view's are made: its files one by one, or together as one voice.
        var views = new[] { heard.Select(h => h.Features).ToList(), slow, warped }
            .Select(view => ModelInputs.Unlabelled(model.Recipe, model.Statistics, view, sameSpeaker, model.OneFileRelevance)).ToList();
        for (int i = 0; i < heard.Count; i++)
        {
            Assert.NotEqual(heard[i].Features.Frames, slow[i].Frames);
            Assert.Equal(heard[i].Features.Frames, warped[i].Frames);
            var expected = new float[classes];
            foreach (var view in views)
            {
                var input = view[i];
                model.Model.Predict(input.Values, [input.Steps], input.Steps, 1, new float[classes]);
                var probabilities = new float[classes];
                Calibration.Softmax(model.Model.Logits, classes, 1.5f, probabilities);
                for (int k = 0; k < classes; k++) expected[k] += probabilities[k] / 3;
            }
            for (int k = 0; k < classes; k++) Assert.Equal(expected[k], augmented[i].Scores[k], 1e-6f);
            Assert.NotEqual(plain[i].Scores.ToArray(), augmented[i].Scores.ToArray());
        }
    }

    [Fact]
    public void BadInputIsTheProjectsOwnErrorNamingTheFileOrArgument()
    {
        string model = TestModels.Save(TestModels.Frames(12), _folder.Path, "model.safetensors");
        var recognizer = EmotionRecognizer.Load(model);
        string missing = Path.Combine(_folder.Path, "nothing.safetensors");

        var errors = new List<SpeechEmotionException>
        {
            Assert.Throws<ModelFileException>(() => EmotionRecognizer.Load(missing)),
            Assert.Throws<ModelFileException>(() => EmotionRecognizer.Load(new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8, 9]), "upload.safetensors")),
            Assert.Throws<OptionsException>(() => EmotionRecognizer.Load(Array.Empty<string>())),
            Assert.Throws<AudioException>(() => recognizer.Predict(new MemoryStream("not audio at all"u8.ToArray()), "clip.wav")),
            Assert.Throws<AudioException>(() => recognizer.Predict(Path.Combine(_folder.Path, "absent.wav"))),
            Assert.Throws<OptionsException>(() => recognizer.Predict(new float[1000], 1)),
            Assert.Throws<AudioException>(() => recognizer.Predict([0.1f, float.NaN, 0.2f], 16000, "mic")),
            Assert.Throws<AudioException>(() => recognizer.Predict(new float[16000], 16000, "quiet")),
            Assert.Throws<AudioException>(() => recognizer.Predict(TestAudio.Tone(200, 0.05, 16000), 16000, "blip")),
        };
        Assert.Contains(missing, errors[0].Message);
        // A folder given as a model or as audio is named as a folder, not as a missing file.
        Assert.Contains("is a folder, not a model file (a run folder holds its model as", Assert.Throws<ModelFileException>(() => EmotionRecognizer.Load(_folder.Path)).Message);
        Assert.Contains("is a folder, not an audio file", Assert.Throws<AudioException>(() => recognizer.Predict(_folder.Path)).Message);
        Assert.StartsWith("upload.safetensors: ", errors[1].Message);
        Assert.Contains("paths", errors[2].Message);
        Assert.StartsWith("clip.wav: ", errors[3].Message);
        Assert.Contains("absent.wav", errors[4].Message);
        Assert.Contains("sampleRate", errors[5].Message);
        Assert.StartsWith("mic: sample 1 is NaN", errors[6].Message);
        Assert.StartsWith("quiet: ", errors[7].Message);
        Assert.StartsWith("blip: no speech found: ", errors[8].Message); // 50 ms: no label for what is not speech
        Assert.All(errors, e => Assert.DoesNotContain("--", e.Message)); // the library names files and fields, not command-line options
    }

    /// <summary>Loud noise passes the trim (it is sound) but holds no pitch: a model with prosody, as the default, refuses
    /// it as "no speech found" rather than label it; a voice of the same length is answered. A model without prosody
    /// measures no voicing and answers both.</summary>
    [Fact]
    public void NoiseWithoutAVoiceIsNoSpeech()
    {
        const int rate = 22050;
        var rng = new SpeechEmotion.Core.Tensors.Rng(8);
        var noise = new float[2 * rate];
        foreach (ref float v in noise.AsSpan()) v = (float)(0.3 * rng.NextGaussian());
        var voice = TestModels.Voice(4, rate); // 0.6 s of voice, a glide between silences
        var withProsody = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(16, prosody: true), _folder.Path, "prosody.safetensors"));
        var error = Assert.Throws<AudioException>(() => withProsody.Predict(noise, rate, "hiss"));
        Assert.StartsWith("hiss: no speech found: 0.00 s of voiced sound", error.Message);
        Assert.Contains($"under the {EmotionRecognizer.MinVoicedSeconds} s", error.Message);
        Assert.InRange(withProsody.Predict(voice, rate, "voice").Confidence, 1f / TestModels.Labels.Length, 1f);
        var without = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(16), _folder.Path, "plain.safetensors"));
        Assert.Equal("hiss", without.Predict(noise, rate, "hiss").Source);
    }

    [Fact]
    public void ABatchWithAnUnreadableFileNamesTheFirstOne()
    {
        var recognizer = EmotionRecognizer.Load(TestModels.Save(TestModels.Frames(13), _folder.Path, "model.safetensors"));
        var files = TestModels.Wavs(_folder.Path, 3);
        string broken = Path.Combine(_folder.Path, "broken.wav");
        File.WriteAllBytes(broken, File.ReadAllBytes(files[0])[..30]);
        var error = Assert.Throws<AudioException>(() => recognizer.Predict([files[0], broken, files[1], "also-missing.wav"]));
        Assert.Equal(broken, error.Path);
    }

    [Fact]
    public void AnEnsembleOfModelsWithDifferentLabelsIsRefusedNamingBoth()
    {
        string a = TestModels.Save(TestModels.Frames(14), _folder.Path, "a.safetensors");
        var other = TestModels.Frames(15);
        string b = Path.Combine(_folder.Path, "b.safetensors");
        (other with { Labels = ["x", "y", "z"] }).Save(b);
        var error = Assert.Throws<OptionsException>(() => EmotionRecognizer.Load([a, b]));
        Assert.Contains(a, error.Message);
        Assert.Contains(b, error.Message);
    }
}
