namespace SpeechEmotion.Core;

/// <summary>Base type of every error this project raises for bad input: the message says what was
/// expected and what was found, so a user can act on it.</summary>
public class SpeechEmotionException : Exception
{
    public SpeechEmotionException(string message) : base(message) { }
    public SpeechEmotionException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A tensor or buffer does not have the shape an operation needs.</summary>
public sealed class ShapeException : SpeechEmotionException
{
    public ShapeException(string message) : base(message) { }
}

/// <summary>A model file is missing, truncated, malformed, or does not match the architecture it claims.</summary>
public sealed class ModelFileException : SpeechEmotionException
{
    public ModelFileException(string path, string problem) : base($"{path}: {problem}") { Path = path; }
    public ModelFileException(string path, string problem, Exception inner) : base($"{path}: {problem}", inner) { Path = path; }
    public string Path { get; }
}

/// <summary>An options record holds a value outside its valid range.</summary>
public sealed class OptionsException : SpeechEmotionException
{
    public OptionsException(string message) : base(message) { }
}

internal static class Check
{
    public static void Length(ReadOnlySpan<float> span, long needed, string name)
    {
        if (span.Length < needed)
            throw new ShapeException($"{name} has {span.Length} elements but the operation needs at least {needed}.");
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0) throw new ShapeException($"{name} must be positive, got {value}.");
    }
}
