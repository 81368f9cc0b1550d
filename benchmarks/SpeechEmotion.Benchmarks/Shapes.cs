namespace SpeechEmotion.Benchmarks;

/// <summary>The three workloads of the core issue: sequence length T, batch B, input I, hidden H.</summary>
public static class Shapes
{
    public static (int T, int B, int I, int H) Get(string name) => name switch
    {
        "SEED" => (40, 64, 1, 256),
        "FRAMES" => (200, 32, 40, 128),
        "FRAMES-L" => (200, 64, 120, 256),
        _ => throw new ArgumentException($"Unknown shape '{name}': use SEED, FRAMES or FRAMES-L."),
    };

    public static IEnumerable<string> All => ["SEED", "FRAMES", "FRAMES-L"];
}
