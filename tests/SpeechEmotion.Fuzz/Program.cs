using SharpFuzz;
using SpeechEmotion.Fuzz;

// ser-fuzz TARGET           run under afl-fuzz (fuzz.sh): one input at a time from AFL, persistent mode
// ser-fuzz seed DIR         write the starting inputs: DIR/<target>/<name>
// ser-fuzz replay TARGET F… run the target on files, say which fail (what CI's FuzzCorpusTests does)
if (args.Length == 2 && args[0] == "seed")
{
    foreach (var (target, name, bytes) in FuzzTargets.Seeds())
    {
        Directory.CreateDirectory(Path.Combine(args[1], target));
        File.WriteAllBytes(Path.Combine(args[1], target, name), bytes);
    }
    return 0;
}
if (args.Length >= 2 && args[0] == "replay")
{
    int failed = 0;
    foreach (string file in args.Skip(2))
    {
        try { _ = FuzzTargets.Run(args[1], File.ReadAllBytes(file)); }
        catch (Exception e) { failed++; Console.WriteLine(Environment.GetEnvironmentVariable("FUZZ_VERBOSE") is null ? $"{file}: {e.GetType().Name}: {e.Message}" : $"{file}: {e}"); }
    }
    Console.WriteLine($"{args.Length - 2 - failed} passed, {failed} failed");
    return failed == 0 ? 0 : 1;
}
if (args.Length == 1 && FuzzTargets.Names.Contains(args[0]))
{
    string target = args[0];
    Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        _ = FuzzTargets.Run(target, copy.GetBuffer().AsSpan(0, (int)copy.Length));
    });
    return 0;
}
Console.Error.WriteLine($"usage: ser-fuzz {string.Join("|", FuzzTargets.Names)} | seed DIR | replay TARGET FILE…");
return 2;
