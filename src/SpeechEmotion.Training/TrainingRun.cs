using System.Globalization;
using SpeechEmotion.Core;
using SpeechEmotion.Core.IO;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Training.Corpus;
using SpeechEmotion.Training.Experiments;

namespace SpeechEmotion.Training;

/// <summary>Everything <c>ser train</c> was asked to do.</summary>
public sealed record TrainRunOptions(string DataRoot, RecipeKind Recipe, SplitInfo Split, TrainOptions Train, string OutputDirectory, string? CacheDirectory,
    RecipeOverrides? Overrides = null, bool StopOnError = false, int AdaptRounds = 0, bool BalancedAdaptation = false, bool ClusterVote = false)
{
    /// <summary>Rounds of self-training on the test side's unlabelled audio (<see cref="SelfTraining"/>); 0 = none.</summary>
    public int AdaptRounds { get; init; } = AdaptRounds is >= 0 and <= SelfTraining.MaxRounds ? AdaptRounds
        : throw new OptionsException($"--adapt takes 0 to {SelfTraining.MaxRounds} rounds, got {AdaptRounds}.");

    /// <summary>Also score the validation part and the test side with test-time augmentation (<see cref="TestTimeAugmentation"/>,
    /// at the epoch chosen without it; metrics.json's <c>test_time_augmentation</c> block). Off by default: it hears every
    /// recording of the scored speakers again through each view, and it lost its rule (benchmarks/accuracy.md).</summary>
    public bool TestTimeScores { get; init; }

    /// <summary>The corpus layout every --data folder is read as (null: found per folder).</summary>
    public string? Layout { get; init; }

    /// <summary>A folder of unlabelled recordings the rounds of <see cref="AdaptRounds"/> adapt to
    /// (<see cref="SelfTraining.FromFolder"/>) instead of the test side's; null: the test side's.</summary>
    public string? AdaptTo { get; init; }

    /// <summary>Whole speakers per training corpus held out of training and of every choice, scored at the end
    /// (<see cref="Part.Audit"/>, metrics.json's <c>audit</c> block); 0 = none.</summary>
    public int AuditSpeakers { get; init; }

    /// <summary>Balance the pseudo-labels to equal class shares (<see cref="SelfTraining.Balance"/>).</summary>
    public bool BalancedAdaptation { get; init; } = !BalancedAdaptation || AdaptRounds > 0 ? BalancedAdaptation
        : throw new OptionsException("--adapt-balanced shapes the pseudo-labels of --adapt: give --adapt N (rounds) with it.");
}

/// <summary>What a run reports as it goes; the CLI shows it live or as plain lines.</summary>
public interface ITrainingProgress
{
    void Stage(string message);
    void Extraction(int done, int total);
    void Batch(int epoch, int batch, int batches);
    void Epoch(EpochRecord record, int epochs);
    void Warning(string message);
}

/// <summary>
/// One training run from corpus to run folder: split, features, training with per-epoch checkpoints, the best
/// model, test-side metrics, history and report. Resumable from its checkpoint; cancellation (Ctrl+C) stops after
/// the current batch and keeps the last complete epoch's checkpoint and the best model so far.
/// </summary>
public static class TrainingRun
{
    public sealed record Result(string Directory, ModelBundle Bundle, Metrics Metrics, TrainingState State, PreparedData Data, bool Cancelled)
    {
        /// <summary>The self-training rounds completed after the base training (empty without --adapt).</summary>
        public IReadOnlyList<AdaptationRound> Adaptation { get; init; } = [];

        /// <summary>The test side scored one file at a time, as <c>ser predict</c> does: under speaker normalisation each file
        /// standardised with the training side's statistics (inductive); null when that is the plain score.</summary>
        public Metrics? OneFileAtATime { get; init; }

        /// <summary>The test-side scores of the model before adaptation (null without --adapt).</summary>
        public Metrics? BaseMetrics { get; init; }

        /// <summary>The test side scored by a cluster vote, per speaker's groups (null without --cluster-vote).</summary>
        public (Metrics Metrics, IReadOnlyList<(string Speaker, ClusterVoteResult Vote)> Votes)? Voted { get; init; }
    }

    public static Result Execute(TrainRunOptions options, ITrainingProgress progress, CancellationToken cancellation = default, bool resume = false)
    {
        var recipeProbe = Recipes.Create(options.Recipe, 7, options.Overrides);
        if (options.Train.Masking.Any && options.Recipe != RecipeKind.Frames) // refused before any folder is made
            throw new OptionsException("--mask-time and --mask-coefficients are for the frames recipe: the seed recipe's input is one mean per coefficient.");
        if (options.Train.Crop > 0 && options.Recipe != RecipeKind.Frames)
            throw new OptionsException("--crop is for the frames recipe: the seed recipe's input is one mean per coefficient, with no frames to crop.");
        if (options.Train.ScoreWindow > 0 && options.Recipe != RecipeKind.Frames)
            throw new OptionsException("--score-window is for the frames recipe: the seed recipe's input is one mean per coefficient, with no frames to window.");
        if (options.AdaptTo is { } adaptFolder) // refused before the training it would follow
        {
            if (options.AdaptRounds == 0) throw new OptionsException("--adapt-to adapts in rounds of self-training: --adapt 0 leaves none (omit --adapt for the default 4).");
            SelfTraining.TargetFiles(adaptFolder);
        }
        progress.Stage($"Indexing {options.DataRoot} and extracting features ({recipeProbe.FrontEnd.Window.ToString().ToLowerInvariant()} window, {recipeProbe.FrontEnd.FeatureSize} values per frame)");
        var data = Experiment.Prepare(options.DataRoot, recipeProbe, options.Split, options.CacheDirectory, progress: progress.Extraction,
            threads: options.Train.Threads, cancellation: cancellation, stopOnError: options.StopOnError, layout: options.Layout, auditSpeakers: options.AuditSpeakers);
        foreach (var problem in data.Problems) progress.Warning($"skipped {problem}");
        foreach (var warning in data.Warnings) progress.Warning(warning.ToString());
        string where = options.DataRoot;
        if (data.Test.Count == 0)
            throw new OptionsException($"{where}: {data.Split.Count} utterances leave no test side under the {options.Split.Protocol.ToString().ToLowerInvariant()} protocol: give more recordings (a few per class and speaker at least).");
        if (data.Validation.Count == 0)
            progress.Warning($"{where}: too few utterances for a validation part: no early stopping (the last epoch is kept), temperature 1, and no validation curve.");
        int adversarySpeakers = options.Train.Adversary > 0 ? Trainer.AdversarySpeakers(data.Train).Count : 0;
        int[]? arousalLevels = options.Train.Arousal > 0 ? ArousalLevels.Of(data.Labels) : null;
        // Only now, with the corpus read and split: a run that fails on its options or data leaves no empty folder.
        Directory.CreateDirectory(options.OutputDirectory);
        using var runLock = LockRunFolder(options.OutputDirectory);
        Manifest.Write(Path.Combine(options.OutputDirectory, RunFiles.Split), data.Split);

        var recipe = Recipes.Create(options.Recipe, data.Labels.Count, options.Overrides);
        using var pool = new WorkerPool(options.Train.Threads > 0 ? options.Train.Threads : Environment.ProcessorCount);
        var adam = new AdamOptions(options.Train.LearningRate, weightDecay: options.Train.WeightDecay, maxGradientNorm: options.Train.MaxGradientNorm);
        var model = new SequenceClassifier(recipe.Model, adam, pool);
        var rng = new Rng(options.Train.Seed); // the split's seed unless --init-seed gave another start
        model.Initialize(rng);
        TrainingState? state = null;
        string checkpointPath = Path.Combine(options.OutputDirectory, RunFiles.Checkpoint);
        if (resume) (state, rng) = LoadCheckpoint(checkpointPath, model, Path.Combine(options.OutputDirectory, RunFiles.History));

        string drawn = data.TrainVersions is { } v ? $" ({v.Count} recordings, one version of each drawn per epoch)" : "";
        string Weight(float w) => w.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string against = (options.Train.Adversary > 0 ? $", against a speaker adversary (λ {Weight(options.Train.Adversary)}, {adversarySpeakers} speakers)" : "")
            + (options.Train.Arousal > 0 ? $", with an arousal task (μ {Weight(options.Train.Arousal)})" : "")
            + (options.Train.Mixup > 0 ? $", with mixup (α {Weight(options.Train.Mixup)})" : "")
            + (options.Train.Crop > 0 ? $", on random crops of {options.Train.Crop} frames ({data.Train.Count(s => s.Input.Steps > options.Train.Crop)} of its sequences are longer)" : "")
            + (options.Train.ScoreWindow > 0 ? $"; scored by windows of {options.Train.ScoreWindow} frames, their logits averaged" : "");
        progress.Stage($"Training {recipe.Model}{against} on {data.Train.Count} utterances{drawn}, validating on {data.Validation.Count}, testing on {data.Test.Count} ({options.Split.Protocol.ToString().ToLowerInvariant()} protocol)");
        // Masks cover the same band of the coefficients, their deltas and delta-deltas: in the training below and in every
        // adaptation round (which had trained with the whole step as one block until this was set here, once, for both).
        options = options with { Train = options.Train with { Masking = options.Train.Masking with { BlockSize = recipe.FrontEnd.Coefficients } } };
        var trainer = new Trainer(model, options.Train, data.MaxSteps);
        int epochForBatches = (state?.Epoch ?? 0) + 1;
        state = trainer.Train(data.Train, data.Validation, rng, state,
            onEpoch: (record, s) =>
            {
                progress.Epoch(record, options.Train.Epochs);
                SaveCheckpoint(checkpointPath, model, s, rng, options);
                RunFiles.WriteHistory(Path.Combine(options.OutputDirectory, RunFiles.History), s.History);
                epochForBatches = record.Epoch + 1;
            },
            onBatch: (b, n) => progress.Batch(epochForBatches, b, n), cancellation: cancellation, versions: data.TrainVersions, arousalLevels: arousalLevels);
        bool cancelled = cancellation.IsCancellationRequested;
        var adaptation = new List<AdaptationRound>();
        Metrics? baseMetrics = null;
        int adaptedTo = 0;
        if (!cancelled && options.AdaptRounds > 0)
        {
            // The model before adaptation is kept and scored too, so the run shows what the test side's audio added.
            var baseBundle = new ModelBundle(model, data.Labels, recipe, data.TrainStatistics, options.Split);
            baseBundle.Save(Path.Combine(options.OutputDirectory, RunFiles.BaseModel));
            baseMetrics = Evaluate(baseBundle, data.Test);
            var (target, name) = options.AdaptTo is { } folder
                ? (SelfTraining.FromFolder(folder, recipe, data.TrainStatistics, options.CacheDirectory, options.Train.Threads, progress, cancellation), folder)
                : (data.Test, "the test side");
            adaptedTo = target.Count;
            (model, cancelled) = SelfTraining.Adapt(model, data, target, name, options, recipe, adam, pool, rng, progress, adaptation, cancellation);
        }

        // Temperature scaling on the validation part (never the test side): changes no prediction, only the confidence.
        int window = options.Train.ScoreWindow;
        float temperature = FitTemperature(model, data.Validation, data.MaxSteps, window);
        var bundle = new ModelBundle(model, data.Labels, recipe, data.TrainStatistics, options.Split) { ScoringWindow = window, AdaptationRounds = adaptation.Count, AdaptedTo = adaptation.Count > 0 && options.AdaptTo is { } to ? Path.GetFullPath(to) : null, Temperature = temperature };
        // How a single file is standardised (ser predict FILE), chosen on the validation part as the temperature is.
        var oneFile = recipe.NeedsSpeakerStatistics ? FitOneFileRelevance(bundle, data) : null;
        if (oneFile is not null)
        {
            // And its own temperature, fitted on the validation part standardised one file at a time with that relevance.
            float? oneFileTemperature = data.ValidationRaw.Count == 0 ? null
                : FitTemperature(model, data.OneFileAtATime(recipe, data.ValidationRaw, oneFile.Relevance), data.MaxSteps, window);
            bundle = bundle with { OneFileRelevance = oneFile.Relevance, OneFileTemperature = oneFileTemperature };
        }
        bundle.Save(Path.Combine(options.OutputDirectory, RunFiles.Model));
        var (_, testSamples, testProbabilities) = Probabilities([(bundle, data.Test)]);
        var metrics = Score(data.Labels, testSamples, testProbabilities); // the test side predicted once, for both
        RunFiles.WritePredictions(Path.Combine(options.OutputDirectory, RunFiles.Predictions), data.Labels, testSamples, testProbabilities);
        var single = oneFile is null ? null : Evaluate(bundle.ForOneFile(), data.TestOneFileAtATime(recipe, bundle.OneFileRelevance));
        var extra = new Dictionary<string, object>
        {
            ["init_seed"] = options.Train.Seed,
            ["crop_frames"] = options.Train.Crop,
            ["mixup"] = options.Train.Mixup,
            ["score_window_frames"] = window,
            ["best_epoch"] = state.BestEpoch,
            ["epochs_run"] = state.Epoch,
            ["validation_accuracy"] = state.BestValidationAccuracy,
            ["temperature"] = temperature,
            ["train_count"] = data.Train.Count,
            ["copies"] = data.TrainVersions is null ? "all" : "one",
            ["balance"] = Balancing.Name(options.Train.Balance),
            ["file_copies"] = recipe.FileCopyRelevances.ToArray(),
            ["corpora"] = data.Split.GroupBy(e => e.Utterance.Corpus).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (object)g.Count()),
            ["validation_count"] = data.Validation.Count,
            ["normalization"] = recipe.Normalization.ToString().ToLowerInvariant(),
            ["cancelled"] = cancelled,
            ["adaptation_rounds"] = adaptation.Count,
            ["adaptation_prior"] = adaptation.Count == 0 ? "none" : options.BalancedAdaptation ? "balanced" : "model",
        };
        if (options.AdaptRounds > 0)
        {
            extra["adaptation_target"] = options.AdaptTo is null ? "test side" : Path.GetFullPath(options.AdaptTo);
            extra["adaptation_recordings"] = adaptedTo;
        }
        if (single is not null && oneFile is not null)
        {
            var block = new Dictionary<string, object>
            {
                ["accuracy"] = single.Accuracy, ["uar"] = single.Uar, ["ece"] = single.Ece ?? double.NaN, ["ece_floor"] = single.EceFloor ?? double.NaN, ["macro_f1"] = single.MacroF1,
                ["relevance"] = double.IsPositiveInfinity(oneFile.Relevance) ? "none" : oneFile.Relevance,
                ["temperature"] = bundle.TemperatureFor(oneFile: true),
            };
            if (data.ValidationRaw.Count > 0) // what the relevance was chosen by (without a validation part: none)
            {
                block["validation_accuracy"] = oneFile.ValidationAccuracy;
                block["validation_accuracy_unadapted"] = oneFile.UnadaptedValidationAccuracy;
            }
            extra["one_file_at_a_time"] = block;
        }
        if (data.Audit.Count > 0)
        {
            // Scored as the validation part would be, by the model as saved; nothing above looked at these speakers.
            var audit = Evaluate(bundle, data.Audit);
            var auditOneFile = Evaluate(bundle.ForOneFile(), data.OneFileAtATime(recipe, data.AuditRaw, data.Audit, bundle.OneFileRelevance));
            extra["audit"] = new Dictionary<string, object>
            {
                ["speakers"] = data.Audit.Select(s => s.Speaker).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
                ["count"] = audit.Count, ["accuracy"] = audit.Accuracy, ["uar"] = audit.Uar, ["ece"] = audit.Ece ?? double.NaN,
                ["one_file_accuracy"] = auditOneFile.Accuracy, ["one_file_uar"] = auditOneFile.Uar,
            };
        }
        if (baseMetrics is not null)
            extra["before_adaptation"] = new Dictionary<string, object> { ["accuracy"] = baseMetrics.Accuracy, ["uar"] = baseMetrics.Uar, ["macro_f1"] = baseMetrics.MacroF1 };
        if (options.TestTimeScores && recipe.TestTimeViews.Count == 0)
            progress.Warning("no test-time scores: the model was trained with no speed or warp copies, so it has no view to add.");
        else if (options.TestTimeScores && !cancelled)
        {
            progress.Stage($"Test-time augmentation: the validation part and the test side also heard through {string.Join(", ", recipe.TestTimeViews.Select(Recipe.ViewName))}");
            extra["test_time_augmentation"] = TestTimeScores(bundle, data, options.CacheDirectory, options.Train.Threads, cancellation);
        }
        (Metrics, IReadOnlyList<(string, ClusterVoteResult)>)? voted = null;
        if (options.ClusterVote && !cancelled)
        {
            try
            {
                var (votedMetrics, votes) = ClusterVote.Score([(bundle, data.Test)], data.TestFeatures(), options.Split.Seed);
                voted = (votedMetrics, votes);
                extra["cluster_vote"] = RunFiles.ClusterVoteSummary(votedMetrics, votes);
            }
            catch (OptionsException e) { progress.Warning($"no cluster vote: {e.Message}"); } // the run and its plain score stand
        }
        AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, RunFiles.Metrics), RunFiles.MetricsJson(metrics, options.Split, recipe.Kind.ToString().ToLowerInvariant(), extra));
        return new Result(options.OutputDirectory, bundle, metrics, state, data, cancelled) { Adaptation = adaptation, BaseMetrics = baseMetrics, Voted = voted, OneFileAtATime = single };
    }

    /// <summary>
    /// The scores with test-time augmentation (<see cref="TestTimeAugmentation"/>: the plain view and every training
    /// perturbation, probabilities averaged) beside the plain ones, per speaker and one file at a time: on the validation
    /// part (what a rule written before its measurement may compare; the epoch was chosen without them) and on the
    /// test side. metrics.json's <c>test_time_augmentation</c> block.
    /// </summary>
    public static Dictionary<string, object> TestTimeScores(ModelBundle bundle, PreparedData data, string? cacheDirectory, int threads, CancellationToken cancellation)
    {
        var recipe = bundle.Recipe;
        var views = recipe.TestTimeViews;
        var oneFileBundle = bundle.ForOneFile();
        var block = new Dictionary<string, object> { ["views"] = views.Select(Recipe.ViewName).ToArray() };
        // Each view predicted once: the plain view's probabilities scored alone, and averaged with the other views'.
        (Metrics Plain, Metrics Augmented) PlainAndAugmented(ModelBundle member, IReadOnlyList<Sample> plain, IEnumerable<IReadOnlyList<Sample>> others)
        {
            var each = others.Prepend(plain).Select(samples => Probabilities([(member, samples)]).Mean).ToList();
            return (Score(bundle.Labels, plain, each[0]), Score(bundle.Labels, plain, Ensemble.Mean(each)));
        }
        void ScorePart(Part part, IReadOnlyList<Sample> plain, IReadOnlyList<Sample> plainOneFile)
        {
            var heard = views.Select(view => TestTimeAugmentation.Heard(data, recipe, part, view, cacheDirectory, threads, cancellation)).ToList();
            var perSpeaker = PlainAndAugmented(bundle, plain, heard.Select(h => h.PerSpeaker(recipe, bundle.Statistics)));
            var oneFile = PlainAndAugmented(oneFileBundle, plainOneFile, heard.Select(h => h.OneFile(recipe, bundle.Statistics, bundle.OneFileRelevance)));
            if (part == Part.Validation)
            {
                block["validation_accuracy_plain"] = perSpeaker.Plain.Accuracy;
                block["validation_accuracy"] = perSpeaker.Augmented.Accuracy;
                block["one_file_validation_accuracy_plain"] = oneFile.Plain.Accuracy;
                block["one_file_validation_accuracy"] = oneFile.Augmented.Accuracy;
            }
            else
            {
                var (s, o) = (perSpeaker.Augmented, oneFile.Augmented);
                (block["accuracy"], block["uar"], block["ece"]) = (s.Accuracy, s.Uar, s.Ece ?? double.NaN);
                (block["one_file_accuracy"], block["one_file_uar"], block["one_file_ece"]) = (o.Accuracy, o.Uar, o.Ece ?? double.NaN);
            }
        }
        if (data.ValidationRaw.Count > 0)
        {
            var plain = data.Validation.Take(data.ValidationRaw.Count).ToList();
            ScorePart(Part.Validation, plain, data.OneFileAtATime(recipe, data.ValidationRaw, plain, bundle.OneFileRelevance));
        }
        ScorePart(Part.Test, data.Test, data.TestOneFileAtATime(recipe, bundle.OneFileRelevance));
        return block;
    }

    /// <summary>The relevances <see cref="FitOneFileRelevance"/> chooses from, in frames (+∞: the training side's
    /// statistics as they are; 0: the file's own).</summary>
    public static readonly double[] OneFileRelevances = [0, 16, 32, 64, 128, 256, 512, 1024, double.PositiveInfinity];

    /// <summary>What <see cref="FitOneFileRelevance"/> chose and the validation accuracies it chose by.</summary>
    public sealed record OneFileChoice(double Relevance, double ValidationAccuracy, double UnadaptedValidationAccuracy);

    /// <summary>
    /// The relevance of <see cref="OneFileRelevances"/> whose one-file standardisation (<see cref="ModelInputs.OneFile"/>)
    /// scores the validation part best, ties to the larger (nearer the training side's statistics): the test side plays
    /// no part. Without a validation part, +∞.
    /// </summary>
    public static OneFileChoice FitOneFileRelevance(ModelBundle bundle, PreparedData data)
    {
        if (data.ValidationRaw.Count == 0) return new OneFileChoice(double.PositiveInfinity, double.NaN, double.NaN);
        double best = double.PositiveInfinity, bestAccuracy = double.NegativeInfinity, unadapted = double.NaN;
        for (int k = OneFileRelevances.Length - 1; k >= 0; k--) // from +∞ down, so a tie keeps the larger
        {
            double relevance = OneFileRelevances[k];
            double accuracy = Evaluate(bundle, data.OneFileAtATime(bundle.Recipe, data.ValidationRaw, relevance)).Accuracy;
            if (double.IsPositiveInfinity(relevance)) unadapted = accuracy;
            if (accuracy > bestAccuracy) (best, bestAccuracy) = (relevance, accuracy);
        }
        return new OneFileChoice(best, bestAccuracy, unadapted);
    }

    /// <summary>The temperature that makes the model's validation probabilities honest (<see cref="Calibration.FitTemperature"/>).</summary>
    public static float FitTemperature(SequenceClassifier model, IReadOnlyList<Sample> validation, int maxSteps, int window = 0)
    {
        if (validation.Count == 0) return 1f;
        var logits = new float[validation.Count * model.Config.Classes];
        Trainer.Predict(model, new Batcher(maxSteps, Math.Min(64, validation.Count), model.Config.InputSize), validation, out _, logits: logits, window: window);
        return Calibration.FitTemperature(logits, validation.Select(s => s.Label).ToArray(), model.Config.Classes);
    }

    /// <summary>Scores a model on labelled samples: the confusion matrix and everything derived from it.</summary>
    public static Metrics Evaluate(ModelBundle bundle, IReadOnlyList<Sample> samples) => Evaluate([(bundle, samples)]);

    /// <summary>
    /// Scores an ensemble: each model's class probabilities on its own view of the same test utterances (each model
    /// normalises features its own way), averaged, then the arg max. One model is the plain evaluation.
    /// </summary>
    public static Metrics Evaluate(IReadOnlyList<(ModelBundle Bundle, IReadOnlyList<Sample> Samples)> members)
    {
        var (labels, reference, mean) = Probabilities(members);
        return Score(labels, reference, mean);
    }

    /// <summary>Metrics of class probabilities [N × classes] against the samples' labels: the arg max, the confusion and ECE.</summary>
    public static Metrics Score(IReadOnlyList<string> labels, IReadOnlyList<Sample> reference, float[] mean)
    {
        var predicted = Enumerable.Range(0, reference.Count).Select(i => Trainer.Argmax(mean, i, labels.Count)).ToList();
        var truth = reference.Select(s => s.Label).ToArray();
        return Metrics.From(labels, truth, predicted, reference.Select(s => s.Speaker).ToList(), Calibration.ExpectedCalibrationError(mean, truth, labels.Count),
            Calibration.ExpectedCalibrationErrorFloor(mean, labels.Count));
    }

    /// <summary>The members' class probabilities on the test side, averaged: [N × classes], with the labels and the
    /// first member's samples (all members must hold the same utterances in the same order).</summary>
    public static (IReadOnlyList<string> Labels, IReadOnlyList<Sample> Reference, float[] Mean) Probabilities(
        IReadOnlyList<(ModelBundle Bundle, IReadOnlyList<Sample> Samples)> members)
    {
        if (members.Count == 0) throw new SpeechEmotionException("No model to evaluate.");
        ModelBundle.RequireSameLabels(members.Select(m => m.Bundle).ToList());
        var (first, reference) = members[0];
        if (reference.Count == 0) throw new SpeechEmotionException("The test side is empty: nothing to evaluate.");
        var mean = Ensemble.Mean(members.Select(member =>
        {
            var (bundle, samples) = member;
            if (samples.Count != reference.Count || samples.Where((s, i) => s.Path != reference[i].Path).Any())
                throw new SpeechEmotionException("Models in an ensemble must be scored on the same test utterances.");
            var batcher = new Batcher(samples.Max(s => s.Input.Steps), Math.Min(64, samples.Count), bundle.Model.Config.InputSize);
            return Trainer.Predict(bundle.Model, batcher, samples, out _, bundle.Temperature, window: bundle.ScoringWindow);
        }).ToList());
        return (first.Labels, reference, mean);
    }

    private static void SaveCheckpoint(string path, SequenceClassifier model, TrainingState state, Rng rng, TrainRunOptions options)
    {
        var document = new CheckpointMetadata
        {
            Epoch = state.Epoch, BestEpoch = state.BestEpoch,
            BestValidationAccuracy = state.BestValidationAccuracy, BestValidationLoss = state.BestValidationLoss,
            AdamSteps = model.Optimizer.StepCount, Rng = rng.State,
            Data = options.DataRoot, Layout = options.Layout, Recipe = options.Recipe.ToString().ToLowerInvariant(),
            Protocol = options.Split.Protocol.ToString().ToLowerInvariant(), Seed = options.Split.Seed, InitSeed = options.Train.Seed,
            TestSpeaker = options.Split.TestSpeaker, TestCorpus = options.Split.TestCorpus,
            Epochs = options.Train.Epochs, Batch = options.Train.BatchSize, LearningRate = options.Train.LearningRate,
            MaskTime = options.Train.Masking.TimeFraction, MaskCoefficients = options.Train.Masking.Coefficients,
            LabelSmoothing = options.Train.LabelSmoothing, WeightAverage = options.Train.WeightAverage, Balance = options.Train.Balance, Patience = options.Train.Patience,
            Adversary = options.Train.Adversary, Arousal = options.Train.Arousal, Mixup = options.Train.Mixup, WeightDecay = options.Train.WeightDecay, Crop = options.Train.Crop, ScoreWindow = options.Train.ScoreWindow,
            Schedule = options.Train.Schedule, Keep = options.Train.Keep,
            Overrides = options.Overrides, Adapt = options.AdaptRounds, AdaptTo = options.AdaptTo, AuditSpeakers = options.AuditSpeakers, AdaptBalanced = options.BalancedAdaptation, ClusterVote = options.ClusterVote,
            TestTimeScores = options.TestTimeScores,
        };
        int n = model.Parameters.Count;
        NamedTensor[] tensors =
        [
            new NamedTensor("parameters", [n], model.Parameters.ReadAll().ToArray()),
            new NamedTensor("best", [n], state.BestParameters.Length == n ? state.BestParameters : model.Parameters.ReadAll().ToArray()),
            new NamedTensor("adam.m", [n], model.Optimizer.FirstMoment.ToArray()),
            new NamedTensor("adam.v", [n], model.Optimizer.SecondMoment.ToArray()),
            .. state.AveragedParameters.Length == n ? [new NamedTensor("average", [n], state.AveragedParameters)] : Array.Empty<NamedTensor>(),
            .. AuxiliaryNames.Where(state.Auxiliary.ContainsKey).SelectMany(name => new[]
            {
                new NamedTensor(name, [state.Auxiliary[name].Parameters.Length], state.Auxiliary[name].Parameters),
                new NamedTensor($"{name}.adam.m", [state.Auxiliary[name].Parameters.Length], state.Auxiliary[name].FirstMoment),
                new NamedTensor($"{name}.adam.v", [state.Auxiliary[name].Parameters.Length], state.Auxiliary[name].SecondMoment),
            }),
        ];
        document = document with { Checksum = CheckpointMetadata.ChecksumOf(tensors.Select(t => t.Data)), History = state.History.ToArray() };
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { [CheckpointMetadata.Key] = document.ToJson() });
    }

    /// <summary>The lock file a run holds while it writes its folder.</summary>
    public const string LockFile = ".lock";

    /// <summary>
    /// Holds the run folder for this run alone: a second <c>ser train</c> with the same <c>--out</c> (or <c>--resume</c>)
    /// is refused while this one runs, instead of mixing one run's model with the other's split. The lock is the
    /// operating system's (released if the process dies); the file is removed when the run ends.
    /// </summary>
    public static FileStream LockRunFolder(string directory)
    {
        string path = Path.Combine(directory, LockFile);
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose); }
        catch (IOException) when (File.Exists(path))
        {
            throw new OptionsException($"{directory}: another ser train is writing this run folder now; give another --out, or wait for it to end.");
        }
    }

    /// <summary>The options a checkpoint was written with, so --resume continues the same run.</summary>
    public static CheckpointMetadata CheckpointOptions(string directory)
    {
        if (!Directory.Exists(directory)) throw new OptionsException($"--resume {directory}: no such run folder.");
        string path = Path.Combine(directory, RunFiles.Checkpoint);
        if (!File.Exists(path))
            throw new OptionsException($"--resume {directory}: no {RunFiles.Checkpoint} — the run stopped before its first epoch ended, so there is nothing to resume; start it again without --resume.");
        return CheckpointMetadata.From(SafeTensors.Read(path).Metadata, path);
    }

    /// <summary>The auxiliary heads a checkpoint may hold, in file order: each as NAME (its parameters), NAME.adam.m and NAME.adam.v.</summary>
    private static readonly string[] AuxiliaryNames = ["adversary", "arousal"];

    private static (TrainingState, Rng) LoadCheckpoint(string path, SequenceClassifier model, string historyPath)
    {
        var (tensors, metadata) = SafeTensors.Read(path);
        var byName = tensors.ToDictionary(t => t.Name);
        int n = model.Parameters.Count;
        string[] names = byName.ContainsKey("average") ? ["parameters", "best", "adam.m", "adam.v", "average"] : ["parameters", "best", "adam.m", "adam.v"];
        foreach (var name in names)
            if (!byName.TryGetValue(name, out var t) || t.Data.Length != n)
                throw new ModelFileException(path, $"checkpoint tensor '{name}' is missing or not {n} values: not a checkpoint of this recipe.");
        var auxiliary = new Dictionary<string, AuxiliaryState>(StringComparer.Ordinal);
        foreach (var head in AuxiliaryNames.Where(byName.ContainsKey))
        {
            string[] parts = [head, $"{head}.adam.m", $"{head}.adam.v"];
            foreach (var name in parts)
                if (!byName.TryGetValue(name, out var t) || t.Data.Length != byName[head].Data.Length)
                    throw new ModelFileException(path, $"checkpoint tensor '{name}' is missing or not {byName[head].Data.Length} values: the {head} head's state is incomplete.");
            auxiliary[head] = new AuxiliaryState(byName[parts[0]].Data, byName[parts[1]].Data, byName[parts[2]].Data);
            names = [.. names, .. parts];
        }
        var saved = CheckpointMetadata.From(metadata, path);
        if (CheckpointMetadata.ChecksumOf(names.Select(name => byName[name].Data)) != saved.Checksum)
            throw new ModelFileException(path, "the checkpoint's tensors do not match its checksum: the file is damaged; start the run again without --resume.");
        byName["parameters"].Data.CopyTo(model.Parameters.Values, 0);
        model.Optimizer.Restore(byName["adam.m"].Data, byName["adam.v"].Data, saved.AdamSteps);
        var state = new TrainingState
        {
            Epoch = saved.Epoch, BestEpoch = saved.BestEpoch,
            BestValidationAccuracy = saved.BestValidationAccuracy, BestValidationLoss = saved.BestValidationLoss,
            BestParameters = byName["best"].Data,
            AveragedParameters = byName.TryGetValue("average", out var average) ? average.Data : [],
        };
        foreach (var (head, headState) in auxiliary) state.Auxiliary[head] = headState;
        // The checkpoint's own history is the record (history.csv may lag it by an epoch after a kill); rewrite the file from it.
        state.History.AddRange(saved.History.Take(state.Epoch));
        RunFiles.WriteHistory(historyPath, state.History);
        return (state, Rng.FromState(saved.Rng));
    }
}
