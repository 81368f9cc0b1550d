namespace SpeechEmotion.Training;

/// <summary>
/// Where the corpora are: the --data options (one per corpus), else the SER_DATA environment variable (folders
/// joined by the path separator, ':'), else every corpus folder under data/ of the repository (found by walking up
/// from the working directory to SpeechEmotion.sln; each folder with sub-folders, the feature cache left out), else
/// data/tess there. Several folders are returned joined by the path separator; CorpusIndex merges them.
/// </summary>
public static class DataLocation
{
    public const string EnvironmentVariable = "SER_DATA";

    /// <summary>Folders under data/ that are never a corpus.</summary>
    private static readonly string[] NotCorpora = ["cache", "runs"];

    public static string Resolve(IReadOnlyList<string>? options) =>
        options is { Count: > 0 } ? Join(options) : Resolve((string?)null);

    public static string Resolve(string? option = null)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Join([option]);
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Join([fromEnvironment]);
        string? root = RepositoryRoot(Directory.GetCurrentDirectory()) ?? RepositoryRoot(AppContext.BaseDirectory);
        string data = Path.Combine(root ?? Directory.GetCurrentDirectory(), "data");
        var corpora = Corpora(data);
        return corpora.Count > 0 ? string.Join(Path.PathSeparator, corpora) : Path.Combine(data, "tess");
    }

    /// <summary>data/<paramref name="name"/> in the repository (where <c>ser download NAME</c> puts a corpus).</summary>
    public static string Default(string name)
    {
        string? root = RepositoryRoot(Directory.GetCurrentDirectory()) ?? RepositoryRoot(AppContext.BaseDirectory);
        return Path.Combine(root ?? Directory.GetCurrentDirectory(), "data", name);
    }

    /// <summary>The corpus folders directly under <paramref name="data"/>, in name order.</summary>
    public static IReadOnlyList<string> Corpora(string data) =>
        !Directory.Exists(data) ? [] : Directory.EnumerateDirectories(data)
            .Where(d => !NotCorpora.Contains(Path.GetFileName(d), StringComparer.OrdinalIgnoreCase) && !Path.GetFileName(d).StartsWith('.'))
            .Where(d => (File.GetAttributes(d) & FileAttributes.ReparsePoint) == 0 || Directory.Exists(d))
            .Where(d => Directory.EnumerateDirectories(d).Any())
            .Order(StringComparer.Ordinal).ToList();

    private static string Join(IEnumerable<string> folders) => string.Join(Path.PathSeparator,
        folders.SelectMany(f => f.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Path.GetFullPath));

    public static string? RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SpeechEmotion.sln"))) return dir.FullName;
        return null;
    }
}
