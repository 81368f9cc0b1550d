using SpeechEmotion.Core.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SpeechEmotion.Training.Corpus;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training;

/// <summary>The files of a run folder, each written atomically.</summary>
public static class RunFiles
{
    public const string Model = "model.safetensors", Checkpoint = "checkpoint.safetensors", Metrics = "metrics.json",
        History = "history.csv", Split = "split.csv", Report = "report.html",
        Adaptation = "adaptation.csv", BaseModel = "model-before-adaptation.safetensors", Predictions = "predictions.csv", Command = "command.txt";

    /// <summary>
    /// One line per test utterance: file, speaker, true label, predicted label, then every class's probability (the
    /// model's calibrated softmax), what the report's misclassified files and reliability diagram are drawn from.
    /// </summary>
    public static void WritePredictions(string path, IReadOnlyList<string> labels, IReadOnlyList<Sample> samples, ReadOnlySpan<float> probabilities)
    {
        var text = new StringBuilder("file,speaker,label,predicted," + string.Join(',', labels.Select(Csv.Quote)) + "\n");
        int classes = labels.Count;
        for (int i = 0; i < samples.Count; i++)
        {
            var p = probabilities.Slice(i * classes, classes);
            int best = 0;
            for (int k = 1; k < classes; k++) if (p[k] > p[best]) best = k;
            text.Append(Csv.Quote(samples[i].Path)).Append(',').Append(Csv.Quote(samples[i].Speaker)).Append(',')
                .Append(Csv.Quote(labels[samples[i].Label])).Append(',').Append(Csv.Quote(labels[best]));
            foreach (float v in p) text.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            text.Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>The test side's predictions of <see cref="WritePredictions"/>: (file, speaker, label, predicted, probabilities).</summary>
    public static List<(string File, string Speaker, string Label, string Predicted, float[] Probabilities)> ReadPredictions(string path)
    {
        var lines = File.ReadAllLines(path);
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => Csv.ParseLine(l)).Select(f =>
            (f[0], f[1], f[2], f[3], f.Skip(4).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray())).ToList();
    }

    /// <summary>One line per self-training round: its share, how many test utterances it pseudo-labelled (and per
    /// class), how many predictions changed since the round before, and the round's model selection.</summary>
    public static void WriteAdaptation(string path, IReadOnlyList<string> labels, IEnumerable<AdaptationRound> rounds)
    {
        var text = new StringBuilder("round,share,pseudo_labelled," + string.Join(',', labels.Select(l => "n_" + l)) +
                                     ",changed_predictions,best_epoch,epochs_run,validation_accuracy\n");
        foreach (var r in rounds)
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Round},{r.Share:R},{r.PseudoLabelled},{string.Join(',', r.PerClass)},{r.ChangedPredictions},{r.BestEpoch},{r.EpochsRun},{r.ValidationAccuracy:R}\n"));
        AtomicFile.WriteAllText(path, text.ToString());
    }

    public static void WriteHistory(string path, IEnumerable<EpochRecord> history)
    {
        var text = new StringBuilder("epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,seconds,samples_per_second,best\n");
        foreach (var r in history)
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.TrainLoss:R},{r.TrainAccuracy:R},{r.ValidationLoss:R},{r.ValidationAccuracy:R},{r.Seconds:F3},{r.SamplesPerSecond:F1},{(r.Best ? 1 : 0)}\n"));
        AtomicFile.WriteAllText(path, text.ToString());
    }

    public static List<EpochRecord> ReadHistory(string path)
    {
        var records = new List<EpochRecord>();
        foreach (var line in File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            records.Add(new EpochRecord(int.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), D(6), f[7] == "1"));
        }
        return records;
    }

    /// <summary>
    /// What metrics.json and ensemble.json say about a cluster vote: its scores, its confusion matrix (rows = true),
    /// and per test speaker the groups' sizes and the label each voted for.
    /// </summary>
    public static Dictionary<string, object> ClusterVoteSummary(Metrics voted, IReadOnlyList<(string Speaker, ClusterVoteResult Vote)> votes) => new()
    {
        ["accuracy"] = voted.Accuracy,
        ["uar"] = voted.Uar,
        ["macro_f1"] = voted.MacroF1,
        ["confusion"] = Enumerable.Range(0, voted.Labels.Count).Select(r => Enumerable.Range(0, voted.Labels.Count).Select(c => voted.Confusion[r, c]).ToArray()).ToArray(),
        ["groups"] = ClusterVoteGroups(voted.Labels, votes),
    };

    /// <summary>Per test speaker: the groups' sizes and the label each voted for.</summary>
    public static Dictionary<string, object> ClusterVoteGroups(IReadOnlyList<string> labels, IReadOnlyList<(string Speaker, ClusterVoteResult Vote)> votes) =>
        votes.ToDictionary(v => v.Speaker, v => (object)new Dictionary<string, object>
        {
            ["sizes"] = v.Vote.Sizes,
            ["labels"] = v.Vote.ClusterLabel.Select(c => labels[c]).ToArray(),
        });

    /// <summary>{"protocol", "accuracy", "uar", "macro_f1", "labels", "confusion" (rows = true), "per_class": {…}, …}.</summary>
    /// <param name="protocol">The protocol's name when it is not the split's own (loso's folds are speaker splits).</param>
    public static string MetricsJson(Metrics metrics, SplitInfo split, string recipe, IReadOnlyDictionary<string, object>? extra = null, string? protocol = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("protocol", protocol ?? split.Protocol.ToString().ToLowerInvariant());
            if (split.TestSpeaker is not null) w.WriteString("test_speaker", split.TestSpeaker);
            if (split.TestCorpus is not null) w.WriteString("test_corpus", split.TestCorpus);
            w.WriteNumber("seed", split.Seed);
            w.WriteString("recipe", recipe);
            w.WriteNumber("test_count", metrics.Count);
            w.WriteNumber("accuracy", metrics.Accuracy);
            w.WriteNumber("uar", metrics.Uar);
            if (metrics.Ece is { } ece) w.WriteNumber("ece", ece);
            if (metrics.EceFloor is { } floor) w.WriteNumber("ece_floor", floor);
            w.WriteNumber("macro_f1", metrics.MacroF1);
            w.WriteStartArray("labels");
            foreach (var label in metrics.Labels) w.WriteStringValue(label);
            w.WriteEndArray();
            w.WriteStartArray("confusion");
            for (int r = 0; r < metrics.Labels.Count; r++)
            {
                w.WriteStartArray();
                for (int c = 0; c < metrics.Labels.Count; c++) w.WriteNumberValue(metrics.Confusion[r, c]);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartObject("per_class");
            for (int k = 0; k < metrics.Labels.Count; k++)
            {
                w.WriteStartObject(metrics.Labels[k]);
                w.WriteNumber("precision", metrics.Precision[k]);
                w.WriteNumber("recall", metrics.Recall[k]);
                w.WriteNumber("f1", metrics.F1[k]);
                w.WriteNumber("support", metrics.Support[k]);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            foreach (var (name, groups) in new[] { ("per_corpus", metrics.ByCorpus), ("per_speaker", metrics.BySpeaker) })
            {
                if (groups.Count == 0) continue;
                w.WriteStartObject(name);
                foreach (var (key, group) in groups)
                {
                    w.WriteStartObject(key);
                    w.WriteNumber("count", group.Count);
                    w.WriteNumber("accuracy", group.Accuracy);
                    w.WriteNumber("uar", group.Uar);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            foreach (var (key, value) in extra ?? new Dictionary<string, object>())
            {
                w.WritePropertyName(key);
                WriteValue(w, value);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// One value of the loosely typed extras (numbers, strings, booleans, lists, string-keyed dictionaries of them) as
    /// JSON, written out by hand so that no reflection is needed (Native AOT); a non-finite number is written as null.
    /// </summary>
    public static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string text: w.WriteStringValue(text); break;
            case bool flag: w.WriteBooleanValue(flag); break;
            case int n: w.WriteNumberValue(n); break;
            case long n: w.WriteNumberValue(n); break;
            case uint n: w.WriteNumberValue(n); break;
            case ulong n: w.WriteNumberValue(n); break; // seeds
            case float x when float.IsFinite(x): w.WriteNumberValue(x); break;
            case double x when double.IsFinite(x): w.WriteNumberValue(x); break;
            case float or double: w.WriteNullValue(); break;
            case IEnumerable<KeyValuePair<string, object>> entries:
                w.WriteStartObject();
                foreach (var (key, item) in entries) { w.WritePropertyName(key); WriteValue(w, item); }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable items:
                w.WriteStartArray();
                foreach (var item in items) WriteValue(w, item);
                w.WriteEndArray();
                break;
            default: throw new ArgumentException($"No JSON form for a {value.GetType().Name}.", nameof(value));
        }
    }
}
