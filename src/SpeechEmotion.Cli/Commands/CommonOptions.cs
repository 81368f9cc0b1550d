using System.CommandLine;
using SpeechEmotion.Core;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Cli.Commands;

/// <summary>Options several commands share, so they read and validate the same way everywhere.</summary>
public static class CommonOptions
{
    public static Option<string[]> Data() => new("--data")
    {
        Description = $"Corpus folder (TESS, RAVDESS, EmoDB, CREMA-D, a CSV manifest or one folder per label); give it once per corpus to use several [default: ${DataLocation.EnvironmentVariable}, else every corpus folder under data/ in the repository]",
    };
    public static Option<string?> Layout() => new("--layout")
    {
        Description = $"Read every --data folder as this layout ({string.Join(", ", CorpusIndex.Layouts)}) instead of finding each one's [default: found per folder]",
    };
    public static Option<string> Protocol() => new("--protocol") { Description = "random (stratified 75/25), speaker (test on one speaker, train on the rest), word (25% of words held out), corpus (test on one corpus, train on the others) or loso (every speaker tested once, in --folds groups).", DefaultValueFactory = _ => "random" };
    public static Option<string?> TestSpeaker() => new("--test-speaker") { Description = "With --protocol speaker: the speaker(s) to test on, bare or corpus-qualified, comma-separated, e.g. YAF, tess:YAF or ravdess:03,ravdess:04 [default: the last alphabetically]" };
    public static Option<ulong> Seed() => new("--seed") { Description = "Seed of the split, initialisation, shuffling and dropout.", DefaultValueFactory = _ => 1UL };
    public static Option<string?> Cache() => new("--cache") { Description = "Feature cache folder; 'none' disables it [default: data/cache in the repository]" };
    public static Option<int> Threads() => new("--threads") { Description = "Threads (0 = all cores).", DefaultValueFactory = _ => 0 };

    public static Option<string?> TestCorpus() => new("--test-corpus") { Description = "With --protocol corpus: the corpus to test on (e.g. tess, ravdess), never heard in training; the others train. With loso: the corpus whose speakers the folds hold out" };

    public static SplitInfo ParseSplit(string protocol, string? testSpeaker, ulong seed, string? testCorpus = null)
    {
        var p = ParseProtocol(protocol);
        if (testSpeaker is not null && p != Inference.Protocol.Speaker)
            throw new OptionsException($"--test-speaker only applies to --protocol speaker (got --protocol {protocol}).");
        if (testCorpus is not null && p != Inference.Protocol.Corpus)
            throw new OptionsException($"--test-corpus only applies to --protocol corpus (got --protocol {protocol}).");
        if (p == Inference.Protocol.Corpus && testCorpus is null)
            throw new OptionsException("--protocol corpus needs --test-corpus NAME (e.g. ravdess): the corpus to test on.");
        return new SplitInfo(p, seed, testSpeaker?.ToUpperInvariant(), testCorpus?.ToLowerInvariant());
    }

    /// <summary>The library's parse of a protocol name, its message naming the option.</summary>
    public static Inference.Protocol ParseProtocol(string text) =>
        ForOption("--protocol", () => ModelBundle.ParseProtocol(text), $"random, speaker, word, corpus or loso, got '{text}'");

    /// <summary>The library's parse of a recipe name, its message naming the option.</summary>
    public static RecipeKind ParseRecipe(string text) =>
        ForOption("--recipe", () => Recipe.ParseKind(text), $"frames or seed, got '{text}'");

    /// <summary>Runs a library parse; its refusal becomes "OPTION must be RULE." (the library names fields, the CLI its options).</summary>
    private static T ForOption<T>(string option, Func<T> parse, string rule)
    {
        try { return parse(); }
        catch (OptionsException) { throw new OptionsException($"{option} must be {rule}."); }
    }

    /// <summary>What --model says of its value, the same for every command that takes one.</summary>
    public const string ModelHelp = "A model.safetensors written by ser train, or its run folder; 'latest' is the newest run in runs/ of the repository.";

    /// <summary>A --model value → the model file: the file itself, model.safetensors in a run folder, or the newest run's.</summary>
    public static string ResolveModel(string value)
    {
        if (string.Equals(value, "latest", StringComparison.OrdinalIgnoreCase))
        {
            string runs = Path.Combine(DataLocation.RepositoryRoot(Directory.GetCurrentDirectory()) ?? ".", "runs");
            // Run folders are named <yyyyMMdd-HHmmss>-…, so name order is time order; a folder without a model (a run
            // still going, or stopped before its first epoch) is passed over.
            var newest = Directory.Exists(runs)
                ? Directory.EnumerateDirectories(runs).Where(d => File.Exists(Path.Combine(d, RunFiles.Model))).Order(StringComparer.Ordinal).LastOrDefault()
                : null;
            return newest is null ? throw new OptionsException($"--model latest: no run folder with a {RunFiles.Model} in {runs}; train one with ser train.")
                : Path.Combine(newest, RunFiles.Model);
        }
        if (!Directory.Exists(value)) return value; // a missing file is reported by the loader, with its name
        string inFolder = Path.Combine(value, RunFiles.Model);
        return File.Exists(inFolder) ? inFolder : throw new OptionsException($"{value}: a folder without {RunFiles.Model}; give a model file or a run folder of ser train.");
    }

    public static string? ResolveCache(string? option)
    {
        if (string.Equals(option, "none", StringComparison.OrdinalIgnoreCase)) return null;
        if (option is not null) return Path.GetFullPath(option);
        string? root = DataLocation.RepositoryRoot(Directory.GetCurrentDirectory());
        return Path.Combine(root ?? Directory.GetCurrentDirectory(), "data", "cache");
    }
}
