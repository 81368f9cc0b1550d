using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Optim;

/// <summary>Adam's settings; validated at construction.</summary>
public sealed record AdamOptions
{
    public AdamOptions(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f,
        float weightDecay = 0f, float maxGradientNorm = 0f)
    {
        if (!(learningRate > 0f) || float.IsInfinity(learningRate)) throw new OptionsException($"AdamOptions.LearningRate must be positive and finite, got {learningRate}.");
        if (!(beta1 >= 0f && beta1 < 1f)) throw new OptionsException($"AdamOptions.Beta1 must be in [0, 1), got {beta1}.");
        if (!(beta2 >= 0f && beta2 < 1f)) throw new OptionsException($"AdamOptions.Beta2 must be in [0, 1), got {beta2}.");
        if (!(epsilon > 0f)) throw new OptionsException($"AdamOptions.Epsilon must be positive, got {epsilon}.");
        if (!(weightDecay >= 0f)) throw new OptionsException($"AdamOptions.WeightDecay must be non-negative, got {weightDecay}.");
        if (!(maxGradientNorm >= 0f)) throw new OptionsException($"AdamOptions.MaxGradientNorm must be non-negative (0 = no clipping), got {maxGradientNorm}.");
        LearningRate = learningRate; Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay; MaxGradientNorm = maxGradientNorm;
    }

    public float LearningRate { get; init; }
    public float Beta1 { get; init; }
    public float Beta2 { get; init; }
    public float Epsilon { get; init; }
    /// <summary>Decoupled weight decay (AdamW, Loshchilov and Hutter 2019); 0 is plain Adam.</summary>
    public float WeightDecay { get; init; }
    /// <summary>Global gradient-norm clipping threshold; 0 disables clipping.</summary>
    public float MaxGradientNorm { get; init; }
}

/// <summary>
/// Adam (Kingma and Ba, 2015) over one flat parameter buffer, written as torch.optim.Adam/AdamW compute it:
///   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ(1 − lr·λ) − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
/// The moments are buffers of the parameters' layout, owned by this instance.
/// </summary>
public sealed class Adam
{
    private readonly float[] _m, _v;

    public Adam(int parameterCount, AdamOptions options)
    {
        Options = options;
        _m = new float[parameterCount];
        _v = new float[parameterCount];
    }

    public AdamOptions Options { get; set; }
    public int StepCount { get; private set; }
    public Span<float> FirstMoment => _m;
    public Span<float> SecondMoment => _v;

    /// <summary>Restores a saved optimizer state (for resuming training).</summary>
    public void Restore(ReadOnlySpan<float> firstMoment, ReadOnlySpan<float> secondMoment, int stepCount)
    {
        if (firstMoment.Length != _m.Length || secondMoment.Length != _v.Length)
            throw new ShapeException($"Adam state has {firstMoment.Length}/{secondMoment.Length} moments for {_m.Length} parameters.");
        firstMoment.CopyTo(_m); secondMoment.CopyTo(_v); StepCount = stepCount;
    }

    /// <summary>One update. Clips the gradients in place first when MaxGradientNorm &gt; 0; returns the norm before clipping.</summary>
    public float Step(Span<float> parameters, Span<float> gradients)
    {
        if (parameters.Length != _m.Length || gradients.Length != _m.Length)
            throw new ShapeException($"Adam was built for {_m.Length} parameters, got {parameters.Length} parameters and {gradients.Length} gradients.");
        float norm = Options.MaxGradientNorm > 0f ? ClipGradientNorm(gradients, Options.MaxGradientNorm) : Norm(gradients);
        StepCount++;
        float lr = Options.LearningRate, beta1 = Options.Beta1, beta2 = Options.Beta2, eps = Options.Epsilon;
        float biasCorrection1 = 1f - MathF.Pow(beta1, StepCount);
        float biasCorrection2Sqrt = MathF.Sqrt(1f - MathF.Pow(beta2, StepCount));
        float stepSize = lr / biasCorrection1;
        float decay = 1f - lr * Options.WeightDecay;
        for (int i = 0; i < parameters.Length; i++)
        {
            // Flushed as the engine flushes everywhere (see Subnormal): a moment that decays under the floor is zero.
            float g = Subnormal.Flush(gradients[i]);
            float m = _m[i] = Subnormal.Flush(beta1 * _m[i] + (1f - beta1) * g);
            float v = _v[i] = beta2 * _v[i] + (1f - beta2) * g * g;
            if (v < Subnormal.SquareFloor) _v[i] = v = 0f;
            float p = Options.WeightDecay > 0f ? parameters[i] * decay : parameters[i];
            parameters[i] = Subnormal.Flush(p - stepSize * (m / (MathF.Sqrt(v) / biasCorrection2Sqrt + eps)));
        }
        return norm;
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_: with n = ‖g‖₂ over all gradients, scales g by max/(n + 1e-6) when that is
    /// below 1. Returns n.
    /// </summary>
    public static float ClipGradientNorm(Span<float> gradients, float maxNorm)
    {
        float norm = Norm(gradients);
        float coefficient = maxNorm / (norm + 1e-6f);
        if (coefficient < 1f) TensorPrimitives.Multiply(gradients, coefficient, gradients);
        return norm;
    }

    /// <summary>‖g‖₂, summed in double precision in index order: the same bits at any vector width.</summary>
    public static float Norm(ReadOnlySpan<float> gradients)
    {
        double sum = 0;
        foreach (float g in gradients) sum += (double)g * g;
        return (float)Math.Sqrt(sum);
    }
}
