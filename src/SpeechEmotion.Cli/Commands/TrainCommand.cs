using System.CommandLine;
using System.Globalization;
using SpeechEmotion.Core;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser train</c>: trains a recipe on a protocol's training side and writes a run folder (model, metrics,
/// history, split, report). With no options: the frames recipe, random protocol, data at the default location.
/// </summary>
public static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = CommonOptions.Data();
        var recipe = new Option<string>("--recipe") { Description = "frames (default) or seed.", DefaultValueFactory = _ => "frames" };
        var protocol = CommonOptions.Protocol();
        var testSpeaker = CommonOptions.TestSpeaker();
        var epochs = new Option<int?>("--epochs") { Description = "Maximum epochs (default 40; early stopping may end sooner). With --resume: a new budget for the resumed run." };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => 32 };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 2e-3f };
        var seed = CommonOptions.Seed();
        var outDir = new Option<string?>("--out") { Description = "Run folder (default: runs/<time>-<recipe>-<protocol>)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint." };
        var cache = CommonOptions.Cache();
        var threads = CommonOptions.Threads();
        var mfcc = new Option<int?>("--n-mfcc") { Description = "MFCCs per frame (default 40)." };
        var hidden = new Option<int?>("--hidden") { Description = "LSTM hidden size (default: 64 for frames, 256 for seed)." };
        var normalization = new Option<string?>("--normalization") { Description = "global, speaker (frames default) or utterance: how features are standardised; none looks at labels." };
        var stopOnError = new Option<bool>("--stop-on-error") { Description = "Stop at the first unreadable audio file instead of reporting it and going on." };
        var augment = new Option<string?>("--augment") { Description = "Speed-perturbation factors for extra training copies, e.g. 0.9,1.1 (default none)." };
        var vtlp = new Option<string?>("--vtlp") { Description = "Vocal-tract-length perturbation factors for extra training copies, e.g. 0.9,1.1 (default none)." };
        var command = new Command("train", "Train an emotion model and write a run folder with model, metrics, history and report.")
            { data, recipe, protocol, testSpeaker, epochs, batch, lr, seed, outDir, resume, cache, threads, mfcc, hidden, normalization, augment, vtlp, stopOnError };
        command.SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
        return command;

        int Run(ParseResult parse, CancellationToken cancellation)
        {
            string? resumeDir = parse.GetValue(resume);
            TrainRunOptions options;
            if (resumeDir is not null)
            {
                var saved = TrainingRun.CheckpointOptions(resumeDir);
                options = new TrainRunOptions(saved["data"], Recipe.ParseKind(saved["recipe"]),
                    new SplitInfo(Splits.ParseProtocol(saved["protocol"]), ulong.Parse(saved["seed"], CultureInfo.InvariantCulture), saved["test_speaker"] is { Length: > 0 } s ? s : null),
                    new TrainOptions(parse.GetValue(epochs) ?? int.Parse(saved["epochs"], CultureInfo.InvariantCulture), int.Parse(saved["batch"], CultureInfo.InvariantCulture),
                        float.Parse(saved["lr"], CultureInfo.InvariantCulture), ulong.Parse(saved["seed"], CultureInfo.InvariantCulture), threads: parse.GetValue(threads)),
                    resumeDir, CommonOptions.ResolveCache(parse.GetValue(cache)), TrainingRun.ParseOverrides(saved.GetValueOrDefault("overrides", "")));
            }
            else
            {
                var kind = Recipe.ParseKind(parse.GetValue(recipe)!);
                var split = CommonOptions.ParseSplit(parse.GetValue(protocol)!, parse.GetValue(testSpeaker), parse.GetValue(seed));
                var train = new TrainOptions(parse.GetValue(epochs) ?? 40, parse.GetValue(batch), parse.GetValue(lr), split.Seed, threads: parse.GetValue(threads));
                string dir = parse.GetValue(outDir) ?? Path.Combine(DataLocation.RepositoryRoot(Directory.GetCurrentDirectory()) ?? ".", "runs",
                    $"{DateTime.Now:yyyyMMdd-HHmmss}-{kind.ToString().ToLowerInvariant()}-{split.Protocol.ToString().ToLowerInvariant()}{(split.TestSpeaker is null ? "" : "-" + split.TestSpeaker)}");
                var overrides = new RecipeOverrides(parse.GetValue(mfcc), parse.GetValue(hidden),
                    parse.GetValue(normalization) is { } n ? RecipeOverrides.ParseNormalization(n) : null,
                    parse.GetValue(augment) is { } a ? RecipeOverrides.ParseSpeeds(a) : null,
                    parse.GetValue(vtlp) is { } w ? RecipeOverrides.ParseWarps(w) : null);
                options = new TrainRunOptions(DataLocation.Resolve(parse.GetValue(data)), kind, split, train, dir, CommonOptions.ResolveCache(parse.GetValue(cache)), overrides,
                    parse.GetValue(stopOnError));
            }

            var progress = ProgressDisplay.For(output);
            var result = TrainingRun.Execute(options, progress, cancellation, resume: resumeDir is not null);
            progress.Done();
            Training.Reports.Report.Write(result.Directory);
            output.WriteLine(result.Cancelled
                ? $"Stopped by request after epoch {result.State.Epoch}; kept the best model (epoch {result.State.BestEpoch}) and the checkpoint. Continue with: ser train --resume {result.Directory}"
                : $"Best epoch {result.State.BestEpoch} of {result.State.Epoch} (validation accuracy {result.State.BestValidationAccuracy:P2}).");
            MetricsTable.Write(output, result.Metrics, $"Test side ({options.Split.Protocol.ToString().ToLowerInvariant()}{(options.Split.TestSpeaker is null ? "" : ", test speaker " + options.Split.TestSpeaker)}, {result.Metrics.Count} utterances)");
            output.WriteLine($"Run folder: {result.Directory} (report.html, model.safetensors, metrics.json, history.csv, split.csv)");
            return CliApp.Ok;
        }
    }
}
