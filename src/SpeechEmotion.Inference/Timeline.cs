using SpeechEmotion.Audio;
using SpeechEmotion.Core;

namespace SpeechEmotion.Inference;

/// <summary>How <see cref="EmotionRecognizer.PredictTimeline"/> finds and cuts speech; validated at construction.</summary>
public sealed record TimelineOptions
{
    public TimelineOptions(double thresholdDb = 35, double bridgeSeconds = 0.25, double minSpeechSeconds = 0.3,
        double maxSegmentSeconds = 4, double paddingSeconds = 0.1)
    {
        if (!(thresholdDb >= 5 && thresholdDb <= 90)) throw new OptionsException($"TimelineOptions.ThresholdDb must be in [5, 90] dB below the loudest frame, got {thresholdDb}.");
        if (!(bridgeSeconds >= 0 && bridgeSeconds <= 5)) throw new OptionsException($"TimelineOptions.BridgeSeconds must be in [0, 5], got {bridgeSeconds}.");
        if (!(minSpeechSeconds >= EmotionRecognizer.MinSpeechSeconds && minSpeechSeconds <= 60))
            throw new OptionsException($"TimelineOptions.MinSpeechSeconds must be in [{EmotionRecognizer.MinSpeechSeconds}, 60], got {minSpeechSeconds}.");
        if (!(maxSegmentSeconds >= 2 * minSpeechSeconds && maxSegmentSeconds <= 60))
            throw new OptionsException($"TimelineOptions.MaxSegmentSeconds must be in [2 × MinSpeechSeconds, 60], got {maxSegmentSeconds}.");
        if (!(paddingSeconds >= 0 && paddingSeconds <= 1)) throw new OptionsException($"TimelineOptions.PaddingSeconds must be in [0, 1], got {paddingSeconds}.");
        ThresholdDb = thresholdDb; BridgeSeconds = bridgeSeconds; MinSpeechSeconds = minSpeechSeconds;
        MaxSegmentSeconds = maxSegmentSeconds; PaddingSeconds = paddingSeconds;
    }

    /// <summary>A 10 ms frame is speech when its energy is within this many dB of the recording's loudest frame.</summary>
    public double ThresholdDb { get; init; }
    /// <summary>Pauses shorter than this inside speech are bridged (the detector's hangover).</summary>
    public double BridgeSeconds { get; init; }
    /// <summary>Speech shorter than this is dropped.</summary>
    public double MinSpeechSeconds { get; init; }
    /// <summary>Longer speech is cut into equal segments no longer than this.</summary>
    public double MaxSegmentSeconds { get; init; }
    /// <summary>Each segment is heard with this much of the recording either side (the front end trims it again).</summary>
    public double PaddingSeconds { get; init; }
}

/// <summary>One stretch of speech: where it is (seconds from the start) and what it was heard as.</summary>
public sealed record TimelineSegment(double StartSeconds, double EndSeconds, EmotionPrediction Prediction);

/// <summary>
/// A recording's emotion timeline: its segments of speech in order, and the voice-activity detector's energy of every
/// 10 ms frame (dB full scale), which a page draws as the waveform's envelope.
/// </summary>
public sealed record Timeline(string Source, double DurationSeconds, IReadOnlyList<TimelineSegment> Segments, float[] EnergyDb, double FrameSeconds);

/// <summary>
/// An energy-based voice-activity detector: the mean square of every 10 ms frame, in dB; frames within
/// <see cref="TimelineOptions.ThresholdDb"/> of the loudest frame (and above −80 dB full scale) are speech; pauses
/// shorter than the bridge are filled; stretches shorter than the minimum dropped, longer ones cut evenly.
/// </summary>
public static class VoiceActivity
{
    public const double FrameSeconds = 0.01;

    /// <summary>Frame energies in dB of a recording, streamed (one block of samples held at a time).</summary>
    public static float[] FrameEnergies(AudioStream audio, out int frameLength)
    {
        frameLength = Math.Max(1, (int)Math.Round(audio.SampleRate * FrameSeconds));
        long frames = (audio.Frames + frameLength - 1) / frameLength;
        if (frames > Array.MaxLength) throw new AudioException(audio.Path, "is too long for a timeline.");
        var energy = new float[frames];
        var block = new float[1 << 16];
        long position = 0;
        double sum = 0;
        int inFrame = 0, frame = 0;
        audio.Rewind();
        for (int n; (n = audio.Read(block)) > 0; position += n)
            for (int i = 0; i < n; i++)
            {
                sum += (double)block[i] * block[i];
                if (++inFrame == frameLength) { energy[frame++] = Db(sum / inFrame); sum = 0; inFrame = 0; }
            }
        if (inFrame > 0) energy[frame] = Db(sum / inFrame);
        return energy;
    }

    private static float Db(double meanSquare) => (float)(10 * Math.Log10(meanSquare + 1e-12));

    /// <summary>Speech as [start, end) sample ranges of a recording of <paramref name="samples"/> samples.</summary>
    public static List<(long Start, long End)> Segments(ReadOnlySpan<float> energyDb, int frameLength, long samples, int sampleRate, TimelineOptions options)
    {
        var segments = new List<(long, long)>();
        if (energyDb.IsEmpty) return segments;
        float loudest = float.NegativeInfinity;
        foreach (float e in energyDb) loudest = Math.Max(loudest, e);
        float threshold = (float)Math.Max(loudest - options.ThresholdDb, -80);
        double frameSeconds = frameLength / (double)sampleRate;
        int bridge = (int)Math.Round(options.BridgeSeconds / frameSeconds), shortest = (int)Math.Ceiling(options.MinSpeechSeconds / frameSeconds);
        int longest = Math.Max(1, (int)Math.Floor(options.MaxSegmentSeconds / frameSeconds));
        var runs = new List<(int First, int End)>();
        for (int f = 0; f < energyDb.Length; f++)
        {
            if (energyDb[f] <= threshold) continue;
            if (runs.Count > 0 && f - runs[^1].End <= bridge) runs[^1] = (runs[^1].First, f + 1);
            else runs.Add((f, f + 1));
        }
        foreach (var (first, end) in runs)
        {
            int length = end - first;
            if (length < shortest) continue;
            int parts = (length + longest - 1) / longest;
            for (int p = 0; p < parts; p++)
            {
                int a = first + (int)((long)length * p / parts), b = first + (int)((long)length * (p + 1) / parts);
                segments.Add(((long)a * frameLength, Math.Min(samples, (long)b * frameLength)));
            }
        }
        return segments;
    }
}
