using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;
using SpeechEmotion.Inference;
using SpeechEmotion.Training.Corpus;
using SpeechEmotion.Training.Features;

namespace SpeechEmotion.Training.Experiments;

/// <summary>One round of adaptation as adaptation.csv records it; nothing in it comes from a test label.</summary>
public sealed record AdaptationRound(int Round, double Share, int PseudoLabelled, IReadOnlyList<int> PerClass, int? ChangedPredictions,
    int BestEpoch, int EpochsRun, double ValidationAccuracy);


/// <summary>
/// Adaptation to a new voice from its unlabelled recordings: class-balanced self-training (Zou et al., ECCV 2018,
/// "CBST"). The model labels the new voice's utterances; for each class the most confident share of the utterances
/// it assigns to that class joins the training side under that label; a fresh model trains on the result; the
/// share grows round by round. It is transductive — it uses the test side's audio, never its labels: the samples it
/// is given have their labels removed (<see cref="Unlabelled"/>) before anything else sees them.
/// </summary>
public static class SelfTraining
{
    /// <summary>Largest number of rounds a run may ask for.</summary>
    public const int MaxRounds = 10;

    /// <summary>The rounds <c>--adapt-to</c> runs unless <c>--adapt</c> says otherwise: the four every measured
    /// adaptation ran (benchmarks/accuracy.md).</summary>
    public const int DefaultRounds = 4;

    /// <summary>The longest recording <c>--adapt-to</c> learns from, in seconds of speech (after the recipe's trimming):
    /// a pseudo-label is one emotion for the whole recording, and the corpora the models learn from say one utterance
    /// of 1–5 s. A longer file is left out with a warning (cut it into utterances first).</summary>
    public const double MaxTargetSeconds = 20;

    /// <summary>
    /// A folder of recordings to adapt to (<c>ser train --adapt-to DIR</c>), as unlabelled samples: every audio file under
    /// it (symbolic links not followed), the files of one folder standardised together as one voice (speaker
    /// <c>adapt:</c> + the folder's path under DIR, <c>adapt:.</c> for DIR itself), through the recipe's front end and
    /// normalisation with the training side's statistics, as a test speaker's recordings are. No label exists to read:
    /// neither a file's name nor its folder's is parsed for one. A file that cannot be read, or longer than
    /// <see cref="MaxTargetSeconds"/>, is left out and named in a warning; none left is an error naming the folder.
    /// </summary>
    public static IReadOnlyList<Sample> FromFolder(string folder, Recipe recipe, FeatureStats trainStatistics, string? cacheDirectory, int threads,
        ITrainingProgress progress, CancellationToken cancellation)
    {
        var (files, others) = TargetFiles(folder);
        foreach (var other in others) progress.Warning($"skipped {other}: {CorpusIndex.NotAudio}.");
        string Voice(string file) => "adapt:" + Path.GetRelativePath(folder, Path.GetDirectoryName(Path.GetFullPath(file))!).Replace('\\', '/');
        var utterances = files.Select(f => new Utterance(f, Voice(f), Path.GetFileNameWithoutExtension(f), "") { Corpus = "adapt" }).ToList();
        // A folder named like an emotion is most likely a corpus laid out by emotion: standardised as one voice, what its
        // recordings share — the emotion — would be taken away. Said, not refused: the name is only a hint.
        foreach (var voice in utterances.Select(u => u.Speaker).Distinct(StringComparer.Ordinal))
            if (voice.Split('/', '_', '-', ' ', '.').Select(EmotionLabels.Normalize).FirstOrDefault(l => l is not null) is { } emotion)
                progress.Warning($"--adapt-to: the folder {voice["adapt:".Length..]} is named like an emotion ({emotion}); each folder is standardised as one voice, " +
                                 "which takes away what its recordings share. Give each speaker a folder of their own.");
        var cache = cacheDirectory is null ? null : new FeatureCache(cacheDirectory, recipe.FrontEnd);
        progress.Stage($"Reading the {files.Length} recordings to adapt to under {folder}");
        var extraction = FeatureExtraction.ExtractAll(utterances, recipe.FrontEnd, cache, threads, progress: progress.Extraction, cancellation: cancellation);
        foreach (var problem in extraction.Problems) progress.Warning($"skipped {problem.Path}: {problem.Message}");
        double secondsPerFrame = recipe.FrontEnd.Mfcc.HopLength / (double)recipe.FrontEnd.SampleRate;
        var kept = new List<(Utterance Utterance, Audio.Features Features)>();
        for (int i = 0; i < extraction.Utterances.Count; i++)
        {
            double seconds = extraction.Features[i].Frames * secondsPerFrame;
            if (seconds <= MaxTargetSeconds) kept.Add((extraction.Utterances[i], extraction.Features[i]));
            else progress.Warning($"skipped {extraction.Utterances[i].Path}: {seconds:F0} s of speech, longer than the {MaxTargetSeconds:F0} s --adapt-to learns from as one emotion; cut it into utterances first.");
        }
        if (kept.Count == 0) throw new OptionsException($"--adapt-to {folder}: none of its {files.Length} audio files could be used (each is named above).");
        var voices = Experiment.VoiceStats(kept.Select(k => (k.Utterance.Speaker, k.Features)), recipe);
        return kept.Select(k => new Sample(ModelInputs.Prepare(recipe, trainStatistics, voices?[k.Utterance.Speaker], k.Features), -1, k.Utterance.Speaker, k.Utterance.Path)).ToList();
    }

    /// <summary>The audio files under an <c>--adapt-to</c> folder and the other files beside them; a missing folder, or one
    /// without audio, is refused naming it (checked before training, and again when the files are read).</summary>
    public static (string[] Audio, string[] Skipped) TargetFiles(string folder)
    {
        if (!Directory.Exists(folder)) throw new OptionsException($"--adapt-to {folder}: no such folder.");
        var found = CorpusIndex.AudioFilesUnder(folder);
        if (found.Audio.Length == 0) throw new OptionsException($"--adapt-to {folder}: no audio files ({string.Join(", ", CorpusIndex.AudioExtensions)}) under this folder.");
        return found;
    }

    /// <summary>The samples with their labels replaced by −1 (unknown), so nothing downstream can read them.</summary>
    public static IReadOnlyList<Sample> Unlabelled(IReadOnlyList<Sample> samples) => samples.Select(s => s with { Label = -1 }).ToList();

    /// <summary>Share of each class's utterances taken in round <paramref name="round"/> of <paramref name="rounds"/>:
    /// round / (rounds + 1), so four rounds take 20, 40, 60 and 80 % and the least confident fifth is never used.</summary>
    public static double Share(int round, int rounds)
    {
        if (rounds < 1 || rounds > MaxRounds) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, $"rounds must be in 1…{MaxRounds}.");
        if (round < 1 || round > rounds) throw new ArgumentOutOfRangeException(nameof(round), round, $"round must be in 1…{rounds}.");
        return round / (double)(rounds + 1);
    }

    /// <summary>
    /// Class probabilities rebalanced so that every class receives the same share of the utterances (Sinkhorn-Knopp
    /// scaling, as in Asano et al. 2020 and SwAV's equipartition): the columns of [N × classes] are scaled to sum to
    /// N / classes and the rows to 1, alternately, <paramref name="iterations"/> times. This is an assumption about
    /// the recordings — that the emotions in them are about equally frequent — not knowledge of any label; a class
    /// the model never predicts for the new voice then still receives the utterances that suit it best.
    /// </summary>
    public static float[] Balance(ReadOnlySpan<float> probabilities, int classes, int iterations = 100)
    {
        if (classes < 1 || probabilities.Length % classes != 0) throw new ArgumentException($"{probabilities.Length} probabilities are not rows of {classes}.", nameof(probabilities));
        int n = probabilities.Length / classes;
        var q = new double[probabilities.Length];
        for (int i = 0; i < q.Length; i++) q[i] = Math.Max(probabilities[i], 1e-30); // a zero would pin its cell at zero
        var columnSums = new double[classes];
        for (int iteration = 0; iteration < iterations; iteration++)
        {
            Array.Clear(columnSums);
            for (int i = 0; i < n; i++)
                for (int c = 0; c < classes; c++) columnSums[c] += q[i * classes + c];
            for (int i = 0; i < n; i++)
            {
                double row = 0;
                for (int c = 0; c < classes; c++) row += q[i * classes + c] *= n / (double)classes / columnSums[c];
                for (int c = 0; c < classes; c++) q[i * classes + c] /= row;
            }
        }
        return q.Select(v => (float)v).ToArray();
    }

    /// <summary>
    /// Pseudo-labelled samples: for each class c, of the utterances whose most probable class is c, the
    /// ⌈share · count⌉ with the highest probability of c (ties: the earlier utterance), labelled c. Selecting per
    /// class keeps a class the model is shy of from vanishing from the pseudo-labels.
    /// </summary>
    /// <param name="probabilities">[N × classes], row i for unlabelled[i].</param>
    public static List<Sample> Select(IReadOnlyList<Sample> unlabelled, ReadOnlySpan<float> probabilities, int classes, double share)
    {
        if (probabilities.Length != unlabelled.Count * classes)
            throw new ArgumentException($"Expected {unlabelled.Count} × {classes} probabilities, got {probabilities.Length}.", nameof(probabilities));
        if (!(share > 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "share must be in (0, 1].");
        var byClass = new List<(float Confidence, int Index)>[classes];
        for (int c = 0; c < classes; c++) byClass[c] = new();
        for (int i = 0; i < unlabelled.Count; i++)
        {
            int c = Trainer.Argmax(probabilities, i, classes);
            byClass[c].Add((probabilities[i * classes + c], i));
        }
        var chosen = new List<Sample>();
        for (int c = 0; c < classes; c++)
        {
            var candidates = byClass[c];
            candidates.Sort((a, b) => a.Confidence != b.Confidence ? b.Confidence.CompareTo(a.Confidence) : a.Index.CompareTo(b.Index));
            int take = (int)Math.Ceiling(share * candidates.Count - 1e-9);
            foreach (var (_, index) in candidates.Take(take)) chosen.Add(unlabelled[index] with { Label = c });
        }
        chosen.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path)); // a fixed order whatever the classes' sizes
        return chosen;
    }

    /// <summary>
    /// Self-training rounds after the base training: the current model labels <paramref name="target"/>'s utterances —
    /// the test side's with their labels removed, or a folder's (<see cref="FromFolder"/>), <paramref name="name"/> naming
    /// it in messages — the most confident share per class joins the training side, and a freshly initialised model trains
    /// on it with the same options, selecting its epoch on the same validation part. Each round's history goes to
    /// history-round-N.csv and a line to adaptation.csv. A cancelled round is dropped, keeping the last complete model.
    /// Returns the final model and whether the run was cancelled.
    /// </summary>
    public static (SequenceClassifier Model, bool Cancelled) Adapt(SequenceClassifier model, PreparedData data, IReadOnlyList<Sample> target, string name,
        TrainRunOptions options, Recipe recipe, AdamOptions adam, WorkerPool pool, Rng rng, ITrainingProgress progress, List<AdaptationRound> rounds, CancellationToken cancellation)
    {
        var unlabelled = Unlabelled(target);
        if (unlabelled.Count == 0) throw new SpeechEmotionException($"--adapt needs recordings to adapt to, and {name} has none.");
        int classes = data.Labels.Count;
        int maxSteps = Math.Max(data.MaxSteps, unlabelled.Max(s => s.Input.Steps));
        var batcher = new Batcher(maxSteps, Math.Min(64, unlabelled.Count), recipe.InputSize);
        int[]? previous = null;
        for (int round = 1; round <= options.AdaptRounds; round++)
        {
            var probabilities = Trainer.Predict(model, batcher, unlabelled, out _, window: options.Train.ScoreWindow); // as the model will score them
            var predicted = Enumerable.Range(0, unlabelled.Count).Select(i => Trainer.Argmax(probabilities, i, classes)).ToArray();
            int? changed = previous is null ? null : predicted.Where((p, i) => p != previous[i]).Count(); // none before the first round
            previous = predicted;
            double share = Share(round, options.AdaptRounds);
            var pseudo = Select(unlabelled, options.BalancedAdaptation ? Balance(probabilities, classes) : probabilities, classes, share);
            progress.Stage($"Adaptation round {round} of {options.AdaptRounds}: {pseudo.Count} of {name}'s {unlabelled.Count} utterances " +
                           $"(the most confident {share:P0} of each class the model assigns, labels unseen) join the training side under the model's labels");
            var next = new SequenceClassifier(recipe.Model, adam, pool);
            next.Initialize(rng);
            var trainer = new Trainer(next, options.Train, maxSteps);
            int epochForBatches = 1;
            // Drawn copies stay drawn; each pseudo-labelled utterance is a group of one.
            var versions = data.TrainVersions?.Concat(Enumerable.Range(data.Train.Count, pseudo.Count).Select(i => new[] { i })).ToList();
            var state = trainer.Train(data.Train.Concat(pseudo).ToList(), data.Validation, rng,
                onEpoch: (record, _) => { progress.Epoch(record, options.Train.Epochs); epochForBatches = record.Epoch + 1; },
                onBatch: (b, n) => progress.Batch(epochForBatches, b, n), cancellation: cancellation, versions: versions,
                arousalLevels: options.Train.Arousal > 0 ? ArousalLevels.Of(data.Labels) : null);
            if (cancellation.IsCancellationRequested) return (model, true);
            RunFiles.WriteHistory(Path.Combine(options.OutputDirectory, $"history-round-{round}.csv"), state.History);
            var perClass = Enumerable.Range(0, classes).Select(c => pseudo.Count(s => s.Label == c)).ToList();
            rounds.Add(new AdaptationRound(round, share, pseudo.Count, perClass, changed, state.BestEpoch, state.Epoch, state.BestValidationAccuracy));
            RunFiles.WriteAdaptation(Path.Combine(options.OutputDirectory, RunFiles.Adaptation), data.Labels, rounds);
            model = next;
        }
        return (model, false);
    }
}
