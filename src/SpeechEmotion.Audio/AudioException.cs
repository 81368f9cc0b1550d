using SpeechEmotion.Core;

namespace SpeechEmotion.Audio;

/// <summary>An audio file that cannot be used: the message names the file and what is wrong with it.</summary>
public sealed class AudioException : SpeechEmotionException
{
    public AudioException(string path, string problem) : base($"{path}: {problem}") { Path = path; Problem = problem; }
    public string Path { get; }
    public string Problem { get; }
}
