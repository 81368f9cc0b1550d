using SpeechEmotion.Core.Tensors;
using NWaves.Filters.Fda;
using NWaves.Transforms;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio;

/// <summary>
/// librosa-compatible MFCCs built on NWaves' FFT, Slaney mel filter bank and DCT-II. NWaves' own MfccExtractor
/// differs from librosa in four ways that we close here: frames are centred (zero padding of n_fft/2 on both
/// sides), the Hann window is periodic, the log is power_to_db with librosa's floor (amin) and the top_db clip
/// relative to the utterance's maximum. Buffers are allocated in the constructor; one instance per thread
/// (NWaves' transforms keep internal scratch buffers, see NWaves issue #16).
/// </summary>
public sealed class MfccExtractor
{
    private readonly RealFft _fft;
    private readonly Dct2 _dct;
    private readonly float[][] _melBank;
    private readonly float[] _window, _frame, _power, _mel;
    private readonly (int First, int End)[] _bandRanges; // each mel filter's non-zero bins: applying it costs its width, not n_fft/2 + 1

    /// <param name="warp">
    /// Vocal-tract-length perturbation factor (1 = none): the filter bank reads the spectrum on a warped frequency
    /// axis, as if formants were scaled by the factor, without changing pitch or tempo (see <see cref="Warp"/>).
    /// </param>
    public MfccExtractor(MfccOptions options, double warp = 1.0)
    {
        if (!(warp >= 0.8 && warp <= 1.25)) throw new OptionsException($"VTLP warp factor must be in [0.8, 1.25], got {warp}.");
        Options = options;
        WarpFactor = warp;
        _fft = new RealFft(options.FftSize);
        _dct = new Dct2(options.MelBands);
        _melBank = FilterBanks.MelBankSlaney(options.MelBands, options.FftSize, options.SampleRate, options.LowFrequency, options.HighFrequency, normalizeGain: true);
        if (warp != 1.0) _melBank = WarpBank(_melBank, options, warp);
        _bandRanges = _melBank.Select(band =>
        {
            int first = Array.FindIndex(band, w => w != 0f), last = Array.FindLastIndex(band, w => w != 0f);
            return first < 0 ? (0, 0) : (first, last + 1);
        }).ToArray();
        // Periodic Hann (scipy.signal.get_window('hann', N, fftbins=True)): w[n] = 0.5 − 0.5·cos(2πn/N).
        _window = new float[options.FftSize];
        for (int n = 0; n < _window.Length; n++) _window[n] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * n / options.FftSize));
        _frame = new float[options.FftSize];
        _power = new float[options.FftSize / 2 + 1];
        _mel = new float[options.MelBands];
    }

    public MfccOptions Options { get; }
    public double WarpFactor { get; }

    /// <summary>Boundary frequency of the piecewise-linear warp (Jaitly &amp; Hinton 2013 use 4,800 Hz).</summary>
    public const double WarpBoundaryHz = 4800;

    /// <summary>
    /// Jaitly &amp; Hinton's VTLP warp of frequency f (Hz) by α, for Nyquist frequency <paramref name="nyquist"/>:
    /// f·α up to F = 4,800·min(α, 1)/α, then the straight line to (nyquist, nyquist), so the axis stays within range.
    /// </summary>
    public static double Warp(double f, double alpha, double nyquist)
    {
        double boundary = WarpBoundaryHz * Math.Min(alpha, 1) / alpha;
        if (f <= boundary) return f * alpha;
        return nyquist - (nyquist - WarpBoundaryHz * Math.Min(alpha, 1)) / (nyquist - boundary) * (nyquist - f);
    }

    /// <summary>Filter m's weight at FFT bin k becomes its weight at the warped frequency of k (linear between bins).</summary>
    private static float[][] WarpBank(float[][] bank, MfccOptions options, double alpha)
    {
        int bins = options.FftSize / 2 + 1;
        double binHz = (double)options.SampleRate / options.FftSize, nyquist = options.SampleRate / 2.0;
        return bank.Select(band =>
        {
            var warped = new float[bins];
            for (int k = 0; k < bins; k++)
            {
                double position = Math.Min(bins - 1, Warp(k * binHz, alpha, nyquist) / binHz);
                int low = (int)position, high = Math.Min(bins - 1, low + 1);
                double t = position - low;
                warped[k] = (float)((1 - t) * band[low] + t * band[high]);
            }
            return warped;
        }).ToArray();
    }

    /// <summary>samples at Options.SampleRate → MFCCs [frames × Coefficients], frames in time order, row-major.</summary>
    public float[] Compute(ReadOnlySpan<float> samples, out int frames)
    {
        var melDb = MelRowsDb(samples, out frames, out double maxDb);
        return FromMelDb(melDb, frames, maxDb);
    }

    /// <summary>
    /// Unclipped log-mel rows [frames × MelBands] (as <see cref="MelRowDb"/> makes them, <paramref name="maxDb"/> the
    /// largest value it returned) → MFCCs: the top_db floor, then the DCT. <paramref name="melDb"/> is clipped in place.
    /// </summary>
    public float[] FromMelDb(float[] melDb, int frames, double maxDb)
    {
        var o = Options;
        ClipTopDb(melDb, maxDb);
        // 5. DCT-II, orthonormal, first n_mfcc coefficients of each frame. NWaves' DirectNorm computes as many
        // coefficients as its output holds, each by itself: an output of n_mfcc values gives the same bits as the
        // first n_mfcc of all MelBands, for a tenth of the work (it was a fifth of a cold cache's feature time).
        var dctInput = new float[o.MelBands];
        var dctOutput = new float[o.Coefficients];
        var mfcc = new float[frames * o.Coefficients];
        for (int f = 0; f < frames; f++)
        {
            Array.Copy(melDb, f * o.MelBands, dctInput, 0, o.MelBands);
            _dct.DirectNorm(dctInput, dctOutput);
            Array.Copy(dctOutput, 0, mfcc, f * o.Coefficients, o.Coefficients);
        }
        return mfcc;
    }

    /// <summary>
    /// samples → log-mel spectrogram [frames × MelBands] in dB, top_db-clipped: librosa's
    /// power_to_db(melspectrogram(y), top_db=80), the matrix the MFCCs are the DCT of (and the report draws).
    /// </summary>
    public float[] MelSpectrogramDb(ReadOnlySpan<float> samples, out int frames)
    {
        var melDb = MelRowsDb(samples, out frames, out double maxDb);
        ClipTopDb(melDb, maxDb);
        return melDb;
    }

    private float[] MelRowsDb(ReadOnlySpan<float> samples, out int frames, out double maxDb)
    {
        var o = Options;
        frames = o.FrameCount(samples.Length);
        var melDb = new float[frames * o.MelBands];
        maxDb = double.NegativeInfinity;
        for (int f = 0; f < frames; f++) maxDb = Math.Max(maxDb, MelRowDb(samples, 0, samples.Length, f, melDb.AsSpan(f * o.MelBands, o.MelBands)));
        return melDb;
    }

    /// <summary>
    /// Row f of the log-mel spectrogram in dB, before the top_db floor, of a signal of <paramref name="length"/> samples;
    /// <paramref name="part"/> holds its samples from <paramref name="partStart"/> on, at least those of frame f (a
    /// stream passes what it holds, a whole signal itself with 0). Returns the row's largest value, in double precision.
    /// </summary>
    public double MelRowDb(ReadOnlySpan<float> part, long partStart, long length, int f, Span<float> row)
    {
        PowerRow(part, partStart, length, f);
        return MelRowFromPower(_power, row);
    }

    /// <summary>Steps 1 and 2 for frame f: the windowed frame's power spectrum, into this extractor's own buffer.</summary>
    private ReadOnlySpan<float> PowerRow(ReadOnlySpan<float> part, long partStart, long length, int f)
    {
        var o = Options;
        // 1. Frame f of the zero-padded signal starts at f·hop − n_fft/2 in the original samples.
        long start = (long)f * o.HopLength - o.FftSize / 2;
        for (int n = 0; n < o.FftSize; n++)
        {
            long index = start + n;
            _frame[n] = index >= 0 && index < length ? part[(int)(index - partStart)] * _window[n] : 0f;
        }
        // 2. Power spectrum |X(k)|², k = 0…n_fft/2, unnormalised as librosa's np.abs(stft)**2.
        _fft.PowerSpectrum(_frame, _power, normalize: false);
        return _power;
    }

    /// <summary>Step 3 for one frame's power spectrum: this extractor's (possibly warped) mel bank, in dB, unclipped.</summary>
    private double MelRowFromPower(ReadOnlySpan<float> power, Span<float> row)
    {
        var o = Options;
        // 3. Slaney mel bands (NWaves' bank, applied over each band's non-zero bins), then 10·log10(max(amin, S)).
        double maxDb = double.NegativeInfinity;
        for (int m = 0; m < o.MelBands; m++)
        {
            var (first, end) = _bandRanges[m];
            _mel[m] = FixedOrder.Dot(_melBank[m].AsSpan(first, end - first), power.Slice(first, end - first));
            double db = 10.0 * Math.Log10(Math.Max(o.Amin, _mel[m]));
            row[m] = (float)db;
            if (db > maxDb) maxDb = db;
        }
        return maxDb;
    }

    /// <summary>
    /// The MFCCs of one signal through several filter banks at once (extractors of the same options, e.g. VTLP warps
    /// and the plain bank): each frame's power spectrum is computed once, by the first extractor, and read by every
    /// bank. Result k is, bit for bit, what <c>extractors[k].Compute(samples, …)</c> gives.
    /// </summary>
    public static float[][] Compute(IReadOnlyList<MfccExtractor> extractors, ReadOnlySpan<float> samples, out int frames)
    {
        if (extractors.Count == 0) throw new ArgumentException("At least one extractor is needed.", nameof(extractors));
        var o = extractors[0].Options;
        foreach (var e in extractors)
            if (e.Options != o) throw new ArgumentException("The extractors must share their options (only the warp may differ).", nameof(extractors));
        frames = o.FrameCount(samples.Length);
        var melDb = new float[extractors.Count][];
        var maxDb = new double[extractors.Count];
        for (int k = 0; k < extractors.Count; k++) { melDb[k] = new float[frames * o.MelBands]; maxDb[k] = double.NegativeInfinity; }
        for (int f = 0; f < frames; f++)
        {
            var power = extractors[0].PowerRow(samples, 0, samples.Length, f);
            for (int k = 0; k < extractors.Count; k++)
                maxDb[k] = Math.Max(maxDb[k], extractors[k].MelRowFromPower(power, melDb[k].AsSpan(f * o.MelBands, o.MelBands)));
        }
        var mfcc = new float[extractors.Count][];
        for (int k = 0; k < extractors.Count; k++) mfcc[k] = extractors[k].FromMelDb(melDb[k], frames, maxDb[k]);
        return mfcc;
    }

    /// <summary>4. top_db: nothing below the utterance's maximum − top_db.</summary>
    private void ClipTopDb(float[] melDb, double maxDb)
    {
        float floor = (float)(maxDb - Options.TopDb);
        for (int i = 0; i < melDb.Length; i++) melDb[i] = Math.Max(melDb[i], floor);
    }
}
