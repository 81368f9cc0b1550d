using System.CommandLine;
using System.Globalization;
using SpeechEmotion.Core;
using SpeechEmotion.Training;
using SpeechEmotion.Training.Corpus;

using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Cli.Commands;

/// <summary>
/// <c>ser train</c>: trains a recipe on a protocol's training side and writes a run folder (model, metrics,
/// history, split, report). With no options: the frames recipe, random protocol, data at the default location.
/// </summary>
public static class TrainCommand
{
    /// <summary>The command line as given (values with spaces quoted), for the run's command.txt and its report.</summary>
    private static string CommandLine(ParseResult parse) =>
        "ser " + string.Join(' ', parse.Tokens.Select(t => t.Value.Contains(' ') ? $"\"{t.Value}\"" : t.Value));

    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = CommonOptions.Data();
        var layout = CommonOptions.Layout();
        var recipe = new Option<string>("--recipe") { Description = "frames or seed.", DefaultValueFactory = _ => "frames" };
        var protocol = CommonOptions.Protocol();
        var testSpeaker = CommonOptions.TestSpeaker();
        var testCorpus = CommonOptions.TestCorpus();
        var epochs = new Option<int?>("--epochs") { Description = $"Maximum epochs; early stopping may end sooner. With --resume: a new budget for the resumed run [default: {Recipes.DefaultFramesEpochs} for frames, 40 for seed]" };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => 32 };
        var lr = new Option<float?>("--lr") { Description = "Adam learning rate [default: 0.004 for frames, 0.002 for seed]" };
        var seed = CommonOptions.Seed();
        var initSeed = new Option<ulong?>("--init-seed")
        {
            Description = "Seed of the initialisation, shuffling, dropout and masks alone, the split staying --seed's: models that differ only in where training started, on the same training, validation, audit and test sides [default: --seed]",
        };
        var outDir = new Option<string?>("--out") { Description = "Run folder [default: runs/<time>-<recipe>-<protocol> in the repository]" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint." };
        var cache = CommonOptions.Cache();
        var threads = CommonOptions.Threads();
        var mfcc = new Option<int?>("--n-mfcc") { Description = $"MFCCs per frame [default: {Recipes.DefaultFramesCoefficients} for frames, 40 for seed]" };
        var hidden = new Option<int?>("--hidden") { Description = "LSTM hidden size [default: 128 for frames, 256 for seed]" };
        var dropout = new Option<float?>("--dropout") { Description = $"Dropout rate of the classifier, on the pooled vector and after the dense layer, in training only; 0 = none [default: {Recipes.DefaultFramesDropout.ToString(System.Globalization.CultureInfo.InvariantCulture)} for frames, 0.2 for seed]" };
        var layers = new Option<int?>("--layers") { Description = "Stacked LSTM layers, each bidirectional (frames recipe), 1 to 4 [default: 1]" };
        var conv = new Option<string?>("--conv") { Description = "A convolution over frames before the LSTM, channels:kernel, e.g. 64:5 (frames recipe: ReLU after it, each recording's own frames only), or none [default: none]" };
        var normalization = new Option<string?>("--normalization") { Description = "global, speaker or utterance: how features are standardised; none looks at labels [default: speaker for frames, global for seed]" };
        var stopOnError = new Option<bool>("--stop-on-error") { Description = "Stop at the first unreadable audio file instead of reporting it and going on." };
        var augment = new Option<string?>("--augment") { Description = "Speed-perturbation factors for extra training copies, e.g. 0.9,1.1 [default: none]" };
        var copies = new Option<string?>("--copies")
        {
            Description = "How the copies of --augment, --vtlp, --rooms and --file-copies train: all (every copy every epoch, the validation part's copies validate; an epoch costs copies + 1 times as much) " +
                          "or one (each epoch trains on one version of every training utterance, drawn afresh; the validation part gets none of these copies) [default: one for frames, all for seed]",
        };
        var fileCopies = new Option<string?>("--file-copies")
        {
            Description = "Relevances in frames, e.g. 16,128: extra versions of each training recording standardised as ser predict standardises one file " +
                          $"(the training side's statistics adapted towards the recording's own; 0 = its own alone) instead of with its speaker's; frames recipe, speaker normalisation; none = no such copies [default: {string.Join(',', Recipes.DefaultFileCopyRelevances)} for frames with speaker normalisation]",
        };
        var seeds = new Option<string?>("--seeds")
        {
            Description = "Train one model per seed (e.g. 1,2,3,4,5) into <out>/seed-N and score their ensemble (speaker or corpus protocol, where every seed holds out the same test side).",
        };
        var vtlp = new Option<string?>("--vtlp") { Description = "Vocal-tract-length perturbation factors for extra training copies, e.g. 0.9,1.1, or none [default: 0.9,1.1 for frames with speaker normalisation, else none]" };
        var prosody = new Option<bool>("--prosody")
        {
            Description = "Append pitch (semitones), voicing and energy to every frame, standardised per speaker (frames recipe); --prosody false leaves them out [default: on for frames]",
        };
        var adapt = new Option<int?>("--adapt")
        {
            Description = "Rounds of self-training on the test side's unlabelled audio after training (transductive: adapts to the held-out voice, never reads its labels) " +
                          $"[default: 0; {SelfTraining.DefaultRounds} with --adapt-to]",
        };
        var adaptTo = new Option<string?>("--adapt-to")
        {
            Description = "Adapt to a folder of your own unlabelled recordings instead of the test side (each folder's files one voice, " +
                          $"utterances of up to {SelfTraining.MaxTargetSeconds:F0} s): the model self-trains on them after training and is then for those voices",
        };
        var audit = new Option<int>("--audit-speakers")
        {
            Description = "Hold this many whole speakers of each training corpus (of four or more) out of training and of every choice, and score them at the end " +
                          "(metrics.json's audit block): an estimate of new voices that no epoch, temperature or relevance was chosen by (speaker, corpus and loso protocols) [default: 0]",
        };
        var balanced = new Option<bool>("--adapt-balanced")
        {
            Description = "With --adapt: assume the emotions are about equally frequent in the test side's recordings and balance the pseudo-labels to match (an assumption, not a label).",
        };
        var validateSpeeds = new Option<string?>("--validate-speeds")
        {
            Description = "Speed factors for extra copies of the validation part only, e.g. 0.8,1.2: model selection also scores the epochs on voices training never heard [default: none]",
        };
        var clusterVote = new Option<bool>("--cluster-vote")
        {
            Description = "Also score the test side by a cluster vote (transductive: each test speaker's utterances grouped by k-means, labels unseen, " +
                          "each taking its group's majority prediction), in metrics.json beside the plain score.",
        };
        var tta = new Option<bool>("--tta")
        {
            Description = "Also score the validation part and the test side with test-time augmentation (each recording also heard through the training speeds and warps, " +
                          "probabilities averaged; the epoch is chosen without it), in metrics.json's test_time_augmentation block beside the plain scores.",
        };
        var maskTime = new Option<double?>("--mask-time")
        {
            Description = $"SpecAugment-style: each training sequence loses one span of up to this fraction of its frames, drawn afresh every batch; 0 = none [default: {SpeechEmotion.Training.Masking.FramesDefault.TimeFraction.ToString(CultureInfo.InvariantCulture)} for frames, 0 for seed]",
        };
        var maskCoefficients = new Option<int?>("--mask-coefficients")
        {
            Description = $"SpecAugment-style: each training sequence loses one band of up to this many adjacent MFCCs (and their deltas), drawn afresh every batch; 0 = none [default: {SpeechEmotion.Training.Masking.FramesDefault.Coefficients} for frames, 0 for seed]",
        };
        var labelSmoothing = new Option<float?>("--label-smoothing")
        {
            Description = "Train towards (1 − ε)·the label + ε spread over every class (torch's label_smoothing) instead of the label alone; 0 = none [default: 0.1 for frames, 0 for seed]",
        };
        var patience = new Option<int>("--patience")
        {
            Description = "Early stopping: epochs without a better validation score before training stops",
            DefaultValueFactory = _ => 10,
        };
        var balance = new Option<string>("--balance")
        {
            Description = "How the training loss weighs its samples: none, classes (every class the same in total) or corpora (every corpus the same, " +
                          "and every class within it); each recording counts once, whatever its copies [default: none]",
            DefaultValueFactory = _ => Balancing.Name(Recipes.DefaultBalance),
        };
        var weightAverage = new Option<float>("--weight-average")
        {
            Description = "Score, choose and keep each epoch with a moving average of the weights, updated after every step with this decay (e.g. 0.99, measured in benchmarks/accuracy.md); 0 = the last step's weights",
            DefaultValueFactory = _ => 0f,
        };
        var adversary = new Option<float>("--adversary")
        {
            Description = "Speaker-adversarial training with this weight λ (e.g. 0.1): a small classifier learns to tell the training speakers apart from " +
                          "the pooled vector, and the network learns against it (gradient reversal), towards features of the emotion rather than the voice; 0 = off",
            DefaultValueFactory = _ => 0f,
        };
        var arousal = new Option<float>("--arousal")
        {
            Description = "An auxiliary arousal task with this weight μ (e.g. 0.3): a small classifier on the pooled vector also learns whether each " +
                          "emotion is of high (angry, fear, happy, surprise) or low arousal (sad, neutral, calm, boredom, disgust); 0 = off",
            DefaultValueFactory = _ => 0f,
        };
        var weightDecay = new Option<float>("--weight-decay")
        {
            Description = "Adam's decoupled weight decay (AdamW): each step multiplies every weight by 1 − lr·decay; 0 = none",
            DefaultValueFactory = _ => TrainOptions.DefaultWeightDecay,
        };
        var schedule = new Option<string?>("--lr-schedule")
        {
            Description = "How the learning rate moves over the epochs: constant, or cosine (from --lr at the first epoch along half a cosine towards 0 at --epochs) " +
                          "[default: cosine for frames, constant for seed]",
        };
        var keep = new Option<string?>("--keep")
        {
            Description = "Which epoch's weights the run keeps: best (the best on the validation part, stopping after --patience epochs without a better one) " +
                          "or last (every one of --epochs trained, nothing chosen) [default: last for frames, best for seed]",
        };
        var mixup = new Option<float?>("--mixup")
        {
            Description = "Mixup with this Beta parameter α: every training sequence is mixed, frame by frame, with another of its batch, " +
                          "λ·its own + (1 − λ)·the other's, λ = max(u, 1 − u) with u ~ Beta(α, α), and learns the same mixture of their labels; 0 = off [default: 0.4 for frames, 0 for seed]",
        };
        var crop = new Option<double?>("--crop")
        {
            Description = "Random crops (frames recipe): every training recording longer than this many seconds is cut, each epoch, to a window of that length " +
                          "at a random place (rounded to whole frames of the front end's hop, 23.2 ms at 22,050 Hz); validation, test and prediction hear whole recordings; 0 = off [default: 1.5 for frames, 0 for seed]",
        };
        var scoreWindow = new Option<double?>("--score-window")
        {
            Description = "Score by windows (frames recipe): the validation part, the test side and the model's predictions hear each recording longer than this many seconds " +
                          "as windows of that length, one every half window, and average their logits (the model file keeps it); 0 = whole recordings [default: 0]",
        };
        var trimDb = new Option<double?>("--trim-db")
        {
            Description = "Leading and trailing frames quieter than this many dB below the loudest are trimmed before the MFCCs (frames recipe; as librosa.effects.trim's top_db) [default: 30]",
        };
        var pooling = new Option<string?>("--pooling")
        {
            Description = "How the LSTM's outputs become one vector (frames recipe): mean over the frames, attention (a learnt weighting of the frames), stats (the mean and the standard deviation over the frames) or last [default: mean]",
        };
        var rooms = new Option<string?>("--rooms")
        {
            Description = "Simulated rooms for extra training copies, RT60:SNR in seconds:dB, comma-separated, e.g. 0.3:20,0.6:10: reverberation and white noise [default: none]",
        };
        var folds = new Option<int?>("--folds")
        {
            Description = "With --protocol loso: how many groups of speakers, each held out once (with --test-corpus, that corpus's speakers only; the others always train) [default: 5]",
        };
        var command = new Command("train", "Train an emotion model and write a run folder with model, metrics, history and report.")
            { data, layout, recipe, protocol, testSpeaker, testCorpus, folds, maskTime, maskCoefficients, labelSmoothing, weightAverage, balance, adversary, arousal, mixup, crop, scoreWindow, weightDecay, schedule, keep, patience, trimDb, pooling, rooms, epochs, batch, lr, seed, initSeed, outDir, resume, cache, threads, mfcc, hidden, dropout, layers, conv, normalization, augment, vtlp, fileCopies, copies, prosody, seeds, adapt, adaptTo, audit, balanced, clusterVote, tta, validateSpeeds, stopOnError };
        command.SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
        return command;

        int Run(ParseResult parse, CancellationToken cancellation)
        {
            string? resumeDir = parse.GetValue(resume);
            bool loso = string.Equals(parse.GetValue(protocol), "loso", StringComparison.OrdinalIgnoreCase);
            if (parse.GetValue(folds) is not null && !loso) throw new OptionsException($"--folds only applies to --protocol loso (got --protocol {parse.GetValue(protocol)}).");
            if (loso)
            {
                if (resumeDir is not null) throw new OptionsException("--protocol loso cannot be combined with --resume: resume each fold-N folder on its own.");
                if (parse.GetValue(seeds) is not null) throw new OptionsException("--protocol loso cannot be combined with --seeds: run one cross-validation per seed.");
                if (parse.GetValue(testSpeaker) is not null) throw new OptionsException("--test-speaker does not apply to --protocol loso: every speaker is tested, fold by fold.");
                return RunLoso(parse, parse.GetValue(folds) ?? 5, cancellation);
            }
            if (parse.GetValue(seeds) is { } seedList)
            {
                if (resumeDir is not null) throw new OptionsException("--seeds cannot be combined with --resume: resume each seed-N folder of the ensemble on its own.");
                if (parse.GetValue(seed) != 1) throw new OptionsException("--seeds and --seed exclude each other: --seeds lists every seed of the ensemble.");
                if (parse.GetValue(initSeed) is not null) throw new OptionsException("--seeds and --init-seed exclude each other: each seed of --seeds draws its own split and start.");
                return RunEnsemble(parse, ParseSeeds(seedList), cancellation);
            }
            TrainRunOptions options;
            if (resumeDir is not null)
            {
                if (parse.GetValue(initSeed) is not null) throw new OptionsException("--init-seed cannot be combined with --resume: the run goes on from where its own start led.");
                var saved = TrainingRun.CheckpointOptions(resumeDir);
                if (saved.Schedule != LearningRateSchedule.Constant && parse.GetValue(epochs) is { } more && more != saved.Epochs)
                    throw new OptionsException($"--epochs {more}: the run being resumed follows a {saved.Schedule.ToString().ToLowerInvariant()} learning-rate schedule over its {saved.Epochs} epochs, which --resume keeps.");
                options = new TrainRunOptions(saved.Data, CommonOptions.ParseRecipe(saved.Recipe),
                    new SplitInfo(CommonOptions.ParseProtocol(saved.Protocol), saved.Seed, saved.TestSpeaker, saved.TestCorpus),
                    new TrainOptions(parse.GetValue(epochs) ?? saved.Epochs, saved.Batch, saved.LearningRate, saved.InitSeed ?? saved.Seed, patience: saved.Patience, threads: parse.GetValue(threads),
                        masking: new Masking(saved.MaskTime, saved.MaskCoefficients), labelSmoothing: saved.LabelSmoothing, weightAverage: saved.WeightAverage,
                        balance: saved.Balance, adversary: saved.Adversary, arousal: saved.Arousal, mixup: saved.Mixup, weightDecay: saved.WeightDecay,
                        schedule: saved.Schedule, keep: saved.Keep, crop: saved.Crop, scoreWindow: saved.ScoreWindow),
                    resumeDir, CommonOptions.ResolveCache(parse.GetValue(cache)), saved.Overrides,
                    AdaptRounds: saved.Adapt, BalancedAdaptation: saved.AdaptBalanced, ClusterVote: saved.ClusterVote || parse.GetValue(clusterVote))
                    { Layout = saved.Layout, TestTimeScores = saved.TestTimeScores || parse.GetValue(tta), AdaptTo = saved.AdaptTo, AuditSpeakers = saved.AuditSpeakers };
            }
            else
            {
                options = FreshOptions(parse, parse.GetValue(seed), dir: null);
            }

            TrainAndReport(options, resumeDir is not null, cancellation, CommandLine(parse));
            return CliApp.Ok;
        }

        TrainRunOptions FreshOptions(ParseResult parse, ulong runSeed, string? dir, SplitInfo? fold = null)
        {
            var kind = CommonOptions.ParseRecipe(parse.GetValue(recipe)!);
            var split = fold ?? CommonOptions.ParseSplit(parse.GetValue(protocol)!, parse.GetValue(testSpeaker), runSeed, parse.GetValue(testCorpus));
            var train = new TrainOptions(parse.GetValue(epochs) ?? Recipes.DefaultEpochs(kind), parse.GetValue(batch), parse.GetValue(lr) ?? Recipes.DefaultLearningRate(kind), parse.GetValue(initSeed) ?? split.Seed, patience: parse.GetValue(patience), threads: parse.GetValue(threads),
                masking: Masking(kind, parse.GetValue(maskTime), parse.GetValue(maskCoefficients)), labelSmoothing: parse.GetValue(labelSmoothing) ?? Recipes.DefaultSmoothing(kind),
                weightAverage: parse.GetValue(weightAverage), balance: Balancing.Parse(parse.GetValue(balance)!), adversary: parse.GetValue(adversary), arousal: parse.GetValue(arousal),
                mixup: parse.GetValue(mixup) ?? Recipes.DefaultMixup(kind), weightDecay: parse.GetValue(weightDecay), schedule: parse.GetValue(schedule) is { } named ? ParseSchedule(named) : Recipes.DefaultSchedule(kind),
                keep: parse.GetValue(keep) is { } kept ? ParseKeep(kept) : Recipes.DefaultKeep(kind), crop: Recipes.CropFrames(kind, parse.GetValue(crop)),
                scoreWindow: Recipes.ScoreWindowFrames(kind, parse.GetValue(scoreWindow)));
            dir ??= parse.GetValue(outDir) ?? DefaultRunFolder(kind, split);
            var overrides = new RecipeOverrides(parse.GetValue(mfcc), parse.GetValue(hidden),
                parse.GetValue(normalization) is { } n ? RecipeOverrides.ParseNormalization(n) : null,
                parse.GetValue(augment) is { } a ? RecipeOverrides.ParseSpeeds(a) : null,
                parse.GetValue(vtlp) is { } w ? RecipeOverrides.ParseWarps(w) : null, parse.GetResult(prosody) is { Implicit: false } ? parse.GetValue(prosody) : null,
                parse.GetValue(validateSpeeds) is { } v ? RecipeOverrides.ParseSpeeds(v, "--validate-speeds") : null,
                parse.GetValue(trimDb) is { } db ? RecipeOverrides.ParseTrim(db) : null,
                parse.GetValue(pooling) is { } pool ? RecipeOverrides.ParsePooling(pool) : null,
                parse.GetValue(rooms) is { } r ? RecipeOverrides.ParseRooms(r) : null,
                parse.GetValue(layers) is { } l ? RecipeOverrides.ParseLayers(l) : null,
                parse.GetValue(copies) is { } c ? RecipeOverrides.ParseCopies(c) : null,
                parse.GetValue(fileCopies) is { } fc ? RecipeOverrides.ParseFileCopies(fc) : null,
                parse.GetValue(conv) is { } cv ? RecipeOverrides.ParseConv(cv) : null,
                parse.GetValue(dropout) is { } dr ? RecipeOverrides.ParseDropout(dr) : null);
            return new TrainRunOptions(DataLocation.Resolve(parse.GetValue(data)), kind, split, train, dir, CommonOptions.ResolveCache(parse.GetValue(cache)), overrides,
                parse.GetValue(stopOnError), parse.GetValue(adapt) ?? (parse.GetValue(adaptTo) is null ? 0 : SelfTraining.DefaultRounds), parse.GetValue(balanced), parse.GetValue(clusterVote))
                { Layout = parse.GetValue(layout), TestTimeScores = parse.GetValue(tta), AdaptTo = parse.GetValue(adaptTo), AuditSpeakers = parse.GetValue(audit) };
        }

        TrainingRun.Result TrainAndReport(TrainRunOptions options, bool resuming, CancellationToken cancellation, string commandLine)
        {
            var progress = ProgressDisplay.For(output);
            var result = TrainingRun.Execute(options, progress, cancellation, resume: resuming);
            progress.Done();
            // What wrote the run, for its report: the command line as given and when it finished.
            Core.IO.AtomicFile.WriteAllText(Path.Combine(result.Directory, Training.RunFiles.Command), $"{commandLine}\n{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n");
            Training.Reports.Report.Write(result.Directory);
            output.WriteLine(result.Cancelled
                ? $"Stopped by request after epoch {result.State.Epoch}; kept the best model (epoch {result.State.BestEpoch}) and the checkpoint. Continue with: ser train --resume {result.Directory}"
                : result.Data.Validation.Count == 0 ? $"Kept epoch {result.State.BestEpoch} of {result.State.Epoch} (no validation part to choose by)."
                : $"Best epoch {result.State.BestEpoch} of {result.State.Epoch} (validation accuracy {result.State.BestValidationAccuracy:P2}).");
            foreach (var r in result.Adaptation)
                output.WriteLine($"Adaptation round {r.Round}: {r.PseudoLabelled} test utterances pseudo-labelled ({r.Share:P0} per class), " +
                                 (r.ChangedPredictions is { } changed ? $"{changed} predictions changed since the round before, " : "") + $"best epoch {r.BestEpoch} of {r.EpochsRun}.");
            if (result.BaseMetrics is { } before)
                output.WriteLine($"Before adaptation ({RunFiles.BaseModel}): accuracy {before.Accuracy:P2}, UAR {before.Uar:P2}, macro-F1 {before.MacroF1:P2}.");
            string adapted = result.Adaptation.Count > 0 ? $", after {result.Adaptation.Count} rounds of self-training on its unlabelled audio" : "";
            MetricsTable.Write(output, result.Metrics, $"Test side ({Describe(options.Split)}, {result.Metrics.Count} utterances{adapted})");
            if (result.OneFileAtATime is { } single)
                output.WriteLine($"One file at a time, as ser predict (inductive: each file standardised by itself, not with its speaker's statistics; " +
                                 (double.IsPositiveInfinity(result.Bundle.OneFileRelevance) ? "the training side's statistics"
                                     : $"the training side's adapted towards the file's, relevance {result.Bundle.OneFileRelevance} frames, chosen on the validation part") + "): " +
                                 $"accuracy {single.Accuracy:P2}, UAR {single.Uar:P2}, ECE {single.Ece:F3}");
            if (result.Voted is var (voted, votes))
            {
                MetricsTable.WriteGroups(output, result.Bundle.Labels, votes);
                MetricsTable.Write(output, voted, $"Test side by cluster vote (transductive: each test speaker's utterances grouped, labels unseen), {voted.Count} utterances");
            }
            output.WriteLine($"Run folder: {result.Directory} (report.html, model.safetensors, metrics.json, history.csv, split.csv, predictions.csv)");
            return result;
        }

        // One speaker-protocol run per fold into <out>/fold-N, every speaker (of --test-corpus, if given) tested once.
        int RunLoso(ParseResult parse, int foldCount, CancellationToken cancellation)
        {
            ulong runSeed = parse.GetValue(seed);
            string? corpus = parse.GetValue(testCorpus)?.ToLowerInvariant();
            string dataRoot = DataLocation.Resolve(parse.GetValue(data));
            var groups = Splits.LosoFolds(CorpusIndex.Load(dataRoot, parse.GetValue(layout)).Utterances, foldCount, runSeed, corpus);
            var kind = CommonOptions.ParseRecipe(parse.GetValue(recipe)!);
            string root = parse.GetValue(outDir) ?? DefaultRunFolder(kind, new SplitInfo(Inference.Protocol.Speaker, runSeed, null), "loso");
            var done = new List<Fold>();
            for (int k = 0; k < groups.Count; k++)
            {
                output.WriteLine($"Fold {k + 1} of {groups.Count}: test speakers {groups[k].Replace(",", ", ")}");
                var split = new SplitInfo(Inference.Protocol.Speaker, runSeed, groups[k].ToUpperInvariant());
                var result = TrainAndReport(FreshOptions(parse, runSeed, Path.Combine(root, $"fold-{k + 1}"), split), resuming: false, cancellation, CommandLine(parse));
                if (result.Cancelled) return CliApp.Ok;
                done.Add(new Fold(k + 1, groups[k], result.Metrics, result.Directory) { OneFileAtATime = result.OneFileAtATime });
            }
            var cv = new CrossValidation(done);
            MetricsTable.Write(output, cv.Pooled, $"Leave-speakers-out, {groups.Count} folds: every test utterance of every fold ({cv.Pooled.Count} utterances)");
            foreach (var f in done)
                output.WriteLine($"  fold {f.Number}: accuracy {f.Metrics.Accuracy:P2}, UAR {f.Metrics.Uar:P2}, ECE {f.Metrics.Ece:F3} (calibrated: {f.Metrics.EceFloor:F3}) ({f.TestSpeakers})");
            output.WriteLine($"Folds: accuracy {cv.Accuracy.Mean:P2} ± {cv.Accuracy.StandardDeviation:P2}, UAR {cv.Uar.Mean:P2} ± {cv.Uar.StandardDeviation:P2}, ECE {cv.Ece.Mean:F3} (a calibrated model's on folds of these sizes: {cv.EceFloor.Mean:F3}) (mean ± standard deviation)");
            if (cv.OneFileAtATime is { } single)
                output.WriteLine($"Folds one file at a time, as ser predict (inductive): accuracy {single.Mean:P2} ± {single.StandardDeviation:P2}");
            cv.Write(root, new SplitInfo(Inference.Protocol.Speaker, runSeed, null), kind.ToString().ToLowerInvariant(), corpus);
            output.WriteLine($"Cross-validation metrics: {Path.Combine(root, CrossValidation.File)}");
            return CliApp.Ok;
        }

        // One run per seed into <out>/seed-N, then the members' averaged probabilities on the shared test side.
        int RunEnsemble(ParseResult parse, IReadOnlyList<ulong> seedValues, CancellationToken cancellation)
        {
            var first = FreshOptions(parse, seedValues[0], dir: null);
            if (!seedValues.All(s => first.Split.SameTestSide(first.Split with { Seed = s })))
                throw new OptionsException("--seeds needs --protocol speaker or corpus: only there do all seeds hold out the same test utterances (elsewhere the seed draws the test side).");
            string root = first.OutputDirectory;
            var members = new List<TrainingRun.Result>();
            foreach (ulong runSeed in seedValues)
            {
                output.WriteLine($"Ensemble member: seed {runSeed}");
                var result = TrainAndReport(FreshOptions(parse, runSeed, Path.Combine(root, $"seed-{runSeed}")), resuming: false, cancellation, CommandLine(parse));
                if (result.Cancelled) return CliApp.Ok;
                members.Add(result);
            }
            // The members as saved (a run's own model object goes with its worker pool when the run ends).
            var ensemble = members.Select(m => (ModelBundle.Load(Path.Combine(m.Directory, RunFiles.Model)), m.Data.Test)).ToList();
            var metrics = TrainingRun.Evaluate(ensemble);
            MetricsTable.Write(output, metrics, $"Ensemble of {members.Count} seeds ({string.Join(", ", seedValues)}), test side ({Describe(first.Split)}, {metrics.Count} utterances)");
            var extra = new Dictionary<string, object> { ["seeds"] = seedValues.Select(v => (object)v).ToList() };
            if (first.ClusterVote && members[0].Voted is not null) // a member without a vote said why already
            {
                var (voted, votes) = ClusterVote.Score(ensemble, members[0].Data.TestFeatures(), first.Split.Seed);
                MetricsTable.WriteGroups(output, members[0].Bundle.Labels, votes);
                MetricsTable.Write(output, voted, $"Ensemble by cluster vote (transductive: each test speaker's utterances grouped, labels unseen), {voted.Count} utterances");
                extra["cluster_vote"] = RunFiles.ClusterVoteSummary(voted, votes);
            }
            string json = Path.Combine(root, "ensemble.json");
            Core.IO.AtomicFile.WriteAllText(json, RunFiles.MetricsJson(metrics, first.Split, first.Recipe.ToString().ToLowerInvariant(), extra));
            output.WriteLine($"Ensemble metrics: {json}; score it again with ser evaluate and one --model per seed-N/model.safetensors.");
            return CliApp.Ok;
        }
    }

    /// <summary>The masking asked for, each value not given taken from the recipe's default.</summary>
    private static Masking Masking(RecipeKind kind, double? time, int? coefficients)
    {
        var fallback = Recipes.DefaultMasking(kind);
        return new Masking(time ?? fallback.TimeFraction, coefficients ?? fallback.Coefficients);
    }

    private static string DefaultRunFolder(RecipeKind kind, SplitInfo split, string? protocol = null) =>
        Path.Combine(DataLocation.RepositoryRoot(Directory.GetCurrentDirectory()) ?? ".", "runs",
            $"{DateTime.Now:yyyyMMdd-HHmmss}-{kind.ToString().ToLowerInvariant()}-{protocol ?? split.Protocol.ToString().ToLowerInvariant()}" +
            (split.TestSpeaker is null ? "" : "-" + string.Join('+', Splits.ParseSpeakers(split.TestSpeaker)).Replace(':', '-')));

    private static string Describe(SplitInfo split) =>
        $"{split.Protocol.ToString().ToLowerInvariant()}{(split.TestSpeaker is null ? "" : ", test speaker " + split.TestSpeaker)}{(split.TestCorpus is null ? "" : ", test corpus " + split.TestCorpus)}";

    public static LearningRateSchedule ParseSchedule(string text) => text.ToLowerInvariant() switch
    {
        "constant" => LearningRateSchedule.Constant,
        "cosine" => LearningRateSchedule.Cosine,
        _ => throw new OptionsException($"--lr-schedule must be constant or cosine, got '{text}'."),
    };

    public static EpochChoice ParseKeep(string text) => text.ToLowerInvariant() switch
    {
        "best" => EpochChoice.Best,
        "last" => EpochChoice.Last,
        _ => throw new OptionsException($"--keep must be best or last, got '{text}'."),
    };

    /// <summary>"1,2,3" or "1-5": distinct seeds, two to fifty of them.</summary>
    public static IReadOnlyList<ulong> ParseSeeds(string text)
    {
        var values = new List<ulong>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] range = part.Split('-');
            if (range.Length == 2 && ulong.TryParse(range[0], CultureInfo.InvariantCulture, out ulong from) && ulong.TryParse(range[1], CultureInfo.InvariantCulture, out ulong to) && from <= to && to - from < 50)
                for (ulong v = from; v <= to; v++) values.Add(v);
            else if (range.Length == 1 && ulong.TryParse(part, CultureInfo.InvariantCulture, out ulong single)) values.Add(single);
            else throw new OptionsException($"--seeds takes seeds like 1,2,3 or 1-5; got '{part}'.");
        }
        if (values.Count < 2 || values.Count > 50 || values.Distinct().Count() != values.Count)
            throw new OptionsException($"--seeds needs 2 to 50 distinct seeds, got '{text}'.");
        return values;
    }
}
