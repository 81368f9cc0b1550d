using System.Text.Json;

namespace SpeechEmotion.Cli.Tests;

/// <summary>ser train on two corpora with the corpus protocol: train on one, test on the other, through the real command.</summary>
public sealed class CorpusProtocolTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-corpora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The generated TESS corpus renamed as RAVDESS names its files (OAF → actor 01, YAF → actor 02), plus
    /// calm copies of the neutral files, which TESS lacks.</summary>
    private static void AsRavdess(string tess, string ravdess)
    {
        var codes = new Dictionary<string, string> { ["neutral"] = "01", ["happy"] = "03", ["sad"] = "04", ["angry"] = "05", ["fear"] = "06", ["disgust"] = "07", ["ps"] = "08" };
        foreach (var file in Directory.EnumerateFiles(tess, "*.wav", SearchOption.AllDirectories))
        {
            var parts = Path.GetFileNameWithoutExtension(file).Split('_'); // SPEAKER_wN_emotion
            string actor = parts[0] == "OAF" ? "01" : "02", repetition = $"{int.Parse(parts[1][1..]) + 1:00}";
            string folder = Path.Combine(ravdess, $"Actor_{actor}");
            Directory.CreateDirectory(folder);
            File.Copy(file, Path.Combine(folder, $"03-01-{codes[parts[2]]}-01-01-{repetition}-{actor}.wav"));
            if (parts[2] == "neutral") File.Copy(file, Path.Combine(folder, $"03-01-02-01-02-{repetition}-{actor}.wav"));
        }
    }

    /// <summary>A generated TESS-layout corpus and its RAVDESS-named copy, three words (repetitions) each.</summary>
    private (string Tess, string Ravdess) TwoCorpora()
    {
        string tess = SyntheticEmotions.Create(Path.Combine(_root, "tess"), words: 3);
        string ravdess = Path.Combine(_root, "ravdess");
        AsRavdess(SyntheticEmotions.Create(Path.Combine(_root, "source"), words: 3), ravdess);
        return (tess, ravdess);
    }

    [Fact]
    public void TrainOnOneCorpusAndScoreTheOtherOnTheClassesTheyShare()
    {
        var (tess, ravdess) = TwoCorpora();
        string run = Path.Combine(_root, "run");
        var (exit, output, error) = CliRunner.Run("train", "--data", tess, "--data", ravdess, "--protocol", "corpus", "--test-corpus", "ravdess",
            "--epochs", "2", "--batch", "16", "--cache", "none", "--out", run);
        Assert.True(exit == 0, output + error);
        Assert.Contains("6 test utterances of class(es) calm, which the model does not know, left out of the score", output + error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("corpus", root.GetProperty("protocol").GetString());
        Assert.Equal("ravdess", root.GetProperty("test_corpus").GetString());
        Assert.Equal(42, root.GetProperty("test_count").GetInt32()); // 2 actors × 7 emotions × 3 repetitions; calm left out
        Assert.Equal(42, root.GetProperty("corpora").GetProperty("tess").GetInt32());
        Assert.Equal(42, root.GetProperty("corpora").GetProperty("ravdess").GetInt32());

        // evaluate rebuilds the same test side from the model's own split.
        var evaluated = CliRunner.Run("evaluate", "--model", run, "--data", tess, "--data", ravdess, "--cache", "none");
        Assert.True(evaluated.Exit == 0, evaluated.Output + evaluated.Error);
        Assert.Contains("corpus (test corpus ravdess)", evaluated.Output);
        Assert.Contains("42 utterances", evaluated.Output);
        // Every file of the folder, the class the model never learnt (calm) left out and said so.
        var whole = CliRunner.Run("evaluate", "--model", run, "--data", ravdess, "--cache", "none", "--all-files");
        Assert.True(whole.Exit == 0, whole.Error);
        Assert.Contains("6 utterances of class(es) calm, which the model does not know, left out of the score", whole.Error);
        Assert.Contains($"Every file of {ravdess} (42 utterances)", whole.Output);

        CliRunner.Refused("--protocol corpus needs --test-corpus NAME", "train", "--data", tess, "--data", ravdess, "--protocol", "corpus");
        CliRunner.Refused("--test-corpus 'emodb' is not in the data", "train", "--data", tess, "--data", ravdess, "--protocol", "corpus", "--test-corpus", "emodb",
            "--out", Path.Combine(_root, "never"));
    }

    /// <summary>--audit-speakers: two of the eight generated actors' training side held out of training and of every choice,
    /// scored at the end; the audit block's accuracy is what ser evaluate --all-files gives on a folder of just those two
    /// actors (each standardised by its own recordings, as there), and split.csv names them as the audit part.</summary>
    [Fact]
    public void AuditSpeakersAreHeldOutOfEveryChoiceAndScoredAtTheEnd()
    {
        string source = SyntheticEmotions.Create(Path.Combine(_root, "source"), words: 3), pair = Path.Combine(_root, "pair");
        AsRavdess(source, pair);
        string ravdess = Path.Combine(_root, "ravdess8");
        for (int actor = 1; actor <= 8; actor++) // actors 01–08 from the two generated voices, in turn
            foreach (var file in Directory.GetFiles(Path.Combine(pair, $"Actor_{(actor % 2 == 1 ? "01" : "02")}")))
            {
                string folder = Directory.CreateDirectory(Path.Combine(ravdess, $"Actor_{actor:00}")).FullName;
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)[..^6] + $"{actor:00}.wav"));
            }
        string run = Path.Combine(_root, "audited");
        var (exit, output, error) = CliRunner.Run("train", "--data", ravdess, "--protocol", "speaker", "--test-speaker", "ravdess:08",
            "--audit-speakers", "2", "--epochs", "2", "--batch", "16", "--cache", "none", "--out", run);
        Assert.True(exit == 0, output + error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var audit = metrics.RootElement.GetProperty("audit");
        var speakers = audit.GetProperty("speakers").EnumerateArray().Select(v => v.GetString()!).ToList();
        Assert.Equal(2, speakers.Count);
        Assert.Equal(48, audit.GetProperty("count").GetInt32()); // 2 actors × 8 emotions × 3 repetitions
        var parts = File.ReadAllLines(Path.Combine(run, "split.csv")).Skip(1).Select(line => line.Split(',')).ToList();
        Assert.All(parts.Where(p => speakers.Contains(p[1])), p => Assert.Equal("audit", p[4].ToLowerInvariant()));
        Assert.Equal(48, parts.Count(p => p[4].Equals("audit", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains(parts, p => p[4].Equals("validation", StringComparison.OrdinalIgnoreCase)); // still a validation part of its own

        string audited = Path.Combine(_root, "audited-actors");
        foreach (var speaker in speakers)
        {
            string actor = $"Actor_{speaker.Split(':')[1]}";
            string folder = Directory.CreateDirectory(Path.Combine(audited, actor)).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(ravdess, actor))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        string json = Path.Combine(_root, "audited.json");
        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--all-files", "--data", audited, "--cache", "none", "--json", json);
        Assert.True(exit == 0, output + error);
        using var scored = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(audit.GetProperty("accuracy").GetDouble(), scored.RootElement.GetProperty("accuracy").GetDouble(), 12);

        CliRunner.Refused("--audit-speakers holds whole speakers out of the training side: the speaker, corpus and loso protocols have them, not random",
            "train", "--data", ravdess, "--audit-speakers", "1", "--cache", "none", "--out", Path.Combine(_root, "refused"));
        CliRunner.Refused("--audit-speakers 6: no training corpus has 4 speakers besides them to give",
            "train", "--data", ravdess, "--protocol", "speaker", "--test-speaker", "ravdess:08", "--audit-speakers", "6", "--cache", "none", "--out", Path.Combine(_root, "refused"));
    }

    [Fact]
    public void LosoTestsEverySpeakerOnceAndSummarisesTheFolds()
    {
        var (tess, ravdess) = TwoCorpora();
        string run = Path.Combine(_root, "loso");
        var (exit, output, error) = CliRunner.Run("train", "--data", tess, "--data", ravdess, "--protocol", "loso", "--test-corpus", "ravdess", "--folds", "2",
            "--epochs", "1", "--batch", "16", "--cache", "none", "--out", run);
        Assert.True(exit == 0, output + error);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "loso.json")));
        var root = summary.RootElement;
        Assert.Equal("loso", root.GetProperty("protocol").GetString());
        var folds = root.GetProperty("folds").EnumerateArray().ToList();
        Assert.Equal(2, folds.Count);
        Assert.Equal(["RAVDESS:01", "RAVDESS:02"], folds.SelectMany(f => f.GetProperty("test_speakers").EnumerateArray().Select(s => s.GetString()!.ToUpperInvariant())).Order());
        Assert.Equal(48, root.GetProperty("test_count").GetInt32()); // both actors, 8 classes × 3 repetitions each
        double mean = folds.Average(f => f.GetProperty("accuracy").GetDouble());
        Assert.Equal(mean, root.GetProperty("accuracy_mean").GetDouble(), 12);
        foreach (var fold in folds)
        {
            // Each fold is a speaker run of its own: TESS always trains, the fold's actor is its whole test side.
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, fold.GetProperty("run").GetString()!, "metrics.json")));
            Assert.Equal(24, metrics.RootElement.GetProperty("test_count").GetInt32());
            Assert.Equal(fold.GetProperty("accuracy").GetDouble(), metrics.RootElement.GetProperty("accuracy").GetDouble());
            // Beside the ECE, a calibrated model's on the same confidences: recomputed from the fold's predictions.csv.
            var rows = File.ReadAllLines(Path.Combine(run, fold.GetProperty("run").GetString()!, "predictions.csv")).Skip(1)
                .Select(line => line.Split(',')[4..].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToList();
            double floor = SpeechEmotion.Inference.Calibration.ExpectedCalibrationErrorFloor(rows.SelectMany(r => r).ToArray(), rows[0].Length);
            Assert.Equal(floor, metrics.RootElement.GetProperty("ece_floor").GetDouble(), 6);
            Assert.Equal(floor, fold.GetProperty("ece_floor").GetDouble(), 6);
        }
        Assert.Equal(folds.Average(f => f.GetProperty("ece_floor").GetDouble()), root.GetProperty("ece_floor_mean").GetDouble(), 12);
        Assert.Contains("Folds: accuracy", output);

        CliRunner.Refused("--folds only applies to --protocol loso", "train", "--data", tess, "--folds", "3");
        CliRunner.Refused("--folds must be 2 to the number of speakers (2), got 3", "train", "--data", ravdess, "--protocol", "loso", "--folds", "3",
            "--out", Path.Combine(_root, "never"));
        CliRunner.Refused("--layout must be tess, ravdess, emodb, cremad, plain, csv, got 'wav'", "train", "--data", tess, "--layout", "wav", "--out", Path.Combine(_root, "never"));
        var forced = CliRunner.Run("train", "--data", ravdess, "--layout", "ravdess", "--epochs", "1", "--batch", "16", "--cache", "none", "--out", Path.Combine(_root, "forced"));
        Assert.True(forced.Exit == 0, forced.Error);
        CliRunner.Refused("--test-speaker does not apply to --protocol loso", "train", "--data", ravdess, "--protocol", "loso", "--test-speaker", "ravdess:01");
    }

    [Fact]
    public void SeveralTestSpeakersAreScoredOneByOneInTheMetricsAndTheReport()
    {
        var (tess, ravdess) = TwoCorpora();
        string run = Path.Combine(_root, "two");
        var (exit, output, error) = CliRunner.Run("train", "--data", tess, "--data", ravdess, "--protocol", "speaker", "--test-speaker", "ravdess:01,tess:YAF",
            "--epochs", "1", "--batch", "16", "--cache", "none", "--out", run);
        Assert.True(exit == 0, output + error);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var speakers = metrics.RootElement.GetProperty("per_speaker");
        Assert.Equal(["ravdess:01", "tess:YAF"], speakers.EnumerateObject().Select(p => p.Name));
        Assert.Equal(24, speakers.GetProperty("ravdess:01").GetProperty("count").GetInt32());
        Assert.Equal(21, speakers.GetProperty("tess:YAF").GetProperty("count").GetInt32());
        Assert.Equal(["ravdess", "tess"], metrics.RootElement.GetProperty("per_corpus").EnumerateObject().Select(p => p.Name));
        string report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("By speaker", report);
        Assert.Contains("<th>tess:YAF</th>", report);
        Assert.Contains("by speaker: ravdess:01", output);
        // Beside the per-speaker score, the inductive one: each file standardised with the training side's statistics.
        var single = metrics.RootElement.GetProperty("one_file_at_a_time");
        Assert.InRange(single.GetProperty("accuracy").GetDouble(), 0, 1);
        Assert.Contains("One file at a time, as ser predict (inductive", output);
        // Its standardisation was chosen on the validation part (never below the unadapted one there) and is stored in the model.
        var relevance = single.GetProperty("relevance");
        double stored = SpeechEmotion.Inference.ModelBundle.Load(Path.Combine(run, "model.safetensors")).OneFileRelevance;
        if (relevance.ValueKind == JsonValueKind.String) { Assert.Equal("none", relevance.GetString()); Assert.True(double.IsPositiveInfinity(stored)); }
        else { Assert.Contains(relevance.GetDouble(), SpeechEmotion.Training.TrainingRun.OneFileRelevances); Assert.Equal(relevance.GetDouble(), stored); }
        if (metrics.RootElement.GetProperty("validation_count").GetInt32() > 0)
            Assert.True(single.GetProperty("validation_accuracy").GetDouble() >= single.GetProperty("validation_accuracy_unadapted").GetDouble());
        else Assert.Equal(("none", false), (relevance.ToString(), single.TryGetProperty("validation_accuracy", out _))); // nothing to choose by
        // It is what ser predict answers for the test files.
        var files = System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(run, "split.csv")), @"^([^,]+),[^,]+,[^,]+,([^,]+),test$",
            System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => (Path: m.Groups[1].Value, Label: m.Groups[2].Value)).ToList();
        Assert.Equal(45, files.Count);
        var predicted = CliRunner.Run(["predict", "--model", run, "--json", .. files.Select(f => f.Path)]);
        Assert.True(predicted.Exit == 0, predicted.Error);
        var answers = JsonDocument.Parse(predicted.Output).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("file").GetString()!, e => e.GetProperty("label").GetString()!);
        double right = files.Count(f => answers[f.Path] == f.Label) / (double)files.Count;
        Assert.Equal(right, single.GetProperty("accuracy").GetDouble(), 12);
        // ser evaluate scores the same way when asked.
        string json = Path.Combine(_root, "one-file.json");
        var evaluated = CliRunner.Run("evaluate", "--model", run, "--data", tess, "--data", ravdess, "--cache", "none", "--one-file-at-a-time", "--json", json);
        Assert.True(evaluated.Exit == 0, evaluated.Error);
        using var scored = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(right, scored.RootElement.GetProperty("accuracy").GetDouble(), 12);
        // With the one-file temperature, fitted on the validation part standardised one file at a time: the same
        // probabilities, so the same calibration error, as training reported.
        var storedModel = SpeechEmotion.Inference.ModelBundle.Load(Path.Combine(run, "model.safetensors"));
        Assert.Equal(storedModel.TemperatureFor(oneFile: true), single.GetProperty("temperature").GetDouble(), 6);
        Assert.Equal(single.GetProperty("ece").GetDouble(), scored.RootElement.GetProperty("ece").GetDouble(), 12);
        Assert.Contains("one file at a time", evaluated.Output);
        // A labelled folder of one's own is scored whole: every RAVDESS file of a class the model knows (calm included: it trained on it).
        var whole = CliRunner.Run("evaluate", "--model", run, "--data", ravdess, "--cache", "none", "--all-files");
        Assert.True(whole.Exit == 0, whole.Error);
        Assert.Contains($"Every file of {ravdess} (48 utterances)", whole.Output);
    }
}
