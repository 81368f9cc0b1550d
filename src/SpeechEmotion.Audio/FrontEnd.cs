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
/// Audio file (WAV, AIFF, FLAC, MP3, Ogg Vorbis) → mono → window (offset/duration at the file's rate) → resample → trim → MFCC (+Δ, ΔΔ) (+ prosody).
/// Holds an <see cref="MfccExtractor"/>, so use one instance per thread.
/// </summary>
public sealed class FrontEnd
{
    /// <summary>Bumped whenever the computation changes in a way settings do not show, so caches keyed by it are rebuilt.</summary>
    public const int Version = 3; // 3: fixed-order dot products (FixedOrder), the same bits at every vector width

    private readonly MfccExtractor _mfcc;
    private readonly Resampler _resampler = new();
    private readonly Dictionary<double, MfccExtractor> _warped = []; // one per VTLP factor asked for (the defaults use two)

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
    public Features Extract(AudioClip clip, string name, double speed = 1.0, double warp = 1.0, Room? room = null, ulong seed = 0) =>
        Extract(clip, name, [warp], speed, room, seed)[0];

    /// <summary>
    /// The features of one clip through several VTLP warps (1 = the plain filter bank) at once: the samples are prepared,
    /// the prosody (which a warp does not change) computed and each frame's power spectrum taken once, then read by
    /// every warp's bank. Result k is, bit for bit, <c>Extract(clip, name, speed, warps[k], room, seed)</c>.
    /// </summary>
    public Features[] Extract(AudioClip clip, string name, IReadOnlyList<double> warps, double speed = 1.0, Room? room = null, ulong seed = 0)
    {
        float[] samples = Prepare(clip, name, speed);
        if (room is not null) samples = RoomSimulation.Apply(samples, Settings.SampleRate, room, seed);
        var extractors = warps.Select(Extractor).ToArray();
        float[][] mfcc = MfccExtractor.Compute(extractors, samples, out int frames);
        float[]? prosody = Settings.Prosody ? Audio.Prosody.Compute(samples, Settings.SampleRate, Settings.Mfcc.HopLength, frames) : null;
        return mfcc.Select(m => Assemble(m, frames, prosody)).ToArray();
    }

    private MfccExtractor Extractor(double warp)
    {
        if (warp == 1.0) return _mfcc;
        if (!_warped.TryGetValue(warp, out var extractor)) _warped[warp] = extractor = new MfccExtractor(Settings.Mfcc, warp);
        return extractor;
    }

    /// <summary>
    /// <see cref="Extract(AudioClip, string, double, double, Room?, ulong)"/> of a whole file, streamed: the same
    /// features, bit for bit, with only blocks of samples in memory (a trimmed file is read twice: once to find its
    /// speech, once for the MFCCs). What stays in memory grows with the file's length only as its frames do (the
    /// log-mel rows and the features, about 1.1 KB per 23 ms frame). Recipes that need the samples whole (prosody, an
    /// odd rate pair the resampler computes directly) read the file whole, as <see cref="Extract(string)"/> does.
    /// </summary>
    public Features Extract(AudioStream audio)
    {
        string name = audio.Path;
        if (Settings.Window == WindowMode.Seed)
        {
            // Only as far as the window's end is read (librosa.load's offset + duration at the native rate); Prepare
            // then cuts the window out as it does from a whole file.
            long windowEnd = (long)Math.Round(audio.SampleRate * Settings.OffsetSeconds) + (long)Math.Round(audio.SampleRate * Settings.DurationSeconds);
            return Extract(audio.ReadClip(0, (int)Math.Min(windowEnd, Array.MaxLength)), name);
        }
        if (Settings.Prosody) return Extract(ReadWhole(audio), name);
        int rate = audio.SampleRate, target = Settings.SampleRate, hop = Settings.Mfcc.HopLength, fft = Settings.Mfcc.FftSize;
        long length = Resampler.OutputLength(audio.Frames, rate, target);
        // Every pass reads the file from its start through this, which also keeps the loudest sample seen.
        float peak = 0;
        int Read(Span<float> span)
        {
            int got = audio.Read(span);
            if (got > 0) peak = Math.Max(peak, MathF.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(span[..got]))); // it keeps the sign
            return got;
        }
        void RefuseSilence()
        {
            if (peak == 0f) throw new AudioException(name, "is digital silence (every sample is zero): there is nothing to recognise.");
        }
        long begin = 0, end = length;
        if (Settings.Window == WindowMode.Trim)
        {
            var power = new double[1 + length / hop];
            var frames = new FrameFeeder(length, fft, hop, (f, part, first) => power[f] = Trim.FramePower(part, first, length, f, fft, hop));
            audio.Rewind();
            if (!_resampler.Stream(audio.Frames, rate, target, Read, frames.Push)) return Extract(ReadWhole(audio), name);
            frames.Finish();
            RefuseSilence(); // before the second pass, as reading whole refuses before any work
            (begin, end) = Trim.Range(power, Settings.TrimTopDb, hop, length);
        }
        long kept = end - begin;
        var o = Settings.Mfcc;
        long frameCount = o.FrameCount((int)Math.Min(int.MaxValue, kept));
        if (frameCount * o.MelBands > Array.MaxLength) throw new AudioException(name, $"is {audio.Duration / 3600:F1} hours long: too long for one set of features.");
        var melDb = new float[frameCount * o.MelBands];
        double maxDb = double.NegativeInfinity;
        var mel = new FrameFeeder(kept, fft, hop, (f, part, first) => maxDb = Math.Max(maxDb, _mfcc.MelRowDb(part, first, kept, f, melDb.AsSpan(f * o.MelBands, o.MelBands))));
        long position = 0; // index of the next resampled sample
        audio.Rewind();
        bool ok = _resampler.Stream(audio.Frames, rate, target, Read, block =>
        {
            long from = Math.Max(begin, position), to = Math.Min(end, position + block.Length);
            if (to > from) mel.Push(block[(int)(from - position)..(int)(to - position)]);
            position += block.Length;
        });
        if (!ok) return Extract(ReadWhole(audio), name);
        mel.Finish();
        RefuseSilence();
        return Assemble(_mfcc.FromMelDb(melDb, mel.Frames, maxDb), mel.Frames, prosody: null);
    }

    private static AudioClip ReadWhole(AudioStream audio) => audio.ReadClip(0, (int)Math.Min(audio.Frames, Array.MaxLength));

    /// <summary>MFCCs (+ Δ, ΔΔ) (+ <paramref name="prosody"/>, [frames × 3], when the settings ask for it) → one feature row per frame.</summary>
    private Features Assemble(float[] mfcc, int frames, float[]? prosody)
    {
        int c = Settings.Coefficients;
        float[]? d1 = Settings.Deltas ? Deltas.Compute(mfcc, frames, c, 1) : null, d2 = Settings.Deltas ? Deltas.Compute(mfcc, frames, c, 2) : null;
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
        int frames = 1 + samples.Length / hopLength;
        var power = new double[frames];
        for (int f = 0; f < frames; f++) power[f] = FramePower(samples, 0, samples.Length, f, frameLength, hopLength);
        var (begin, end) = Range(power, topDb, hopLength, samples.Length);
        return ((int)begin, (int)end);
    }

    /// <summary>
    /// Mean square of frame f (centred at f·hop, zero outside [0, length)); <paramref name="part"/> holds the signal's
    /// samples from <paramref name="partStart"/> on, at least those of the frame.
    /// </summary>
    public static double FramePower(ReadOnlySpan<float> part, long partStart, long length, int f, int frameLength, int hopLength)
    {
        double sum = 0;
        long start = (long)f * hopLength - frameLength / 2;
        for (long n = Math.Max(0, start); n < Math.Min(length, start + frameLength); n++) sum += (double)part[(int)(n - partStart)] * part[(int)(n - partStart)];
        return sum / frameLength;
    }

    /// <summary>The non-silent [begin, end) of a signal of <paramref name="length"/> samples from its frame powers.</summary>
    public static (long Begin, long End) Range(ReadOnlySpan<double> power, double topDb, int hopLength, long length)
    {
        double maxPower = 0;
        foreach (double p in power) maxPower = Math.Max(maxPower, p);
        double reference = 10 * Math.Log10(Math.Max(1e-10, maxPower));
        int first = -1, last = -1;
        for (int f = 0; f < power.Length; f++)
            if (10 * Math.Log10(Math.Max(1e-10, power[f])) - reference > -topDb) { if (first < 0) first = f; last = f; }
        if (first < 0) return (0, 0);
        return ((long)first * hopLength, Math.Min(length, (long)(last + 1) * hopLength));
    }
}

/// <summary>
/// Frames of a signal that arrives a block at a time: frame f spans [f·hop − frameLength/2, f·hop + frameLength/2),
/// zero outside [0, length), as the centred frames of <see cref="Trim"/> and <see cref="MfccExtractor"/>. Each frame is
/// handed to the callback (with the samples held and the index of the first) once all of its samples have arrived;
/// only about one frame of samples is held.
/// </summary>
public sealed class FrameFeeder
{
    private readonly long _length;
    private readonly int _frameLength, _hop, _frames;
    private readonly Action<int, ReadOnlySpan<float>, long> _frame;
    private float[] _buffer;
    private long _start; // signal index of _buffer[0]
    private int _count, _next;

    public FrameFeeder(long length, int frameLength, int hopLength, Action<int, ReadOnlySpan<float>, long> frame)
    {
        _length = length; _frameLength = frameLength; _hop = hopLength; _frame = frame;
        _frames = (int)(1 + length / hopLength);
        _buffer = new float[2 * frameLength + (1 << 16)];
    }

    public int Frames => _frames;

    /// <summary>The next samples of the signal, in order.</summary>
    public void Push(ReadOnlySpan<float> samples)
    {
        while (!samples.IsEmpty)
        {
            long keep = Math.Max(0, (long)_next * _hop - _frameLength / 2); // the next frame's first sample
            int drop = (int)Math.Clamp(keep - _start, 0, _count);
            if (drop > 0) { Array.Copy(_buffer, drop, _buffer, 0, _count - drop); _start += drop; _count -= drop; }
            if (_count == _buffer.Length) Array.Resize(ref _buffer, 2 * _buffer.Length);
            int take = Math.Min(samples.Length, _buffer.Length - _count);
            samples[..take].CopyTo(_buffer.AsSpan(_count));
            _count += take;
            samples = samples[take..];
            Drain();
        }
    }

    /// <summary>Hands over every frame whose samples have all arrived; at the end of the signal, every frame left.</summary>
    private void Drain()
    {
        while (_next < _frames && Math.Min(_length, (long)_next * _hop + _frameLength / 2) <= _start + _count)
        {
            _frame(_next, _buffer.AsSpan(0, _count), _start);
            _next++;
        }
    }

    /// <summary>Checks that the whole signal arrived and every frame was handed over.</summary>
    public void Finish()
    {
        Drain();
        if (_next < _frames) throw new InvalidOperationException($"the signal ended after {_start + _count} of {_length} samples.");
    }
}
