using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Models;

/// <summary>
/// A second, small classifier for training, on a <see cref="SequenceClassifier"/>'s pooled vector and over labels of its
/// own: Dense(pooled → hidden) → ReLU → Dense(hidden → classes) → softmax cross-entropy L_a. It descends L_a with its own
/// parameters, gradients and Adam (flat buffers, as the classifier's), and sends scale · ∂L_a/∂pooled into the pooled
/// vector: a negative scale −λ reverses the gradient (an adversary, Ganin and Lempitsky 2015: the network below descends
/// L_emotion − λ·L_a, towards features from which the labels — the speakers — are hard to tell), a positive scale +μ
/// shares the task (the network descends L_emotion + μ·L_a). Training only: a saved model holds no auxiliary head. Every
/// buffer is sized once for the largest batch, so a step allocates nothing.
/// </summary>
public sealed class AuxiliaryHead
{
    private readonly Dense _hidden, _output;
    private readonly float[] _hiddenActivation, _hiddenGradient, _maskedGradient, _logits, _probabilities, _logitGradient, _pooledGradient;
    private readonly float[] _hiddenTransposed, _outputTransposed;
    private int _batch;

    public AuxiliaryHead(int pooledSize, int hiddenSize, int classes, int maxBatch, AdamOptions? adam = null, string name = "auxiliary")
    {
        if (classes < 2) throw new OptionsException($"AuxiliaryHead '{name}' needs at least 2 classes to tell apart, got {classes}.");
        Check.Positive(maxBatch, "maxBatch");
        PooledSize = pooledSize; HiddenSize = hiddenSize; Classes = classes; MaxBatch = maxBatch; Name = name;
        Parameters = new ParameterSet();
        _hidden = new Dense(pooledSize, hiddenSize, Parameters, $"{name}.0");
        _output = new Dense(hiddenSize, classes, Parameters, $"{name}.1");
        Parameters.Allocate();
        Optimizer = new Adam(Parameters.Count, adam ?? new AdamOptions());
        _hiddenActivation = new float[maxBatch * hiddenSize];
        _hiddenGradient = new float[maxBatch * hiddenSize];
        _maskedGradient = new float[maxBatch * hiddenSize];
        _logits = new float[maxBatch * classes];
        _probabilities = new float[maxBatch * classes];
        _logitGradient = new float[maxBatch * classes];
        _pooledGradient = new float[maxBatch * pooledSize];
        _hiddenTransposed = new float[pooledSize * hiddenSize];
        _outputTransposed = new float[hiddenSize * classes];
    }

    /// <summary>What the head tells apart (speakers, arousal, …): the prefix of its parameters' names.</summary>
    public string Name { get; }
    public int PooledSize { get; }
    public int HiddenSize { get; }
    public int Classes { get; }
    public int MaxBatch { get; }
    public ParameterSet Parameters { get; }
    public Adam Optimizer { get; }

    /// <summary>PyTorch's initialisation, the hidden layer then the output, from the run's generator.</summary>
    public void Initialize(Rng rng)
    {
        _hidden.Initialize(rng);
        _output.Initialize(rng);
    }

    /// <summary>pooled [B, P], labels [B] → the mean cross-entropy L_a of the head's task.</summary>
    public float Forward(ReadOnlySpan<float> pooled, ReadOnlySpan<int> labels, int batch, WorkerPool? pool = null)
    {
        if (batch < 1 || batch > MaxBatch) throw new ShapeException($"AuxiliaryHead '{Name}' batch {batch} is outside 1…{MaxBatch}.");
        Check.Length(pooled, (long)batch * PooledSize, "AuxiliaryHead pooled [B, P]");
        _batch = batch;
        Span<float> hidden = _hiddenActivation.AsSpan(0, batch * HiddenSize), logits = _logits.AsSpan(0, batch * Classes);
        _hidden.Forward(pooled, hidden, batch, _hiddenTransposed, pool);
        Relu.Forward(hidden, hidden);
        _output.Forward(hidden, logits, batch, _outputTransposed, pool);
        return SoftmaxCrossEntropy.Forward(logits, labels[..batch], batch, Classes, _probabilities.AsSpan(0, batch * Classes));
    }

    /// <summary>
    /// After <see cref="Forward"/> on the same pooled vectors: adds ∂L_a/∂θ into the head's gradients and
    /// <paramref name="scale"/> · ∂L_a/∂pooled into <paramref name="pooledGradient"/> [B, P] (negative: reversed).
    /// </summary>
    public void Backward(ReadOnlySpan<float> pooled, ReadOnlySpan<int> labels, float scale, Span<float> pooledGradient, WorkerPool? pool = null)
    {
        int batch = _batch;
        if (batch == 0) throw new InvalidOperationException("Call Forward before Backward.");
        if (!float.IsFinite(scale)) throw new OptionsException($"AuxiliaryHead '{Name}' scale must be finite, got {scale}.");
        Check.Length(pooledGradient, (long)batch * PooledSize, "AuxiliaryHead pooledGradient [B, P]");
        Span<float> dLogits = _logitGradient.AsSpan(0, batch * Classes);
        dLogits.Clear();
        SoftmaxCrossEntropy.Backward(_probabilities.AsSpan(0, batch * Classes), labels[..batch], batch, Classes, dLogits);
        Span<float> dHidden = _hiddenGradient.AsSpan(0, batch * HiddenSize), masked = _maskedGradient.AsSpan(0, batch * HiddenSize);
        dHidden.Clear();
        _output.Backward(_hiddenActivation.AsSpan(0, batch * HiddenSize), dLogits, dHidden, batch, pool);
        masked.Clear();
        Relu.Backward(_hiddenActivation.AsSpan(0, batch * HiddenSize), dHidden, masked);
        Span<float> dPooled = _pooledGradient.AsSpan(0, batch * PooledSize);
        dPooled.Clear();
        _hidden.Backward(pooled, masked, dPooled, batch, pool);
        for (int i = 0; i < dPooled.Length; i++) pooledGradient[i] = Subnormal.Flush(pooledGradient[i] + scale * dPooled[i]);
        Subnormal.Flush(Parameters.Gradients);
    }

    /// <summary>Zero gradients, forward, backward (scale · ∂L_a/∂pooled added into <paramref name="pooledGradient"/>), Adam
    /// step of the head: its whole part of a training step. Returns L_a.</summary>
    public float TrainStep(ReadOnlySpan<float> pooled, ReadOnlySpan<int> labels, int batch, float scale, Span<float> pooledGradient, WorkerPool? pool = null)
    {
        Parameters.ZeroGradients();
        float loss = Forward(pooled, labels, batch, pool);
        Backward(pooled, labels, scale, pooledGradient, pool);
        Optimizer.Step(Parameters.Values, Parameters.Gradients);
        return loss;
    }
}
