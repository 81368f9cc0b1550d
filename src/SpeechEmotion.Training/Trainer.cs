using System.Diagnostics;
using SpeechEmotion.Core;
using SpeechEmotion.Core.Models;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Training;

/// <summary>Training settings, validated at construction with errors that name the option.</summary>
public sealed record TrainOptions
{
    public TrainOptions(int epochs = 40, int batchSize = 32, float learningRate = DefaultLearningRate, ulong seed = 1, int patience = 10,
        float weightDecay = DefaultWeightDecay, float maxGradientNorm = 5f, int threads = 0, Masking? masking = null, float labelSmoothing = 0, float weightAverage = 0,
        LossBalance balance = LossBalance.None, float adversary = 0, float arousal = 0, float mixup = 0,
        LearningRateSchedule schedule = LearningRateSchedule.Constant, EpochChoice keep = EpochChoice.Best, int crop = 0, int scoreWindow = 0)
    {
        if (crop < 0) throw new OptionsException($"--crop must be 0 (off) or a positive length, got {crop} frames.");
        Crop = crop;
        if (scoreWindow < 0 || scoreWindow > Inference.ModelBundle.MaxScoringWindow)
            throw new OptionsException($"--score-window must be 0 (whole recordings) or a positive length of at most {Inference.ModelBundle.MaxScoringWindow:N0} frames, got {scoreWindow} frames.");
        ScoreWindow = scoreWindow;
        if (!Enum.IsDefined(schedule)) throw new OptionsException($"--lr-schedule has no value {(int)schedule}.");
        if (!Enum.IsDefined(keep)) throw new OptionsException($"--keep has no value {(int)keep}.");
        Schedule = schedule;
        Keep = keep;
        if (!(weightDecay >= 0 && weightDecay < 1)) throw new OptionsException($"--weight-decay must be in [0, 1) (Adam's decoupled decay: each step multiplies every weight by 1 − lr·decay), got {weightDecay}.");
        if (!(mixup >= 0 && mixup <= 10)) throw new OptionsException($"--mixup must be a Beta parameter α in [0, 10] (0 = off), got {mixup}.");
        Mixup = mixup;
        if (!(adversary >= 0 && adversary <= 10)) throw new OptionsException($"--adversary must be a weight λ in [0, 10] (0 = off), got {adversary}.");
        if (!(arousal >= 0 && arousal <= 10)) throw new OptionsException($"--arousal must be a weight μ in [0, 10] (0 = off), got {arousal}.");
        Adversary = adversary;
        Arousal = arousal;
        if (!Enum.IsDefined(balance)) throw new OptionsException($"--balance has no value {(int)balance}.");
        Balance = balance;
        if (!(weightAverage >= 0 && weightAverage < 1)) throw new OptionsException($"--weight-average must be a decay in [0, 1) (0 = off), got {weightAverage}.");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 0.5f)) throw new OptionsException($"--label-smoothing must be in [0, 0.5], got {labelSmoothing}.");
        if (epochs < 1 || epochs > 100_000) throw new OptionsException($"--epochs must be in 1…100000, got {epochs}.");
        if (batchSize < 1 || batchSize > 4096) throw new OptionsException($"--batch must be in 1…4096, got {batchSize}.");
        if (!(learningRate > 0 && learningRate < 10)) throw new OptionsException($"--lr must be in (0, 10), got {learningRate}.");
        if (patience < 1) throw new OptionsException($"--patience must be at least 1 epoch, got {patience}.");
        if (threads < 0) throw new OptionsException($"--threads must be 0 (all cores) or more, got {threads}.");
        Epochs = epochs; BatchSize = batchSize; LearningRate = learningRate; Seed = seed; Patience = patience;
        WeightDecay = weightDecay; MaxGradientNorm = maxGradientNorm; Threads = threads; Masking = masking ?? Masking.None;
        LabelSmoothing = labelSmoothing;
        WeightAverage = weightAverage;
    }

    /// <summary>Adam's learning rate unless told otherwise: 0.002, the seed recipe's (the frames recipe's is
    /// <see cref="Recipes.DefaultFramesLearningRate"/>; <see cref="Recipes.DefaultLearningRate"/> gives either).</summary>
    public const float DefaultLearningRate = 2e-3f;

    /// <summary>Adam's decoupled weight decay unless told otherwise (<c>--weight-decay</c>): each step multiplies every
    /// weight by 1 − lr·1e-4.</summary>
    public const float DefaultWeightDecay = 1e-4f;

    /// <summary>
    /// Decay d of an exponential moving average of the parameters, updated after every step (a ← a + (1 − d)·(θ − a),
    /// from θ at the first step): the epochs are then scored, chosen and kept with the average, not the last step's
    /// weights (Polyak averaging). 0 = off.
    /// </summary>
    public float WeightAverage { get; }

    /// <summary>The training loss's target: (1 − ε)·onehot + ε/C (torch's label_smoothing); validation and test
    /// losses stay plain cross-entropy.</summary>
    public float LabelSmoothing { get; }

    /// <summary>How the training loss weighs its samples (<see cref="Balancing"/>; none by default); validation and test
    /// losses stay unweighted.</summary>
    public LossBalance Balance { get; }

    /// <summary>
    /// Weight λ of the speaker adversary (an <see cref="AuxiliaryHead"/> over the training speakers with scale −λ:
    /// gradient reversal): a small classifier learns to tell the training speakers apart from the pooled vector, and the
    /// network below learns against it with weight λ, towards features that carry the emotion and not the voice. 0 = off.
    /// </summary>
    public float Adversary { get; }

    /// <summary>
    /// Weight μ of an auxiliary arousal task (an <see cref="AuxiliaryHead"/> over <see cref="ArousalLevels"/> with scale
    /// +μ): the network also learns whether each emotion is of high or low arousal, the part of an emotion that carries
    /// best across voices and corpora. 0 = off.
    /// </summary>
    public float Arousal { get; }

    /// <summary>
    /// Mixup's α (Zhang et al. 2018, for sequences): every training sequence of a batch is mixed with a partner drawn from
    /// the same batch (a random permutation), frame by frame over its own frames, x = λ·x_own + (1 − λ)·x_partner (the
    /// partner's frames past its end count as 0, the standardised mean), and trains towards λ·its label + (1 − λ)·the
    /// partner's; λ = max(u, 1 − u), u ~ Beta(α, α) per sequence, so its own recording dominates and its length stays.
    /// Masks apply to the mixture; auxiliary heads learn the own recording's labels; training accuracy counts against
    /// them too. 0 = off (and nothing drawn).
    /// </summary>
    public float Mixup { get; }

    /// <summary>
    /// Random crops: every training sequence longer than this many frames is cut, each time it is drawn into a batch, to
    /// a window of exactly this many consecutive frames starting at a uniformly drawn frame (its features were computed,
    /// and standardised, over the whole recording first); shorter sequences stay whole. The model then learns from
    /// stretches of speech rather than from whole sentences, and each epoch sees other stretches. Validation, test and
    /// prediction read whole recordings. 0 = off (and nothing drawn).
    /// </summary>
    public int Crop { get; }

    /// <summary>
    /// Scoring by windows (<see cref="Inference.ScoringWindows"/>): the validation part, the test side and the saved
    /// model's predictions score each recording longer than this many frames by its windows of this length, one every half
    /// window, their logits averaged — the stretches a model trained on crops learnt from. 0 = whole recordings.
    /// </summary>
    public int ScoreWindow { get; }

    /// <summary>How the learning rate moves over the epochs (<see cref="LearningRateAt"/>); constant by default.</summary>
    public LearningRateSchedule Schedule { get; }

    /// <summary>Which epoch's weights the run keeps: the best on the validation part (early stopping after
    /// <see cref="Patience"/> epochs without a better one), or the last of <see cref="Epochs"/> (nothing chosen, every
    /// epoch trained).</summary>
    public EpochChoice Keep { get; }

    /// <summary>Adam's learning rate for the epoch numbered <paramref name="epoch"/> from 0: <see cref="LearningRate"/>
    /// throughout, or with <see cref="LearningRateSchedule.Cosine"/> lr·½(1 + cos(π·epoch/<see cref="Epochs"/>)), from lr at
    /// the first epoch to about lr·π²/(4·Epochs²) at the last (computed in double, then rounded once to float).</summary>
    public float LearningRateAt(int epoch) => Schedule == LearningRateSchedule.Cosine
        ? (float)(LearningRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(epoch, Epochs) / Epochs)))
        : LearningRate;

    /// <summary>Hidden units of an auxiliary head (Dense → ReLU → Dense over its classes).</summary>
    public const int AuxiliaryHidden = 64;

    /// <summary>SpecAugment-style masks on every training sequence (<see cref="Training.Masking"/>; none by default).</summary>
    public Masking Masking { get; init; }

    public int Epochs { get; }
    public int BatchSize { get; }
    public float LearningRate { get; }
    public ulong Seed { get; }
    public int Patience { get; }
    public float WeightDecay { get; }
    public float MaxGradientNorm { get; }
    public int Threads { get; }
}

/// <summary>How the learning rate moves over a run's epochs (<c>--lr-schedule</c>, <see cref="TrainOptions.LearningRateAt"/>).</summary>
public enum LearningRateSchedule { Constant, Cosine }

/// <summary>Which epoch's weights a run keeps (<c>--keep</c>, <see cref="TrainOptions.Keep"/>).</summary>
public enum EpochChoice { Best, Last }

/// <summary>
/// SpecAugment-style masking (Park et al. 2019) of the standardised training inputs, drawn afresh for every sequence
/// of every batch by the run's generator: one span of up to <see cref="TimeFraction"/> of a sequence's frames, and one
/// band of up to <see cref="Coefficients"/> adjacent cepstral coefficients (the same band of every block of
/// <see cref="BlockSize"/> values: the coefficients, their deltas and delta-deltas), set to 0, the standardised mean.
/// Training only: validation, test and prediction see every value.
/// </summary>
public sealed record Masking
{
    public static readonly Masking None = new(0, 0);

    /// <summary>What the frames recipe trains with unless told otherwise: up to a fifth of the frames and 3 of the 13
    /// coefficients (measured in benchmarks/accuracy.md: masking raised the validation scores of every many-voices protocol;
    /// the band went from 8 of 40 to 4 of 20 and 3 of 13 with the coefficients).</summary>
    public static readonly Masking FramesDefault = new(0.2, 3);

    public Masking(double timeFraction, int coefficients, int blockSize = 0)
    {
        if (!(timeFraction >= 0 && timeFraction <= 0.5)) throw new OptionsException($"--mask-time must be a fraction of the frames in [0, 0.5], got {timeFraction}.");
        if (coefficients < 0 || coefficients > 64) throw new OptionsException($"--mask-coefficients must be 0 to 64 coefficients, got {coefficients}.");
        TimeFraction = timeFraction; Coefficients = coefficients; BlockSize = blockSize;
    }

    public double TimeFraction { get; }
    public int Coefficients { get; }
    /// <summary>Values per block of the input step (the MFCC count); 0 = the whole step is one block.</summary>
    public int BlockSize { get; init; }
    public bool Any => TimeFraction > 0 || Coefficients > 0;
}

/// <summary>One line of the training history.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainAccuracy, double ValidationLoss, double ValidationAccuracy,
    double Seconds, double SamplesPerSecond, bool Best);

/// <summary>Where a run stands, for checkpoints and --resume.</summary>
public sealed class TrainingState
{
    public int Epoch { get; set; }
    public int BestEpoch { get; set; }
    public double BestValidationAccuracy { get; set; } = -1;
    public double BestValidationLoss { get; set; } = double.PositiveInfinity;
    public float[] BestParameters { get; set; } = [];
    /// <summary>The moving average of the parameters (<see cref="TrainOptions.WeightAverage"/>); empty when off.</summary>
    public float[] AveragedParameters { get; set; } = [];
    /// <summary>Each auxiliary head's parameters and Adam moments at the end of the last epoch, by name ("adversary",
    /// "arousal"; <see cref="TrainOptions.Adversary"/>, <see cref="TrainOptions.Arousal"/>); empty when off. A resumed run
    /// restores them instead of drawing new heads.</summary>
    public Dictionary<string, AuxiliaryState> Auxiliary { get; } = new(StringComparer.Ordinal);
    public List<EpochRecord> History { get; } = new();
}

/// <summary>An auxiliary head's parameters and Adam moments, as a checkpoint keeps them.</summary>
public sealed record AuxiliaryState(float[] Parameters, float[] FirstMoment, float[] SecondMoment);

/// <summary>
/// Mini-batch training with Adam, shuffled each epoch by the one seeded generator, model selection and early
/// stopping on the validation part only (best accuracy, ties broken by loss), and the best parameters restored
/// at the end. Batches are padded to their longest sequence; every buffer is sized once for the longest batch.
/// </summary>
public sealed class Trainer
{
    private readonly SequenceClassifier _model;
    private readonly TrainOptions _options;
    private readonly Batcher _batcher;

    public Trainer(SequenceClassifier model, TrainOptions options, int maxSteps)
    {
        _model = model;
        _options = options;
        _batcher = new Batcher(maxSteps, options.BatchSize, model.Config.InputSize, mixing: options.Mixup > 0);
        model.Reserve(maxSteps, options.BatchSize);
    }

    /// <summary>Runs epochs until the budget, the patience or the cancellation ends it. Returns the state with the
    /// best parameters loaded into the model. With <paramref name="versions"/> (indices into <paramref name="train"/>,
    /// one group per utterance: the original and its perturbed copies) an epoch trains on one version of each
    /// utterance, drawn afresh every epoch, instead of on every sample.</summary>
    public TrainingState Train(IReadOnlyList<Sample> train, IReadOnlyList<Sample> validation, Rng rng, TrainingState? resume = null,
        Action<EpochRecord, TrainingState>? onEpoch = null, Action<int, int>? onBatch = null, CancellationToken cancellation = default,
        IReadOnlyList<int[]>? versions = null, IReadOnlyList<int>? arousalLevels = null)
    {
        if (train.Count == 0) throw new SpeechEmotionException("No training samples: the training side of the split is empty.");
        if (versions is not null && versions.Any(v => v.Length == 0 || v.Any(i => (uint)i >= (uint)train.Count)))
            throw new ArgumentException("Every version group needs at least one index into the training samples.", nameof(versions));
        var state = resume ?? new TrainingState();
        int units = versions?.Count ?? train.Count;
        var order = new int[units];
        var drawn = new int[units];
        var labels = new int[_options.BatchSize];
        float[]? sampleWeights = Balancing.SampleWeights(train, versions, _options.Balance);
        var batchWeights = new float[sampleWeights is null ? 0 : _options.BatchSize];
        bool mixing = _options.Mixup > 0;
        var partners = new int[mixing ? _options.BatchSize : 0];
        var shares = new float[partners.Length];
        var targets = new float[partners.Length * _model.Config.Classes];
        int sinceBest = state.Epoch - state.BestEpoch;
        bool averaging = _options.WeightAverage > 0;
        if (averaging && state.AveragedParameters.Length != _model.Parameters.Count) state.AveragedParameters = _model.Parameters.ReadAll().ToArray();
        float[] scratch = averaging ? new float[_model.Parameters.Count] : [];
        var tasks = CreateTasks(train, state, rng, arousalLevels);
        PooledObjective? extra = tasks.Count == 0 ? null : (pooled, batch, gradient) =>
        {
            for (int t = 0; t < tasks.Count; t++) tasks[t].Head.TrainStep(pooled, tasks[t].Batch.AsSpan(0, batch), batch, tasks[t].Scale, gradient, _model.Pool);
        };
        bool keepLast = _options.Keep == EpochChoice.Last;
        while (state.Epoch < _options.Epochs && (keepLast || sinceBest < _options.Patience) && !cancellation.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            if (_options.Schedule != LearningRateSchedule.Constant)
            {
                var scheduled = _model.Optimizer.Options with { LearningRate = _options.LearningRateAt(state.Epoch) };
                _model.Optimizer.Options = scheduled;
                foreach (var task in tasks) task.Head.Optimizer.Options = scheduled;
            }
            // Each epoch's order depends on the generator alone (not on the last epoch's order), so a resumed run
            // draws the same batches as an uninterrupted one.
            for (int i = 0; i < order.Length; i++) order[i] = i;
            rng.Shuffle(order.AsSpan());
            DrawVersions(order, versions, rng, drawn);
            double lossSum = 0;
            int correct = 0, seen = 0, batches = (units + _options.BatchSize - 1) / _options.BatchSize;
            for (int b = 0; b < batches && !cancellation.IsCancellationRequested; b++)
            {
                var indices = drawn.AsSpan(b * _options.BatchSize, Math.Min(_options.BatchSize, units - b * _options.BatchSize));
                var batch = _batcher.Fill(train, indices, labels, _options.Crop, rng);
                if (mixing) Mix(indices.Length, labels, partners, shares, targets, rng);
                if (_options.Masking.Any) _batcher.Mask(indices.Length, _options.Masking, rng);
                if (sampleWeights is not null)
                    for (int i = 0; i < indices.Length; i++) batchWeights[i] = sampleWeights[indices[i]];
                foreach (var task in tasks)
                    for (int i = 0; i < indices.Length; i++) task.Batch[i] = task.LabelOf[indices[i]];
                lossSum += _model.TrainStep(batch.X, batch.Lengths, labels.AsSpan(0, indices.Length), batch.Steps, indices.Length, rng,
                    labelSmoothing: _options.LabelSmoothing, sampleWeights: batchWeights.AsSpan(0, sampleWeights is null ? 0 : indices.Length), extra: extra,
                    targets: targets.AsSpan(0, mixing ? indices.Length * _model.Config.Classes : 0)) * indices.Length;
                if (averaging) Average(state.AveragedParameters, _model.Parameters.ReadAll(), 1 - _options.WeightAverage, scratch);
                correct += CountCorrect(_model.Probabilities, labels.AsSpan(0, indices.Length), _model.Config.Classes);
                seen += indices.Length;
                onBatch?.Invoke(b + 1, batches);
            }
            if (cancellation.IsCancellationRequested && seen < units) break; // a partial epoch is not recorded
            double seconds = clock.Elapsed.TotalSeconds;
            // Without a validation part (a folder too small for one) there is nothing to choose by: the last epoch is
            // kept, and the history's validation columns say NaN rather than repeat the training figures.
            bool validated = validation.Count > 0;
            // With averaging the epoch is the average's: scored (and kept, below) with the averaged weights.
            if (averaging) Swap(_model.Parameters.Values, state.AveragedParameters, scratch);
            var (validationLoss, validationAccuracy) = validated ? Score(validation) : (lossSum / seen, correct / (double)seen);
            state.Epoch++;
            foreach (var task in tasks)
                state.Auxiliary[task.Head.Name] = new AuxiliaryState(task.Head.Parameters.ReadAll().ToArray(),
                    task.Head.Optimizer.FirstMoment.ToArray(), task.Head.Optimizer.SecondMoment.ToArray());
            bool best = keepLast || !validated || validationAccuracy > state.BestValidationAccuracy ||
                        (validationAccuracy == state.BestValidationAccuracy && validationLoss < state.BestValidationLoss);
            if (best)
            {
                state.BestEpoch = state.Epoch;
                state.BestValidationAccuracy = validationAccuracy;
                state.BestValidationLoss = validationLoss;
                state.BestParameters = _model.Parameters.ReadAll().ToArray();
            }
            if (averaging) Swap(_model.Parameters.Values, state.AveragedParameters, scratch);
            sinceBest = state.Epoch - state.BestEpoch;
            var record = new EpochRecord(state.Epoch, lossSum / seen, correct / (double)seen,
                validated ? validationLoss : double.NaN, validated ? validationAccuracy : double.NaN, seconds, seen / seconds, best);
            state.History.Add(record);
            onEpoch?.Invoke(record, state);
        }
        if (state.BestParameters.Length == _model.Parameters.Count) state.BestParameters.CopyTo(_model.Parameters.Values, 0);
        return state;
    }

    /// <summary>Mixup on the batch just filled (<see cref="TrainOptions.Mixup"/>): draws each sequence's partner (a
    /// permutation of the batch) and own share λ, mixes the features in place and writes the soft targets [B, C].</summary>
    private void Mix(int count, ReadOnlySpan<int> labels, Span<int> partners, Span<float> shares, Span<float> targets, Rng rng)
    {
        int classes = _model.Config.Classes;
        for (int i = 0; i < count; i++) partners[i] = i;
        rng.Shuffle(partners[..count]);
        for (int i = 0; i < count; i++)
        {
            double u = rng.NextBeta(_options.Mixup, _options.Mixup);
            shares[i] = (float)Math.Max(u, 1 - u);
        }
        _batcher.Mix(count, partners[..count], shares[..count]);
        targets[..(count * classes)].Clear();
        for (int i = 0; i < count; i++)
        {
            targets[i * classes + labels[i]] += shares[i];
            targets[i * classes + labels[partners[i]]] += 1 - shares[i];
        }
    }

    /// <summary>The speakers a speaker adversary tells apart: those of the training samples, in ordinal order; at least two,
    /// else <see cref="OptionsException"/> naming the option.</summary>
    public static IReadOnlyList<string> AdversarySpeakers(IReadOnlyList<Sample> train)
    {
        var names = train.Select(s => s.Speaker).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (names.Count < 2)
            throw new OptionsException($"--adversary learns against a classifier of the training speakers: the training side has {names.Count} speaker(s), it needs at least 2.");
        return names;
    }

    /// <summary>One auxiliary head, each training sample's label for it, its labels of the batch at hand and its scale.</summary>
    private sealed record AuxiliaryTask(AuxiliaryHead Head, int[] LabelOf, int[] Batch, float Scale);

    /// <summary>
    /// The auxiliary heads the options ask for, in this order: the speaker adversary (<see cref="TrainOptions.Adversary"/>,
    /// over <see cref="AdversarySpeakers"/>, a perturbed copy as its original's speaker; scale −λ), then the arousal task
    /// (<see cref="TrainOptions.Arousal"/>, over <paramref name="arousalLevels"/> of each emotion label; scale +μ). Each is
    /// drawn from the run's generator in that order, or restored from a resumed state (which the generator then continues
    /// without drawing it again).
    /// </summary>
    private List<AuxiliaryTask> CreateTasks(IReadOnlyList<Sample> train, TrainingState state, Rng rng, IReadOnlyList<int>? arousalLevels)
    {
        var tasks = new List<AuxiliaryTask>();
        void Add(string name, int classes, int[] labelOf, float scale)
        {
            var head = new AuxiliaryHead(_model.Config.PooledSize, TrainOptions.AuxiliaryHidden, classes, _options.BatchSize, _model.Optimizer.Options, name);
            if (state.Auxiliary.TryGetValue(name, out var saved) && saved.Parameters.Length == head.Parameters.Count)
            {
                saved.Parameters.CopyTo(head.Parameters.Values, 0);
                head.Optimizer.Restore(saved.FirstMoment, saved.SecondMoment, _model.Optimizer.StepCount);
            }
            else if (state.Epoch > 0)
                throw new OptionsException($"--{name}: the resumed run has no {name} head of {classes} classes to continue; start it again without --resume.");
            else head.Initialize(rng);
            tasks.Add(new AuxiliaryTask(head, labelOf, new int[_options.BatchSize], scale));
        }
        if (_options.Adversary > 0)
        {
            var names = AdversarySpeakers(train);
            var index = names.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.Ordinal);
            Add("adversary", names.Count, train.Select(s => index[s.Speaker]).ToArray(), -_options.Adversary);
        }
        if (_options.Arousal > 0)
        {
            if (arousalLevels is null) throw new OptionsException("--arousal needs each emotion label's arousal level (ArousalLevels.Of the run's labels).");
            if (arousalLevels.Distinct().Count() < 2)
                throw new OptionsException("--arousal learns high against low arousal: the labels trained on are all of one level.");
            Add("arousal", 2, train.Select(s => arousalLevels[s.Label]).ToArray(), _options.Arousal);
        }
        return tasks;
    }

    /// <summary>The sample each unit of <paramref name="order"/> trains on this epoch: itself without
    /// <paramref name="versions"/>, else one of its group's, drawn uniformly (a group of one draws nothing, so groups of one
    /// train as no groups at all).</summary>
    internal static void DrawVersions(ReadOnlySpan<int> order, IReadOnlyList<int[]>? versions, Rng rng, Span<int> drawn)
    {
        if (versions is null) { order.CopyTo(drawn); return; }
        for (int i = 0; i < order.Length; i++)
        {
            var group = versions[order[i]];
            drawn[i] = group.Length == 1 ? group[0] : group[rng.NextInt(group.Length)];
        }
    }

    /// <summary>a ← a + rate·(θ − a), element by element (the same bits at every vector width), subnormals flushed.</summary>
    private static void Average(Span<float> average, ReadOnlySpan<float> parameters, float rate, Span<float> scratch)
    {
        System.Numerics.Tensors.TensorPrimitives.Subtract(parameters, average, scratch);
        System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(scratch, rate, average, average);
        Subnormal.Flush(average);
    }

    /// <summary>Exchanges the contents of two parameter buffers through a third.</summary>
    private static void Swap(Span<float> a, Span<float> b, Span<float> scratch)
    {
        a.CopyTo(scratch); b.CopyTo(a); scratch.CopyTo(b);
    }

    /// <summary>Mean loss and accuracy of the model (no dropout) on a labelled set.</summary>
    public (double Loss, double Accuracy) Score(IReadOnlyList<Sample> samples)
    {
        var predictions = Predict(_model, _batcher, samples, out double loss, window: _options.ScoreWindow);
        int correct = 0;
        for (int i = 0; i < samples.Count; i++) if (Argmax(predictions, i, _model.Config.Classes) == samples[i].Label) correct++;
        return (loss, correct / (double)samples.Count);
    }

    /// <summary>
    /// Class probabilities [N × C] for every sample, in batches; loss is the mean cross-entropy (of the network's own
    /// softmax). A <paramref name="temperature"/> other than 1 returns softmax(logits / T) instead; <paramref name="logits"/>,
    /// when given, receives the logits [N × C].
    /// </summary>
    public static float[] Predict(SequenceClassifier model, Batcher batcher, IReadOnlyList<Sample> samples, out double loss, float temperature = 1f, float[]? logits = null, int window = 0)
    {
        if (window > 0) return PredictByWindows(model, batcher, samples, out loss, temperature, logits, window);
        int classes = model.Config.Classes, size = batcher.BatchSize;
        var probabilities = new float[samples.Count * classes];
        var labels = new int[size];
        var indices = new int[size];
        double lossSum = 0;
        for (int start = 0; start < samples.Count; start += size)
        {
            int count = Math.Min(size, samples.Count - start);
            for (int i = 0; i < count; i++) indices[i] = start + i;
            var batch = batcher.Fill(samples, indices.AsSpan(0, count), labels);
            model.Forward(batch.X, batch.Lengths, batch.Steps, count, training: false, rng: null);
            if (labels.AsSpan(0, count).IndexOfAnyExceptInRange(0, classes - 1) < 0)
                lossSum += model.Loss(labels.AsSpan(0, count)) * count;
            if (temperature == 1f) model.Probabilities.CopyTo(probabilities.AsSpan(start * classes, count * classes));
            else Calibration.Softmax(model.Logits, classes, temperature, probabilities.AsSpan(start * classes, count * classes));
            if (logits is not null) model.Logits.CopyTo(logits.AsSpan(start * classes, count * classes));
        }
        loss = lossSum / Math.Max(1, samples.Count);
        return probabilities;
    }

    /// <summary>
    /// <see cref="Predict"/> with each sample scored by its windows of <paramref name="window"/> frames
    /// (<see cref="ScoringWindows"/>): the windows' logits averaged per sample, then the softmax at the temperature; the
    /// loss is the cross-entropy of those mean logits' softmax.
    /// </summary>
    private static float[] PredictByWindows(SequenceClassifier model, Batcher batcher, IReadOnlyList<Sample> samples, out double loss, float temperature, float[]? logits, int window)
    {
        int classes = model.Config.Classes;
        var mean = ScoringWindows.Logits(samples.Select(s => s.Input).ToList(), window, classes, windows =>
        {
            // A window carries no label (-1): its own loss is not computed, only its logits are wanted.
            var windowLogits = new float[windows.Count * classes];
            Predict(model, batcher, windows.Select(w => new Sample(w, -1, "", "")).ToList(), out _, logits: windowLogits);
            return windowLogits;
        });
        if (logits is not null) mean.CopyTo(logits, 0);
        var probabilities = new float[samples.Count * classes];
        Calibration.Softmax(mean, classes, 1f, probabilities);
        double lossSum = 0;
        for (int i = 0; i < samples.Count; i++)
            if (samples[i].Label >= 0 && samples[i].Label < classes) lossSum -= Math.Log(Math.Max(probabilities[i * classes + samples[i].Label], float.Epsilon));
        loss = lossSum / Math.Max(1, samples.Count);
        if (temperature != 1f) Calibration.Softmax(mean, classes, temperature, probabilities);
        return probabilities;
    }

    public static int Argmax(ReadOnlySpan<float> probabilities, int row, int classes)
    {
        var p = probabilities.Slice(row * classes, classes);
        int best = 0;
        for (int c = 1; c < classes; c++) if (p[c] > p[best]) best = c;
        return best;
    }

    private static int CountCorrect(ReadOnlySpan<float> probabilities, ReadOnlySpan<int> labels, int classes)
    {
        int correct = 0;
        for (int b = 0; b < labels.Length; b++) if (Argmax(probabilities, b, classes) == labels[b]) correct++;
        return correct;
    }
}

/// <summary>Assembles padded, time-major batches [T, B, I] into buffers allocated once.</summary>
public sealed class Batcher
{
    private readonly float[] _x;
    private readonly float[] _unmixed;
    private readonly int[] _lengths;
    private readonly int _width;
    private int _filledSteps;

    /// <param name="mixing">Whether <see cref="Mix"/> will be called (it needs a second buffer of the batch's size).</param>
    public Batcher(int maxSteps, int batchSize, int width, bool mixing = false)
    {
        MaxSteps = maxSteps; BatchSize = batchSize; _width = width;
        _x = new float[maxSteps * batchSize * width];
        _unmixed = new float[mixing ? _x.Length : 0];
        _lengths = new int[batchSize];
    }

    public int MaxSteps { get; }
    public int BatchSize { get; }

    public readonly ref struct Batch(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps)
    {
        public ReadOnlySpan<float> X { get; } = x;
        public ReadOnlySpan<int> Lengths { get; } = lengths;
        public int Steps { get; } = steps;
    }

    /// <summary>
    /// Mixes the last filled batch of <paramref name="count"/> sequences in place: sequence b becomes, over its own frames,
    /// shares[b]·itself + (1 − shares[b])·sequence partners[b] (whose frames past its own end count as 0); its length and
    /// its padding stay. Every sequence reads the batch as it was filled.
    /// </summary>
    public void Mix(int count, ReadOnlySpan<int> partners, ReadOnlySpan<float> shares)
    {
        if (_unmixed.Length == 0) throw new InvalidOperationException("This batcher was made without mixing: construct it with mixing: true.");
        if (partners.Length < count || shares.Length < count) throw new ShapeException($"Batcher.Mix: {partners.Length} partners and {shares.Length} shares for {count} sequences.");
        int steps = _filledSteps;
        var x = _x.AsSpan(0, steps * count * _width);
        var unmixed = _unmixed.AsSpan(0, x.Length);
        x.CopyTo(unmixed);
        for (int b = 0; b < count; b++)
        {
            int partner = partners[b];
            float own = shares[b], other = 1 - own;
            if ((uint)partner >= (uint)count) throw new ShapeException($"Batcher.Mix: partner {partner} of sequence {b} is outside the batch of {count}.");
            if (!(own >= 0 && own <= 1)) throw new ShapeException($"Batcher.Mix: share {own} of sequence {b} is outside [0, 1].");
            int shared = Math.Min(_lengths[b], _lengths[partner]);
            for (int t = 0; t < _lengths[b]; t++)
            {
                var mixed = x.Slice((t * count + b) * _width, _width);
                ReadOnlySpan<float> mine = unmixed.Slice((t * count + b) * _width, _width);
                if (t >= shared)
                {
                    for (int k = 0; k < _width; k++) mixed[k] = own * mine[k];
                    continue;
                }
                ReadOnlySpan<float> theirs = unmixed.Slice((t * count + partner) * _width, _width);
                for (int k = 0; k < _width; k++) mixed[k] = own * mine[k] + other * theirs[k];
            }
        }
    }

    /// <summary>Masks the last filled batch of <paramref name="count"/> sequences in place (<see cref="Masking"/>).</summary>
    public void Mask(int count, Masking masking, Rng rng)
    {
        int steps = _filledSteps, block = masking.BlockSize > 0 && masking.BlockSize <= _width ? masking.BlockSize : _width;
        var x = _x.AsSpan(0, steps * count * _width);
        for (int b = 0; b < count; b++)
        {
            int length = _lengths[b];
            int span = rng.NextInt((int)(masking.TimeFraction * length) + 1);
            int start = rng.NextInt(length - span + 1);
            for (int t = start; t < start + span; t++) x.Slice((t * count + b) * _width, _width).Clear();
            int band = rng.NextInt(Math.Min(masking.Coefficients, block) + 1);
            int low = rng.NextInt(block - band + 1);
            if (band == 0) continue;
            for (int t = 0; t < length; t++)
                for (int offset = 0; offset + block <= _width; offset += block)
                    x.Slice((t * count + b) * _width + offset + low, band).Clear();
        }
    }

    /// <summary>Copies the samples at <paramref name="indices"/> into the batch, time-major, padded with zeros to the
    /// longest. With <paramref name="crop"/> &gt; 0 (<see cref="TrainOptions.Crop"/>) a sample longer than that many frames
    /// contributes a window of exactly <paramref name="crop"/> frames, its first frame drawn from <paramref name="rng"/>
    /// (one draw per cropped sample, in batch order; none for the others).</summary>
    public Batch Fill(IReadOnlyList<Sample> samples, ReadOnlySpan<int> indices, Span<int> labels, int crop = 0, Rng? rng = null)
    {
        if (crop < 0) throw new ShapeException($"Batcher.Fill: a crop of {crop} frames.");
        if (crop > 0 && rng is null) throw new ArgumentNullException(nameof(rng), "Cropping draws each window's start: give the generator.");
        int count = indices.Length, steps = 0;
        for (int b = 0; b < count; b++)
        {
            int length = samples[indices[b]].Input.Steps;
            _lengths[b] = crop > 0 ? Math.Min(length, crop) : length;
            steps = Math.Max(steps, _lengths[b]);
        }
        if (steps > MaxSteps) throw new ShapeException($"A sequence of {steps} steps exceeds the batcher's {MaxSteps}.");
        var x = _x.AsSpan(0, steps * count * _width);
        x.Clear();
        for (int b = 0; b < count; b++)
        {
            var sample = samples[indices[b]];
            int start = _lengths[b] < sample.Input.Steps ? rng!.NextInt(sample.Input.Steps - _lengths[b] + 1) : 0;
            labels[b] = sample.Label;
            for (int t = 0; t < _lengths[b]; t++)
                sample.Input.Values.AsSpan((start + t) * _width, _width).CopyTo(x.Slice((t * count + b) * _width, _width));
        }
        _filledSteps = steps;
        return new Batch(x, _lengths.AsSpan(0, count), steps);
    }
}
