namespace SpeechEmotion.Training;

/// <summary>
/// Where the corpus is: the --data option, else the SER_DATA environment variable, else data/tess under the
/// repository (found by walking up from the working directory to SpeechEmotion.sln), else ./data/tess. Several
/// corpora: --data given once per folder, or SER_DATA's folders joined by the path separator (':').
/// </summary>
public static class DataLocation
{
    public const string EnvironmentVariable = "SER_DATA";

    /// <summary>Several --data folders: each resolved, joined by the path separator (CorpusIndex merges them).</summary>
    public static string Resolve(IReadOnlyList<string>? options) =>
        options is { Count: > 0 } ? string.Join(Path.PathSeparator, options.Select(o => Path.GetFullPath(o))) : Resolve((string?)null);

    public static string Resolve(string? option = null)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Path.GetFullPath(option);
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return Path.GetFullPath(fromEnvironment);
        string? root = RepositoryRoot(Directory.GetCurrentDirectory()) ?? RepositoryRoot(AppContext.BaseDirectory);
        return Path.Combine(root ?? Directory.GetCurrentDirectory(), "data", "tess");
    }

    public static string? RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SpeechEmotion.sln"))) return dir.FullName;
        return null;
    }
}
