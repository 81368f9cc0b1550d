using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SpeechEmotion.Core;
using SpeechEmotion.Inference;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser explain --model FILE AUDIO [--class LABEL] [--window N] [--json] [--html OUT]</c>: which stretches of the
/// recording and which feature columns moved the model's answer (<see cref="Explainer"/>): gradient × input from the
/// engine's own backward pass, and occlusion as a check that needs no gradient; the page draws both over the
/// features, time-aligned.
/// </summary>
public static class ExplainCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<string>("--model") { Description = CommonOptions.ModelHelp, Required = true };
        var audio = new Argument<string>("AUDIO") { Description = "The recording to explain." };
        var label = new Option<string?>("--class") { Description = "Explain what speaks for this label [default: the model's answer]." };
        var window = new Option<int>("--window") { Description = "Occlusion window, in frames (10 ≈ 0.23 s).", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON: label, probability, per-frame attribution and occlusion, per-feature attribution." };
        var html = new Option<string?>("--html") { Description = "Write a page with the features, the attribution and the occlusion over time." };
        var command = new Command("explain", "Show which frames and which features moved a model's answer.") { model, audio, label, window, json, html };
        command.SetAction(parse =>
        {
            string path = CommonOptions.ResolveModel(parse.GetValue(model)!);
            int frames = parse.GetValue(window);
            if (frames is < 1 or > 1000) throw new OptionsException($"--window must be 1…1000 frames, got {frames}.");
            var bundle = ModelBundle.Load(path, inferenceOnly: false);
            var explanation = new Explainer(bundle).Explain(parse.GetValue(audio)!, parse.GetValue(label), frames);
            var names = Explanation.FeatureNames(bundle.Recipe.FrontEnd, explanation.Width);
            if (parse.GetValue(html) is { } page)
            {
                Training.Reports.ExplainPage.Write(page, explanation, names);
                if (!parse.GetValue(json)) output.WriteLine($"Wrote {page}");
            }
            if (parse.GetValue(json)) WriteJson(output, explanation, names);
            else WriteText(output, explanation, names);
            return CliApp.Ok;
        });
        return command;
    }

    private static void WriteText(TextWriter output, Explanation e, IReadOnlyList<string> names)
    {
        string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        output.WriteLine($"{e.Source}: {e.Label} ({P(e.Probability)}, before temperature scaling)");
        var byFrame = e.ByFrame();
        double total = byFrame.Sum();
        // Stretches of a quarter of a second (or the occlusion window for a seed model's single step).
        int bin = e.FrameSeconds > 0 ? Math.Max(1, (int)Math.Round(0.25 / e.FrameSeconds)) : 1;
        output.WriteLine("  where (share of |gradient × input|, and the probability lost when the stretch is replaced by the mean):");
        var stretches = Enumerable.Range(0, (e.Frames + bin - 1) / bin).Select(k => (Start: k * bin, End: Math.Min(e.Frames, (k + 1) * bin))).ToList();
        var shares = stretches.Select(r => total > 0 ? byFrame[r.Start..r.End].Sum() / total : 0).ToList();
        double most = Math.Max(1e-12, shares.Max());
        for (int k = 0; k < stretches.Count; k++)
        {
            var (start, end) = stretches[k];
            output.WriteLine($"    {start * e.FrameSeconds,6:F2}–{end * e.FrameSeconds,5:F2} s  {P(shares[k]),6}  occlusion {e.Occlusion[start..end].Max(),7:+0.000;-0.000}  {new string('#', (int)Math.Round(30 * shares[k] / most))}");
        }
        var byFeature = e.ByFeature();
        double featureTotal = byFeature.Sum();
        output.WriteLine("  which features (the ten with the largest share):");
        foreach (int i in Enumerable.Range(0, e.Width).OrderByDescending(i => byFeature[i]).Take(10))
            output.WriteLine($"    {names[i],-12} {P(featureTotal > 0 ? byFeature[i] / featureTotal : 0)}");
    }

    private static void WriteJson(TextWriter output, Explanation e, IReadOnlyList<string> names)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", e.Source);
            w.WriteString("label", e.Label);
            w.WriteNumber("probability", e.Probability);
            w.WriteNumber("frame_seconds", e.FrameSeconds);
            w.WriteNumber("occlusion_window", e.OcclusionWindow);
            w.WriteStartArray("by_frame");
            foreach (float v in e.ByFrame()) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteStartArray("occlusion");
            foreach (float v in e.Occlusion) w.WriteNumberValue(v);
            w.WriteEndArray();
            w.WriteStartObject("by_feature");
            var byFeature = e.ByFeature();
            for (int i = 0; i < e.Width; i++) w.WriteNumber(names[i], byFeature[i]);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
