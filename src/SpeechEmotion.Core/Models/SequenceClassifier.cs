using System.Numerics.Tensors;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Models;

/// <summary>
/// (Conv1d → ReLU →) LSTM → pooling → dense head → softmax, with every parameter in one <see cref="ParameterSet"/>.
/// The model holds parameters only; what a forward pass writes lives in a <see cref="ClassifierWorkspace"/>
/// allocated once for a capacity of (maxSteps, maxBatch). Training uses the model's own workspace
/// (<see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{int}, int, int, bool, Rng?)"/>, <see cref="Backward"/>,
/// <see cref="Step"/>; <see cref="TrainStep"/> allocates nothing). Prediction may instead pass workspaces of its own
/// (<see cref="CreateInferenceWorkspace"/>): forward passes on distinct workspaces only read the parameters, so
/// they may run on several threads at once.
/// Shapes: x [T, B, I] time-major, lengths [B], labels [B] → logits and probabilities [B, C].
/// </summary>
public sealed class SequenceClassifier
{
    private readonly Conv1d? _conv;
    private readonly Lstm _lstm;
    private readonly Dense[] _dense;
    private readonly ParameterTensor? _attention;
    private readonly Adam? _optimizer;
    private ClassifierWorkspace? _ws;

    /// <param name="inferenceOnly">A model that only predicts: parameters alone, no gradients and no Adam moments
    /// (<see cref="Backward"/>, <see cref="Step"/> and <see cref="Optimizer"/> refuse).</param>
    public SequenceClassifier(ClassifierConfig config, AdamOptions? adam = null, WorkerPool? pool = null, bool inferenceOnly = false)
    {
        Config = config;
        Pool = pool ?? WorkerPool.Default;
        InferenceOnly = inferenceOnly;
        Parameters = new ParameterSet();
        if (config.HasConv) _conv = new Conv1d(config.InputSize, config.ConvChannels, config.ConvKernel, Parameters, "conv");
        _lstm = new Lstm(config.LstmShape, Parameters, "lstm");
        if (config.Pooling == PoolingKind.Attention) _attention = Parameters.Declare("pool.attention", config.LstmShape.OutputSize);
        int width = config.PooledSize;
        int layers = config.DenseSizes.Count + 1;
        _dense = new Dense[layers];
        for (int k = 0; k < layers; k++)
        {
            int outputs = k < config.DenseSizes.Count ? config.DenseSizes[k] : config.Classes;
            _dense[k] = new Dense(width, outputs, Parameters, $"head.{k}");
            width = outputs;
        }
        Parameters.Allocate(gradients: !inferenceOnly);
        _optimizer = inferenceOnly ? null : new Adam(Parameters.Count, adam ?? new AdamOptions());
    }

    public ClassifierConfig Config { get; }
    public ParameterSet Parameters { get; }
    /// <summary>Whether the model was built to predict only (no gradients, no optimiser state).</summary>
    public bool InferenceOnly { get; }
    public Adam Optimizer => _optimizer ?? throw new InvalidOperationException("This model was loaded for inference only: it has no optimiser state.");
    public WorkerPool Pool { get; set; }
    public Lstm Lstm => _lstm;
    /// <summary>The convolution before the LSTM, or null when the LSTM reads the features.</summary>
    public Conv1d? Conv => _conv;
    public IReadOnlyList<Dense> DenseLayers => _dense;

    /// <summary>PyTorch's initialisation from one seeded generator: the convolution (when there is one), the LSTM, then
    /// each Dense in order (attention pooling's vector starts at zero, the mean, and draws nothing).</summary>
    public void Initialize(Rng rng)
    {
        _conv?.Initialize(rng);
        _lstm.Initialize(rng);
        foreach (var dense in _dense) dense.Initialize(rng);
    }

    /// <summary>A workspace for forward passes only (no buffers for backward), for one caller at a time.</summary>
    public ClassifierWorkspace CreateInferenceWorkspace(int maxSteps, int maxBatch) => new(this, maxSteps, maxBatch, forwardOnly: true);

    /// <summary>Makes sure the model's own buffers for (steps, batch) exist; grows them only when a bigger shape arrives.</summary>
    public void Reserve(int maxSteps, int maxBatch)
    {
        if (_ws is not null && _ws.MaxSteps >= maxSteps && _ws.MaxBatch >= maxBatch) return;
        int steps = Math.Max(maxSteps, _ws?.MaxSteps ?? 0), batch = Math.Max(maxBatch, _ws?.MaxBatch ?? 0);
        _ws = new ClassifierWorkspace(this, steps, batch, forwardOnly: InferenceOnly);
    }

    internal ClassifierWorkspace Ws => _ws ?? throw new InvalidOperationException("Call Forward before Backward.");

    /// <summary>Logits [B, C] of the last forward on the model's own workspace.</summary>
    public ReadOnlySpan<float> Logits => Ws.Logits;

    /// <summary>Softmax probabilities [B, C] of the last forward on the model's own workspace.</summary>
    public ReadOnlySpan<float> Probabilities => Ws.Probabilities;

    /// <summary>Output of dense layer k of the head in the last forward, [B, size] (after ReLU for hidden layers).</summary>
    public ReadOnlySpan<float> HeadActivation(int layer) => Ws.Activations[layer + 1].AsSpan(0, Ws.Batch * _dense[layer].OutputSize);

    /// <summary>The convolution's outputs after ReLU in the last forward, [T, B, channels], zero at padded steps (empty without one).</summary>
    public ReadOnlySpan<float> ConvActivation => _conv is null ? default : Ws.ConvOutput.AsSpan(0, Ws.Steps * Ws.Batch * Config.ConvChannels);

    /// <summary>The pooled vectors of the last forward, [B, <see cref="ClassifierConfig.PooledSize"/>], before the head's dropout.</summary>
    public ReadOnlySpan<float> Pooled => Ws.Activations[0].AsSpan(0, Ws.Batch * Config.PooledSize);

    /// <summary>The top LSTM layer's outputs of the last forward, [T, B, D·H], zero at padded steps.</summary>
    public ReadOnlySpan<float> SequenceOutput => Ws.Lstm.Output;

    /// <summary>Every LSTM layer's and direction's state after its last valid step, [L·D, B, H].</summary>
    public ReadOnlySpan<float> FinalHidden => Ws.Lstm.FinalHidden;
    public ReadOnlySpan<float> FinalCell => Ws.Lstm.FinalCell;

    /// <summary>Gradient of the loss with respect to the input x [T, B, I], filled by Backward when asked.</summary>
    public ReadOnlySpan<float> InputGradient => Ws.InputGradient.AsSpan(0, Ws.Steps * Ws.Batch * Config.InputSize);

    /// <summary>x: [T, B, I], lengths: [B] → logits and probabilities [B, C] in the model's own workspace. Dropout draws from rng when training.</summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, bool training, Rng? rng)
    {
        Reserve(steps, batch);
        Forward(Ws, x, lengths, steps, batch, training, rng, Pool);
    }

    /// <summary>
    /// x: [T, B, I], lengths: [B] → <see cref="ClassifierWorkspace.Logits"/> and <see cref="ClassifierWorkspace.Probabilities"/>
    /// [B, C] in <paramref name="ws"/>. Reads the parameters and writes only the workspace: concurrent calls on distinct
    /// workspaces are safe (a shared <paramref name="pool"/> serialises their parallel sections; results do not
    /// depend on the pool).
    /// </summary>
    public void Forward(ClassifierWorkspace ws, ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, bool training, Rng? rng,
        WorkerPool? pool = null)
    {
        if (training && Config.Dropout > 0f && rng is null) throw new ArgumentNullException(nameof(rng), "Training with dropout needs the seeded generator.");
        if (training && ws.ForwardOnly) throw new InvalidOperationException("A prediction-only workspace cannot train: it keeps nothing for backward.");
        if (!ReferenceEquals(ws.Owner, this)) throw new ArgumentException("The workspace was made for another model.", nameof(ws));
        if (steps > ws.MaxSteps || batch > ws.MaxBatch)
            throw new ShapeException($"A batch of {batch} × {steps} steps exceeds the workspace's {ws.MaxBatch} × {ws.MaxSteps}.");
        pool ??= Pool;
        ws.Steps = steps; ws.Batch = batch;
        // A prediction-only workspace keeps the head's Wᵀ while the parameters do not change (as the LSTM keeps its packing).
        long version = Parameters.Version;
        bool transposed = ws.ForwardOnly && ws.TransposedVersion == version;
        ReadOnlySpan<float> lstmInput = x;
        if (_conv is not null)
        {
            Span<float> convOutput = ws.ConvOutput.AsSpan(0, steps * batch * Config.ConvChannels);
            _conv.Forward(x, lengths, steps, batch, ws.ConvColumns, convOutput, ws.ConvTransposedWeight, pool, transposed);
            Relu.Forward(convOutput, convOutput);
            Subnormal.Flush(convOutput); // a GEMM's output, the LSTM's input GEMM's operand: never subnormal (see Subnormal)
            lstmInput = convOutput;
        }
        _lstm.Forward(ws.Lstm, lstmInput, lengths, steps, batch, pool: pool);
        var shape = Config.LstmShape;
        Span<float> pooled = ws.Activations[0].AsSpan(0, batch * Config.PooledSize);
        if (Config.Pooling == PoolingKind.Mean) Pooling.MeanForward(ws.Lstm.Output, lengths, steps, batch, shape.OutputSize, pooled);
        else if (Config.Pooling == PoolingKind.Stats) Pooling.StatsForward(ws.Lstm.Output, lengths, steps, batch, shape.OutputSize, pooled);
        else if (Config.Pooling == PoolingKind.Attention)
            Pooling.AttentionForward(ws.Lstm.Output, lengths, steps, batch, shape.OutputSize, Parameters.Read(_attention!), ws.Attention.AsSpan(0, steps * batch), pooled);
        else Pooling.LastForward(ws.Lstm.FinalHidden, shape.Layers, shape.Directions, batch, shape.HiddenSize, pooled);

        for (int k = 0; k < _dense.Length; k++)
        {
            var dense = _dense[k];
            Span<float> input = ws.Activations[k].AsSpan(0, batch * dense.InputSize);
            Span<float> dropped = ws.Dropped[k].AsSpan(0, batch * dense.InputSize);
            Span<float> output = ws.Activations[k + 1].AsSpan(0, batch * dense.OutputSize);
            ws.Dropouts[k].Forward(input, dropped, training, rng!);
            dense.Forward(dropped, output, batch, ws.TransposedWeights[k], pool, transposed);
            if (k < _dense.Length - 1) Relu.Forward(output, output);
        }
        SoftmaxCrossEntropy.Softmax(ws.Logits, batch, Config.Classes, ws.ProbabilityBuffer);
        if (ws.ForwardOnly) ws.TransposedVersion = version;
    }
    /// <summary>Mean cross-entropy of the last forward against labels [B] (optionally class-weighted, or with smoothed
    /// labels, or soft targets [B, C] in the labels' place: <see cref="SoftmaxCrossEntropy"/>).</summary>
    public float Loss(ReadOnlySpan<int> labels, ReadOnlySpan<float> classWeights = default, float labelSmoothing = 0, ReadOnlySpan<float> sampleWeights = default,
        ReadOnlySpan<float> targets = default) =>
        SoftmaxCrossEntropy.Forward(Logits, labels, Ws.Batch, Config.Classes, Ws.ProbabilityBuffer, classWeights, labelSmoothing, sampleWeights, targets);

    /// <summary>
    /// Backpropagates the cross-entropy of the last forward against labels [B], adding into
    /// <see cref="ParameterSet.Gradients"/> (zeroing is the caller's job, once per step). With
    /// computeInputGradient, also fills <see cref="InputGradient"/>. <paramref name="pooledGradient"/> [B, pooled], when
    /// given, is a gradient from another objective on <see cref="Pooled"/> (<see cref="AuxiliaryHead"/>s'), added to
    /// the head's before it flows into the pooling and the LSTM.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, ReadOnlySpan<float> classWeights = default, bool computeInputGradient = false,
        float labelSmoothing = 0, ReadOnlySpan<float> sampleWeights = default, ReadOnlySpan<float> pooledGradient = default, ReadOnlySpan<float> targets = default)
    {
        var ws = Ws;
        if (ws.ForwardOnly) throw new InvalidOperationException("This model was loaded for inference only: it has no gradients to backpropagate into.");
        int batch = ws.Batch, steps = ws.Steps;
        var shape = Config.LstmShape;
        Span<float> dLogits = ws.Gradients[^1].AsSpan(0, batch * Config.Classes);
        dLogits.Clear();
        SoftmaxCrossEntropy.Backward(Probabilities, labels, batch, Config.Classes, dLogits, classWeights, labelSmoothing, sampleWeights, targets);
        for (int k = _dense.Length - 1; k >= 0; k--)
        {
            var dense = _dense[k];
            Span<float> dOutput = ws.Gradients[k + 1].AsSpan(0, batch * dense.OutputSize);
            if (k < _dense.Length - 1)
            {
                // ReLU backward in place: the output is the ReLU's, so y > 0 marks where the gradient passes.
                ReadOnlySpan<float> output = ws.Activations[k + 1].AsSpan(0, batch * dense.OutputSize);
                Span<float> masked = ws.ReluGradient.AsSpan(0, batch * dense.OutputSize);
                masked.Clear();
                Relu.Backward(output, dOutput, masked);
                dOutput = masked;
            }
            Span<float> dDropped = ws.DroppedGradient.AsSpan(0, batch * dense.InputSize);
            dDropped.Clear();
            dense.Backward(ws.Dropped[k].AsSpan(0, batch * dense.InputSize), dOutput, dDropped, batch, Pool);
            Span<float> dInput = ws.Gradients[k].AsSpan(0, batch * dense.InputSize);
            dInput.Clear();
            ws.Dropouts[k].Backward(dDropped, dInput);
            Subnormal.Flush(dInput); // a GEMM's output, the next GEMM's input: never subnormal (see Subnormal)
        }

        Span<float> dPooled = ws.Gradients[0].AsSpan(0, batch * Config.PooledSize);
        if (!pooledGradient.IsEmpty)
        {
            Check.Length(pooledGradient, dPooled.Length, "pooledGradient [B, pooled]");
            TensorPrimitives.Add(dPooled, pooledGradient[..dPooled.Length], dPooled);
            Subnormal.Flush(dPooled);
        }
        Span<float> dOutputSeq = ws.LstmOutputGradient.AsSpan(0, steps * batch * shape.OutputSize);
        Span<float> dFinal = ws.FinalHiddenGradient.AsSpan(0, shape.Layers * shape.Directions * batch * shape.HiddenSize);
        dOutputSeq.Clear();
        dFinal.Clear();
        if (Config.Pooling == PoolingKind.Mean) Pooling.MeanBackward(dPooled, ws.Lstm.Lengths, steps, batch, shape.OutputSize, dOutputSeq);
        else if (Config.Pooling == PoolingKind.Stats)
            Pooling.StatsBackward(dPooled, Pooled, ws.Lstm.Output, ws.Lstm.Lengths, steps, batch, shape.OutputSize, dOutputSeq);
        else if (Config.Pooling == PoolingKind.Attention)
            Pooling.AttentionBackward(dPooled, ws.Lstm.Output, ws.Lstm.Lengths, steps, batch, shape.OutputSize, Parameters.Read(_attention!),
                ws.Attention.AsSpan(0, steps * batch), dOutputSeq, Parameters.Gradient(_attention!), ws.AttentionGradient.AsSpan(0, steps));
        else Pooling.LastBackward(dPooled, shape.Layers, shape.Directions, batch, shape.HiddenSize, dFinal);
        Span<float> dx = default;
        if (computeInputGradient)
        {
            dx = ws.InputGradient.AsSpan(0, steps * batch * Config.InputSize);
            dx.Clear();
        }
        Subnormal.Flush(dOutputSeq);
        if (_conv is null) _lstm.Backward(ws.Lstm, x, dOutputSeq, dFinal, default, dx, pool: Pool);
        else
        {
            // The LSTM's input gradient is the convolution's output gradient; through the ReLU (from its output), then the convolution.
            int size = steps * batch * Config.ConvChannels;
            ReadOnlySpan<float> convOutput = ws.ConvOutput.AsSpan(0, size);
            Span<float> dConvOutput = ws.ConvOutputGradient.AsSpan(0, size), dPre = ws.ConvPreGradient.AsSpan(0, size);
            dConvOutput.Clear();
            _lstm.Backward(ws.Lstm, convOutput, dOutputSeq, dFinal, default, dConvOutput, pool: Pool);
            Subnormal.Flush(dConvOutput);
            dPre.Clear();
            Relu.Backward(convOutput, dConvOutput, dPre);
            _conv.Backward(ws.ConvColumns, dPre, ws.Lstm.Lengths, steps, batch, ws.ConvColumnGradient, dx, Pool);
        }
        Subnormal.Flush(Parameters.Gradients);
    }

    /// <summary>One Adam update from the accumulated gradients; returns the gradient norm before clipping.</summary>
    public float Step() => Optimizer.Step(Parameters.Values, Parameters.Gradients);

    /// <summary>Zero gradients, forward with dropout, loss, backward, Adam step. Returns the batch's loss (weighted by
    /// <paramref name="sampleWeights"/> [B] when given). <paramref name="extra"/>, when given, is another objective on the
    /// pooled vectors (<see cref="AuxiliaryHead"/>s: a speaker adversary, an arousal task): called after the forward with
    /// them and a cleared gradient buffer, it adds its gradient for them, which joins the head's. <paramref name="targets"/>
    /// [B, C], when given, are soft targets in the labels' place (mixup's mixtures).</summary>
    public float TrainStep(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, ReadOnlySpan<int> labels, int steps, int batch, Rng rng,
        ReadOnlySpan<float> classWeights = default, float labelSmoothing = 0, ReadOnlySpan<float> sampleWeights = default,
        PooledObjective? extra = null, ReadOnlySpan<float> targets = default)
    {
        Parameters.ZeroGradients();
        Forward(x, lengths, steps, batch, training: true, rng);
        if (!targets.IsEmpty) targets = targets[..(batch * Config.Classes)];
        float loss = Loss(labels[..batch], classWeights, labelSmoothing, sampleWeights, targets);
        Span<float> pooledGradient = default;
        if (extra is not null)
        {
            pooledGradient = Ws.ExtraPooledGradient.AsSpan(0, batch * Config.PooledSize);
            pooledGradient.Clear();
            extra(Pooled, batch, pooledGradient);
        }
        Backward(x, labels[..batch], classWeights, labelSmoothing: labelSmoothing, sampleWeights: sampleWeights, pooledGradient: pooledGradient, targets: targets);
        Step();
        return loss;
    }

    /// <summary>Inference: probabilities [B, C] into the destination.</summary>
    public void Predict(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, Span<float> probabilities)
    {
        Forward(x, lengths, steps, batch, training: false, rng: null);
        Probabilities.CopyTo(probabilities);
    }
}

/// <summary>Another objective on a training step's pooled vectors [B, P]: adds its gradient for them into
/// <paramref name="pooledGradient"/> [B, P] (cleared before the call).</summary>
public delegate void PooledObjective(ReadOnlySpan<float> pooled, int batch, Span<float> pooledGradient);

/// <summary>
/// Everything one forward (and, for training, backward) pass of a <see cref="SequenceClassifier"/> writes,
/// allocated once for a capacity of (maxSteps, maxBatch). One workspace serves one caller at a time.
/// </summary>
public sealed class ClassifierWorkspace
{
    /// <summary>The model's <see cref="ParameterSet.Version"/> whose head Wᵀ <see cref="TransposedWeights"/> holds (prediction-only workspaces; −1: none).</summary>
    internal long TransposedVersion { get; set; }

    internal ClassifierWorkspace(SequenceClassifier model, int maxSteps, int maxBatch, bool forwardOnly)
    {
        Check.Positive(maxSteps, "maxSteps");
        Check.Positive(maxBatch, "maxBatch");
        var config = model.Config;
        var dense = model.DenseLayers;
        Owner = model;
        MaxSteps = maxSteps; MaxBatch = maxBatch; ForwardOnly = forwardOnly;
        TransposedVersion = -1;
        Lstm = model.Lstm.CreateWorkspace(maxSteps, maxBatch, forwardOnly);
        int layers = dense.Count;
        int backward = forwardOnly ? 0 : 1;
        Activations = new float[layers + 1][];
        Gradients = new float[layers + 1][];
        Dropped = new float[layers][];
        Dropouts = new Dropout[layers];
        TransposedWeights = new float[layers][];
        Activations[0] = new float[maxBatch * config.PooledSize];
        Gradients[0] = new float[backward * maxBatch * config.PooledSize];
        ExtraPooledGradient = new float[backward * maxBatch * config.PooledSize];
        int widest = 0;
        for (int k = 0; k < layers; k++)
        {
            Dropped[k] = new float[maxBatch * dense[k].InputSize];
            Dropouts[k] = new Dropout(config.Dropout, forwardOnly ? 0 : maxBatch * dense[k].InputSize);
            TransposedWeights[k] = new float[dense[k].InputSize * dense[k].OutputSize];
            Activations[k + 1] = new float[maxBatch * dense[k].OutputSize];
            Gradients[k + 1] = new float[backward * maxBatch * dense[k].OutputSize];
            widest = Math.Max(widest, Math.Max(dense[k].InputSize, dense[k].OutputSize));
        }
        DroppedGradient = new float[backward * maxBatch * widest];
        ReluGradient = new float[backward * maxBatch * widest];
        ProbabilityBuffer = new float[maxBatch * config.Classes];
        LstmOutputGradient = new float[backward * maxSteps * maxBatch * config.LstmShape.OutputSize];
        FinalHiddenGradient = new float[backward * config.Layers * config.LstmShape.Directions * maxBatch * config.HiddenSize];
        InputGradient = new float[backward * maxSteps * maxBatch * config.InputSize];
        bool attention = config.Pooling == PoolingKind.Attention;
        Attention = new float[attention ? maxSteps * maxBatch : 0];
        AttentionGradient = new float[attention ? backward * maxSteps : 0];
        int convWindow = config.HasConv ? config.InputSize * config.ConvKernel : 0, channels = config.ConvChannels;
        ConvColumns = new float[maxSteps * maxBatch * convWindow];
        ConvOutput = new float[maxSteps * maxBatch * channels];
        ConvTransposedWeight = new float[convWindow * channels];
        ConvOutputGradient = new float[backward * maxSteps * maxBatch * channels];
        ConvPreGradient = new float[backward * maxSteps * maxBatch * channels];
        ConvColumnGradient = new float[backward * maxSteps * maxBatch * convWindow];
    }

    internal SequenceClassifier Owner { get; }
    public int MaxSteps { get; }
    public int MaxBatch { get; }
    /// <summary>Made for prediction: holds no buffers for backward.</summary>
    public bool ForwardOnly { get; }
    public int Steps { get; internal set; }
    public int Batch { get; internal set; }

    /// <summary>Logits [B, C] of the last forward on this workspace.</summary>
    public ReadOnlySpan<float> Logits => Activations[^1].AsSpan(0, Batch * Owner.Config.Classes);

    /// <summary>Softmax probabilities [B, C] of the last forward on this workspace.</summary>
    public ReadOnlySpan<float> Probabilities => ProbabilityBuffer.AsSpan(0, Batch * Owner.Config.Classes);

    internal LstmWorkspace Lstm { get; }
    /// <summary>[0] pooled LSTM output, [k + 1] output of dense layer k (after ReLU for hidden layers).</summary>
    internal float[][] Activations { get; }
    internal float[][] Gradients { get; }
    /// <summary>Another objective's gradient on the pooled vectors (<see cref="PooledObjective"/>), [B, pooled].</summary>
    internal float[] ExtraPooledGradient { get; }
    /// <summary>Input of dense layer k after dropout, and the dropout (with its mask) that made it.</summary>
    internal float[][] Dropped { get; }
    internal Dropout[] Dropouts { get; }
    /// <summary>Wᵀ of dense layer k, the GEMM's operand, refreshed every forward.</summary>
    internal float[][] TransposedWeights { get; }
    internal float[] DroppedGradient { get; }
    internal float[] ReluGradient { get; }
    internal float[] ProbabilityBuffer { get; }
    internal float[] LstmOutputGradient { get; }
    internal float[] FinalHiddenGradient { get; }
    internal float[] InputGradient { get; }
    /// <summary>Attention pooling's weights α [T, B] of the last forward, and its per-step scratch for backward.</summary>
    internal float[] Attention { get; }
    internal float[] AttentionGradient { get; }
    /// <summary>The convolution's unfolded input [T·B, in·kernel], its outputs after ReLU [T, B, channels] and its Wᵀ; for
    /// backward, the gradients of its output, before the ReLU, and of the unfolded input (all empty without a convolution).</summary>
    internal float[] ConvColumns { get; }
    internal float[] ConvOutput { get; }
    internal float[] ConvTransposedWeight { get; }
    internal float[] ConvOutputGradient { get; }
    internal float[] ConvPreGradient { get; }
    internal float[] ConvColumnGradient { get; }
}

