using System.Globalization;
using SpeechEmotion.Core;

namespace SpeechEmotion.Audio;

/// <summary>
/// MFCC settings. The defaults are librosa's <c>feature.mfcc(y, sr=22050, n_mfcc=40)</c>: n_fft 2048, hop 512,
/// periodic Hann window, centred frames with zero padding of n_fft/2, power spectrum, 128 Slaney mel filters
/// with Slaney area normalisation over 0…sr/2, power_to_db (amin 1e-10, ref 1, top_db 80 below the utterance's
/// maximum), DCT-II with orthonormal scaling. Validated at construction (NWaves' MfccOptions.Errors, as exceptions).
/// </summary>
public sealed record MfccOptions
{
    public MfccOptions(int sampleRate = 22050, int coefficients = 40, int fftSize = 2048, int hopLength = 512, int melBands = 128,
        double lowFrequency = 0, double highFrequency = 0, double topDb = 80, double amin = 1e-10)
    {
        var errors = new List<string>();
        if (sampleRate < 1000 || sampleRate > 384_000) errors.Add($"SampleRate must be in 1000…384000 Hz, got {sampleRate}");
        if (fftSize < 16 || (fftSize & (fftSize - 1)) != 0) errors.Add($"FftSize must be a power of two ≥ 16, got {fftSize}");
        if (hopLength < 1 || hopLength > fftSize) errors.Add($"HopLength must be in 1…FftSize ({fftSize}), got {hopLength}");
        if (melBands < 1 || melBands > fftSize / 2 + 1) errors.Add($"MelBands must be in 1…{fftSize / 2 + 1}, got {melBands}");
        if (coefficients < 1 || coefficients > melBands) errors.Add($"Coefficients must be in 1…MelBands ({melBands}), got {coefficients}");
        double nyquist = sampleRate / 2.0, high = highFrequency <= 0 ? nyquist : highFrequency;
        if (lowFrequency < 0 || lowFrequency >= high) errors.Add($"LowFrequency must be in 0…HighFrequency ({high}), got {lowFrequency}");
        if (high > nyquist) errors.Add($"HighFrequency must be at most the Nyquist frequency {nyquist}, got {highFrequency}");
        if (!(topDb > 0)) errors.Add($"TopDb must be positive, got {topDb}");
        if (!(amin > 0)) errors.Add($"Amin must be positive, got {amin}");
        if (errors.Count > 0) throw new OptionsException("Invalid MFCC options: " + string.Join("; ", errors) + ".");
        SampleRate = sampleRate; Coefficients = coefficients; FftSize = fftSize; HopLength = hopLength; MelBands = melBands;
        LowFrequency = lowFrequency; HighFrequency = high; TopDb = topDb; Amin = amin;
    }

    public int SampleRate { get; }
    public int Coefficients { get; }
    public int FftSize { get; }
    public int HopLength { get; }
    public int MelBands { get; }
    public double LowFrequency { get; }
    public double HighFrequency { get; }
    public double TopDb { get; }
    public double Amin { get; }

    /// <summary>Frames librosa gives for n samples with center=True: 1 + n // hop.</summary>
    public int FrameCount(int samples) => 1 + samples / HopLength;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"sr={SampleRate};n_mfcc={Coefficients};n_fft={FftSize};hop={HopLength};n_mels={MelBands};fmin={LowFrequency};fmax={HighFrequency};top_db={TopDb};amin={Amin}");
}
