using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Models;

/// <summary>
/// LSTM → pooling → dense head → softmax, with every parameter in one <see cref="ParameterSet"/>.
/// <see cref="Forward"/>, <see cref="Backward"/> and <see cref="Step"/> work on buffers allocated once for a
/// capacity of (maxSteps, maxBatch); <see cref="TrainStep"/> allocates nothing.
/// Shapes: x [T, B, I] time-major, lengths [B], labels [B] → logits and probabilities [B, C].
/// </summary>
public sealed class SequenceClassifier
{
    private readonly Lstm _lstm;
    private readonly Dense[] _dense;
    private readonly Dropout[] _dropouts;
    private Workspace? _ws;

    public SequenceClassifier(ClassifierConfig config, AdamOptions? adam = null, WorkerPool? pool = null)
    {
        Config = config;
        Pool = pool ?? WorkerPool.Default;
        Parameters = new ParameterSet();
        _lstm = new Lstm(config.LstmShape, Parameters, "lstm");
        int width = config.LstmShape.OutputSize;
        int layers = config.DenseSizes.Count + 1;
        _dense = new Dense[layers];
        _dropouts = new Dropout[layers];
        for (int k = 0; k < layers; k++)
        {
            int outputs = k < config.DenseSizes.Count ? config.DenseSizes[k] : config.Classes;
            _dense[k] = new Dense(width, outputs, Parameters, $"head.{k}");
            width = outputs;
        }
        Parameters.Allocate();
        Optimizer = new Adam(Parameters.Count, adam ?? new AdamOptions());
    }

    public ClassifierConfig Config { get; }
    public ParameterSet Parameters { get; }
    public Adam Optimizer { get; }
    public WorkerPool Pool { get; set; }
    public Lstm Lstm => _lstm;
    public IReadOnlyList<Dense> DenseLayers => _dense;

    /// <summary>PyTorch's initialisation from one seeded generator: the LSTM first, then each Dense in order.</summary>
    public void Initialize(Rng rng)
    {
        _lstm.Initialize(rng);
        foreach (var dense in _dense) dense.Initialize(rng);
    }

    /// <summary>Makes sure buffers for (steps, batch) exist; grows them only when a bigger shape arrives.</summary>
    public void Reserve(int maxSteps, int maxBatch)
    {
        if (_ws is not null && _ws.MaxSteps >= maxSteps && _ws.MaxBatch >= maxBatch) return;
        int steps = Math.Max(maxSteps, _ws?.MaxSteps ?? 0), batch = Math.Max(maxBatch, _ws?.MaxBatch ?? 0);
        _ws = new Workspace(this, steps, batch);
        for (int k = 0; k < _dropouts.Length; k++) _dropouts[k] = new Dropout(Config.Dropout, batch * _dense[k].InputSize);
    }

    private Workspace Ws => _ws ?? throw new InvalidOperationException("Call Forward before Backward.");

    /// <summary>Logits [B, C] of the last forward.</summary>
    public ReadOnlySpan<float> Logits => Ws.Activations[^1].AsSpan(0, Ws.Batch * Config.Classes);

    /// <summary>Softmax probabilities [B, C] of the last forward.</summary>
    public ReadOnlySpan<float> Probabilities => Ws.Probabilities.AsSpan(0, Ws.Batch * Config.Classes);

    /// <summary>Output of dense layer k of the head in the last forward, [B, size] (after ReLU for hidden layers).</summary>
    public ReadOnlySpan<float> HeadActivation(int layer) => Ws.Activations[layer + 1].AsSpan(0, Ws.Batch * _dense[layer].OutputSize);

    /// <summary>The top LSTM layer's outputs of the last forward, [T, B, D·H], zero at padded steps.</summary>
    public ReadOnlySpan<float> SequenceOutput => Ws.Lstm.Output;

    /// <summary>Every LSTM layer's and direction's state after its last valid step, [L·D, B, H].</summary>
    public ReadOnlySpan<float> FinalHidden => Ws.Lstm.FinalHidden;
    public ReadOnlySpan<float> FinalCell => Ws.Lstm.FinalCell;

    /// <summary>Gradient of the loss with respect to the input x [T, B, I], filled by Backward when asked.</summary>
    public ReadOnlySpan<float> InputGradient => Ws.InputGradient.AsSpan(0, Ws.Steps * Ws.Batch * Config.InputSize);

    /// <summary>x: [T, B, I], lengths: [B] → logits and probabilities [B, C]. Dropout draws from rng when training.</summary>
    public void Forward(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, bool training, Rng? rng)
    {
        if (training && Config.Dropout > 0f && rng is null) throw new ArgumentNullException(nameof(rng), "Training with dropout needs the seeded generator.");
        Reserve(steps, batch);
        var ws = Ws;
        ws.Steps = steps; ws.Batch = batch;
        _lstm.Forward(ws.Lstm, x, lengths, steps, batch, pool: Pool);
        var shape = Config.LstmShape;
        Span<float> pooled = ws.Activations[0].AsSpan(0, batch * shape.OutputSize);
        if (Config.Pooling == PoolingKind.Mean) Pooling.MeanForward(ws.Lstm.Output, lengths, steps, batch, shape.OutputSize, pooled);
        else Pooling.LastForward(ws.Lstm.FinalHidden, shape.Layers, shape.Directions, batch, shape.HiddenSize, pooled);

        for (int k = 0; k < _dense.Length; k++)
        {
            var dense = _dense[k];
            Span<float> input = ws.Activations[k].AsSpan(0, batch * dense.InputSize);
            Span<float> dropped = ws.Dropped[k].AsSpan(0, batch * dense.InputSize);
            Span<float> output = ws.Activations[k + 1].AsSpan(0, batch * dense.OutputSize);
            _dropouts[k].Forward(input, dropped, training, rng!);
            dense.Forward(dropped, output, batch, Pool);
            if (k < _dense.Length - 1) Kernels.Relu(output, output);
        }
        SoftmaxCrossEntropy.Softmax(Logits, batch, Config.Classes, ws.Probabilities);
    }

    /// <summary>Mean cross-entropy of the last forward against labels [B] (optionally class-weighted).</summary>
    public float Loss(ReadOnlySpan<int> labels, ReadOnlySpan<float> classWeights = default) =>
        SoftmaxCrossEntropy.Forward(Logits, labels, Ws.Batch, Config.Classes, Ws.Probabilities, classWeights);

    /// <summary>
    /// Backpropagates the cross-entropy of the last forward against labels [B], adding into
    /// <see cref="ParameterSet.Gradients"/> (zeroing is the caller's job, once per step). With
    /// computeInputGradient, also fills <see cref="InputGradient"/>.
    /// </summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<int> labels, ReadOnlySpan<float> classWeights = default, bool computeInputGradient = false)
    {
        var ws = Ws;
        int batch = ws.Batch, steps = ws.Steps;
        var shape = Config.LstmShape;
        Span<float> dLogits = ws.Gradients[^1].AsSpan(0, batch * Config.Classes);
        dLogits.Clear();
        SoftmaxCrossEntropy.Backward(Probabilities, labels, batch, Config.Classes, dLogits, classWeights);
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
                Kernels.ReluBackward(output, dOutput, masked);
                dOutput = masked;
            }
            Span<float> dDropped = ws.DroppedGradient.AsSpan(0, batch * dense.InputSize);
            dDropped.Clear();
            dense.Backward(ws.Dropped[k].AsSpan(0, batch * dense.InputSize), dOutput, dDropped, batch, Pool);
            Span<float> dInput = ws.Gradients[k].AsSpan(0, batch * dense.InputSize);
            dInput.Clear();
            _dropouts[k].Backward(dDropped, dInput);
        }

        Span<float> dPooled = ws.Gradients[0].AsSpan(0, batch * shape.OutputSize);
        Span<float> dOutputSeq = ws.LstmOutputGradient.AsSpan(0, steps * batch * shape.OutputSize);
        Span<float> dFinal = ws.FinalHiddenGradient.AsSpan(0, shape.Layers * shape.Directions * batch * shape.HiddenSize);
        dOutputSeq.Clear();
        dFinal.Clear();
        if (Config.Pooling == PoolingKind.Mean) Pooling.MeanBackward(dPooled, ws.Lstm.Lengths, steps, batch, shape.OutputSize, dOutputSeq);
        else Pooling.LastBackward(dPooled, shape.Layers, shape.Directions, batch, shape.HiddenSize, dFinal);
        Span<float> dx = default;
        if (computeInputGradient)
        {
            dx = ws.InputGradient.AsSpan(0, steps * batch * Config.InputSize);
            dx.Clear();
        }
        _lstm.Backward(ws.Lstm, x, dOutputSeq, dFinal, default, dx, pool: Pool);
    }

    /// <summary>One Adam update from the accumulated gradients; returns the gradient norm before clipping.</summary>
    public float Step() => Optimizer.Step(Parameters.Values, Parameters.Gradients);

    /// <summary>Zero gradients, forward with dropout, loss, backward, Adam step. Returns the batch's loss.</summary>
    public float TrainStep(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, ReadOnlySpan<int> labels, int steps, int batch, Rng rng,
        ReadOnlySpan<float> classWeights = default)
    {
        Parameters.ZeroGradients();
        Forward(x, lengths, steps, batch, training: true, rng);
        float loss = Loss(labels[..batch], classWeights);
        Backward(x, labels[..batch], classWeights);
        Step();
        return loss;
    }

    /// <summary>Inference: probabilities [B, C] into the destination.</summary>
    public void Predict(ReadOnlySpan<float> x, ReadOnlySpan<int> lengths, int steps, int batch, Span<float> probabilities)
    {
        Forward(x, lengths, steps, batch, training: false, rng: null);
        Probabilities.CopyTo(probabilities);
    }

    private sealed class Workspace
    {
        public Workspace(SequenceClassifier model, int maxSteps, int maxBatch)
        {
            var config = model.Config;
            MaxSteps = maxSteps; MaxBatch = maxBatch;
            Lstm = model._lstm.CreateWorkspace(maxSteps, maxBatch);
            int layers = model._dense.Length;
            Activations = new float[layers + 1][];
            Gradients = new float[layers + 1][];
            Dropped = new float[layers][];
            Activations[0] = new float[maxBatch * config.LstmShape.OutputSize];
            Gradients[0] = new float[maxBatch * config.LstmShape.OutputSize];
            int widest = 0;
            for (int k = 0; k < layers; k++)
            {
                Dropped[k] = new float[maxBatch * model._dense[k].InputSize];
                Activations[k + 1] = new float[maxBatch * model._dense[k].OutputSize];
                Gradients[k + 1] = new float[maxBatch * model._dense[k].OutputSize];
                widest = Math.Max(widest, Math.Max(model._dense[k].InputSize, model._dense[k].OutputSize));
            }
            DroppedGradient = new float[maxBatch * widest];
            ReluGradient = new float[maxBatch * widest];
            Probabilities = new float[maxBatch * config.Classes];
            LstmOutputGradient = new float[maxSteps * maxBatch * config.LstmShape.OutputSize];
            FinalHiddenGradient = new float[config.Layers * config.LstmShape.Directions * maxBatch * config.HiddenSize];
            InputGradient = new float[maxSteps * maxBatch * config.InputSize];
        }

        public int MaxSteps { get; }
        public int MaxBatch { get; }
        public int Steps { get; set; }
        public int Batch { get; set; }
        public LstmWorkspace Lstm { get; }
        /// <summary>[0] pooled LSTM output, [k + 1] output of dense layer k (after ReLU for hidden layers).</summary>
        public float[][] Activations { get; }
        public float[][] Gradients { get; }
        /// <summary>Input of dense layer k after dropout.</summary>
        public float[][] Dropped { get; }
        public float[] DroppedGradient { get; }
        public float[] ReluGradient { get; }
        public float[] Probabilities { get; }
        public float[] LstmOutputGradient { get; }
        public float[] FinalHiddenGradient { get; }
        public float[] InputGradient { get; }
    }
}
