using System.Collections.Concurrent;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Inference;

/// <summary>
/// Recognises the emotion in speech with one trained model, or an ensemble of several whose probabilities are
/// averaged: load once, then predict files, streams or samples.
/// <para>
/// Thread safety: every member is safe to call from any number of threads at once on one instance, and a
/// concurrent call returns the same bits as the same call made alone. The loaded parameters are shared and only
/// read; what a call writes (the front end's buffers, the network's workspaces) is per-call state taken from an
/// internal pool and returned after the call, so callers do not wait on each other. The models in
/// <see cref="Models"/> are the recognizer's own: do not train or change their parameters while it predicts.
/// </para>
/// <para>Errors are <see cref="SpeechEmotionException"/>s: <see cref="ModelFileException"/> for a model that cannot be
/// loaded, <see cref="AudioException"/> for audio that cannot be used, <see cref="OptionsException"/> for an argument
/// out of range; each message names the file or the argument.</para>
/// </summary>
public sealed class EmotionRecognizer
{
    /// <summary>Largest model file read from a stream (1 GiB; the default model is about 0.5 MB).</summary>
    public const long MaxModelBytes = 1L << 30;

    /// <summary>Utterances in one forward pass. A batch gives each utterance the same bits as predicting it alone.</summary>
    private const int ChunkSize = 16;

    /// <summary>Sample rates accepted for raw samples: the range <see cref="AudioReader"/> holds files to.</summary>
    public const int MinSampleRate = AudioReader.MinSampleRate, MaxSampleRate = AudioReader.MaxSampleRate;

    /// <summary>
    /// Least sound a recording must hold, after silence is trimmed, to be given a label (models with the trim window):
    /// less is refused as "no speech found" rather than answered with a confident, meaningless label.
    /// </summary>
    public const double MinSpeechSeconds = 0.3;

    /// <summary>
    /// Least voiced sound (frames where the pitch tracker holds a pitch, <see cref="Prosody.CountVoiced"/>) a recording
    /// must hold to be given a label, for models whose front end computes prosody (the default): noise, breath or
    /// clatter that is loud enough to pass <see cref="MinSpeechSeconds"/> is refused as "no speech found" too.
    /// </summary>
    public const double MinVoicedSeconds = 0.3;

    private readonly ModelBundle[] _models;
    private readonly ConcurrentBag<Session> _sessions = new();

    private EmotionRecognizer(IReadOnlyList<ModelBundle> models)
    {
        Ensemble.RequireCompatible(models);
        _models = models.ToArray();
    }

    /// <summary>Loads a model file written by <c>ser train</c> (parameters only: no gradients, no optimiser state).</summary>
    public static EmotionRecognizer Load(string path) => new([ModelBundle.Load(path)]);

    /// <summary>Loads an ensemble: several model files with the same labels and front end, their probabilities averaged.</summary>
    public static EmotionRecognizer Load(IEnumerable<string> paths)
    {
        var models = paths.Select(path => ModelBundle.Load(path)).ToList();
        if (models.Count == 0) throw new OptionsException("EmotionRecognizer.Load: paths is empty; give at least one model file.");
        return new EmotionRecognizer(models);
    }

    /// <summary>Loads a model from a stream (read to its end, at most <see cref="MaxModelBytes"/>); <paramref name="name"/> names it in messages.</summary>
    public static EmotionRecognizer Load(Stream model, string name = "model stream")
    {
        ArgumentNullException.ThrowIfNull(model);
        byte[] bytes = ReadAll(model, MaxModelBytes, name, (n, problem) => new ModelFileException(n, problem));
        return new EmotionRecognizer([ModelBundle.Load(bytes, name)]);
    }

    /// <summary>A recognizer over models already in memory (for example just trained); they must agree on labels and front end.</summary>
    public static EmotionRecognizer FromModels(IReadOnlyList<ModelBundle> models) => new(models);

    /// <summary>The labels the models score, in their order.</summary>
    public IReadOnlyList<string> Labels => _models[0].Labels;

    /// <summary>The models, in the order they were given.</summary>
    public IReadOnlyList<ModelBundle> Models => _models;

    /// <summary>The front end every model was trained with: features are computed once for all of them.</summary>
    public FrontEndSettings FrontEnd => _models[0].Recipe.FrontEnd;

    /// <summary>Whether any model standardises by speaker, so that <see cref="PredictionOptions.SameSpeaker"/> changes its inputs.</summary>
    public bool NormalizesBySpeaker => _models.Any(m => m.Recipe.Normalization == NormalizationMode.Speaker);

    /// <summary>The views test-time augmentation adds, over all models: their training speeds and warps (empty: no model was
    /// trained with either).</summary>
    public IReadOnlyList<(double Speed, double Warp)> TestTimeViews => _models.SelectMany(m => m.Recipe.TestTimeViews).Distinct().ToList();

    public EmotionPrediction Predict(string path) => Predict([Listen(path)])[0];

    public EmotionPrediction Predict(Stream audio, string name = "audio stream") => Predict([Listen(audio, name)])[0];

    /// <summary>Mono samples in [-1, 1] at <paramref name="sampleRate"/> Hz.</summary>
    public EmotionPrediction Predict(ReadOnlySpan<float> samples, int sampleRate, string name = "samples") => Predict([Listen(samples, sampleRate, name)])[0];

    /// <summary>Several files, read in parallel; the first that cannot be used (in the given order) is thrown.</summary>
    public IReadOnlyList<EmotionPrediction> Predict(IReadOnlyList<string> paths, PredictionOptions? options = null)
    {
        var heard = ListenAll(paths);
        if (heard.FirstOrDefault(h => h.Failure is not null).Failure is { } failure) throw failure;
        return Predict(heard.Select(h => h.Heard!).ToList(), options);
    }

    /// <summary>Several files read in parallel, in the given order: each heard, or the reason it could not be.</summary>
    public IReadOnlyList<(HeardAudio? Heard, AudioException? Failure)> ListenAll(IReadOnlyList<string> paths)
    {
        var results = new (HeardAudio? Heard, AudioException? Failure)[paths.Count];
        Parallel.For(0, paths.Count, i =>
        {
            try { results[i] = (Listen(paths[i]), null); }
            catch (AudioException e) { results[i] = (null, e); }
        });
        return results;
    }

    /// <summary>Decodes a file and computes its features, to predict later (alone or with others of the same voice).</summary>
    /// <summary>
    /// Files larger than this (32 MiB: about six minutes of 44.1 kHz stereo) are streamed through the front end, a
    /// block at a time, instead of being read whole: the same features, without their samples in memory (up to
    /// <see cref="AudioStream.MaxBytes"/>). Such a recording has no <see cref="HeardAudio.Clip"/>.
    /// </summary>
    public const long StreamAboveBytes = 32L << 20;

    public HeardAudio Listen(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists || info.Length <= StreamAboveBytes) return Hear(AudioReader.Read(path), path);
        using var audio = AudioStream.Open(path);
        return InSession(session => Heard(path, null, session.FrontEnd.Extract(audio), audio.Duration, session.FrontEnd.Settings));
    }

    public HeardAudio Listen(Stream audio, string name = "audio stream")
    {
        ArgumentNullException.ThrowIfNull(audio);
        byte[] bytes = ReadAll(audio, AudioReader.DefaultMaxBytes, name, (n, problem) => new AudioException(n, problem));
        return Hear(AudioReader.Decode(bytes, name), name);
    }

    public HeardAudio Listen(ReadOnlySpan<float> samples, int sampleRate, string name = "samples")
    {
        if (sampleRate < MinSampleRate || sampleRate > MaxSampleRate)
            throw new OptionsException($"sampleRate must be in {MinSampleRate:N0}…{MaxSampleRate:N0} Hz, got {sampleRate:N0}.");
        if (samples.IsEmpty) throw new AudioException(name, "holds no samples.");
        int bad = IndexOfNonFinite(samples);
        if (bad >= 0) throw new AudioException(name, $"sample {bad:N0} is {samples[bad]}: samples must be finite.");
        return Hear(new AudioClip(samples.ToArray(), sampleRate, "samples", "float32", 1), name);
    }

    /// <summary>
    /// An emotion timeline of a recording of any length: speech found by <see cref="VoiceActivity"/>, cut into segments
    /// of at most <see cref="TimelineOptions.MaxSegmentSeconds"/>, and each segment predicted as that stretch of audio
    /// alone would be (with <see cref="TimelineOptions.PaddingSeconds"/> either side). The file is streamed: one
    /// pass for the energies, then each segment's samples only. A segment in which the front end hears no speech is
    /// left out.
    /// </summary>
    public Timeline PredictTimeline(string path, TimelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new TimelineOptions();
        using var audio = AudioStream.Open(path);
        var energy = VoiceActivity.FrameEnergies(audio, out int frameLength);
        var found = VoiceActivity.Segments(energy, frameLength, audio.Frames, audio.SampleRate, options);
        long padding = (long)Math.Round(options.PaddingSeconds * audio.SampleRate);
        var timeline = new List<TimelineSegment>();
        for (int first = 0; first < found.Count; first += ChunkSize)
        {
            var heard = new List<HeardAudio?>();
            foreach (var (start, end) in found.Skip(first).Take(ChunkSize))
            {
                long from = Math.Max(0, start - padding), to = Math.Min(audio.Frames, end + padding);
                string name = $"{path} [{start / (double)audio.SampleRate:F2}–{end / (double)audio.SampleRate:F2} s]";
                try { heard.Add(Hear(audio.ReadClip(from, (int)(to - from)), name)); }
                catch (AudioException) { heard.Add(null); } // no speech after trimming: left out below
            }
            var present = heard.OfType<HeardAudio>().ToList();
            var predictions = Predict(present);
            int next = 0;
            for (int k = 0; k < heard.Count; k++)
            {
                if (heard[k] is null) continue;
                var (start, end) = found[first + k];
                timeline.Add(new TimelineSegment(start / (double)audio.SampleRate, end / (double)audio.SampleRate, predictions[next++]));
            }
        }
        return new Timeline(path, audio.Duration, timeline, energy, frameLength / (double)audio.SampleRate);
    }

    /// <summary>
    /// Predicts recordings already heard. With <see cref="PredictionOptions.SameSpeaker"/> they are one voice and
    /// standardised together; otherwise each prediction depends on its own recording alone.
    /// </summary>
    public IReadOnlyList<EmotionPrediction> Predict(IReadOnlyList<HeardAudio> heard, PredictionOptions? options = null)
    {
        options ??= new PredictionOptions();
        if (heard.Count == 0) return [];
        var original = heard.Select(h => h.Features).ToList();
        var views = _models.Select((model, m) => (Model: m, Features: (IReadOnlyList<Features>)original)).ToList();
        if (options.TestTimeAugmentation)
        {
            var byView = new Dictionary<(double Speed, double Warp), IReadOnlyList<Features>>();
            for (int m = 0; m < _models.Length; m++)
                foreach (var view in _models[m].Recipe.TestTimeViews)
                {
                    if (!byView.TryGetValue(view, out var through)) byView[view] = through = Through(heard, view);
                    views.Add((m, through));
                }
        }
        var perView = views.Select(view =>
        {
            var model = _models[view.Model];
            var inputs = ModelInputs.Unlabelled(model.Recipe, model.Statistics, view.Features, options.SameSpeaker, model.OneFileRelevance);
            // Each file standardised by itself takes the one-file temperature (what the inputs are, not which call made them).
            return Run(view.Model, inputs, model.TemperatureFor(oneFile: model.Recipe.NeedsSpeakerStatistics && !options.SameSpeaker));
        }).ToList();
        var mean = Ensemble.Mean(perView);
        int classes = Labels.Count;
        for (int i = 0; i < heard.Count; i++)
            if (!float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum(mean.AsSpan(i * classes, classes)))) // a NaN or ∞ anywhere; loading bounds every weight, this is the last guard
                throw new SpeechEmotionException($"{heard[i].Source}: the model's answer is not a number (its weights overflow on this input): the model file is broken.");
        return heard.Select((h, i) => new EmotionPrediction(h.Source, Labels, mean.AsSpan(i * classes, classes).ToArray(), h.Duration)).ToList();
    }

    private HeardAudio Hear(AudioClip clip, string name) =>
        InSession(session => Heard(name, clip, session.FrontEnd.Extract(clip, name), clip.Duration, session.FrontEnd.Settings));

    private static HeardAudio Heard(string name, AudioClip? clip, Features features, double seconds, FrontEndSettings settings)
    {
        if (features.Frames == 0) throw new AudioException(name, "has no audible frames to recognise.");
        double heard = (features.Frames - 1) * (double)settings.Mfcc.HopLength / settings.SampleRate;
        if (settings.Window == WindowMode.Trim && heard < MinSpeechSeconds - 1e-9)
            throw new AudioException(name, $"no speech found: {heard:F2} s of sound after trimming silence, under the {MinSpeechSeconds} s needed to recognise an emotion.");
        if (settings.Window == WindowMode.Trim && settings.Prosody)
        {
            double voiced = Prosody.CountVoiced(features.Values, features.Frames, features.FeatureSize, settings.SpectralSize) * (double)settings.Mfcc.HopLength / settings.SampleRate;
            if (voiced < MinVoicedSeconds - 1e-9)
                throw new AudioException(name, $"no speech found: {voiced:F2} s of voiced sound (where a pitch can be heard) in {heard:F2} s, under the {MinVoicedSeconds} s needed to recognise an emotion.");
        }
        return new HeardAudio(name, clip, features, seconds);
    }

    /// <summary>The recordings heard through a test-time view: played at its speed or through its warped filter bank.</summary>
    private IReadOnlyList<Features> Through(IReadOnlyList<HeardAudio> heard, (double Speed, double Warp) view)
    {
        var features = new Features[heard.Count];
        var streamed = heard.FirstOrDefault(h => h.Clip is null);
        if (streamed is not null)
            throw new OptionsException($"{streamed.Source}: test-time augmentation hears the samples again through the model's training perturbations, but this file (over {StreamAboveBytes >> 20} MiB) was streamed, not held: predict it without it.");
        Parallel.For(0, heard.Count, i => features[i] = InSession(session => session.FrontEnd.Extract(heard[i].Clip!, heard[i].Source, view.Speed, view.Warp)));
        return features;
    }

    /// <summary>Probabilities [N × C] of one model for prepared inputs, in chunks that run in parallel on pooled sessions;
    /// a model with a <see cref="ModelBundle.ScoringWindow"/> scores each input by its windows' mean logits.</summary>
    private float[] Run(int model, IReadOnlyList<Sequence> inputs, float temperature)
    {
        int classes = Labels.Count, window = _models[model].ScoringWindow;
        if (window == 0) return Outputs(model, inputs, temperature, logits: false);
        var mean = ScoringWindows.Logits(inputs, window, classes, windows => Outputs(model, windows, 1f, logits: true));
        var probabilities = new float[mean.Length];
        Calibration.Softmax(mean, classes, temperature, probabilities);
        return probabilities;
    }

    /// <summary>Probabilities (or <paramref name="logits"/>) [N × C] of one model for inputs scored whole, in chunks.</summary>
    private float[] Outputs(int model, IReadOnlyList<Sequence> inputs, float temperature, bool logits)
    {
        int classes = Labels.Count, chunks = (inputs.Count + ChunkSize - 1) / ChunkSize;
        var outputs = new float[inputs.Count * classes];
        Parallel.For(0, chunks, chunk =>
        {
            int start = chunk * ChunkSize, count = Math.Min(ChunkSize, inputs.Count - start);
            InSession(session => session.Forward(model, inputs, start, count, temperature, outputs.AsSpan(start * classes, count * classes), logits));
        });
        return outputs;
    }

    /// <summary>Runs work on a pooled session (made when none is free) and returns the session to the pool after.</summary>
    private T InSession<T>(Func<Session, T> work)
    {
        var session = _sessions.TryTake(out var free) ? free : new Session(this);
        try { return work(session); }
        finally { _sessions.Add(session); }
    }

    private void InSession(Action<Session> work) => InSession(session => { work(session); return true; });

    private static int IndexOfNonFinite(ReadOnlySpan<float> samples)
    {
        for (int i = 0; i < samples.Length; i++) if (!float.IsFinite(samples[i])) return i;
        return -1;
    }

    private static byte[] ReadAll(Stream stream, long maxBytes, string name, Func<string, string, SpeechEmotionException> error)
    {
        if (!stream.CanRead) throw error(name, "the stream cannot be read.");
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        try
        {
            int read;
            while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw error(name, $"the stream holds over {maxBytes:N0} bytes, the limit.");
                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException e) { throw error(name, $"cannot be read: {e.Message}"); }
        return buffer.ToArray();
    }

    /// <summary>
    /// What one call writes: a front end (its MFCC and resampler buffers), and per model a forward-only workspace
    /// and an input buffer. A session serves one call at a time; sessions are pooled by the recognizer.
    /// </summary>
    private sealed class Session
    {
        private readonly EmotionRecognizer _owner;
        private readonly ClassifierWorkspace?[] _workspaces;
        private readonly WorkerPool _pool = new(1); // this call's thread only: concurrency comes from the callers
        private readonly int[] _lengths = new int[ChunkSize];
        private float[] _x = [];

        public Session(EmotionRecognizer owner)
        {
            _owner = owner;
            FrontEnd = new FrontEnd(owner.FrontEnd);
            _workspaces = new ClassifierWorkspace?[owner._models.Length];
        }

        public FrontEnd FrontEnd { get; }

        /// <summary>inputs[start .. start + count) → probabilities [count × C], or the logits with <paramref name="logits"/>.</summary>
        public void Forward(int model, IReadOnlyList<Sequence> inputs, int start, int count, float temperature, Span<float> probabilities, bool logits = false)
        {
            SequenceClassifier network = _owner._models[model].Model;
            int width = network.Config.InputSize, steps = 0;
            for (int b = 0; b < count; b++)
            {
                var input = inputs[start + b];
                if (input.Width != width) throw new ShapeException($"An input of width {input.Width} for a model of input size {width}.");
                steps = Math.Max(steps, input.Steps);
            }
            var workspace = _workspaces[model];
            if (workspace is null || workspace.MaxSteps < steps)
                _workspaces[model] = workspace = network.CreateInferenceWorkspace(Math.Max(steps, workspace?.MaxSteps ?? 0), ChunkSize);
            long needed = (long)steps * count * width;
            if (_x.Length < needed) _x = new float[Math.Max(needed, 2L * _x.Length)];
            // Time-major [T, B, I], zero-padded past each sequence's end (the LSTM ignores padded steps).
            Span<float> x = _x.AsSpan(0, (int)needed);
            x.Clear();
            for (int b = 0; b < count; b++)
            {
                var input = inputs[start + b];
                _lengths[b] = input.Steps;
                for (int t = 0; t < input.Steps; t++)
                    input.Values.AsSpan(t * width, width).CopyTo(x.Slice((t * count + b) * width, width));
            }
            network.Forward(workspace, x, _lengths.AsSpan(0, count), steps, count, training: false, rng: null, _pool);
            if (logits) workspace.Logits.CopyTo(probabilities);
            else if (temperature == 1f) workspace.Probabilities.CopyTo(probabilities); // the network's own softmax, bit for bit
            else Calibration.Softmax(workspace.Logits, network.Config.Classes, temperature, probabilities);
        }
    }
}
