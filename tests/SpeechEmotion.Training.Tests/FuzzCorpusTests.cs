using SpeechEmotion.Fuzz;

namespace SpeechEmotion.Training.Tests;

/// <summary>
/// Replays what the fuzzers found (tests/SpeechEmotion.Fuzz/corpus/&lt;target&gt;: every input AFL++ kept for reaching new
/// code, and the crashes it found, fixed since) and the seeds they started from, through the same targets: each input
/// must be answered or refused with a SpeechEmotionException, never another exception or a broken distribution.
/// </summary>
public sealed class FuzzCorpusTests
{
    private static string CorpusFolder(string target)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "SpeechEmotion.Fuzz", "corpus", target);
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/SpeechEmotion.Fuzz/corpus/{target} not found above {AppContext.BaseDirectory}");
    }

    [Theory]
    [InlineData("audio")]
    [InlineData("model")]
    [InlineData("zip")]
    [InlineData("stream")]
    public void Every_fuzz_input_is_answered_or_refused_in_one_line(string target)
    {
        var files = Directory.GetFiles(CorpusFolder(target));
        Assert.True(files.Length >= 10, $"the {target} corpus has only {files.Length} inputs: run fuzz.sh {target}");
        var failures = new List<string>();
        int answered = 0;
        var inputs = files.Select(f => (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f)))
            .Concat(FuzzTargets.Seeds().Where(s => s.Target == target).Select(s => (Name: "seed " + s.Name, s.Bytes)));
        foreach (var (name, bytes) in inputs)
        {
            try { if (FuzzTargets.Run(target, bytes)) answered++; }
            catch (Exception e) { failures.Add($"{name}: {e.GetType().Name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // The replay reaches past the parsers: some inputs (the seeds at least) are answered, not all refused.
        Assert.True(answered > 0, $"no {target} input was answered: the target refuses everything");
    }
}
