using System.CommandLine;
using SpeechEmotion.Training;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser evaluate --model FILE</c>: scores the test side of the split the model was trained on (protocol, seed
/// and test speaker come from the model unless given), as a terminal table and optionally JSON.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A model.safetensors written by ser train.", Required = true };
        var data = CommonOptions.Data();
        var protocol = new Option<string?>("--protocol") { Description = "random, speaker or word (default: the model's own)." };
        var testSpeaker = CommonOptions.TestSpeaker();
        var seed = new Option<ulong?>("--seed") { Description = "Split seed (default: the model's own)." };
        var json = new Option<string?>("--json") { Description = "Also write the metrics as JSON to this file." };
        var cache = CommonOptions.Cache();
        var threads = CommonOptions.Threads();
        var command = new Command("evaluate", "Score a trained model on the test side its training held out.") { model, data, protocol, testSpeaker, seed, json, cache, threads };
        command.SetAction(parse =>
        {
            var bundle = ModelBundle.Load(parse.GetValue(model)!);
            var trained = bundle.Split;
            var split = CommonOptions.ParseSplit(parse.GetValue(protocol) ?? trained.Protocol.ToString(),
                parse.GetValue(testSpeaker) ?? (parse.GetValue(protocol) is null ? trained.TestSpeaker : null), parse.GetValue(seed) ?? trained.Seed);
            if (split != trained)
                error.WriteLine($"note: the model was trained on the {Describe(trained)} split; scoring the {Describe(split)} split, whose test side it may have seen.");
            var prepared = Experiment.Prepare(DataLocation.Resolve(parse.GetValue(data)), bundle.Recipe, split, CommonOptions.ResolveCache(parse.GetValue(cache)),
                bundle.Labels, threads: parse.GetValue(threads), storedStatistics: bundle.Statistics);
            foreach (var problem in prepared.Problems) error.WriteLine($"warning: skipped {problem}");
            var metrics = TrainingRun.Evaluate(bundle, prepared.Test);
            MetricsTable.Write(output, metrics, $"Test side ({Describe(split)}, {metrics.Count} utterances)");
            if (parse.GetValue(json) is { } path)
            {
                Core.IO.AtomicFile.WriteAllText(path, RunFiles.MetricsJson(metrics, split, bundle.Recipe.Kind.ToString().ToLowerInvariant()));
                output.WriteLine($"Metrics written to {path}");
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static string Describe(SplitInfo s) =>
        $"{s.Protocol.ToString().ToLowerInvariant()}{(s.TestSpeaker is null ? "" : " (test speaker " + s.TestSpeaker + ")")}, seed {s.Seed}";
}
