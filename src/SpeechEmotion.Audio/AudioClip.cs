namespace SpeechEmotion.Audio;

/// <summary>Mono samples in [-1, 1] at a sample rate, with what the file said about itself.</summary>
public sealed record AudioClip(float[] Samples, int SampleRate, string Container, string Encoding, int Channels)
{
    public double Duration => Samples.Length / (double)SampleRate;
}
