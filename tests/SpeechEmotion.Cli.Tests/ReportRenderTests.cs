using System.Diagnostics;
using System.IO.Compression;
using System.Xml;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// The run report, the explanation page and the timeline page rendered in headless Chromium (Debian's chromium, which
/// .ci/run installs): every inline chart is well-formed SVG, and the screenshot is not blank. Skipped, with the reason,
/// where Chromium is not installed.
/// </summary>
public sealed class ReportRenderTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>The distinct byte values of a PNG's inflated image data: a blank page has a handful (filter bytes and one colour).</summary>
    private static int DistinctPixelBytes(string png)
    {
        var bytes = File.ReadAllBytes(png);
        using var idat = new MemoryStream();
        for (int at = 8; at + 8 <= bytes.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            if (type == "IDAT") idat.Write(bytes, at + 8, length);
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflate = new ZLibStream(idat, CompressionMode.Decompress);
        var seen = new bool[256];
        var buffer = new byte[1 << 16];
        for (int n; (n = inflate.Read(buffer)) > 0;) for (int i = 0; i < n; i++) seen[buffer[i]] = true;
        return seen.Count(s => s);
    }

    private static void Render(string page, string root)
    {
        // Every chart parses as XML on its own.
        string html = File.ReadAllText(page);
        int charts = 0;
        for (int start = html.IndexOf("<svg", StringComparison.Ordinal); start >= 0; start = html.IndexOf("<svg", start + 4, StringComparison.Ordinal))
        {
            int end = html.IndexOf("</svg>", start, StringComparison.Ordinal) + 6;
            new XmlDocument().LoadXml(html[start..end]);
            charts++;
        }
        Assert.True(charts > 0, $"{page}: no charts");
        // Ids are global to a page: two charts sharing a clip-path id clip each other (found by looking at this render).
        var ids = System.Text.RegularExpressions.Regex.Matches(html, "id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.True(ids.Count == ids.Distinct().Count(), $"{page}: an id is used twice");
        string png = Path.Combine(root, Path.GetFileNameWithoutExtension(page) + ".png"), profile = Path.Combine(root, "chromium-" + Guid.NewGuid().ToString("N"));
        var start2 = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Chromium's own background services (component updates, the on-device model service of recent versions) are
        // off: seen here, one of them kept a headless Chromium 156 alive, without its screenshot, for half an hour.
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
                     "--disable-features=OptimizationGuideModelDownloading,OptimizationHintsFetching,OptimizationGuideOnDeviceModel,OnDeviceModelService",
                     $"--user-data-dir={profile}", "--window-size=1280,2400", $"--screenshot={png}", new Uri(page).AbsoluteUri })
            start2.ArgumentList.Add(arg);
        using var process = Process.Start(start2)!;
        // Both streams are read without blocking this thread, so the time limit holds whatever Chromium does with them.
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"chromium did not finish {page} in 2 minutes (killed){(File.Exists(png) ? ", though it wrote its screenshot" : ", and wrote no screenshot")}.");
        }
        Assert.True(File.Exists(png), $"chromium wrote no screenshot: {error.Result}");
        Assert.True(DistinctPixelBytes(png) > 32, $"{png} looks blank");
    }

    [SkippableFact]
    public void Report_explanation_and_timeline_render_in_chromium()
    {
        Skip.IfNot(File.Exists(Chromium), "Chromium is not installed (apt-get install chromium; .ci/run installs it)");
        var (exit, _, error) = CliRunner.Run("report", "--run", run.Run);
        Assert.True(exit == 0, error);
        string model = Path.Combine(run.Run, "model.safetensors");
        string file = Directory.GetFiles(Path.Combine(run.Data, "OAF_sad")).Order(StringComparer.Ordinal).First();
        string explain = Path.Combine(run.Root, "render-explain.html"), timeline = Path.Combine(run.Root, "render-timeline.html");
        Assert.Equal(0, CliRunner.Run("explain", "--model", model, file, "--html", explain).Exit);
        Assert.Equal(0, CliRunner.Run("predict", "--model", model, "--timeline", "--html", timeline, file).Exit);
        foreach (var page in new[] { Path.Combine(run.Run, "report.html"), explain, timeline }) Render(page, run.Root);
    }
}
