using System.Numerics.Tensors;
using NWaves.Operations;
using NWaves.Signals;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Audio;

/// <summary>
/// A simulated room and microphone for training-time augmentation: reverberation with the given RT60 (the time the
/// reverberant energy takes to fall by 60 dB; 0 = none) and white noise at the given signal-to-noise ratio.
/// </summary>
public sealed record Room
{
    public Room(double rt60Seconds, double snrDb)
    {
        if (!(rt60Seconds >= 0 && rt60Seconds <= 2)) throw new OptionsException($"Room RT60 must be 0 to 2 seconds, got {rt60Seconds}.");
        if (!(snrDb >= 0 && snrDb <= 60)) throw new OptionsException($"Room SNR must be 0 to 60 dB, got {snrDb}.");
        Rt60Seconds = rt60Seconds; SnrDb = snrDb;
    }

    public double Rt60Seconds { get; }
    public double SnrDb { get; }

    /// <summary>"0.4:15" (RT60 seconds : SNR dB), as options and model files write it.</summary>
    public override string ToString() => FormattableString.Invariant($"{Rt60Seconds:R}:{SnrDb:R}");

    public static Room Parse(string text, string field)
    {
        var parts = text.Split(':');
        if (parts.Length == 2 && double.TryParse(parts[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double rt60) &&
            double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double snr))
        {
            try { return new Room(rt60, snr); }
            catch (OptionsException e) { throw new OptionsException($"{field}: {e.Message}"); }
        }
        throw new OptionsException($"{field} takes rooms as RT60:SNR (seconds:dB), e.g. 0.4:15; got '{text}'.");
    }
}

/// <summary>
/// Plays samples in a <see cref="Room"/>: convolved with a synthetic impulse response (a direct path, then Gaussian
/// noise decaying by 60 dB over RT60, normalised so the output keeps the input's energy), truncated to the input's
/// length, plus white Gaussian noise at the SNR relative to that output's power. Deterministic: everything random
/// is drawn from the seed (one per file and room, so a cached copy is the same copy).
/// </summary>
public static class RoomSimulation
{
    /// <summary>Reflections start this long after the direct sound (about a metre of extra path).</summary>
    public const double FirstReflectionSeconds = 0.003;

    public static float[] Apply(ReadOnlySpan<float> samples, int sampleRate, Room room, ulong seed)
    {
        var rng = new Rng(seed);
        float[] output = samples.ToArray();
        double power = FixedOrder.SumOfSquares(samples) / Math.Max(1, samples.Length);
        if (room.Rt60Seconds > 0 && samples.Length > 1)
        {
            int length = Math.Max(2, (int)Math.Ceiling(room.Rt60Seconds * sampleRate));
            int first = Math.Min(length - 1, (int)Math.Round(FirstReflectionSeconds * sampleRate));
            var response = new float[length];
            response[0] = 1f;
            double decay = Math.Log(1000) / (room.Rt60Seconds * sampleRate); // amplitude e^(−decay·n): −60 dB at RT60
            for (int n = first; n < length; n++) response[n] = (float)(rng.NextGaussian() * Math.Exp(-decay * n));
            var wet = Operation.Convolve(new DiscreteSignal(sampleRate, output), new DiscreteSignal(sampleRate, response)).Samples;
            Array.Copy(wet, output, output.Length);
            double wetPower = FixedOrder.SumOfSquares(output) / output.Length;
            if (wetPower > 0) TensorPrimitives.Multiply(output, (float)Math.Sqrt(power / wetPower), output);
        }
        double noise = Math.Sqrt(power / Math.Pow(10, room.SnrDb / 10));
        for (int i = 0; i < output.Length; i++) output[i] += (float)(noise * rng.NextGaussian());
        return output;
    }
}
