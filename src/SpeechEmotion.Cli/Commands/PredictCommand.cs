using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SpeechEmotion.Audio;
using SpeechEmotion.Core;
using SpeechEmotion.Inference;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser predict --model FILE PATH…</c>: the label and every class probability for each file (folders are searched
/// recursively). A file that cannot be read is reported and the rest go on; the exit code is 2 if any failed.
/// Several <c>--model</c>s (same labels and front end) predict as an ensemble: their probabilities averaged.
/// Under speaker normalisation each file is standardised with the training side's statistics, unless
/// <c>--one-speaker</c> says the files are one voice (then with their own). <c>--cluster-vote</c> also groups the files,
/// as one voice, and gives each its group's majority label (<see cref="ClusterVote"/>); <c>--tta</c> averages over the
/// files played at the models' training speeds too. The path <c>-</c> reads one recording (any format the reader
/// takes) from standard input.
/// </summary>
public static class PredictCommand
{
    /// <summary>The path that means standard input, and the name such a recording goes by in messages and results.</summary>
    public const string StandardInput = "-", StandardInputName = "(standard input)";

    public static Command Create(TextWriter output, TextWriter error, Func<Stream> input)
    {
        var model = new Option<string[]>("--model")
        {
            Description = CommonOptions.ModelHelp + " Give it several times to predict with the ensemble (probabilities averaged).",
            Required = true,
        };
        var paths = new Argument<string[]>("PATH") { Description = "Audio files or folders (WAV, AIFF, FLAC, MP3, Ogg Vorbis); - reads one recording from standard input.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print JSON: [{\"file\", \"label\", \"probabilities\": {label: p}}] (with --cluster-vote also \"cluster_vote\": {\"group\", \"label\"})." };
        var oneSpeaker = new Option<bool>("--one-speaker")
        {
            Description = "The files are many recordings of one voice: standardise them with their own statistics (models with speaker normalisation).",
        };
        var clusterVote = new Option<bool>("--cluster-vote")
        {
            Description = "The files are many recordings of one voice: group them by k-means on their features (as many groups as labels) " +
                          "and give each file its group's majority label too. Needs at least as many files as labels.",
        };
        var tta = new Option<bool>("--tta")
        {
            Description = "Test-time augmentation: also score each file through the perturbations the model was trained with (played at its --augment speeds, heard through its --vtlp warps) and average.",
        };
        var timeline = new Option<bool>("--timeline")
        {
            Description = "An emotion timeline of each file: speech found by an energy detector, cut into segments of at most " +
                          "--max-segment seconds, each predicted as that stretch alone. Streams the file, so any length works.",
        };
        var csv = new Option<bool>("--csv") { Description = "With --timeline: print CSV (file,start,end,label,<one column per label>)." };
        var maxSegment = new Option<double>("--max-segment") { Description = "With --timeline: longest segment, in seconds.", DefaultValueFactory = _ => 4.0 };
        var html = new Option<string?>("--html") { Description = "With --timeline: also write a page with each recording's envelope, its segments coloured by emotion, and each class's probability over time." };
        var thresholdDb = new Option<double>("--threshold-db") { Description = "With --timeline: a 10 ms frame is speech within this many dB of the loudest.", DefaultValueFactory = _ => 35.0 };
        var command = new Command("predict", "Predict the emotion of audio files.") { model, paths, json, oneSpeaker, clusterVote, tta, timeline, csv, html, maxSegment, thresholdDb };
        command.SetAction(parse =>
        {
            var recognizer = EmotionRecognizer.Load(parse.GetValue(model)!.Select(CommonOptions.ResolveModel)); // labels and front ends checked before any audio is read
            var labels = recognizer.Labels;
            if (parse.GetValue(csv) && !parse.GetValue(timeline)) throw new OptionsException("--csv prints a timeline: give --timeline with it.");
            if (parse.GetValue(html) is not null && !parse.GetValue(timeline)) throw new OptionsException("--html draws a timeline: give --timeline with it.");
            if (parse.GetValue(timeline))
            {
                if (parse.GetValue(oneSpeaker) || parse.GetValue(clusterVote) || parse.GetValue(tta))
                    throw new OptionsException("--timeline predicts each segment alone: it does not combine with --one-speaker, --cluster-vote or --tta.");
                var options = new TimelineOptions(thresholdDb: parse.GetValue(thresholdDb), maxSegmentSeconds: parse.GetValue(maxSegment));
                if (parse.GetValue(paths)!.Contains(StandardInput)) throw new OptionsException("--timeline streams files from disk: save standard input to a file and give its name instead of -.");
                return Timelines(recognizer, Expand(parse.GetValue(paths)!, error), options, parse.GetValue(json) ? "json" : parse.GetValue(csv) ? "csv" : "text", parse.GetValue(html), output, error);
            }
            bool asOneSpeaker = parse.GetValue(oneSpeaker), augment = parse.GetValue(tta);
            if (asOneSpeaker && !recognizer.NormalizesBySpeaker)
                throw new OptionsException($"--one-speaker applies to models with speaker normalisation; this one normalises '{recognizer.Models[0].Recipe.Normalization.ToString().ToLowerInvariant()}'.");
            if (augment && recognizer.TestTimeViews.Count == 0)
                throw new OptionsException("--tta scores the files through the perturbations a model was trained with (ser train --augment, --vtlp), and no model given here was trained with any.");
            var files = Expand(parse.GetValue(paths)!, error);
            if (files.Count(f => f == StandardInput) > 1) throw new OptionsException("- (standard input) can be given once.");
            // Read in parallel; report unreadable files in the order given, and predict the rest.
            var heardOrFailed = recognizer.ListenAll(files.Where(f => f != StandardInput).ToList()).ToList();
            if (files.IndexOf(StandardInput) is int at and >= 0)
            {
                (HeardAudio?, AudioException?) fromInput;
                try { using var stream = input(); fromInput = (recognizer.Listen(stream, StandardInputName), null); }
                catch (AudioException e) { fromInput = (null, e); }
                heardOrFailed.Insert(at, fromInput);
            }
            foreach (var (_, failure) in heardOrFailed)
                if (failure is not null) error.WriteLine($"error: {failure.Message}");
            int failed = heardOrFailed.Count(h => h.Failure is not null);
            var heard = heardOrFailed.Where(h => h.Heard is not null).Select(h => h.Heard!).ToList();
            var results = recognizer.Predict(heard, new PredictionOptions { SameSpeaker = asOneSpeaker, TestTimeAugmentation = augment });
            ClusterVoteResult? vote = null;
            if (parse.GetValue(clusterVote))
            {
                if (heard.Count == 0) throw new OptionsException("--cluster-vote: no readable audio files to group.");
                vote = ClusterVote.Apply(heard.Select(h => h.Features).ToList(), results.SelectMany(p => p.Scores.ToArray()).ToArray(), labels.Count, ClusterVote.DefaultSeed);
            }
            if (parse.GetValue(json)) WriteJson(output, labels, results, vote);
            else
                for (int i = 0; i < results.Count; i++)
                {
                    var p = results[i];
                    string voted = vote is null ? "" : $"  [group {vote.Cluster[i] + 1} votes {labels[vote.Labels[i]]}]";
                    output.WriteLine($"{p.Source}: {p.Label} ({p.Confidence:P1}){voted}  " +
                        string.Join("  ", labels.Select((l, k) => $"{l} {p.Scores[k].ToString("F3", CultureInfo.InvariantCulture)}")));
                }
            return failed > 0 ? CliApp.BadInput : CliApp.Ok;
        });
        return command;
    }

    /// <summary>Each file's timeline as a table, JSON or CSV; a file that cannot be read is reported and the rest go on.</summary>
    private static int Timelines(EmotionRecognizer recognizer, List<string> files, TimelineOptions options, string format, string? page, TextWriter output, TextWriter error)
    {
        var labels = recognizer.Labels;
        int failed = 0;
        var timelines = new List<Timeline>();
        foreach (var file in files)
        {
            try { timelines.Add(recognizer.PredictTimeline(file, options)); }
            catch (AudioException e) { failed++; error.WriteLine($"error: {e.Message}"); }
        }
        if (page is not null) Training.Reports.TimelinePage.Write(page, timelines, labels);
        string F(double v, string format = "F2") => v.ToString(format, CultureInfo.InvariantCulture);
        if (format == "csv")
        {
            output.WriteLine("file,start,end,label," + string.Join(",", labels));
            foreach (var t in timelines)
                foreach (var s in t.Segments)
                    output.WriteLine($"{Csv.Quote(t.Source)},{F(s.StartSeconds, "F3")},{F(s.EndSeconds, "F3")},{s.Prediction.Label}," +
                                     string.Join(",", labels.Select((_, k) => F(s.Prediction.Scores[k], "F4"))));
        }
        else if (format == "json")
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartArray();
                foreach (var t in timelines)
                {
                    w.WriteStartObject();
                    w.WriteString("file", t.Source);
                    w.WriteStartArray("segments");
                    foreach (var s in t.Segments)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("start", Math.Round(s.StartSeconds, 3));
                        w.WriteNumber("end", Math.Round(s.EndSeconds, 3));
                        w.WriteString("label", s.Prediction.Label);
                        w.WriteStartObject("probabilities");
                        for (int k = 0; k < labels.Count; k++) w.WriteNumber(labels[k], s.Prediction.Scores[k]);
                        w.WriteEndObject();
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        }
        else
            foreach (var t in timelines)
            {
                output.WriteLine($"{t.Source}: {t.Segments.Count} segment(s) of speech");
                if (t.Segments.Count > 0) output.WriteLine($"  {"start",8} {"end",8}  {"label",-18} confidence");
                foreach (var s in t.Segments)
                    output.WriteLine($"  {F(s.StartSeconds) + " s",8} {F(s.EndSeconds) + " s",8}  {s.Prediction.Label,-18} {s.Prediction.Confidence.ToString("P1", CultureInfo.InvariantCulture)}");
            }
        return failed > 0 ? CliApp.BadInput : CliApp.Ok;
    }

    /// <summary>Files as given, folders walked; every file a walk skips is reported on <paramref name="error"/> with why.</summary>
    private static List<string> Expand(IEnumerable<string> paths, TextWriter error)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var (found, skipped) = CorpusIndex.AudioFilesUnder(path);
                foreach (var other in skipped) error.WriteLine($"warning: skipped {other}: {CorpusIndex.NotAudio}.");
                if (found.Length == 0) throw new OptionsException($"{path}: no audio files ({string.Join(", ", AudioReader.Extensions)}) in this folder.");
                files.AddRange(found);
            }
            else files.Add(path); // a missing file is reported by the reader with its name
        }
        return files;
    }

    private static void WriteJson(TextWriter output, IReadOnlyList<string> labels, IReadOnlyList<EmotionPrediction> results, ClusterVoteResult? vote)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            for (int i = 0; i < results.Count; i++)
            {
                w.WriteStartObject();
                w.WriteString("file", results[i].Source);
                w.WriteString("label", results[i].Label);
                w.WriteStartObject("probabilities");
                for (int k = 0; k < labels.Count; k++) w.WriteNumber(labels[k], results[i].Scores[k]);
                w.WriteEndObject();
                if (vote is not null)
                {
                    w.WriteStartObject("cluster_vote");
                    w.WriteNumber("group", vote.Cluster[i] + 1);
                    w.WriteString("label", labels[vote.Labels[i]]);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
