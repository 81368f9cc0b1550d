// Predict the emotion of one recording: dotnet run --project src/samples/Predict -- MODEL AUDIO
using SpeechEmotion.Core;
using SpeechEmotion.Inference;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Predict MODEL.safetensors AUDIO.wav");
    return 1;
}
try
{
    var recognizer = EmotionRecognizer.Load(args[0]);
    var prediction = recognizer.Predict(args[1]);
    Console.WriteLine($"{args[1]}: {prediction.Label} ({prediction.Confidence:P1}, {prediction.Duration.TotalSeconds:F2} s)");
    foreach (var (label, probability) in prediction.Probabilities)
        Console.WriteLine($"  {label,-18} {probability:F3}");
    return 0;
}
catch (SpeechEmotionException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
