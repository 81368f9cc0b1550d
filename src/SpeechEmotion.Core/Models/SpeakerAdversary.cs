using System.Numerics.Tensors;
using SpeechEmotion.Core.Layers;
using SpeechEmotion.Core.Optim;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Models;

/// <summary>
/// A speaker adversary for training (gradient reversal, Ganin and Lempitsky 2015, with the training speakers as the
/// domains): Dense(pooled → hidden) → ReLU → Dense(hidden → speakers) → softmax cross-entropy, over a
/// <see cref="SequenceClassifier"/>'s pooled vector. The adversary learns to tell the training speakers apart
/// (its own parameters descend its loss L_s); the gradient it sends back into the pooled vector is −λ ∂L_s/∂pooled, so
/// the LSTM below descends L_emotion − λ·L_s: features from which the speaker is hard to tell. Training only: a saved
/// model holds no adversary. Its parameters, gradients and Adam state are its own (flat buffers, as the classifier's);
/// every buffer is sized once for the largest batch, so a step allocates nothing.
/// </summary>
public sealed class SpeakerAdversary
{
    private readonly Dense _hidden, _output;
    private readonly float[] _hiddenActivation, _hiddenGradient, _maskedGradient, _logits, _probabilities, _logitGradient, _pooledGradient;
    private readonly float[] _hiddenTransposed, _outputTransposed;
    private int _batch;

    public SpeakerAdversary(int pooledSize, int hiddenSize, int speakers, int maxBatch, AdamOptions? adam = null)
    {
        if (speakers < 2) throw new OptionsException($"SpeakerAdversary needs at least 2 speakers to tell apart, got {speakers}.");
        Check.Positive(maxBatch, "maxBatch");
        PooledSize = pooledSize; HiddenSize = hiddenSize; Speakers = speakers; MaxBatch = maxBatch;
        Parameters = new ParameterSet();
        _hidden = new Dense(pooledSize, hiddenSize, Parameters, "adversary.0");
        _output = new Dense(hiddenSize, speakers, Parameters, "adversary.1");
        Parameters.Allocate();
        Optimizer = new Adam(Parameters.Count, adam ?? new AdamOptions());
        _hiddenActivation = new float[maxBatch * hiddenSize];
        _hiddenGradient = new float[maxBatch * hiddenSize];
        _maskedGradient = new float[maxBatch * hiddenSize];
        _logits = new float[maxBatch * speakers];
        _probabilities = new float[maxBatch * speakers];
        _logitGradient = new float[maxBatch * speakers];
        _pooledGradient = new float[maxBatch * pooledSize];
        _hiddenTransposed = new float[pooledSize * hiddenSize];
        _outputTransposed = new float[hiddenSize * speakers];
    }

    public int PooledSize { get; }
    public int HiddenSize { get; }
    public int Speakers { get; }
    public int MaxBatch { get; }
    public ParameterSet Parameters { get; }
    public Adam Optimizer { get; }

    /// <summary>Softmax probabilities [B, speakers] of the last forward.</summary>
    public ReadOnlySpan<float> Probabilities => _probabilities.AsSpan(0, _batch * Speakers);

    /// <summary>The gradient of the last <see cref="Backward"/> for the pooled vector, −λ ∂L_s/∂pooled [B, pooled].</summary>
    public ReadOnlySpan<float> PooledGradient => _pooledGradient.AsSpan(0, _batch * PooledSize);

    /// <summary>PyTorch's initialisation, the hidden layer then the output, from the run's generator.</summary>
    public void Initialize(Rng rng)
    {
        _hidden.Initialize(rng);
        _output.Initialize(rng);
    }

    /// <summary>pooled [B, P], speakers [B] → the mean cross-entropy L_s of telling the speakers apart.</summary>
    public float Forward(ReadOnlySpan<float> pooled, ReadOnlySpan<int> speakers, int batch, WorkerPool? pool = null)
    {
        if (batch < 1 || batch > MaxBatch) throw new ShapeException($"SpeakerAdversary batch {batch} is outside 1…{MaxBatch}.");
        Check.Length(pooled, (long)batch * PooledSize, "SpeakerAdversary pooled [B, P]");
        _batch = batch;
        Span<float> hidden = _hiddenActivation.AsSpan(0, batch * HiddenSize), logits = _logits.AsSpan(0, batch * Speakers);
        _hidden.Forward(pooled, hidden, batch, _hiddenTransposed, pool);
        Relu.Forward(hidden, hidden);
        _output.Forward(hidden, logits, batch, _outputTransposed, pool);
        return SoftmaxCrossEntropy.Forward(logits, speakers[..batch], batch, Speakers, _probabilities.AsSpan(0, batch * Speakers));
    }

    /// <summary>
    /// After <see cref="Forward"/> on the same pooled vectors: adds ∂L_s/∂θ into the adversary's gradients and writes
    /// <see cref="PooledGradient"/> = −λ ∂L_s/∂pooled, the reversed gradient for the classifier below.
    /// </summary>
    public void Backward(ReadOnlySpan<float> pooled, ReadOnlySpan<int> speakers, float lambda, WorkerPool? pool = null)
    {
        int batch = _batch;
        if (batch == 0) throw new InvalidOperationException("Call Forward before Backward.");
        if (!(lambda >= 0f) || float.IsInfinity(lambda)) throw new OptionsException($"SpeakerAdversary λ must be non-negative and finite, got {lambda}.");
        Span<float> dLogits = _logitGradient.AsSpan(0, batch * Speakers);
        dLogits.Clear();
        SoftmaxCrossEntropy.Backward(_probabilities.AsSpan(0, batch * Speakers), speakers[..batch], batch, Speakers, dLogits);
        Span<float> dHidden = _hiddenGradient.AsSpan(0, batch * HiddenSize), masked = _maskedGradient.AsSpan(0, batch * HiddenSize);
        dHidden.Clear();
        _output.Backward(_hiddenActivation.AsSpan(0, batch * HiddenSize), dLogits, dHidden, batch, pool);
        masked.Clear();
        Relu.Backward(_hiddenActivation.AsSpan(0, batch * HiddenSize), dHidden, masked);
        Span<float> dPooled = _pooledGradient.AsSpan(0, batch * PooledSize);
        dPooled.Clear();
        _hidden.Backward(pooled, masked, dPooled, batch, pool);
        TensorPrimitives.Multiply(dPooled, -lambda, dPooled);
        Subnormal.Flush(dPooled);
        Subnormal.Flush(Parameters.Gradients);
    }

    /// <summary>One Adam update of the adversary from its accumulated gradients; returns their norm before clipping.</summary>
    public float Step() => Optimizer.Step(Parameters.Values, Parameters.Gradients);
}
