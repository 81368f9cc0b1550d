using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Xml.Linq;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// What a user deploys (#16), built from this checkout as a user builds it, each in its own artifacts folder so that
/// nothing touches the solution's build: the NuGet packages (metadata checked, then a separate consumer project built
/// against them, not against project references, must print what the in-repo sample prints), <c>ser</c> installed as a
/// .NET tool from them, and the Native AOT binary (zero warnings; every command through it — train, predict,
/// evaluate, report, download, inspect, features, explain, export, help, bench — each result the JIT build's). They need the NuGet feed (CI has it) and take a few minutes.
/// </summary>
public sealed class ShippingTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("se-ship-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Root = Training.DataLocation.RepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("SpeechEmotion.sln not found above the test folder.");

    private static (int Exit, string Output, string Error) Exec(string file, string? workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(900_000), $"{file} {string.Join(' ', args)} did not finish in 15 minutes");
        return (process.ExitCode, output, error.Result);
    }

    private static string Succeeds((int Exit, string Output, string Error) result, string what)
    {
        Assert.True(result.Exit == 0, $"{what}: exit {result.Exit}\n{result.Output}\n{result.Error}");
        return result.Output;
    }

    private string Model => Path.Combine(run.Run, "model.safetensors");
    private string AudioFile => Directory.GetFiles(Path.Combine(run.Data, "OAF_sad")).Order(StringComparer.Ordinal).First();

    [Fact]
    public void ThePackagesServeASeparateConsumerAndSerInstallsAsATool()
    {
        Assert.Equal(0, run.Result.Exit);
        // A version of its own, so that no package cached by an earlier run is taken for this one.
        string version = $"0.0.0-test.{Guid.NewGuid():N}"[..22];
        string packages = Path.Combine(_dir, "packages");
        Succeeds(Exec("dotnet", Root, "pack", "SpeechEmotion.sln", "-c", "Release", "-o", packages, "--artifacts-path", Path.Combine(_dir, "pack"), $"-p:Version={version}"), "dotnet pack");

        string[] expected = ["SpeechEmotion.Audio", "SpeechEmotion.Cli", "SpeechEmotion.Core", "SpeechEmotion.Inference", "SpeechEmotion.Training"];
        Assert.Equal(expected.Select(id => $"{id}.{version}.nupkg"), Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(expected.Select(id => $"{id}.{version}.snupkg"), Directory.GetFiles(packages, "*.snupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var id in expected)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(packages, $"{id}.{version}.nupkg"));
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName == $"{id}.nuspec").Open());
            string Field(string name) => nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Assert.True(Field("description").Length > 40 && Field("description") != "Package Description", $"{id}: description '{Field("description")}'");
            Assert.Equal("MIT", Field("license"));
            Assert.Equal("README.md", Field("readme"));
            Assert.Equal("The SpeechEmotion authors", Field("authors"));
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            var repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
            Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value ?? "");
            if (id != "SpeechEmotion.Cli") Assert.Contains(zip.Entries, e => e.FullName == $"lib/net10.0/{id}.xml"); // the API's docs
        }

        // The README's sample, built against the packages in a folder of its own.
        string consumer = Path.Combine(_dir, "consumer");
        Directory.CreateDirectory(consumer);
        File.Copy(Path.Combine(Root, "src", "samples", "Predict", "Program.cs"), Path.Combine(consumer, "Program.cs"));
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SpeechEmotion.Inference" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="speechemotion" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Directory.Build.props"), "<Project />"); // nothing inherited from a folder above
        string fromPackages = Succeeds(Exec("dotnet", consumer, "run", "-c", "Release", "--", Model, AudioFile), "the consumer project");
        string sample = Path.Combine(Root, "src", "samples", "Predict", "bin", "Release", "net10.0", "Predict.dll");
        string fromRepo = Succeeds(Exec("dotnet", null, sample, Model, AudioFile), "the in-repo sample");
        Assert.Equal(fromRepo, fromPackages);
        Assert.Contains(" (", fromPackages);

        // ser as a .NET tool, from the same folder.
        string tools = Path.Combine(_dir, "tools");
        Succeeds(Exec("dotnet", _dir, "tool", "install", "SpeechEmotion.Cli", "--version", version, "--add-source", packages, "--tool-path", tools), "dotnet tool install");
        string fromTool = Succeeds(Exec(Path.Combine(tools, "ser"), null, "predict", "--model", Model, "--json", AudioFile), "ser from the tool");
        Assert.Equal(CliRunner.Run("predict", "--model", Model, "--json", AudioFile).Output, fromTool);
    }

    [SkippableFact]
    public void TheNativeAotBinaryPublishesWithoutWarningsAndAnswersAsTheJitBuild()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64,
            "the AOT binary is published for linux-x64");
        Skip.IfNot(System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported,
            "the AOT binary is compiled for x86-64-v3 (AVX2, FMA): this processor cannot run it");
        Assert.Equal(0, run.Result.Exit);
        string bin = Path.Combine(_dir, "aot");
        var publish = Exec("dotnet", Root, "publish", "src/SpeechEmotion.Cli", "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
            "--artifacts-path", Path.Combine(_dir, "publish"), "-o", bin);
        Succeeds(publish, "dotnet publish -p:PublishAot=true");
        var warnings = (publish.Output + publish.Error).Split('\n').Where(l => l.Contains("warning", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(warnings.Count == 0, string.Join('\n', warnings));
        string ser = Path.Combine(bin, "ser");

        // train: the same model, byte for byte.
        string aotRun = Path.Combine(_dir, "run-aot"), jitRun = Path.Combine(_dir, "run-jit");
        string[] train = ["train", "--data", run.Data, "--epochs", "1", "--batch", "16", "--seed", "3", "--cache", Path.Combine(_dir, "cache")];
        Succeeds(Exec(ser, null, [.. train, "--out", aotRun]), "AOT ser train");
        Assert.Equal(0, CliRunner.Run([.. train, "--out", jitRun]).Exit);
        Assert.Equal(Sha256(Path.Combine(jitRun, "model.safetensors")), Sha256(Path.Combine(aotRun, "model.safetensors")));

        // predict and evaluate --json: the same text.
        string aotPredict = Succeeds(Exec(ser, null, "predict", "--model", Model, "--json", AudioFile, Path.Combine(run.Data, "OAF_angry")), "AOT ser predict");
        Assert.Equal(CliRunner.Run("predict", "--model", Model, "--json", AudioFile, Path.Combine(run.Data, "OAF_angry")).Output, aotPredict);
        string aotJson = Path.Combine(_dir, "aot.json"), jitJson = Path.Combine(_dir, "jit.json");
        Succeeds(Exec(ser, null, "evaluate", "--model", Model, "--data", run.Data, "--all-files", "--json", aotJson), "AOT ser evaluate");
        Assert.Equal(0, CliRunner.Run("evaluate", "--model", Model, "--data", run.Data, "--all-files", "--json", jitJson).Exit);
        Assert.Equal(File.ReadAllText(jitJson), File.ReadAllText(aotJson));

        // report: OxyPlot's charts through the trimmed binary, the same page as the JIT build draws.
        string report = Path.Combine(run.Run, "report.html");
        Succeeds(Exec(ser, null, "report", "--run", run.Run), "AOT ser report");
        string aotReport = File.ReadAllText(report);
        // In a fresh process, as the binary runs: a page numbers its figures from the process's first.
        Succeeds(Exec("dotnet", null, Path.Combine(AppContext.BaseDirectory, "ser.dll"), "report", "--run", run.Run), "JIT ser report");
        Assert.Equal(File.ReadAllText(report), aotReport);

        // download: from a local server that breaks the first connection mid-file (HttpClient, a Range request to
        // resume, the zip unpacked into the corpus layout), as DownloadCommandTests checks the JIT build.
        var (zip, files) = DownloadCommandTests.MakeZip();
        using (var server = new DownloadCommandTests.Server(zip, cutFirst: 1))
        {
            string corpus = Path.Combine(_dir, "downloaded");
            string said = Succeeds(Exec(ser, null, "download", "tess", "--to", corpus, "--url", server.Url, "--retries", "3"), "AOT ser download");
            Assert.Contains("Unpacked 3 files", said);
            foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(corpus, name)));
            Assert.StartsWith("bytes=", server.Ranges[1]);
        }

        // The other commands, each the JIT build's text (or file) exactly: inspect, features, explain (its page has
        // OxyPlot's figures), export, help.
        string page = Path.Combine(_dir, "explain.html"), aotOnnx = Path.Combine(_dir, "aot.onnx"), jitOnnx = Path.Combine(_dir, "jit.onnx");
        foreach (var args in new[]
        {
            new[] { "inspect", "--model", Model },
            ["features", AudioFile, "--json", "--deltas"],
            ["explain", "--model", Model, AudioFile, "--json"],
            ["help"],
        })
        {
            string fromBinary = Succeeds(Exec(ser, null, args), $"AOT ser {args[0]}");
            Assert.Equal(Succeeds(Exec("dotnet", null, [Path.Combine(AppContext.BaseDirectory, "ser.dll"), .. args]), $"JIT ser {args[0]}"), fromBinary);
        }
        Succeeds(Exec(ser, null, "explain", "--model", Model, AudioFile, "--html", page), "AOT ser explain --html");
        string aotPage = File.ReadAllText(page);
        Succeeds(Exec("dotnet", null, Path.Combine(AppContext.BaseDirectory, "ser.dll"), "explain", "--model", Model, AudioFile, "--html", page), "JIT ser explain --html");
        Assert.Equal(File.ReadAllText(page), aotPage);
        Succeeds(Exec(ser, null, "export", "--model", Model, "--onnx", aotOnnx), "AOT ser export");
        Assert.Equal(0, CliRunner.Run("export", "--model", Model, "--onnx", jitOnnx).Exit);
        Assert.Equal(File.ReadAllBytes(jitOnnx), File.ReadAllBytes(aotOnnx));

        // bench: the FMA peak is measured (the unflagged baseline build read 0 GFLOP/s and ran ~128× slower).
        string bench = Succeeds(Exec(ser, null, "bench", "--shape", "SEED", "--repetitions", "1"), "AOT ser bench");
        var peak = System.Text.RegularExpressions.Regex.Match(bench, @"FMA peak on \d+ thread\(s\): (\d+) GFLOP/s");
        Assert.True(peak.Success && int.Parse(peak.Groups[1].Value) >= 10, bench);
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
