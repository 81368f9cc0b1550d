using System.CommandLine;
using SpeechEmotion.Training;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser evaluate --model FILE</c>: scores the test side of the split the model was trained on (protocol, seed
/// and test speaker come from the (first) model unless given), as a terminal table and optionally JSON. Several
/// <c>--model</c>s are scored as an ensemble: their class probabilities averaged. <c>--cluster-vote</c> scores the
/// transductive cluster vote (<see cref="ClusterVote"/>) instead of each utterance on its own; <c>--tta</c> averages
/// each model's probabilities over the test audio at its training speeds too (<see cref="TestTimeAugmentation"/>).
/// </summary>
public static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string[]>("--model")
        {
            Description = CommonOptions.ModelHelp + " Give it several times to score the ensemble (probabilities averaged).",
            Required = true,
        };
        var data = CommonOptions.Data();
        var layout = CommonOptions.Layout();
        var protocol = new Option<string?>("--protocol") { Description = "random, speaker or word [default: the model's own]" };
        var testSpeaker = CommonOptions.TestSpeaker();
        var testCorpus = CommonOptions.TestCorpus();
        var seed = new Option<ulong?>("--seed") { Description = "Split seed [default: the model's own]" };
        var json = new Option<string?>("--json") { Description = "Also write the metrics as JSON to this file." };
        var cache = CommonOptions.Cache();
        var threads = CommonOptions.Threads();
        var clusterVote = new Option<bool>("--cluster-vote")
        {
            Description = "Transductive: group each test speaker's utterances by k-means on their features (as many groups as labels, no labels read) " +
                          "and give each utterance its group's majority prediction.",
        };
        var tta = new Option<bool>("--tta")
        {
            Description = "Test-time augmentation: also score each test utterance played at the speeds the model was trained with (--augment) " +
                          "and average the probabilities (per utterance, so still inductive).",
        };
        var oneFile = new Option<bool>("--one-file-at-a-time")
        {
            Description = "Score each test file as ser predict does for one file (inductive): under speaker normalisation, standardised with the training side's statistics instead of its speaker's.",
        };
        var allFiles = new Option<bool>("--all-files", "--all")
        {
            Description = "Score every file of --data (say, a labelled folder of your own), not the test side of the model's protocol; classes the model does not know are left out.",
        };
        var command = new Command("evaluate", "Score a trained model on the test side its training held out.") { model, data, layout, protocol, testSpeaker, testCorpus, seed, json, cache, threads, clusterVote, tta, oneFile, allFiles };
        command.SetAction(parse =>
        {
            var paths = parse.GetValue(model)!.Select(CommonOptions.ResolveModel).ToArray();
            var bundles = paths.Select(path => ModelBundle.Load(path)).ToList();
            var trained = bundles[0].Split;
            var split = CommonOptions.ParseSplit(parse.GetValue(protocol) ?? trained.Protocol.ToString(),
                parse.GetValue(testSpeaker) ?? (parse.GetValue(protocol) is null ? trained.TestSpeaker : null), parse.GetValue(seed) ?? trained.Seed,
                parse.GetValue(testCorpus) ?? (parse.GetValue(protocol) is null ? trained.TestCorpus : null));
            var root = DataLocation.Resolve(parse.GetValue(data));
            var members = new List<(ModelBundle, IReadOnlyList<Sample>)>();
            string ensemble = bundles.Count > 1 ? $", ensemble of {bundles.Count} models" : "";
            IReadOnlyList<Audio.Features>? testFeatures = null;
            for (int m = 0; m < bundles.Count; m++)
            {
                var bundle = bundles[m];
                if (bundle.AdaptedTo is { } adaptedTo)
                    error.WriteLine($"note: {paths[m]} adapted itself to the recordings under {adaptedTo} (self-training, labels unseen): where they are the files scored here, the score is transductive.");
                if (parse.GetValue(allFiles)) { }
                else if (!bundle.Split.SameTestSide(split))
                    error.WriteLine($"note: {paths[m]} was trained on the {Describe(bundle.Split)} split; scoring the {Describe(split)} split, whose test side it may have seen.");
                else if (bundle.AdaptationRounds > 0 && bundle.AdaptedTo is null)
                    error.WriteLine($"note: {paths[m]} adapted itself to this test side's audio (self-training, labels unseen): a transductive score.");
                var prepared = Experiment.Prepare(root, bundle.Recipe, split, CommonOptions.ResolveCache(parse.GetValue(cache)),
                    bundle.Labels, threads: parse.GetValue(threads), storedStatistics: bundle.Statistics, layout: parse.GetValue(layout), everyFileIsTest: parse.GetValue(allFiles));
                if (m == 0)
                {
                    foreach (var problem in prepared.Problems) error.WriteLine($"warning: skipped {problem}");
                    foreach (var warning in prepared.Warnings) error.WriteLine($"warning: {warning}");
                    testFeatures = prepared.TestFeatures(); // the groups come from the first model's front end
                }
                members.Add(parse.GetValue(oneFile) ? (bundle.ForOneFile(), prepared.TestOneFileAtATime(bundle.Recipe, bundle.OneFileRelevance)) : (bundle, prepared.Test));
                if (parse.GetValue(tta)) members.AddRange(TestTimeAugmentation.Views(prepared, bundle, CommonOptions.ResolveCache(parse.GetValue(cache)), parse.GetValue(threads), parse.GetValue(oneFile)));
            }
            Metrics metrics;
            var extra = new Dictionary<string, object>();
            if (parse.GetValue(oneFile))
            {
                if (parse.GetValue(clusterVote)) throw new Core.OptionsException("--one-file-at-a-time and --cluster-vote exclude each other: a cluster vote hears the test files together.");
                ensemble += ", one file at a time";
                extra["one_file_at_a_time"] = true;
            }
            if (parse.GetValue(tta))
            {
                if (members.Count == bundles.Count)
                    throw new Core.OptionsException("--tta scores the test side through the perturbations a model was trained with (ser train --augment, --vtlp), and no model given here was trained with any.");
                var views = bundles.SelectMany(b => b.Recipe.TestTimeViews).Distinct().Select(Recipe.ViewName).ToArray();
                error.WriteLine($"note: test-time augmentation: each utterance also scored through {string.Join(", ", views)}, probabilities averaged.");
                ensemble += ", test-time augmentation";
                extra["tta_views"] = views;
            }
            if (parse.GetValue(clusterVote))
            {
                var (voted, votes) = ClusterVote.Score(members, testFeatures!, split.Seed);
                metrics = voted;
                error.WriteLine("note: a cluster vote is transductive: each test speaker's utterances were grouped together (labels unseen) and share their group's majority prediction.");
                var labels = bundles[0].Labels;
                MetricsTable.WriteGroups(output, labels, votes);
                extra["cluster_vote"] = RunFiles.ClusterVoteGroups(labels, votes);
                ensemble += ", cluster vote";
            }
            else metrics = TrainingRun.Evaluate(members);
            MetricsTable.Write(output, metrics, parse.GetValue(allFiles) ? $"Every file of {root} ({metrics.Count} utterances{ensemble})"
                : $"Test side ({Describe(split)}, {metrics.Count} utterances{ensemble})");
            if (parse.GetValue(json) is { } path)
            {
                Core.IO.AtomicFile.WriteAllText(path, RunFiles.MetricsJson(metrics, split, bundles[0].Recipe.Kind.ToString().ToLowerInvariant(), extra));
                output.WriteLine($"Metrics written to {path}");
            }
            return CliApp.Ok;
        });
        return command;
    }

    private static string Describe(SplitInfo s) =>
        $"{s.Protocol.ToString().ToLowerInvariant()}{(s.TestSpeaker is null ? "" : " (test speaker " + s.TestSpeaker + ")")}{(s.TestCorpus is null ? "" : " (test corpus " + s.TestCorpus + ")")}, seed {s.Seed}";
}
