using System.Diagnostics;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// A full disk, for real: `ser train` run in a private mount namespace (unshare -m) whose --out is a 40 KB tmpfs, too
/// small for the first checkpoint. Skipped, with the reason, where the machine does not let the test mount one.
/// </summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-fulldisk-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Exit, string Output, string Error) Shell(string script)
    {
        var start = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "sh", "-c", script }) start.ArgumentList.Add(arg);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception) { return (-1, "", "unshare is not installed"); }
        using (process)
        {
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output, error.Result);
        }
    }

    /// <summary>A mount point (skipping the test, with the reason, where a tmpfs cannot be mounted), a generated corpus and ser.</summary>
    private (string Mount, string Data, string Ser) Prepare(string name, string options)
    {
        string mount = Path.Combine(_root, name);
        Directory.CreateDirectory(mount);
        var probe = Shell($"mount -t tmpfs -o {options} tmpfs '{mount}' && echo mounted");
        Skip.IfNot(probe.Output.Contains("mounted"), $"cannot mount a tmpfs in a private namespace here: {probe.Error.Trim()}");
        return (mount, SyntheticEmotions.Create(Path.Combine(_root, "corpus")), Path.Combine(AppContext.BaseDirectory, "ser.dll"));
    }

    [SkippableFact]
    public void A_full_disk_is_one_line_naming_the_file_and_exit_2_with_nothing_half_written()
    {
        var (mount, data, ser) = Prepare("small", "size=40k");
        string run = Path.Combine(mount, "run");
        // The listing runs inside the namespace, while the tmpfs is still mounted.
        var (exit, output, error) = Shell($"mount -t tmpfs -o size=40k tmpfs '{mount}' && dotnet '{ser}' train --data '{data}' --out '{run}' --epochs 2 --cache none; " +
                                          $"code=$?; echo; echo FILES; ls -a '{run}'; exit $code");
        Assert.True(exit == 2, $"exit {exit}\n{output}\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + error);
        Assert.StartsWith($"error: {run}/", lines[0]);
        Assert.Contains("cannot be written (the disk is full)", lines[0]);
        Assert.DoesNotContain(".tmp-", lines[0]); // the file meant, not its temp file
        var files = output[(output.IndexOf("FILES", StringComparison.Ordinal) + 5)..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(files, f => f.Contains(".tmp-")); // no half-written temp file left behind
    }

    [SkippableFact]
    public void A_read_only_out_folder_is_one_line_naming_it_and_exit_2_and_a_read_only_cache_is_skipped()
    {
        var (mount, data, ser) = Prepare("readonly", "ro,size=64k");
        string run = Path.Combine(mount, "run"), elsewhere = Path.Combine(_root, "run");
        var (exit, output, error) = Shell($"mount -t tmpfs -o ro,size=64k tmpfs '{mount}' && dotnet '{ser}' train --data '{data}' --out '{run}' --epochs 1 --cache none");
        Assert.True(exit == 2, $"exit {exit}\n{output}\n{error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ") && lines[0].Contains(run) && lines[0].Contains("Read-only"), "expected one line naming the folder:\n" + error);
        // A cache that cannot be written is not an error: the run goes on without it, and says so.
        (exit, output, error) = Shell($"mount -t tmpfs -o ro,size=64k tmpfs '{mount}' && dotnet '{ser}' train --data '{data}' --out '{elsewhere}' --epochs 1 --cache '{Path.Combine(mount, "cache")}'");
        Assert.True(exit == 0, $"exit {exit}\n{output}\n{error}");
        Assert.Contains("the feature cache cannot be written", output + error);
        Assert.True(File.Exists(Path.Combine(elsewhere, "model.safetensors")));
    }
}
