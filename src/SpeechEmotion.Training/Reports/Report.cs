using SpeechEmotion.Core.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Training.Reports;

/// <summary>
/// The run report: one self-contained HTML page (inline SVG drawn with OxyPlot, see <see cref="Charts"/>; no script, no network) with what
/// the seed notebook showed and what a reader of a run needs: class counts per part, a waveform and a
/// spectrogram per emotion, an MFCC heat map, loss and accuracy curves (train vs validation), the confusion
/// matrix and per-class scores. Built from the run folder's files alone.
/// </summary>
public static class Report
{
    public static string Write(string runDirectory)
    {
        string Need(string name)
        {
            string path = Path.Combine(runDirectory, name);
            return File.Exists(path) ? path : throw new SpeechEmotionException($"{runDirectory}: no {name} — not a run folder written by ser train (or the run has not finished an epoch).");
        }
        var split = Manifest.Read(Need(RunFiles.Split));
        var history = RunFiles.ReadHistory(Need(RunFiles.History));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Need(RunFiles.Metrics)));
        var bundle = ModelBundle.Load(Need(RunFiles.Model));
        var m = metrics.RootElement;
        var labels = m.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToList();

        var html = new StringBuilder();
        html.Append(Charts.Head("SpeechEmotion run report",
            "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1280px}h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ddd}" +
            ".grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px;background:#fff}.card h3{margin:0 0 6px;font-size:14px}" +
            "table{border-collapse:collapse}td,th{padding:4px 8px;text-align:right;border:1px solid #e3e3e3}th{background:#f5f5f5}.big{font-size:28px;font-weight:bold}" +
            ".muted{color:#666;font-size:13px}"));
        string protocol = m.GetProperty("protocol").GetString()!;
        string speaker = m.TryGetProperty("test_speaker", out var ts) ? $", test speaker {ts.GetString()}" : "";
        html.Append($"<h1>SpeechEmotion — {Charts.Escape(bundle.Recipe.Kind.ToString().ToLowerInvariant())} recipe, {Charts.Escape(protocol)} protocol{Charts.Escape(speaker)}</h1>");
        string start = m.TryGetProperty("init_seed", out var init) && init.GetUInt64() != m.GetProperty("seed").GetUInt64() ? $" (initialisation and training draws: seed {init.GetUInt64()})" : "";
        html.Append($"<p class='muted'>{Charts.Escape(bundle.Model.Config.ToString())}; {bundle.Model.Parameters.Count:N0} parameters; seed {m.GetProperty("seed").GetUInt64()}{start}; " +
                    $"front end {Charts.Escape(bundle.Recipe.FrontEnd.Window.ToString().ToLowerInvariant())} window, {bundle.Recipe.FrontEnd.FeatureSize} values per frame, {Charts.Escape(bundle.Recipe.Normalization.ToString().ToLowerInvariant())} normalisation.</p>");
        string commandPath = Path.Combine(runDirectory, RunFiles.Command);
        if (File.Exists(commandPath) && File.ReadAllLines(commandPath) is [var commandLine, var when, ..])
            html.Append($"<p class='muted'>Written by <code>{Charts.Escape(commandLine)}</code>, finished {Charts.Escape(when)}.</p>");
        html.Append("<div class='grid'>");
        foreach (var (name, key) in new[] { ("Test accuracy", "accuracy"), ("UAR", "uar"), ("Macro-F1", "macro_f1") })
            html.Append($"<div class='card'><h3>{name}</h3><div class='big'>{m.GetProperty(key).GetDouble().ToString("P2", CultureInfo.InvariantCulture)}</div><div class='muted'>{m.GetProperty("test_count").GetInt32()} test utterances</div></div>");
        bool validated = !m.TryGetProperty("validation_count", out var validationCount) || validationCount.GetInt32() > 0;
        if (m.TryGetProperty("best_epoch", out var best))
            html.Append($"<div class='card'><h3>Model selection</h3><div class='big'>epoch {best.GetInt32()}</div><div class='muted'>" +
                        (validated ? $"best validation accuracy of {m.GetProperty("epochs_run").GetInt32()} epochs (validation carved from the training side)"
                                   : $"the last of {m.GetProperty("epochs_run").GetInt32()} epochs: too few utterances for a validation part") + "</div></div>");
        if (m.TryGetProperty("before_adaptation", out var before))
            html.Append($"<div class='card'><h3>Adaptation (transductive)</h3><div class='big'>{before.GetProperty("accuracy").GetDouble().ToString("P2", CultureInfo.InvariantCulture)} → " +
                        $"{m.GetProperty("accuracy").GetDouble().ToString("P2", CultureInfo.InvariantCulture)}</div><div class='muted'>test accuracy before and after {m.GetProperty("adaptation_rounds").GetInt32()} rounds of self-training " +
                        $"on the test side's audio ({Charts.Escape(m.GetProperty("adaptation_prior").GetString() == "balanced" ? "pseudo-labels balanced to equal class shares" : "the model's own pseudo-labels")}; labels never read)</div></div>");
        if (m.TryGetProperty("cluster_vote", out var vote))
            html.Append($"<div class='card'><h3>Cluster vote (transductive)</h3><div class='big'>{vote.GetProperty("accuracy").GetDouble().ToString("P2", CultureInfo.InvariantCulture)}</div>" +
                        $"<div class='muted'>each test speaker's utterances grouped (k-means, labels never read),<br>each taking its group's majority prediction</div></div>");
        html.Append("</div>");

        html.Append("<h2>Data</h2>");
        var parts = new[] { Part.Train, Part.Validation, Part.Test };
        html.Append(Charts.Svg(Charts.Counts("Utterances per class and part", labels,
            parts.Select(p => (p.ToString(), (IReadOnlyList<double>)labels.Select(l => (double)split.Count(e => e.Part == p && e.Utterance.Label == l)).ToList())).ToList()),
            760, 60 + 34 * labels.Count));

        html.Append("<h2>One utterance per emotion</h2><p class='muted'>Waveform of what the model hears (mono, resampled, trimmed as the front end does) and its log-mel spectrogram (dB) on the same time axis; examples from every speaker in turn.</p><div class='grid'>");
        var frontEnd = new FrontEnd(bundle.Recipe.FrontEnd);
        var extractor = frontEnd.Mfcc;
        (string Label, float[] Samples)? mfccExample = null;
        for (int k = 0; k < labels.Count; k++)
        {
            // One speaker after another (label k from the k-th speaker that has it), not all from the first.
            var speakers = split.Select(e => e.Utterance.Speaker).Distinct().Order(StringComparer.Ordinal).ToList();
            var candidates = split.Where(e => e.Utterance.Label == labels[k]).Select(e => e.Utterance).Where(u => File.Exists(u.Path)).ToList();
            var example = candidates.FirstOrDefault(u => speakers.Count > 0 && u.Speaker == speakers[k % speakers.Count]) ?? candidates.FirstOrDefault();
            html.Append($"<div class='card'><h3>{Charts.Escape(labels[k])}</h3>");
            if (example is null) { html.Append("<p class='muted'>audio not found on this machine</p></div>"); continue; }
            try
            {
                var clip = AudioReader.Read(example.Path);
                float[] prepared = frontEnd.Prepare(clip, example.Path);
                float[] mel = extractor.MelSpectrogramDb(prepared, out int frames);
                var settings = bundle.Recipe.FrontEnd;
                double frameSeconds = (double)settings.Mfcc.HopLength / settings.SampleRate;
                html.Append(Charts.Svg(Charts.Waveform("waveform", prepared, settings.SampleRate, Charts.Palette[k % Charts.Palette.Length], frames * frameSeconds), 380, 150));
                var o = settings.Mfcc;
                html.Append(Charts.Svg(Charts.HeatMap("log-mel spectrogram", mel, frames, o.MelBands, frameSeconds, "frequency (Hz, mel scale)", "dB", OxyPlot.OxyPalettes.Viridis(200),
                    rowLabel: band => Math.Abs(band - Math.Round(band)) < 1e-6 && band >= 0 && band < o.MelBands
                        ? Charts.MelCentreHz((int)Math.Round(band), o.MelBands, o.LowFrequency, o.HighFrequency).ToString("0", CultureInfo.InvariantCulture) : "",
                    maxColumns: 100, maxRows: 32), 380, 200));
                html.Append($"<div class='muted'>{Charts.Escape(Path.GetFileName(example.Path))}, {Charts.Escape(example.Speaker)}</div></div>");
                mfccExample ??= (labels[k], prepared);
            }
            catch (AudioException e) { html.Append($"<p class='muted'>{Charts.Escape(e.Message)}</p></div>"); }
        }
        html.Append("</div>");
        if (mfccExample is { } ex)
        {
            float[] mfcc = extractor.Compute(ex.Samples, out int frames);
            int c = bundle.Recipe.FrontEnd.Coefficients;
            // Each coefficient is standardised over time for display: c0 (log energy) spans hundreds of dB and would flatten the rest.
            for (int k = 0; k < c; k++)
            {
                double mean = 0, square = 0;
                for (int f = 0; f < frames; f++) mean += mfcc[f * c + k] / frames;
                for (int f = 0; f < frames; f++) square += (mfcc[f * c + k] - mean) * (mfcc[f * c + k] - mean) / frames;
                double std = Math.Max(1e-3, Math.Sqrt(square));
                for (int f = 0; f < frames; f++) mfcc[f * c + k] = (float)((mfcc[f * c + k] - mean) / std);
            }
            var settings = bundle.Recipe.FrontEnd;
            html.Append($"<h2>MFCC heat map</h2><p class='muted'>{c} coefficients × {frames} frames of the {Charts.Escape(ex.Label)} example (coefficient 0 at the bottom; each coefficient standardised over time for display).</p>");
            html.Append(Charts.Svg(Charts.HeatMap("MFCCs", mfcc, frames, c, (double)settings.Mfcc.HopLength / settings.SampleRate, "coefficient", "standard deviations", OxyPlot.OxyPalettes.Viridis(200), maxColumns: 150), 760, 260));
        }

        html.Append("<h2>Training</h2><div class='grid'>");
        int? chosen = m.TryGetProperty("best_epoch", out var chosenEpoch) ? chosenEpoch.GetInt32() : null;
        html.Append(Charts.Svg(Charts.Epochs("Loss (cross-entropy, log scale)", "loss", [("train", history.Select(h => h.TrainLoss).ToList()), ("validation", history.Select(h => h.ValidationLoss).ToList())], chosen, log: true), 560, 300));
        html.Append(Charts.Svg(Charts.Epochs("Accuracy", "accuracy (%)", [("train", history.Select(h => 100 * h.TrainAccuracy).ToList()), ("validation", history.Select(h => 100 * h.ValidationAccuracy).ToList())], chosen, log: false), 560, 300));
        html.Append("</div>");

        html.Append("<h2>Test side</h2><div class='grid'>");
        ConfusionTable(html, "Confusion matrix (rows = true, columns = predicted)", labels, m.GetProperty("confusion"));
        if (m.TryGetProperty("cluster_vote", out var voted))
            ConfusionTable(html, "After the cluster vote (transductive)", labels, voted.GetProperty("confusion"));
        html.Append("<div class='card'><h3>Per class</h3><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>");
        var perClass = m.GetProperty("per_class");
        foreach (var l in labels)
        {
            var p = perClass.GetProperty(l);
            html.Append($"<tr><th>{Charts.Escape(l)}</th><td>{p.GetProperty("precision").GetDouble():P1}</td><td>{p.GetProperty("recall").GetDouble():P1}</td><td>{p.GetProperty("f1").GetDouble():P1}</td><td>{p.GetProperty("support").GetInt32()}</td></tr>");
        }
        html.Append("</table></div>");
        // By corpus and by speaker (corpus-qualified names come from file and folder names: escaped like all text).
        foreach (var (title, key) in new[] { ("By corpus", "per_corpus"), ("By speaker", "per_speaker") })
        {
            if (!m.TryGetProperty(key, out var groups) || groups.EnumerateObject().Count() < 2) continue;
            html.Append($"<div class='card'><h3>{title}</h3><table><tr><th>{(key == "per_corpus" ? "corpus" : "speaker")}</th><th>accuracy</th><th>UAR</th><th>utterances</th></tr>");
            foreach (var g in groups.EnumerateObject())
                html.Append($"<tr><th>{Charts.Escape(g.Name)}</th><td>{g.Value.GetProperty("accuracy").GetDouble():P1}</td><td>{g.Value.GetProperty("uar").GetDouble():P1}</td><td>{g.Value.GetProperty("count").GetInt32()}</td></tr>");
            html.Append("</table></div>");
        }
        html.Append("</div>");
        string predictionsPath = Path.Combine(runDirectory, RunFiles.Predictions);
        if (File.Exists(predictionsPath)) Predictions(html, RunFiles.ReadPredictions(predictionsPath), labels);
        html.Append($"<p class='muted'>Written by ser report from {Charts.Escape(runDirectory)}.</p></body></html>");
        string path = Path.Combine(runDirectory, RunFiles.Report);
        AtomicFile.WriteAllText(path, html.ToString());
        return path;
    }

    /// <summary>The reliability diagram and the misclassified files (each with its top two classes), from predictions.csv.</summary>
    private static void Predictions(StringBuilder html, List<(string File, string Speaker, string Label, string Predicted, float[] Probabilities)> rows, IReadOnlyList<string> labels)
    {
        html.Append("<h2>Calibration and mistakes</h2><div class='grid'>");
        html.Append(Charts.Svg(Charts.Reliability("Reliability: accuracy against confidence, per bin (count above each point)",
            rows.Select(r => ((double)r.Probabilities.Max(), r.Label == r.Predicted)).ToList()), 460, 380));
        var wrong = rows.Where(r => r.Label != r.Predicted).ToList();
        html.Append($"<div class='card'><h3>Misclassified: {wrong.Count} of {rows.Count}</h3><table><tr><th>file</th><th>speaker</th><th>true</th><th>first</th><th>second</th></tr>");
        foreach (var r in wrong.Take(100))
        {
            var top = Enumerable.Range(0, labels.Count).OrderByDescending(k => r.Probabilities[k]).Take(2).ToList();
            string Top(int k) => $"{Charts.Escape(labels[k])} {r.Probabilities[k].ToString("P0", CultureInfo.InvariantCulture)}";
            html.Append($"<tr><td style='text-align:left'>{Charts.Escape(Path.GetFileName(r.File))}</td><td>{Charts.Escape(r.Speaker)}</td><td>{Charts.Escape(r.Label)}</td><td>{Top(top[0])}</td><td>{Top(top[1])}</td></tr>");
        }
        html.Append("</table>");
        if (wrong.Count > 100) html.Append($"<p class='muted'>and {wrong.Count - 100} more in predictions.csv</p>");
        html.Append("</div></div>");
    }

    /// <summary>A confusion matrix card: counts and row percentages, each cell shaded by its share of the row (green on the diagonal, red off it).</summary>
    private static void ConfusionTable(StringBuilder html, string title, IReadOnlyList<string> labels, JsonElement matrix)
    {
        html.Append($"<div class='card'><h3>{Charts.Escape(title)}</h3><table><tr><th></th>");
        foreach (var l in labels) html.Append($"<th>{Charts.Escape(l)}</th>");
        html.Append("</tr>");
        var confusion = matrix.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        for (int r = 0; r < labels.Count; r++)
        {
            int rowSum = Math.Max(1, confusion[r].Sum());
            html.Append($"<tr><th>{Charts.Escape(labels[r])}</th>");
            for (int c = 0; c < labels.Count; c++)
            {
                double share = confusion[r][c] / (double)rowSum;
                string colour = r == c ? $"rgba(44,160,44,{share:0.00})" : $"rgba(214,39,40,{share:0.00})";
                html.Append($"<td style='background:{colour}'>{confusion[r][c]}<br><span class='muted'>{share.ToString("P0", CultureInfo.InvariantCulture)}</span></td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table></div>");
    }
}
