using System.Text.Json;

using SpeechEmotion.Training;
using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli.Tests;

/// <summary>
/// train → evaluate → predict → inspect → report → resume through the real commands, on a generated corpus.
/// One shared corpus and run (class fixture) keep the suite quick.
/// </summary>
public sealed class TrainedRunFixture : IDisposable
{
    public TrainedRunFixture()
    {
        Root = Directory.CreateTempSubdirectory("se-e2e-").FullName;
        Data = SyntheticEmotions.Create(Path.Combine(Root, "corpus"));
        Run = Path.Combine(Root, "run");
        Result = CliRunner.Run("train", "--data", Data, "--out", Run, "--epochs", "40", "--batch", "16", "--cache", Path.Combine(Root, "cache"), "--seed", "3");
    }

    public string Root { get; }
    public string Data { get; }
    public string Run { get; }
    public (int Exit, string Output, string Error) Result { get; }
    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class TrainingCommandsTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void TrainWritesTheRunFolderAndLearnsTheClasses()
    {
        Assert.True(run.Result.Exit == 0, run.Result.Output + run.Result.Error);
        foreach (var file in new[] { "model.safetensors", "metrics.json", "history.csv", "split.csv", "report.html", "checkpoint.safetensors" })
            Assert.True(File.Exists(Path.Combine(run.Run, file)), $"{file} missing");
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json")));
        double accuracy = metrics.RootElement.GetProperty("accuracy").GetDouble();
        // The seven classes differ audibly (pitch, contour, loudness, rate): 40 epochs, the default, learn them all (measured: 100 %,
        // 21 of 21; 25 epochs gave 20 of 21 once each epoch drew one of four versions of every recording).
        Assert.True(accuracy == 1.0, $"test accuracy {accuracy:P1}: the generated classes are all learnable");
        Assert.Equal(7, metrics.RootElement.GetProperty("confusion").GetArrayLength());
        // Temperature scaling fitted on the validation part, and the calibration error of the test side.
        Assert.InRange(metrics.RootElement.GetProperty("temperature").GetDouble(), Calibration.MinTemperature, Calibration.MaxTemperature);
        Assert.InRange(metrics.RootElement.GetProperty("ece").GetDouble(), 0, 1);
        Assert.Equal(metrics.RootElement.GetProperty("temperature").GetDouble(), ModelBundle.Load(Path.Combine(run.Run, "model.safetensors")).Temperature, 6);
        Assert.Contains("epoch   1/40", run.Result.Output); // plain progress lines when output is captured
        Assert.Contains("samples/s", run.Result.Output);
    }

    /// <summary>ser train --tta also scores the model through its training warps (test-time augmentation), at the epoch
    /// chosen without them: the validation part's plain score is the one it chose by, and ser evaluate --tta gives the
    /// test side's score again, per speaker and one file at a time. Without --tta there is no such block.</summary>
    [Fact]
    public void TrainScoresTheTestTimeViewsAsEvaluateDoes()
    {
        using (var plainRun = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json"))))
            Assert.False(plainRun.RootElement.TryGetProperty("test_time_augmentation", out _));
        string dir = Path.Combine(run.Root, "tta-scores"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--out", dir, "--epochs", "3", "--batch", "16", "--cache", cache, "--seed", "3", "--tta");
        Assert.True(exit == 0, output + error);
        Assert.Contains("Test-time augmentation: the validation part and the test side also heard through vtlp=0.9, vtlp=1.1", output);
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        var block = metrics.RootElement.GetProperty("test_time_augmentation");
        Assert.Equal(["vtlp=0.9", "vtlp=1.1"], block.GetProperty("views").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(metrics.RootElement.GetProperty("validation_accuracy").GetDouble(), block.GetProperty("validation_accuracy_plain").GetDouble(), 12);
        foreach (var field in new[] { "validation_accuracy", "one_file_validation_accuracy", "accuracy", "uar", "ece", "one_file_accuracy" })
            Assert.InRange(block.GetProperty(field).GetDouble(), 0, 1);
        foreach (var (oneFile, field) in new[] { (false, "accuracy"), (true, "one_file_accuracy") })
        {
            string json = Path.Combine(run.Root, $"evaluate-tta-{oneFile}.json");
            (exit, output, error) = CliRunner.Run(["evaluate", "--model", Path.Combine(dir, "model.safetensors"), "--data", run.Data,
                "--json", json, "--cache", cache, "--tta", .. oneFile ? new[] { "--one-file-at-a-time" } : []]);
            Assert.True(exit == 0, output + error);
            using var evaluated = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(block.GetProperty(field).GetDouble(), evaluated.RootElement.GetProperty("accuracy").GetDouble(), 12);
        }
    }

    [Fact]
    public void EvaluateScoresExactlyTheHeldOutSide()
    {
        string json = Path.Combine(run.Root, "evaluate.json");
        var (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(run.Run, "model.safetensors"), "--data", run.Data,
            "--json", json, "--cache", Path.Combine(run.Root, "cache"));
        Assert.True(exit == 0, output + error);
        using var trained = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json")));
        using var evaluated = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(trained.RootElement.GetProperty("accuracy").GetDouble(), evaluated.RootElement.GetProperty("accuracy").GetDouble());
        Assert.Equal(trained.RootElement.GetProperty("confusion").ToString(), evaluated.RootElement.GetProperty("confusion").ToString());
        Assert.Equal("random", evaluated.RootElement.GetProperty("protocol").GetString());
        Assert.Contains("UAR", output);
    }

    /// <summary>Two copies of one model average to the same probabilities: the ensemble scores as the model does.</summary>
    [Fact]
    public void EvaluateScoresAnEnsembleOfModels()
    {
        string model = Path.Combine(run.Run, "model.safetensors"), copy = Path.Combine(run.Root, "copy.safetensors"), json = Path.Combine(run.Root, "ensemble.json");
        File.Copy(model, copy, overwrite: true);
        var (exit, output, error) = CliRunner.Run("evaluate", "--model", model, "--model", copy, "--data", run.Data,
            "--json", json, "--cache", Path.Combine(run.Root, "cache"));
        Assert.True(exit == 0, output + error);
        Assert.Contains("ensemble of 2 models", output);
        using var trained = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json")));
        using var evaluated = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(trained.RootElement.GetProperty("confusion").ToString(), evaluated.RootElement.GetProperty("confusion").ToString());
    }

    [Fact]
    public void PredictLabelsFilesAndFoldersAndReportsBadOnes()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        string folder = Path.Combine(run.Data, "OAF_sad");
        string bad = Path.Combine(run.Root, "broken.wav");
        File.WriteAllText(bad, "this is a text file, not audio at all");
        var (exit, output, error) = CliRunner.Run("predict", "--model", model, folder, bad, "--json");
        Assert.Equal(2, exit); // one file failed
        Assert.Contains($"error: {bad}: not a WAV", error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(6, json.RootElement.GetArrayLength());
        foreach (var item in json.RootElement.EnumerateArray())
        {
            var probabilities = item.GetProperty("probabilities").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
            Assert.Equal(7, probabilities.Count);
            Assert.Equal(1.0, probabilities.Sum(), 4);
        }
        (exit, output, _) = CliRunner.Run("predict", "--model", model, Directory.GetFiles(folder)[0]);
        Assert.Equal(0, exit);
        Assert.Matches(@"OAF_w\d_sad\.wav: \w+ \(\d+\.\d %\)", output);
    }

    /// <summary><c>ser export --onnx</c> writes the graph (ONNX Runtime checks it in OnnxExportTests) atomically, and
    /// refuses a folder as its target.</summary>
    [Fact]
    public void ExportWritesAnOnnxFile()
    {
        string model = Path.Combine(run.Run, "model.safetensors"), onnx = Path.Combine(run.Root, "model.onnx");
        var (exit, output, error) = CliRunner.Run("export", "--model", model, "--onnx", onnx);
        Assert.True(exit == 0, error);
        Assert.Contains($"{onnx}: ", output);
        Assert.Contains("ONNX opset 17; 7 labels", output);
        byte[] bytes = File.ReadAllBytes(onnx);
        Assert.Equal(0x08, bytes[0]); // ModelProto field 1 (ir_version), a varint
        Assert.Equal([onnx], Directory.GetFiles(run.Root, "model.onnx*")); // no temporary file left
        CliRunner.Refused("is a folder", "export", "--model", model, "--onnx", run.Root);
    }

    /// <summary><c>predict -</c> reads a recording from standard input and answers as for the file; a folder walk names
    /// every file it skipped (but hidden ones) and why.</summary>
    [Fact]
    public void PredictReadsStandardInputAndReportsWhatAFolderWalkSkipped()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        string file = Directory.GetFiles(Path.Combine(run.Data, "OAF_sad")).Order(StringComparer.Ordinal).First();
        var (exit, fromFile, _) = CliRunner.Run("predict", "--model", model, file);
        Assert.Equal(0, exit);
        var (inputExit, fromInput, inputError) = CliRunner.RunWithInput(File.ReadAllBytes(file), "predict", "--model", model, "-");
        Assert.True(inputExit == 0, inputError);
        Assert.Equal(fromFile.Replace(file, "(standard input)"), fromInput);
        var (badExit, _, badError) = CliRunner.RunWithInput("not audio"u8.ToArray(), "predict", "--model", model, "-", file);
        Assert.Equal(2, badExit);
        Assert.Contains("error: (standard input): ", badError);
        CliRunner.Refused("--timeline streams files from disk", "predict", "--model", model, "--timeline", "-");

        string folder = Path.Combine(run.Root, "walked");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.Copy(file, Path.Combine(folder, "sub", "a.wav"), overwrite: true);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "a note");
        File.WriteAllText(Path.Combine(folder, "sub", "cover.jpg"), "an image");
        File.WriteAllText(Path.Combine(folder, ".hidden"), "");
        var (walkExit, _, walkError) = CliRunner.Run("predict", "--model", model, folder);
        Assert.Equal(0, walkExit);
        Assert.Contains($"warning: skipped {Path.Combine(folder, "notes.txt")}: not an audio file (.wav, .wave, .aif, .aiff, .aifc, .flac, .mp3, .ogg, .oga).", walkError);
        Assert.Contains($"warning: skipped {Path.Combine(folder, "sub", "cover.jpg")}: not an audio file", walkError);
        Assert.DoesNotContain(".hidden", walkError);
    }

    /// <summary>A folder too small for a test side is refused before training; one too small for a validation part
    /// trains, says so, keeps the last epoch and draws no validation curve.</summary>
    [Fact]
    public void A_folder_too_small_is_refused_or_trained_without_validation_and_says_so()
    {
        string tiny = SyntheticEmotions.Create(Path.Combine(run.Root, "tiny"), words: 1); // 2 speakers × 7 emotions × 1
        string refused = Path.Combine(run.Root, "tiny-random");
        CliRunner.Refused("14 utterances leave no test side under the random protocol", "train", "--data", tiny, "--out", refused, "--epochs", "1", "--cache", "none");
        Assert.False(Directory.Exists(refused));
        string speaker = Path.Combine(run.Root, "tiny-speaker");
        var (exit, output, error) = CliRunner.Run("train", "--data", tiny, "--protocol", "speaker", "--test-speaker", "YAF", "--out", speaker, "--epochs", "2", "--cache", "none");
        Assert.True(exit == 0, error);
        Assert.Contains("too few utterances for a validation part", output + error);
        Assert.Contains("Kept epoch 2 of 2 (no validation part to choose by).", output);
        string html = File.ReadAllText(Path.Combine(speaker, "report.html"));
        Assert.Contains("too few utterances for a validation part", html);
        Assert.DoesNotContain(">validation<", html); // no validation curve in the legends
    }

    /// <summary>ser explain: JSON with a share per frame and per feature column, occlusion per frame, and a page whose
    /// charts are inline SVG under a CSP; an unknown --class is refused naming the labels.</summary>
    [Fact]
    public void ExplainSaysWhichFramesAndFeaturesMovedTheAnswer()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        string file = Directory.GetFiles(Path.Combine(run.Data, "YAF_angry")).Order(StringComparer.Ordinal).First();
        string page = Path.Combine(run.Root, "explain.html");
        var (exit, output, error) = CliRunner.Run("explain", "--model", model, file, "--json", "--html", page);
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(EmotionRecognizer.Load(model).Predict(file).Label, root.GetProperty("label").GetString());
        int frames = root.GetProperty("by_frame").GetArrayLength();
        Assert.True(frames > 10);
        Assert.Equal(frames, root.GetProperty("occlusion").GetArrayLength());
        Assert.Contains(root.GetProperty("by_feature").EnumerateObject(), p => p.Name == "Δ mfcc 0");
        Assert.True(root.GetProperty("by_frame").EnumerateArray().Sum(v => v.GetDouble()) > 0);
        string html = File.ReadAllText(page);
        Assert.Contains("Content-Security-Policy", html);
        Assert.Equal(3, html.Split("<svg").Length - 1);
        Assert.DoesNotContain("<script", html);
        CliRunner.Refused("--class must be one of the model's labels", "explain", "--model", model, file, "--class", "bored");
    }

    /// <summary>
    /// --timeline: three files of the corpus joined with pauses between them come back as three segments, in order, each
    /// labelled as the file alone is (JSON), the CSV has a column per label, and the options are checked.
    /// </summary>
    [Fact]
    public void PredictTimelineCutsAJoinedRecordingWhereItsFilesAre()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        var files = Directory.GetFiles(Path.Combine(run.Data, "OAF_sad")).Order(StringComparer.Ordinal).Take(1)
            .Concat(Directory.GetFiles(Path.Combine(run.Data, "YAF_angry")).Order(StringComparer.Ordinal).Take(1))
            .Concat(Directory.GetFiles(Path.Combine(run.Data, "OAF_happy")).Order(StringComparer.Ordinal).Take(1)).ToList();
        var clips = files.Select(f => SpeechEmotion.Audio.AudioReader.Read(f)).ToList();
        int rate = clips[0].SampleRate;
        var joined = new List<float>();
        foreach (var clip in clips) { joined.AddRange(new float[rate]); joined.AddRange(clip.Samples); }
        joined.AddRange(new float[rate]);
        string path = Path.Combine(run.Root, "joined.wav");
        File.WriteAllBytes(path, SpeechEmotion.Audio.Tests.TestAudio.Wav([joined.ToArray()], rate));

        var (exit, output, error) = CliRunner.Run("predict", "--model", model, "--timeline", "--json", path);
        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var segments = json.RootElement[0].GetProperty("segments").EnumerateArray().ToList();
        Assert.Equal(3, segments.Count);
        var recognizer = EmotionRecognizer.Load(model);
        double offset = 0;
        for (int k = 0; k < 3; k++)
        {
            offset += 1.0; // the pause before file k
            Assert.InRange(segments[k].GetProperty("start").GetDouble(), offset - 0.1, offset + clips[k].Duration);
            Assert.InRange(segments[k].GetProperty("end").GetDouble(), offset, offset + clips[k].Duration + 0.1);
            // The file alone, as the timeline hears it: with its 0.1 s of padding (here silence) either side.
            var padded = new float[rate / 10].Concat(clips[k].Samples).Concat(new float[rate / 10]).ToArray();
            Assert.Equal(recognizer.Predict(padded, rate).Label, segments[k].GetProperty("label").GetString());
            offset += clips[k].Duration;
        }
        (exit, output, error) = CliRunner.Run("predict", "--model", model, "--timeline", "--csv", path);
        Assert.True(exit == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("file,start,end,label,", lines[0]);
        string page = Path.Combine(run.Root, "timeline.html");
        (exit, _, error) = CliRunner.Run("predict", "--model", model, "--timeline", "--html", page, path);
        Assert.True(exit == 0, error);
        string html = File.ReadAllText(page);
        Assert.Contains("Content-Security-Policy", html);
        Assert.Equal(2, html.Split("<svg").Length - 1); // the envelope with its segments, and the probabilities
        Assert.DoesNotContain("<script", html);
        CliRunner.Refused("--html draws a timeline: give --timeline with it.", "predict", "--model", model, "--html", page, path);
        CliRunner.Refused("--csv prints a timeline: give --timeline with it.", "predict", "--model", model, "--csv", path);
        CliRunner.Refused("TimelineOptions.MaxSegmentSeconds", "predict", "--model", model, "--timeline", "--max-segment", "0.1", path);
    }

    /// <summary>
    /// The default model normalises per speaker: a file alone gets exactly the probabilities it gets among others
    /// (training-side statistics), and --one-speaker standardises the files given with their own statistics.
    /// </summary>
    [Fact]
    public void PredictionOfAFileDoesNotDependOnTheFilesGivenWithIt()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        string folder = Path.Combine(run.Data, "OAF_sad");
        string first = Directory.GetFiles(folder).Order(StringComparer.Ordinal).First();
        static Dictionary<string, string> ByFile(string json) => JsonDocument.Parse(json).RootElement.EnumerateArray()
            .ToDictionary(e => Path.GetFileName(e.GetProperty("file").GetString()!), e => e.GetProperty("probabilities").ToString());
        var (exit, together, error) = CliRunner.Run("predict", "--model", model, folder, "--json");
        Assert.True(exit == 0, error);
        (exit, var alone, error) = CliRunner.Run("predict", "--model", model, first, "--json");
        Assert.True(exit == 0, error);
        Assert.Equal(ByFile(together)[Path.GetFileName(first)], ByFile(alone)[Path.GetFileName(first)]);
        (exit, var twice, error) = CliRunner.Run("predict", "--model", model, "--model", model, first, "--json");
        Assert.True(exit == 0, error); // an ensemble of one model twice predicts as the model
        Assert.Equal(ByFile(alone)[Path.GetFileName(first)], ByFile(twice)[Path.GetFileName(first)]);
        (exit, var asOneVoice, error) = CliRunner.Run("predict", "--model", model, folder, "--json", "--one-speaker");
        Assert.True(exit == 0, error);
        Assert.NotEqual(ByFile(together)[Path.GetFileName(first)], ByFile(asOneVoice)[Path.GetFileName(first)]);
    }

    /// <summary>--model takes the run folder as well as the file in it: the same predictions to the bit.</summary>
    [Fact]
    public void AModelCanBeGivenByItsRunFolder()
    {
        string file = Directory.GetFiles(Path.Combine(run.Data, "YAF_fear")).Order(StringComparer.Ordinal).First();
        var byFile = CliRunner.Run("predict", "--model", Path.Combine(run.Run, "model.safetensors"), file, "--json");
        var byFolder = CliRunner.Run("predict", "--model", run.Run, file, "--json");
        Assert.Equal((0, ""), (byFolder.Exit, byFolder.Error));
        Assert.Equal(byFile.Output, byFolder.Output);
        var (exit, inspected, _) = CliRunner.Run("inspect", "--model", run.Run);
        Assert.Equal(0, exit);
        Assert.StartsWith(Path.Combine(run.Run, "model.safetensors") + "\n", inspected);
    }

    [Fact]
    public void InspectShowsTheModel()
    {
        var (exit, output, _) = CliRunner.Run("inspect", "--model", Path.Combine(run.Run, "model.safetensors"));
        Assert.Equal(0, exit);
        Assert.Contains("lstm.weight_ih_l0_reverse", output);
        // 4 gates × 128 units (the default width) by the default MFCCs (13) with Δ and ΔΔ, and pitch, voicing and energy (the default prosody).
        Assert.Contains($"[{4 * SpeechEmotion.Training.Recipes.DefaultFramesHidden}, {FramesFeatureSize}]", output);
        Assert.Contains("angry, disgust, fear, happy, neutral, pleasant_surprise, sad", output);
        Assert.Contains("window=trim", output);
        // How its answers are calibrated and a single file standardised, as the model stores them.
        var stored = SpeechEmotion.Inference.ModelBundle.Load(Path.Combine(run.Run, "model.safetensors"));
        Assert.Contains($"calibration   temperature {stored.Temperature.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}; one file standardised with ", output);
        string temperature = stored.OneFileTemperature is { } t ? $", temperature {t.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}" : "";
        Assert.Contains((double.IsPositiveInfinity(stored.OneFileRelevance) ? "the training side's statistics" : $"adapted towards its own (relevance {stored.OneFileRelevance} frames)") + temperature + "\n",
            output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void ReportIsSelfContainedHtml()
    {
        var (exit, output, _) = CliRunner.Run("report", "--run", run.Run);
        Assert.Equal(0, exit);
        string html = File.ReadAllText(Path.Combine(run.Run, "report.html"));
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("data:image/png", html); // every chart is OxyPlot's SVG now
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "").Replace("http://www.w3.org/1999/xlink", ""));
        Assert.Equal(7, System.Text.RegularExpressions.Regex.Matches(html, ">log-mel spectrogram<").Count); // one per emotion, with axes and a colour bar
        Assert.Contains("Loss (cross-entropy, log scale)", html);
        Assert.Contains("Confusion matrix", html);
        // The numbers on the page are the run's: its scores, its test count, its best epoch and every confusion cell.
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json")));
        var m = metrics.RootElement;
        foreach (var key in new[] { "accuracy", "uar", "macro_f1" })
            Assert.Contains($"<div class='big'>{m.GetProperty(key).GetDouble().ToString("P2", System.Globalization.CultureInfo.InvariantCulture)}</div>", html);
        Assert.Contains($"{m.GetProperty("test_count").GetInt32()} test utterances", html);
        Assert.Contains($"<div class='big'>epoch {m.GetProperty("best_epoch").GetInt32()}</div>", html);
        Assert.Contains($"chosen: epoch {m.GetProperty("best_epoch").GetInt32()}", html); // marked on both curves
        var cells = System.Text.RegularExpressions.Regex.Matches(html, @"<td style='background:rgba\([^)]*\)'>(\d+)<br>").Select(c => int.Parse(c.Groups[1].Value)).ToList();
        var confusion = m.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetInt32())).ToList();
        Assert.Equal(confusion, cells.Take(confusion.Count));
        Assert.Equal(m.GetProperty("test_count").GetInt32(), cells.Take(confusion.Count).Sum());
        // predictions.csv: one line per test utterance; the report lists the wrong ones and draws a reliability diagram.
        var predictions = File.ReadAllLines(Path.Combine(run.Run, "predictions.csv"));
        Assert.Equal(m.GetProperty("test_count").GetInt32() + 1, predictions.Length);
        int classes = m.GetProperty("labels").GetArrayLength();
        int right = Enumerable.Range(0, classes).Sum(k => confusion[k * classes + k]);
        Assert.Contains($"Misclassified: {m.GetProperty("test_count").GetInt32() - right} of {m.GetProperty("test_count").GetInt32()}", html);
        Assert.Contains("Reliability: accuracy against confidence", html);
        Assert.Contains("Written by <code>ser train --data ", html); // the command line that wrote the run, and when
        Assert.Contains("Report written to", output);
    }

    /// <summary>A run folder another run is writing is refused, and a resume with nothing to resume says why.</summary>
    [Fact]
    public void ABusyRunFolderAndAnEmptyResumeAreRefusedClearly()
    {
        string busy = Path.Combine(run.Root, "busy");
        Directory.CreateDirectory(busy);
        using (SpeechEmotion.Training.TrainingRun.LockRunFolder(busy))
            CliRunner.Refused("another ser train is writing this run folder now", "train", "--data", run.Data, "--epochs", "1", "--cache", "none", "--out", busy);
        Assert.False(File.Exists(Path.Combine(busy, SpeechEmotion.Training.TrainingRun.LockFile))); // gone with the run that held it
        CliRunner.Refused("no checkpoint.safetensors — the run stopped before its first epoch ended", "train", "--resume", busy);
        CliRunner.Refused("no such run folder", "train", "--resume", Path.Combine(run.Root, "never-made"));
    }

    /// <summary>Three epochs, then --resume to six, give bit for bit the model of six epochs straight (label smoothing,
    /// the weights' moving average, the auxiliary heads' states, mixup's α and the weight decay kept by the checkpoint).</summary>
    [Theory]
    [InlineData("0", "0", "0", "0")]
    [InlineData("0.9", "0", "0", "0")]
    [InlineData("0", "0.3", "0.3", "0")]
    [InlineData("0", "0", "0", "0.4")]
    public void ResumingGivesTheSameModelAsAnUninterruptedRun(string weightAverage, string adversary, string arousal, string mixup)
    {
        string cache = Path.Combine(run.Root, "cache");
        string name = $"{weightAverage}-{adversary}-{arousal}-{mixup}";
        string straight = Path.Combine(run.Root, $"straight-{name}"), resumed = Path.Combine(run.Root, $"resumed-{name}");
        var common = new[] { "--data", run.Data, "--epochs", "6", "--lr-schedule", "constant", "--batch", "16", "--cache", cache, "--seed", "5", "--label-smoothing", "0.2", "--weight-decay", "0.05", "--mixup", mixup,
            "--adversary", adversary, "--arousal", arousal, "--weight-average", weightAverage };
        Assert.Equal(0, CliRunner.Run(["train", "--out", straight, .. common]).Exit);
        Assert.Equal(0, CliRunner.Run(["train", "--out", resumed, .. common[..2], "--epochs", "3", .. common[4..]]).Exit);
        string historyPath = Path.Combine(resumed, "history.csv");
        Assert.Equal(4, File.ReadAllLines(historyPath).Length);
        // A kill between the checkpoint and the history write leaves history.csv an epoch behind: the checkpoint's own record wins.
        File.WriteAllLines(historyPath, File.ReadAllLines(historyPath)[..^1]);
        // A damaged copy of the checkpoint is refused by its checksum, in one line.
        string damaged = Path.Combine(run.Root, $"damaged-{name}");
        Directory.CreateDirectory(damaged);
        foreach (var file in Directory.GetFiles(resumed)) File.Copy(file, Path.Combine(damaged, Path.GetFileName(file)));
        var bytes = File.ReadAllBytes(Path.Combine(damaged, "checkpoint.safetensors"));
        bytes[^100] ^= 0x40;
        File.WriteAllBytes(Path.Combine(damaged, "checkpoint.safetensors"), bytes);
        CliRunner.Refused("do not match its checksum: the file is damaged", "train", "--resume", damaged, "--epochs", "6", "--cache", cache);
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "6", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(Enumerable.Range(1, 6), SpeechEmotion.Training.RunFiles.ReadHistory(historyPath).Select(r => r.Epoch));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(straight, "metrics.json")), File.ReadAllText(Path.Combine(resumed, "metrics.json")));
        if (weightAverage != "0")
        {
            // The average is what was kept: the same run without it keeps other weights.
            string plain = Path.Combine(run.Root, $"plain-{name}");
            Assert.Equal(0, CliRunner.Run(["train", "--out", plain, .. common[..^1], "0"]).Exit);
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, "model.safetensors")), File.ReadAllBytes(Path.Combine(straight, "model.safetensors")));
        }
        if (adversary != "0")
        {
            // Both heads' states are in the checkpoint, and the resumed run says it trains with them.
            var tensors = SpeechEmotion.Core.IO.SafeTensors.Read(Path.Combine(resumed, "checkpoint.safetensors")).Tensors;
            Assert.Contains(tensors, t => t.Name == "adversary.adam.v");
            Assert.Contains(tensors, t => t.Name == "arousal.adam.v");
            Assert.Contains("against a speaker adversary (λ 0.3, ", output);
            Assert.Contains(", with an arousal task (μ 0.3)", output);
            // With one voice left to train on there is nothing to tell apart: refused in one line, before any folder is made.
            string lone = Path.Combine(run.Root, $"lone-{name}");
            CliRunner.Refused("the training side has 1 speaker(s), it needs at least 2", "train", "--data", run.Data, "--protocol", "speaker",
                "--test-speaker", "YAF", "--adversary", adversary, "--out", lone, "--cache", cache);
            Assert.False(Directory.Exists(lone));
            string plain = Path.Combine(run.Root, $"plain-{name}");
            Assert.Equal(0, CliRunner.Run(["train", "--out", plain, .. common[..^5], "0", "--arousal", "0", .. common[^2..]]).Exit); // neither head
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, "model.safetensors")), File.ReadAllBytes(Path.Combine(straight, "model.safetensors")));
        }
        if (mixup != "0")
        {
            // The resumed run read α from the checkpoint (it was not given again) and says so; without mixup the model differs.
            Assert.Contains($", with mixup (α {mixup})", output);
            string plain = Path.Combine(run.Root, $"plain-{name}");
            Assert.Equal(0, CliRunner.Run(["train", "--out", plain, .. common[..13], "0", .. common[14..]]).Exit);
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(plain, "model.safetensors")), File.ReadAllBytes(Path.Combine(straight, "model.safetensors")));
        }
    }

    /// <summary>
    /// The frames recipe's default: each training recording and its single-file version (--file-copies 128), one
    /// drawn per epoch (the epoch as long as without copies), the validation part the recordings alone. --augment adds
    /// its copies to the draw; metrics.json says how the copies trained; a resume keeps drawing.
    /// </summary>
    [Fact]
    public void DrawnCopiesTrainOneVersionPerRecordingAndLeaveValidationAlone()
    {
        int Number(string text, string pattern) => int.Parse(System.Text.RegularExpressions.Regex.Match(text, pattern).Groups[1].Value);
        var plain = run.Result.Output;
        int recordings = Number(plain, @"\((\d+) recordings, one version of each drawn per epoch\)");
        Assert.Equal(4 * recordings, Number(plain, @"on (\d+) utterances")); // itself, its single-file version, its two warps
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Run, "metrics.json"))))
        {
            Assert.Equal("one", metrics.RootElement.GetProperty("copies").GetString());
            Assert.Equal([128.0], metrics.RootElement.GetProperty("file_copies").EnumerateArray().Select(e => e.GetDouble()));
        }

        string dir = Path.Combine(run.Root, "drawn"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--lr-schedule", "constant", "--data", run.Data, "--out", dir, "--epochs", "1", "--batch", "16",
            "--cache", cache, "--seed", "3", "--augment", "0.9,1.1");
        Assert.True(exit == 0, output + error);
        Assert.Equal(Number(plain, @"validating on (\d+)"), Number(output, @"validating on (\d+)"));
        Assert.Equal(6 * recordings, Number(output, @"on (\d+) utterances"));
        Assert.Contains($"({recordings} recordings, one version of each drawn per epoch)", output);
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"({recordings} recordings, one version of each drawn per epoch)", output);

        // Without copies nothing is drawn: every recording trains every epoch.
        string none = Path.Combine(run.Root, "no-copies");
        (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--out", none, "--epochs", "1", "--cache", cache, "--file-copies", "none", "--vtlp", "none");
        Assert.True(exit == 0, output + error);
        Assert.Equal(recordings, Number(output, @"on (\d+) utterances"));
        Assert.DoesNotContain("drawn per epoch", output);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(none, "metrics.json"))))
            Assert.Equal("all", metrics.RootElement.GetProperty("copies").GetString());

        CliRunner.Refused("--copies one draws among the copies of --augment, --vtlp, --rooms or --file-copies", "train", "--data", run.Data, "--file-copies", "none", "--vtlp", "none", "--copies", "one");
        CliRunner.Refused("--copies must be all or one", "train", "--data", run.Data, "--augment", "0.9", "--copies", "half");
        CliRunner.Refused("--file-copies takes relevances in frames, 0 or more", "train", "--data", run.Data, "--file-copies", "16,-1");
        CliRunner.Refused("--file-copies standardise recordings as single files", "train", "--data", run.Data, "--recipe", "seed", "--file-copies", "16");
    }

    /// <summary>A short training of the generated corpus into run.Root/<paramref name="name"/> (seed 3, batches of 16, a
    /// constant rate, the shared feature cache) with <paramref name="extra"/> options; it must succeed. Its folder and output.</summary>
    private (string Dir, string Output) ShortRun(string name, string[] extra)
    {
        string dir = Path.Combine(run.Root, name);
        var (exit, output, error) = CliRunner.Run(["train", "--data", run.Data, "--out", dir, "--batch", "16", "--cache", Path.Combine(run.Root, "cache"), "--seed", "3", "--lr-schedule", "constant", .. extra]);
        Assert.True(exit == 0, output + error);
        return (dir, output);
    }

    /// <summary>
    /// <c>--init-seed</c> moves where training starts (initialisation and every draw) and nothing else: the same seed as
    /// <c>--seed</c> gives the default run to the byte, another gives the same split and another model, recorded in
    /// metrics.json; a resume keeps it (stopped and resumed = straight); with --resume or --seeds it is refused.
    /// </summary>
    [Fact]
    public void InitSeedStartsTrainingElsewhereOnTheSameSplit()
    {
        string cache = Path.Combine(run.Root, "cache");
        string Run(string name, params string[] extra) => ShortRun($"init-{name}", extra).Dir;
        byte[] Model(string dir) => File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        ulong InitSeed(string dir)
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
            return metrics.RootElement.GetProperty("init_seed").GetUInt64();
        }
        string plain = Run("plain", "--epochs", "3"), same = Run("same", "--epochs", "3", "--init-seed", "3"), other = Run("other", "--epochs", "3", "--init-seed", "11");
        Assert.Equal(Model(plain), Model(same));
        Assert.Equal((3UL, 11UL), (InitSeed(plain), InitSeed(other)));
        Assert.Equal(File.ReadAllText(Path.Combine(plain, "split.csv")), File.ReadAllText(Path.Combine(other, "split.csv")));
        Assert.NotEqual(Model(plain), Model(other));

        string resumed = Run("resumed", "--epochs", "2", "--init-seed", "11");
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "3", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(Model(other), Model(resumed));
        Assert.Equal(11UL, InitSeed(resumed));
        CliRunner.Refused("--init-seed cannot be combined with --resume", "train", "--resume", resumed, "--init-seed", "12", "--cache", cache);
        CliRunner.Refused("--seeds and --init-seed exclude each other", "train", "--data", run.Data, "--seeds", "1,2", "--init-seed", "12", "--cache", cache);
    }

    /// <summary>
    /// Mixup is the frames recipe's default (α 0.4): the default run says so and metrics.json records it; <c>--mixup 0</c>
    /// turns it off (another model, recorded as 0, and no mixup in the training line); the seed recipe trains without it.
    /// </summary>
    [Fact]
    public void MixupIsTheFramesRecipesDefault()
    {
        static float Mixup(string dir)
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
            return metrics.RootElement.GetProperty("mixup").GetSingle();
        }
        Assert.Contains(", with mixup (α 0.4)", run.Result.Output);
        Assert.Equal(Recipes.DefaultFramesMixup, Mixup(run.Run));

        var (mixed, _) = ShortRun("mixup-default", ["--epochs", "2"]);
        var (plain, output) = ShortRun("mixup-off", ["--epochs", "2", "--mixup", "0"]);
        Assert.DoesNotContain("with mixup", output);
        Assert.Equal((0.4f, 0f), (Mixup(mixed), Mixup(plain)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(mixed, "model.safetensors")), File.ReadAllBytes(Path.Combine(plain, "model.safetensors")));

        var (seed, seedOutput) = ShortRun("mixup-seed", ["--epochs", "2", "--recipe", "seed"]);
        Assert.DoesNotContain("with mixup", seedOutput);
        Assert.Equal(0f, Mixup(seed));
    }

    /// <summary>
    /// <c>--crop</c> reaches the training in whole frames (0.2 s at 22,050 Hz with a hop of 512: 9 frames, shorter than
    /// every generated clip): the run says so, metrics.json records it, the model differs from the uncropped one, and a
    /// resume keeps it (stopped and resumed = straight); the default is 1.5 s (65 frames); a bad length, or the seed
    /// recipe, is refused naming the option.
    /// </summary>
    [Fact]
    public void CropTrainsOnWindowsAndResumesWithThem()
    {
        string cache = Path.Combine(run.Root, "cache");
        string Run(string name, params string[] extra)
        {
            var (dir, output) = ShortRun($"crop-{name}", extra);
            Assert.Contains(extra.Contains("0.2") ? ", on random crops of 9 frames (" : "utterances", output);
            return dir;
        }
        byte[] Model(string dir) => File.ReadAllBytes(Path.Combine(dir, "model.safetensors"));
        int Frames(string dir)
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
            return metrics.RootElement.GetProperty("crop_frames").GetInt32();
        }
        string plain = Run("plain", "--epochs", "3", "--crop", "0"), cropped = Run("straight", "--epochs", "3", "--crop", "0.2");
        Assert.Equal((0, 9, 65), (Frames(plain), Frames(cropped), Frames(run.Run)));
        Assert.NotEqual(Model(plain), Model(cropped));

        string resumed = Run("resumed", "--epochs", "2", "--crop", "0.2");
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "3", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Contains(", on random crops of 9 frames (", output);
        Assert.Equal(Model(cropped), Model(resumed));

        CliRunner.Refused("--crop must be a length in seconds, more than 0 and at most 60 (0 = off), got -1", "train", "--data", run.Data, "--crop", "-1", "--cache", cache);
        string seed = Path.Combine(run.Root, "crop-seed");
        CliRunner.Refused("--crop is for the frames recipe", "train", "--data", run.Data, "--recipe", "seed", "--crop", "1", "--out", seed, "--cache", cache);
        Assert.False(Directory.Exists(seed));
    }

    /// <summary>
    /// <c>--score-window</c> scores the validation part, the test side and the saved model by windows: the training line
    /// and metrics.json say so, the model file keeps it, the weights are those trained without it (only the scoring
    /// moves), a resume keeps it (stopped and resumed = straight), and a bad length or the seed recipe is refused naming
    /// the option.
    /// </summary>
    [Fact]
    public void ScoreWindowIsStoredInTheModelAndKeptOnResume()
    {
        string cache = Path.Combine(run.Root, "cache");
        int Frames(string dir)
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
            return metrics.RootElement.GetProperty("score_window_frames").GetInt32();
        }
        ModelBundle Model(string dir) => ModelBundle.Load(Path.Combine(dir, "model.safetensors"));
        var (plain, _) = ShortRun("window-plain", ["--epochs", "2"]);
        var (windowed, output) = ShortRun("window-straight", ["--epochs", "2", "--score-window", "0.2"]);
        Assert.Contains("; scored by windows of 9 frames, their logits averaged", output);
        Assert.Equal((0, 9), (Frames(plain), Frames(windowed)));
        Assert.Equal((0, 9), (Model(plain).ScoringWindow, Model(windowed).ScoringWindow));
        Assert.Equal(Model(plain).Model.Parameters.Values, Model(windowed).Model.Parameters.Values);

        var (resumed, _) = ShortRun("window-resumed", ["--epochs", "1", "--score-window", "0.2"]);
        var (exit, resumedOutput, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, resumedOutput + error);
        Assert.Contains("; scored by windows of 9 frames", resumedOutput);
        Assert.Equal(File.ReadAllBytes(Path.Combine(windowed, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));

        CliRunner.Refused("--score-window must be a length in seconds, more than 0 and at most 60 (0 = off), got -1", "train", "--data", run.Data, "--score-window", "-1", "--cache", cache);
        string seed = Path.Combine(run.Root, "window-seed");
        CliRunner.Refused("--score-window is for the frames recipe", "train", "--data", run.Data, "--recipe", "seed", "--score-window", "1", "--out", seed, "--cache", cache);
        Assert.False(Directory.Exists(seed));
    }

    /// <summary><c>--balance</c> reaches the run: metrics.json names it, the checkpoint keeps it for a resume, and a bad value
    /// is refused naming the option (what it does to the training: BalancingTests).</summary>
    [Fact]
    public void BalanceIsRecordedAndKeptOnResume()
    {
        string dir = Path.Combine(run.Root, "balanced"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--lr-schedule", "constant", "--data", run.Data, "--out", dir, "--epochs", "1", "--batch", "16",
            "--cache", cache, "--seed", "3", "--balance", "classes");
        Assert.True(exit == 0, output + error);
        string Balance(string folder)
        {
            using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
            return metrics.RootElement.GetProperty("balance").GetString()!;
        }
        Assert.Equal("classes", Balance(dir));
        Assert.Equal("none", Balance(run.Run));
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal("classes", Balance(dir));
        CliRunner.Refused("--balance must be none, classes or corpora", "train", "--data", run.Data, "--balance", "speakers");
    }

    /// <summary>
    /// <c>--conv channels:kernel</c> puts a convolution before the LSTM: the model file keeps it (inspect names it, its
    /// tensors load), evaluate rescores the run's test side to the same accuracy, predict and a resume use it, and the ONNX
    /// export carries it; a bad value or the seed recipe is refused naming the option.
    /// </summary>
    [Fact]
    public void AConvolutionBeforeTheLstmTrainsAndTravelsWithTheModel()
    {
        string dir = Path.Combine(run.Root, "conv"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--lr-schedule", "constant", "--data", run.Data, "--out", dir, "--epochs", "2", "--batch", "16",
            "--cache", cache, "--seed", "3", "--conv", "12:5");
        Assert.True(exit == 0, output + error);
        string model = Path.Combine(dir, "model.safetensors");
        var bundle = ModelBundle.Load(model);
        Assert.Equal((12, 5), (bundle.Model.Config.ConvChannels, bundle.Model.Config.ConvKernel));
        Assert.Equal([12, bundle.Model.Config.InputSize, 5], bundle.Model.Parameters["conv.weight"].Shape);
        (exit, output, error) = CliRunner.Run("inspect", "--model", model);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"Conv1d({bundle.Model.Config.InputSize}→12, kernel 5) ReLU → LSTM(12→", output);

        string json = Path.Combine(run.Root, "conv-evaluate.json");
        (exit, output, error) = CliRunner.Run("evaluate", "--model", model, "--data", run.Data, "--json", json, "--cache", cache);
        Assert.True(exit == 0, output + error);
        using (var trained = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json"))))
        using (var evaluated = JsonDocument.Parse(File.ReadAllText(json)))
            Assert.Equal(trained.RootElement.GetProperty("accuracy").GetDouble(), evaluated.RootElement.GetProperty("accuracy").GetDouble());
        (exit, output, error) = CliRunner.Run("predict", "--model", model, Directory.GetFiles(Path.Combine(run.Data, "OAF_sad")).Order(StringComparer.Ordinal).First());
        Assert.True(exit == 0, output + error);
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--epochs", "3", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(12, ModelBundle.Load(model).Model.Config.ConvChannels);
        string onnx = Path.Combine(run.Root, "conv.onnx");
        (exit, output, error) = CliRunner.Run("export", "--model", model, "--onnx", onnx);
        Assert.True(exit == 0, output + error);
        Assert.True(new FileInfo(onnx).Length > 0);

        CliRunner.Refused("--conv takes channels:kernel", "train", "--data", run.Data, "--conv", "12:4");
        CliRunner.Refused("--conv takes channels:kernel", "train", "--data", run.Data, "--conv", "12");
        CliRunner.Refused("--conv is for the frames recipe", "train", "--data", run.Data, "--recipe", "seed", "--conv", "12:5");
    }

    /// <summary>
    /// Speed-perturbed and VTLP-warped copies join the training side (three times the utterances for one factor of
    /// each), the model remembers both, and a resume of that run continues with the same augmentation.
    /// </summary>
    [Fact]
    public void AugmentedTrainingAddsPerturbedCopiesAndTheModelRemembersThem()
    {
        string dir = Path.Combine(run.Root, "augmented"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--lr-schedule", "constant", "--data", run.Data, "--out", dir, "--epochs", "1", "--batch", "16",
            "--cache", cache, "--seed", "3", "--augment", "0.9", "--vtlp", "1.1", "--copies", "all", "--file-copies", "none");
        Assert.True(exit == 0, output + error);
        int Count(string text) => int.Parse(System.Text.RegularExpressions.Regex.Match(text, @"on (\d+) utterances").Groups[1].Value);
        int recordings = int.Parse(System.Text.RegularExpressions.Regex.Match(run.Result.Output, @"\((\d+) recordings").Groups[1].Value);
        Assert.Equal(3 * recordings, Count(output));
        (exit, output, error) = CliRunner.Run("inspect", "--model", Path.Combine(dir, "model.safetensors"));
        Assert.True(exit == 0, output + error);
        Assert.Contains("augmentation  speed 0.9; VTLP 1.1", output);
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(3 * recordings, Count(output));

        // --tta scores each test utterance through the model's training perturbations too (speed 0.9, warp 1.1) and averages.
        string json = Path.Combine(run.Root, "tta.json");
        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(dir, "model.safetensors"), "--data", run.Data,
            "--cache", cache, "--tta", "--json", json);
        Assert.True(exit == 0, output + error);
        Assert.Contains("each utterance also scored through speed=0.9, vtlp=1.1, probabilities averaged", error);
        Assert.Contains(", test-time augmentation)", output);
        using (var tta = JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal(21, tta.RootElement.GetProperty("test_count").GetInt32()); // a quarter of the 84 generated utterances
            Assert.Equal(["speed=0.9", "vtlp=1.1"], tta.RootElement.GetProperty("tta_views").EnumerateArray().Select(v => v.GetString()));
        }
        // A model trained on no perturbation has no view to add: refused in one line.
        string plain = Path.Combine(run.Root, "unperturbed");
        (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--out", plain, "--epochs", "1", "--cache", cache, "--vtlp", "none", "--tta");
        Assert.True(exit == 0, output + error);
        Assert.Contains("no test-time scores: the model was trained with no speed or warp copies", output + error);
        CliRunner.Refused("no model given here was trained with any", "evaluate", "--model", Path.Combine(plain, "model.safetensors"),
            "--data", run.Data, "--cache", cache, "--tta");

        // predict --tta: the same average for files; each file's probabilities still sum to one.
        (exit, output, error) = CliRunner.Run("predict", "--model", Path.Combine(dir, "model.safetensors"), Path.Combine(run.Data, "YAF_sad"), "--json", "--tta");
        Assert.True(exit == 0, output + error);
        using (var predicted = JsonDocument.Parse(output))
        {
            Assert.Equal(6, predicted.RootElement.GetArrayLength());
            foreach (var item in predicted.RootElement.EnumerateArray())
                Assert.Equal(1.0, item.GetProperty("probabilities").EnumerateObject().Sum(p => p.Value.GetDouble()), 4);
        }
        CliRunner.Refused("no model given here was trained with any", "predict", "--model", Path.Combine(plain, "model.safetensors"),
            Path.Combine(run.Data, "YAF_sad"), "--tta");
    }

    /// <summary>
    /// --validate-speeds adds perturbed copies of the validation part alone (the training side and the test side keep
    /// their sizes), and a resume of that run validates on the same copies.
    /// </summary>
    [Fact]
    public void ValidationSpeedsAddCopiesOfTheValidationPartOnly()
    {
        string dir = Path.Combine(run.Root, "validate-speeds"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--lr-schedule", "constant", "--data", run.Data, "--out", dir, "--epochs", "1", "--batch", "16",
            "--cache", cache, "--seed", "3", "--validate-speeds", "0.8,1.2");
        Assert.True(exit == 0, output + error);
        int Count(string text, string what) => int.Parse(System.Text.RegularExpressions.Regex.Match(text, what + @" (\d+)").Groups[1].Value);
        Assert.Equal(Count(run.Result.Output, "on"), Count(output, "on"));
        Assert.Equal(3 * Count(run.Result.Output, "validating on"), Count(output, "validating on"));
        Assert.Equal(Count(run.Result.Output, "testing on"), Count(output, "testing on"));
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(3 * Count(run.Result.Output, "validating on"), Count(output, "validating on"));
        CliRunner.Refused("--validate-speeds takes speed factors in (0.5, 2) other than 1", "train", "--data", run.Data, "--validate-speeds", "1");
    }

    /// <summary>The frames recipe's values per frame: its MFCCs with Δ and ΔΔ, then pitch, voicing and energy.</summary>
    private static int FramesFeatureSize => 3 * SpeechEmotion.Training.Recipes.DefaultFramesCoefficients + SpeechEmotion.Audio.Prosody.Size;

    /// <summary>
    /// --prosody appends pitch, voicing and energy to every frame (standardised per speaker even under per-utterance
    /// normalisation); the model remembers it, predicts with it, and the seed recipe refuses it.
    /// </summary>
    [Fact]
    public void ProsodyFeaturesTravelWithTheModel()
    {
        string dir = Path.Combine(run.Root, "prosody"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--out", dir, "--epochs", "2", "--batch", "16",
            "--cache", cache, "--seed", "3", "--prosody", "--normalization", "utterance");
        Assert.True(exit == 0, output + error);
        Assert.Contains($"{FramesFeatureSize} values per frame", output);
        string model = Path.Combine(dir, "model.safetensors");
        (exit, output, error) = CliRunner.Run("inspect", "--model", model);
        Assert.True(exit == 0, output + error);
        Assert.Contains("prosody=1", output);
        Assert.Contains($"LSTM({FramesFeatureSize}→", output);
        (exit, output, error) = CliRunner.Run("predict", "--model", model, Path.Combine(run.Data, "OAF_sad"), "--json");
        Assert.True(exit == 0, output + error);
        Assert.Contains("\"probabilities\"", output);
        CliRunner.Refused("--prosody is for the frames recipe", "train", "--data", run.Data, "--recipe", "seed", "--prosody");
    }

    /// <summary>--seeds trains one model per seed and scores their ensemble; evaluate with the members agrees.</summary>
    [Fact]
    public void TrainingWithSeveralSeedsScoresTheirEnsemble()
    {
        string dir = Path.Combine(run.Root, "ensemble"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "YAF",
            "--seeds", "1-2", "--epochs", "2", "--batch", "16", "--cache", cache, "--out", dir);
        Assert.True(exit == 0, output + error);
        Assert.Contains("Ensemble of 2 seeds (1, 2)", output);
        using var ensemble = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "ensemble.json")));
        Assert.Equal("[1,2]", ensemble.RootElement.GetProperty("seeds").ToString().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        string json = Path.Combine(run.Root, "ensemble-evaluated.json");
        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(dir, "seed-1", "model.safetensors"),
            "--model", Path.Combine(dir, "seed-2", "model.safetensors"), "--data", run.Data, "--cache", cache, "--json", json);
        Assert.True(exit == 0, output + error);
        Assert.DoesNotContain("may have seen", error); // the speaker protocol's test side does not depend on the seed
        using var evaluated = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(ensemble.RootElement.GetProperty("confusion").ToString(), evaluated.RootElement.GetProperty("confusion").ToString());

        // --cluster-vote adds the ensemble's cluster vote beside its plain score; evaluate --cluster-vote of the members agrees.
        string voted = Path.Combine(run.Root, "ensemble-voted");
        (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "YAF",
            "--seeds", "1-2", "--epochs", "2", "--batch", "16", "--cache", cache, "--out", voted, "--cluster-vote");
        Assert.True(exit == 0, output + error);
        Assert.Contains("Ensemble by cluster vote (transductive", output);
        Assert.Contains("Test side by cluster vote (transductive", output); // each member's own vote too
        using var votedEnsemble = JsonDocument.Parse(File.ReadAllText(Path.Combine(voted, "ensemble.json")));
        var vote = votedEnsemble.RootElement.GetProperty("cluster_vote");
        Assert.Equal(42, vote.GetProperty("groups").GetProperty("tess:YAF").GetProperty("sizes").EnumerateArray().Sum(e => e.GetInt32()));
        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(voted, "seed-1", "model.safetensors"),
            "--model", Path.Combine(voted, "seed-2", "model.safetensors"), "--data", run.Data, "--cache", cache, "--json", json, "--cluster-vote");
        Assert.True(exit == 0, output + error);
        using (var reevaluated = JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal(vote.GetProperty("accuracy").GetDouble(), reevaluated.RootElement.GetProperty("accuracy").GetDouble());
            Assert.Equal(vote.GetProperty("confusion").ToString().Replace(" ", "").Replace("\n", "").Replace("\r", ""),
                         reevaluated.RootElement.GetProperty("confusion").ToString().Replace(" ", "").Replace("\n", "").Replace("\r", ""));
        }
        using (var member = JsonDocument.Parse(File.ReadAllText(Path.Combine(voted, "seed-1", "metrics.json"))))
            Assert.InRange(member.RootElement.GetProperty("cluster_vote").GetProperty("accuracy").GetDouble(), 0, 1);
        string report = File.ReadAllText(Path.Combine(voted, "seed-1", "report.html"));
        Assert.Contains("Cluster vote (transductive)", report);
        Assert.Contains("After the cluster vote (transductive)", report); // its confusion matrix beside the plain one

        CliRunner.Refused("--seeds needs --protocol speaker", "train", "--data", run.Data, "--seeds", "1,2", "--out", Path.Combine(run.Root, "no-ensemble"));
        CliRunner.Refused("--seeds needs 2 to 50 distinct seeds", "train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "YAF", "--seeds", "7");
    }

    /// <summary>
    /// --adapt: after training, rounds of self-training on the test side's unlabelled audio; adaptation.csv records
    /// each round's growing share, the model file says it was adapted, evaluate calls the score transductive, and a
    /// resumed run adapts again to the same model.
    /// </summary>
    [Fact]
    public void AdaptationSelfTrainsOnTheTestSideAndSaysSo()
    {
        string dir = Path.Combine(run.Root, "adapted"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "YAF",
            "--epochs", "3", "--batch", "16", "--cache", cache, "--out", dir, "--adapt", "2", "--lr-schedule", "constant", "--keep", "best");
        Assert.True(exit == 0, output + error);
        Assert.Contains("Adaptation round 2:", output);
        Assert.Contains("after 2 rounds of self-training", output);
        var lines = File.ReadAllLines(Path.Combine(dir, "adaptation.csv"));
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("round,share,pseudo_labelled,n_angry,", lines[0]);
        int testCount = int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"testing on (\d+)").Groups[1].Value);
        var header = lines[0].Split(',');
        int changedColumn = Array.IndexOf(header, "changed_predictions");
        Assert.Equal("", lines[1].Split(',')[changedColumn]); // nothing to compare the first round with
        // The second round relabels some test utterances (5 of 42 with this seed), never none or all of them.
        Assert.InRange(int.Parse(lines[2].Split(',')[changedColumn]), 1, testCount - 1);
        int[] Fields(string line) => line.Split(',').Where((_, i) => i != 1 && i != changedColumn && i != header.Length - 1).Select(int.Parse).ToArray();
        var first = Fields(lines[1]); var second = Fields(lines[2]);
        Assert.Equal(1, first[0]);
        Assert.Equal(first[1], first.Skip(2).Take(7).Sum()); // per-class counts add up
        Assert.True(first[1] >= testCount / 3 && first[1] < second[1] && second[1] <= testCount, string.Join('|', lines)); // ⅓, then ⅔ of each class
        Assert.True(File.Exists(Path.Combine(dir, "history-round-2.csv")));

        (exit, output, error) = CliRunner.Run("inspect", "--model", Path.Combine(dir, "model.safetensors"));
        Assert.True(exit == 0, output + error);
        Assert.Contains("adaptation    2 rounds of self-training", output);
        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(dir, "model.safetensors"), "--data", run.Data, "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Contains("a transductive score", error);

        string model = File.ReadAllText(Path.Combine(dir, "metrics.json"));
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Contains("Adaptation round 2:", output);
        Assert.Equal(model, File.ReadAllText(Path.Combine(dir, "metrics.json")));

        using (var metrics = JsonDocument.Parse(model))
        {
            Assert.Equal("model", metrics.RootElement.GetProperty("adaptation_prior").GetString());
            Assert.InRange(metrics.RootElement.GetProperty("before_adaptation").GetProperty("accuracy").GetDouble(), 0, 1);
        }
        Assert.True(File.Exists(Path.Combine(dir, "model-before-adaptation.safetensors")));
        Assert.Contains("Adaptation (transductive)", File.ReadAllText(Path.Combine(dir, "report.html")));

        CliRunner.Refused("--adapt takes 0 to 10 rounds, got 11", "train", "--data", run.Data, "--adapt", "11");
        string nowhere = Path.Combine(run.Root, "no-such-folder"), refusedRun = Path.Combine(run.Root, "refused-adapt");
        CliRunner.Refused($"--adapt-to {nowhere}: no such folder.", "train", "--data", run.Data, "--adapt-to", nowhere, "--out", refusedRun);
        CliRunner.Refused("--adapt-to adapts in rounds of self-training: --adapt 0 leaves none", "train", "--data", run.Data, "--adapt-to", run.Data, "--adapt", "0", "--out", refusedRun);
        string silent = Directory.CreateDirectory(Path.Combine(run.Root, "no-audio")).FullName;
        File.WriteAllText(Path.Combine(silent, "notes.txt"), "not audio");
        CliRunner.Refused($"--adapt-to {silent}: no audio files", "train", "--data", run.Data, "--adapt-to", silent, "--out", refusedRun);
        Assert.False(Directory.Exists(refusedRun), "a run refused on its options must not leave a folder");
        CliRunner.Refused("--adapt-balanced shapes the pseudo-labels of --adapt", "train", "--data", run.Data, "--adapt-balanced");
    }

    /// <summary>
    /// ser train --adapt-to DIR: after training, the model self-trains on a folder of recordings that carry no label (here
    /// YAF's, renamed, one folder one voice) — four rounds by default. What cannot be used is named: a file that is not
    /// audio, and a recording longer than the 20 s taken as one emotion. The run, the model and ser inspect say what it
    /// adapted to, and ser evaluate notes it.
    /// </summary>
    [Fact]
    public void AdaptationToAFolderOfUnlabelledRecordings()
    {
        string target = Path.Combine(run.Root, "adapt-target"), voice = Path.Combine(target, "caller 1"), cache = Path.Combine(run.Root, "cache");
        Directory.CreateDirectory(voice);
        var yaf = Directory.GetFiles(run.Data, "YAF_*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        for (int i = 0; i < yaf.Length; i++) File.Copy(yaf[i], Path.Combine(voice, $"recording-{i:D3}.wav"));
        string byEmotion = Directory.CreateDirectory(Path.Combine(target, "OAF_angry")).FullName;
        File.Copy(Directory.GetFiles(run.Data, "OAF_*_angry.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First(), Path.Combine(byEmotion, "a.wav"));
        string notes = Path.Combine(target, "notes.txt"), tooLong = Path.Combine(target, "long", "meeting.wav");
        File.WriteAllText(notes, "not audio");
        Directory.CreateDirectory(Path.GetDirectoryName(tooLong)!);
        var tone = new float[16000 * 21];
        for (int i = 0; i < tone.Length; i++) tone[i] = 0.2f * MathF.Sin(2 * MathF.PI * 220 * i / 16000f);
        File.WriteAllBytes(tooLong, SpeechEmotion.Audio.Tests.TestAudio.Wav([tone], 16000));

        string dir = Path.Combine(run.Root, "adapted-to-folder");
        var (exit, output, error) = CliRunner.Run("train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "YAF",
            "--epochs", "3", "--batch", "16", "--cache", cache, "--out", dir, "--adapt-to", target);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"skipped {notes}: not an audio file", output);
        Assert.Contains($"skipped {tooLong}: 21 s of speech, longer than the 20 s --adapt-to learns from as one emotion", output);
        Assert.Contains($"Adaptation round 4 of 4: ", output);
        Assert.Contains($"of {target}'s {yaf.Length + 1} utterances", output);
        Assert.Contains("--adapt-to: the folder OAF_angry is named like an emotion (angry); each folder is standardised as one voice", output);
        Assert.DoesNotContain("the folder caller 1 is named like", output);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "adaptation.csv")).Length);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json"))))
        {
            Assert.Equal(4, metrics.RootElement.GetProperty("adaptation_rounds").GetInt32());
            Assert.Equal(Path.GetFullPath(target), metrics.RootElement.GetProperty("adaptation_target").GetString());
            Assert.Equal(yaf.Length + 1, metrics.RootElement.GetProperty("adaptation_recordings").GetInt32());
        }
        string model = Path.Combine(dir, "model.safetensors");
        Assert.Equal(Path.GetFullPath(target), ModelBundle.Load(model).AdaptedTo);
        (exit, output, error) = CliRunner.Run("inspect", "--model", model);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"adaptation    4 rounds of self-training on the recordings under {Path.GetFullPath(target)}", output);
        (exit, output, error) = CliRunner.Run("evaluate", "--model", model, "--data", run.Data, "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Contains($"adapted itself to the recordings under {Path.GetFullPath(target)}", error);
        Assert.DoesNotContain("adapted itself to this test side's audio", error);

        // --resume keeps the folder: the finished run's adaptation again, the same metrics to the byte.
        string finished = File.ReadAllText(Path.Combine(dir, "metrics.json"));
        (exit, output, error) = CliRunner.Run("train", "--resume", dir, "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(finished, File.ReadAllText(Path.Combine(dir, "metrics.json")));
    }

    /// <summary>
    /// evaluate --cluster-vote groups each test speaker's utterances (here YAF's 42) into as many groups as labels,
    /// says the score is transductive, lists the groups and their votes, and writes them to the JSON.
    /// </summary>
    [Fact]
    public void EvaluateWithAClusterVoteGroupsEachSpeakerAndSaysSo()
    {
        string json = Path.Combine(run.Root, "cluster-vote.json"), cache = Path.Combine(run.Root, "cache");
        var (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(run.Run, "model.safetensors"), "--data", run.Data,
            "--protocol", "speaker", "--test-speaker", "YAF", "--cache", cache, "--cluster-vote", "--json", json);
        Assert.True(exit == 0, output + error);
        Assert.Contains("a cluster vote is transductive", error);
        Assert.Contains("Groups of tess:YAF (42 utterances): ", output);
        Assert.Contains("42 utterances, cluster vote)", output);
        using var voted = JsonDocument.Parse(File.ReadAllText(json));
        var groups = voted.RootElement.GetProperty("cluster_vote").GetProperty("tess:YAF");
        var sizes = groups.GetProperty("sizes").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(7, sizes.Count);
        Assert.Equal(42, sizes.Sum());
        var labels = groups.GetProperty("labels").EnumerateArray().Select(e => e.GetString()).ToList();
        // Every group's members share its label, so each predicted column of the confusion matrix is a sum of group sizes.
        var confusion = voted.RootElement.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        var modelLabels = voted.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetString()).ToList();
        for (int c = 0; c < modelLabels.Count; c++)
            Assert.Equal(sizes.Where((_, j) => labels[j] == modelLabels[c]).Sum(), confusion.Sum(row => row[c]));

        (exit, output, error) = CliRunner.Run("evaluate", "--model", Path.Combine(run.Run, "model.safetensors"), "--data", run.Data,
            "--protocol", "speaker", "--test-speaker", "YAF", "--cache", cache);
        Assert.True(exit == 0, output + error);
        double plain = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"accuracy ([\d.]+) %").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        // The classes differ audibly within a voice, so the groups are the emotions and the vote loses nothing.
        Assert.True(voted.RootElement.GetProperty("accuracy").GetDouble() * 100 >= plain - 1e-9, $"vote {voted.RootElement.GetProperty("accuracy")} vs plain {plain} %");
    }

    /// <summary>predict --cluster-vote: the files as one voice, seven groups, each file its group's label beside its
    /// own; too few files to form the groups is refused.</summary>
    [Fact]
    public void PredictWithAClusterVoteGivesEveryFileItsGroupsLabel()
    {
        string model = Path.Combine(run.Run, "model.safetensors");
        var folders = Directory.GetDirectories(run.Data, "YAF_*").Order(StringComparer.Ordinal).ToArray();
        var (exit, output, error) = CliRunner.Run(["predict", "--model", model, "--json", "--cluster-vote", .. folders]);
        Assert.True(exit == 0, output + error);
        using var json = JsonDocument.Parse(output);
        var items = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(42, items.Count);
        var groups = items.Select(i => (Group: i.GetProperty("cluster_vote").GetProperty("group").GetInt32(), Label: i.GetProperty("cluster_vote").GetProperty("label").GetString())).ToList();
        Assert.Equal(Enumerable.Range(1, 7), groups.Select(g => g.Group).Distinct().Order());
        foreach (var group in groups.GroupBy(g => g.Group))
        {
            Assert.Single(group.Select(g => g.Label).Distinct()); // one label per group
            // …the one most of its members' own predictions give.
            var own = items.Where((_, i) => groups[i].Group == group.Key).Select(i => i.GetProperty("label").GetString()).ToList();
            int votes = own.Count(l => l == group.First().Label);
            Assert.True(own.GroupBy(l => l).All(g => g.Count() <= votes), $"group {group.Key}: {string.Join(", ", own)} voted {group.First().Label}");
        }

        (exit, output, error) = CliRunner.Run(["predict", "--model", model, "--cluster-vote", .. Directory.GetFiles(folders[0]).Take(3)]);
        Assert.Equal(2, exit);
        Assert.Contains("at least as many utterances of one voice as there are labels (7); got 3", error);
    }

    /// <summary>--dropout sets the classifier's rate, the model records it, and --resume keeps it (two epochs straight = one
    /// and a resumed one, bit for bit); another rate trains another model.</summary>
    [Fact]
    public void DropoutIsTheModelsAndSurvivesAResume()
    {
        string cache = Path.Combine(run.Root, "cache");
        string straight = Path.Combine(run.Root, "dropout-straight"), resumed = Path.Combine(run.Root, "dropout-resumed"), other = Path.Combine(run.Root, "dropout-default");
        var common = new[] { "--data", run.Data, "--batch", "16", "--cache", cache, "--seed", "3", "--lr-schedule", "constant" };
        Assert.Equal(0, CliRunner.Run(["train", "--out", straight, "--epochs", "2", "--dropout", "0.6", .. common]).Exit);
        Assert.Equal(0, CliRunner.Run(["train", "--out", resumed, "--epochs", "1", "--dropout", "0.6", .. common]).Exit);
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "2", "--cache", cache);
        Assert.True(exit == 0, output + error);
        Assert.Equal(0, CliRunner.Run(["train", "--out", other, "--epochs", "2", .. common]).Exit);
        string Model(string dir) => Path.Combine(dir, "model.safetensors");
        Assert.Equal(0.6f, SpeechEmotion.Inference.ModelBundle.Load(Model(straight)).Model.Config.Dropout);
        Assert.Equal(SpeechEmotion.Training.Recipes.DefaultFramesDropout, SpeechEmotion.Inference.ModelBundle.Load(Model(other)).Model.Config.Dropout);
        Assert.Equal(File.ReadAllBytes(Model(straight)), File.ReadAllBytes(Model(resumed)));
        Assert.NotEqual(File.ReadAllBytes(Model(straight)), File.ReadAllBytes(Model(other)));
    }

    [Fact]
    public void BadOptionsAndMissingDataGiveAClearMessage()
    {
        CliRunner.Refused("corpus folder not found", "train", "--data", Path.Combine(run.Root, "nowhere"));
        CliRunner.Refused("--protocol must be random, speaker, word, corpus or loso, got 'sideways'", "train", "--data", run.Data, "--protocol", "sideways");
        CliRunner.Refused("--vtlp takes warp factors in [0.8, 1.25]", "train", "--data", run.Data, "--vtlp", "0.9,2");
        CliRunner.Refused("--epochs must be in 1…100000, got 0", "train", "--data", run.Data, "--epochs", "0");
        CliRunner.Refused("--label-smoothing must be in [0, 0.5], got 0.6", "train", "--data", run.Data, "--label-smoothing", "0.6");
        CliRunner.Refused("--weight-average must be a decay in [0, 1) (0 = off), got 1", "train", "--data", run.Data, "--weight-average", "1");
        CliRunner.Refused("--mixup must be a Beta parameter α in [0, 10] (0 = off), got -1", "train", "--data", run.Data, "--mixup", "-1");
        CliRunner.Refused("--weight-decay must be in [0, 1) (Adam's decoupled decay", "train", "--data", run.Data, "--weight-decay", "-0.1");
        CliRunner.Refused("--lr-schedule must be constant or cosine, got 'step'", "train", "--data", run.Data, "--lr-schedule", "step");
        CliRunner.Refused("--keep must be best or last, got 'first'", "train", "--data", run.Data, "--keep", "first");
        CliRunner.Refused("--patience must be at least 1 epoch, got 0", "train", "--data", run.Data, "--patience", "0");
        CliRunner.Refused("--dropout must be 0 to 0.9 (the share of the pooled vector's and the dense layer's values dropped in training), got 0.95", "train", "--data", run.Data, "--dropout", "0.95");
        string failedRun = Path.Combine(run.Root, "failed-run");
        CliRunner.Refused("'BOB' is not in the corpus", "train", "--data", run.Data, "--protocol", "speaker", "--test-speaker", "BOB", "--out", failedRun);
        Assert.False(Directory.Exists(failedRun), "a run that failed on its data must not leave an empty run folder");
        CliRunner.Refused("file not found", "evaluate", "--model", Path.Combine(run.Root, "missing.safetensors"));
    }
}

public sealed class CancellationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-cancel-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private sealed class StopAfter(int epochs, CancellationTokenSource source) : SpeechEmotion.Training.ITrainingProgress
    {
        public void Stage(string message) { }
        public void Extraction(int done, int total) { }
        public void Batch(int epoch, int batch, int batches) { if (epoch > epochs && batch == 2) source.Cancel(); }
        public void Epoch(SpeechEmotion.Training.EpochRecord record, int total) { }
        public void Warning(string message) { }
    }

    /// <summary>What Ctrl+C does: the run stops mid-epoch, keeps the last complete epoch's checkpoint, the best model and its metrics.</summary>
    [Fact]
    public void CancellingMidEpochKeepsTheLastGoodCheckpoint()
    {
        string data = SyntheticEmotions.Create(Path.Combine(_root, "corpus"), words: 4);
        string dir = Path.Combine(_root, "run");
        using var source = new CancellationTokenSource();
        var options = new SpeechEmotion.Training.TrainRunOptions(data, RecipeKind.Frames,
            new SplitInfo(Protocol.Random, 2, null),
            new SpeechEmotion.Training.TrainOptions(epochs: 20, batchSize: 8), dir, null);
        var result = SpeechEmotion.Training.TrainingRun.Execute(options, new StopAfter(2, source), source.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.State.Epoch);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "history.csv")).Length);
        var checkpoint = SpeechEmotion.Training.TrainingRun.CheckpointOptions(dir);
        Assert.Equal(2, checkpoint.Epoch);
        Assert.Equal(8, checkpoint.Batch);
        Assert.Equal(4, checkpoint.Rng.Length);
        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "metrics.json")));
        Assert.True(metrics.RootElement.GetProperty("cancelled").GetBoolean());
    }

    /// <summary>A cosine schedule and the last epoch kept: a run stopped after three of six epochs and resumed gives the
    /// straight run's model to the bit (the schedule follows the epoch count, which the checkpoint keeps and --resume
    /// will not change); every epoch is trained though the patience is 1, and the last is the one kept.</summary>
    [Fact]
    public void ACosineScheduleResumesToTheSameModelAndKeepsTheLastEpoch()
    {
        string data = SyntheticEmotions.Create(Path.Combine(_root, "corpus"), words: 4);
        SpeechEmotion.Training.TrainRunOptions Options(string dir) => new(data, RecipeKind.Frames, new SplitInfo(Protocol.Random, 3, null),
            new SpeechEmotion.Training.TrainOptions(epochs: 6, batchSize: 8, learningRate: 4e-3f, patience: 1,
                schedule: SpeechEmotion.Training.LearningRateSchedule.Cosine, keep: SpeechEmotion.Training.EpochChoice.Last), dir, null);
        string straight = Path.Combine(_root, "straight"), resumed = Path.Combine(_root, "resumed");
        var whole = SpeechEmotion.Training.TrainingRun.Execute(Options(straight), new StopAfter(int.MaxValue, new CancellationTokenSource()));
        Assert.Equal(6, whole.State.Epoch);
        Assert.Equal(6, whole.State.BestEpoch);
        Assert.All(whole.State.History, epoch => Assert.True(epoch.Best));

        using (var source = new CancellationTokenSource())
            Assert.True(SpeechEmotion.Training.TrainingRun.Execute(Options(resumed), new StopAfter(3, source), source.Token).Cancelled);
        var saved = SpeechEmotion.Training.TrainingRun.CheckpointOptions(resumed);
        Assert.Equal((SpeechEmotion.Training.LearningRateSchedule.Cosine, SpeechEmotion.Training.EpochChoice.Last, 3), (saved.Schedule, saved.Keep, saved.Epoch));
        CliRunner.Refused("--epochs 8: the run being resumed follows a cosine learning-rate schedule over its 6 epochs, which --resume keeps.",
            "train", "--resume", resumed, "--epochs", "8", "--cache", "none");
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--cache", "none");
        Assert.True(exit == 0, output + error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, "model.safetensors")), File.ReadAllBytes(Path.Combine(resumed, "model.safetensors")));
    }
}

public sealed class BadFileInCorpusTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("se-badcorpus-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ABadFileIsReportedAndSkippedUnlessToldToStop()
    {
        string data = SyntheticEmotions.Create(Path.Combine(_root, "corpus"), words: 3);
        string bad = Path.Combine(data, "OAF_angry", "OAF_zz_angry.wav");
        File.WriteAllBytes(bad, "RIFF\u0024\0\0\0WAVEfmt \u0010\0\0\0\u0055\0\u0001\0"u8.ToArray());
        var (exit, output, error) = CliRunner.Run("train", "--data", data, "--out", Path.Combine(_root, "run"), "--epochs", "2", "--cache", "none");
        Assert.True(exit == 0, output + error);
        Assert.Contains($"warning: skipped {bad}:", output);
        CliRunner.Refused(bad, "train", "--data", data, "--out", Path.Combine(_root, "run2"), "--epochs", "2", "--cache", "none", "--stop-on-error");
        Assert.False(File.Exists(Path.Combine(_root, "run2", "model.safetensors")));
    }
}
