using System.Globalization;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio;

/// <summary>Which part of a file becomes features.</summary>
public enum WindowMode
{
    /// <summary>The whole file.</summary>
    Whole,
    /// <summary>The seed notebook's librosa.load(offset=0.5, duration=3): seconds counted at the file's own rate.</summary>
    Seed,
    /// <summary>Leading and trailing silence removed as librosa.effects.trim does, at the settings' TrimTopDb (librosa's default 60; the frames recipe trains with 30).</summary>
    Trim,
}

/// <summary>
/// Everything that decides the features a model sees. It travels inside the model file and keys the feature
/// cache, so a model never meets features computed differently from the ones it learned on.
/// </summary>
public sealed record FrontEndSettings
{
    public FrontEndSettings(int sampleRate = 22050, int coefficients = 40, WindowMode window = WindowMode.Trim, bool deltas = true,
        double offsetSeconds = 0.5, double durationSeconds = 3.0, double trimTopDb = 60, bool prosody = false)
    {
        if (!Enum.IsDefined(window)) throw new OptionsException($"FrontEndSettings.Window has no value {(int)window}.");
        if (!(offsetSeconds >= 0)) throw new OptionsException($"FrontEndSettings.OffsetSeconds must be ≥ 0, got {offsetSeconds}.");
        if (!(durationSeconds > 0)) throw new OptionsException($"FrontEndSettings.DurationSeconds must be positive, got {durationSeconds}.");
        if (!(trimTopDb > 0)) throw new OptionsException($"FrontEndSettings.TrimTopDb must be positive, got {trimTopDb}.");
        Mfcc = new MfccOptions(sampleRate, coefficients); // validates the rest
        SampleRate = sampleRate; Coefficients = coefficients; Window = window; Deltas = deltas;
        OffsetSeconds = offsetSeconds; DurationSeconds = durationSeconds; TrimTopDb = trimTopDb; Prosody = prosody;
    }

    public int SampleRate { get; }
    public int Coefficients { get; }
    public WindowMode Window { get; }
    public bool Deltas { get; }
    public double OffsetSeconds { get; }
    public double DurationSeconds { get; }
    public double TrimTopDb { get; }
    /// <summary>Whether each frame ends with <see cref="Audio.Prosody"/>'s pitch, voicing and energy.</summary>
    public bool Prosody { get; }
    public MfccOptions Mfcc { get; }

    /// <summary>Values per frame from the spectrum: the MFCCs, then their deltas and delta-deltas when enabled.</summary>
    public int SpectralSize => Coefficients * (Deltas ? 3 : 1);

    /// <summary>Values per frame: the spectral ones, then the prosody ones when enabled.</summary>
    public int FeatureSize => SpectralSize + (Prosody ? Audio.Prosody.Size : 0);

    public string Serialize() => string.Create(CultureInfo.InvariantCulture,
        $"window={Window.ToString().ToLowerInvariant()};deltas={(Deltas ? 1 : 0)};offset={OffsetSeconds:R};duration={DurationSeconds:R};trim_top_db={TrimTopDb:R};{Mfcc}{(Prosody ? ";prosody=1" : "")}"); // Mfcc carries sr and n_mfcc

    public static FrontEndSettings Parse(string text)
    {
        var fields = text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        string Get(string key) => fields.TryGetValue(key, out var v) ? v : throw new OptionsException($"Front-end settings lack '{key}': '{text}'.");
        double Number(string key) => double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new OptionsException($"Front-end setting '{key}' is not a number: '{Get(key)}'.");
        var window = Enum.TryParse<WindowMode>(Get("window"), true, out var w) ? w : throw new OptionsException($"Front-end setting 'window' is unknown: '{Get("window")}'.");
        return new FrontEndSettings((int)Number("sr"), (int)Number("n_mfcc"), window, Number("deltas") != 0, Number("offset"), Number("duration"), Number("trim_top_db"),
            fields.ContainsKey("prosody") && Number("prosody") != 0);
    }
}

/// <summary>Features of one utterance: [Frames × FeatureSize], row-major, frames in time order.</summary>
public sealed record Features(float[] Values, int Frames, int FeatureSize);

/// <summary>
/// WAV/AIFF file → mono → window (offset/duration at the file's rate) → resample → trim → MFCC (+Δ, ΔΔ) (+ prosody).
/// Holds an <see cref="MfccExtractor"/>, so use one instance per thread.
/// </summary>
public sealed class FrontEnd
{
    /// <summary>Bumped whenever the computation changes in a way settings do not show, so caches keyed by it are rebuilt.</summary>
    public const int Version = 2;

    private readonly MfccExtractor _mfcc;
    private readonly Resampler _resampler = new();
    private MfccExtractor? _warped; // the last VTLP factor asked for (a corpus pass uses one)

    public FrontEnd(FrontEndSettings settings, long maxFileBytes = AudioReader.DefaultMaxBytes)
    {
        Settings = settings;
        MaxFileBytes = maxFileBytes;
        _mfcc = new MfccExtractor(settings.Mfcc);
    }

    public FrontEndSettings Settings { get; }
    public long MaxFileBytes { get; }

    /// <summary>The extractor this front end computes with (its log-mel spectrogram is what the report draws).</summary>
    public MfccExtractor Mfcc => _mfcc;

    public Features Extract(string path) => Extract(AudioReader.Read(path, MaxFileBytes), path);

    /// <summary>
    /// The samples the MFCCs are computed from: mono, at Settings.SampleRate, windowed or trimmed. A speed other
    /// than 1 plays the clip that much faster (speed perturbation, Ko et al. 2015: pitch and formants scale by the
    /// factor, duration by its inverse), a training-time augmentation that simulates other voices.
    /// </summary>
    public float[] Prepare(AudioClip clip, string name, double speed = 1.0)
    {
        if (!(speed > 0.5 && speed < 2.0)) throw new OptionsException($"speed factor must be in (0.5, 2), got {speed}.");
        ReadOnlySpan<float> samples = clip.Samples;
        if (System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(samples) == 0f)
            throw new AudioException(name, "is digital silence (every sample is zero): there is nothing to recognise.");
        if (Settings.Window == WindowMode.Seed)
        {
            // librosa.load: offset and duration become sample counts at the native rate, rounded.
            int start = (int)Math.Round(clip.SampleRate * Settings.OffsetSeconds);
            int count = (int)Math.Round(clip.SampleRate * Settings.DurationSeconds);
            if (start >= samples.Length)
                throw new AudioException(name, $"is {clip.Duration:F2} s long, shorter than the {Settings.OffsetSeconds} s offset of the seed window.");
            samples = samples.Slice(start, Math.Min(count, samples.Length - start));
        }
        float[] resampled = _resampler.Resample(samples, (int)Math.Round(clip.SampleRate * speed), Settings.SampleRate);
        if (Settings.Window != WindowMode.Trim) return resampled;
        var (begin, end) = Trim.NonSilentRange(resampled, Settings.TrimTopDb, Settings.Mfcc.FftSize, Settings.Mfcc.HopLength);
        return resampled[begin..end];
    }

    /// <param name="warp">Vocal-tract-length perturbation of the filter bank (1 = none), a training-time augmentation.</param>
    /// <param name="room">A simulated room the trimmed samples are played in (<see cref="RoomSimulation"/>), a training-time
    /// augmentation; <paramref name="seed"/> draws its impulse response and noise.</param>
    public Features Extract(AudioClip clip, string name, double speed = 1.0, double warp = 1.0, Room? room = null, ulong seed = 0)
    {
        float[] samples = Prepare(clip, name, speed);
        if (room is not null) samples = RoomSimulation.Apply(samples, Settings.SampleRate, room, seed);
        int c = Settings.Coefficients;
        var extractor = warp == 1.0 ? _mfcc : _warped?.WarpFactor == warp ? _warped : _warped = new MfccExtractor(Settings.Mfcc, warp);
        float[] mfcc = extractor.Compute(samples, out int frames);
        float[]? d1 = Settings.Deltas ? Deltas.Compute(mfcc, frames, c, 1) : null, d2 = Settings.Deltas ? Deltas.Compute(mfcc, frames, c, 2) : null;
        float[]? prosody = Settings.Prosody ? Audio.Prosody.Compute(samples, Settings.SampleRate, Settings.Mfcc.HopLength, frames) : null;
        if (d1 is null && prosody is null) return new Features(mfcc, frames, c);
        int width = Settings.FeatureSize;
        var values = new float[frames * width];
        for (int f = 0; f < frames; f++)
        {
            int at = f * width;
            Array.Copy(mfcc, f * c, values, at, c); at += c;
            if (d1 is not null && d2 is not null)
            {
                Array.Copy(d1, f * c, values, at, c);
                Array.Copy(d2, f * c, values, at + c, c);
                at += 2 * c;
            }
            if (prosody is not null) Array.Copy(prosody, f * Audio.Prosody.Size, values, at, Audio.Prosody.Size);
        }
        return new Features(values, frames, width);
    }
}

/// <summary>librosa.effects.trim: frames whose RMS is within top_db of the loudest frame's are speech.</summary>
public static class Trim
{
    /// <summary>
    /// [begin, end) of the non-silent part: RMS over centred, zero-padded frames of frameLength every hop;
    /// 10·log10(rms²/max rms²) &gt; −topDb marks a frame non-silent; begin = first·hop, end = min(n, (last + 1)·hop).
    /// </summary>
    public static (int Begin, int End) NonSilentRange(ReadOnlySpan<float> samples, double topDb, int frameLength = 2048, int hopLength = 512)
    {
        int frames = 1 + samples.Length / hopLength, half = frameLength / 2;
        var power = new double[frames];
        double maxPower = 0;
        for (int f = 0; f < frames; f++)
        {
            double sum = 0;
            int start = f * hopLength - half;
            for (int n = Math.Max(0, start); n < Math.Min(samples.Length, start + frameLength); n++) sum += (double)samples[n] * samples[n];
            power[f] = sum / frameLength;
            maxPower = Math.Max(maxPower, power[f]);
        }
        double reference = 10 * Math.Log10(Math.Max(1e-10, maxPower));
        int first = -1, last = -1;
        for (int f = 0; f < frames; f++)
            if (10 * Math.Log10(Math.Max(1e-10, power[f])) - reference > -topDb) { if (first < 0) first = f; last = f; }
        if (first < 0) return (0, 0);
        return (first * hopLength, Math.Min(samples.Length, (last + 1) * hopLength));
    }
}
