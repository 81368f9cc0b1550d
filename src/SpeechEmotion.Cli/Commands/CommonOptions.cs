using System.CommandLine;
using SpeechEmotion.Core;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Cli.Commands;

/// <summary>Options several commands share, so they read and validate the same way everywhere.</summary>
public static class CommonOptions
{
    public static Option<string?> Data() => new("--data") { Description = $"Corpus folder (default: ${DataLocation.EnvironmentVariable}, else data/tess in the repository)." };
    public static Option<string> Protocol() => new("--protocol") { Description = "random (stratified 75/25), speaker (train on one speaker, test on the other) or word (25% of words held out).", DefaultValueFactory = _ => "random" };
    public static Option<string?> TestSpeaker() => new("--test-speaker") { Description = "With --protocol speaker: the speaker to test on (e.g. OAF or YAF; default: the last alphabetically)." };
    public static Option<ulong> Seed() => new("--seed") { Description = "Seed of the split, initialisation, shuffling and dropout.", DefaultValueFactory = _ => 1UL };
    public static Option<string?> Cache() => new("--cache") { Description = "Feature cache folder (default: data/cache in the repository; 'none' disables it)." };
    public static Option<int> Threads() => new("--threads") { Description = "Threads (0 = all cores).", DefaultValueFactory = _ => 0 };

    public static SplitInfo ParseSplit(string protocol, string? testSpeaker, ulong seed)
    {
        var p = ParseProtocol(protocol);
        if (testSpeaker is not null && p != Inference.Protocol.Speaker)
            throw new OptionsException($"--test-speaker only applies to --protocol speaker (got --protocol {protocol}).");
        return new SplitInfo(p, seed, testSpeaker?.ToUpperInvariant());
    }

    /// <summary>The library's parse of a protocol name, its message naming the option.</summary>
    public static Inference.Protocol ParseProtocol(string text) =>
        ForOption("--protocol", () => ModelBundle.ParseProtocol(text), $"random, speaker or word, got '{text}'");

    /// <summary>The library's parse of a recipe name, its message naming the option.</summary>
    public static RecipeKind ParseRecipe(string text) =>
        ForOption("--recipe", () => Recipe.ParseKind(text), $"frames or seed, got '{text}'");

    /// <summary>Runs a library parse; its refusal becomes "OPTION must be RULE." (the library names fields, the CLI its options).</summary>
    private static T ForOption<T>(string option, Func<T> parse, string rule)
    {
        try { return parse(); }
        catch (OptionsException) { throw new OptionsException($"{option} must be {rule}."); }
    }

    public static string? ResolveCache(string? option)
    {
        if (string.Equals(option, "none", StringComparison.OrdinalIgnoreCase)) return null;
        if (option is not null) return Path.GetFullPath(option);
        string? root = DataLocation.RepositoryRoot(Directory.GetCurrentDirectory());
        return Path.Combine(root ?? Directory.GetCurrentDirectory(), "data", "cache");
    }
}
