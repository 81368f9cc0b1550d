using System.Numerics.Tensors;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// Inverted dropout: in training each element is kept with probability 1 − p and scaled by 1/(1 − p), so
/// inference is the identity. The mask comes from the caller's seeded <see cref="Rng"/> and is kept for backward.
/// </summary>
public sealed class Dropout
{
    private readonly float[] _mask;

    public Dropout(float probability, int capacity)
    {
        if (!(probability >= 0f && probability < 1f)) throw new OptionsException($"Dropout probability must be in [0, 1), got {probability}.");
        Probability = probability;
        _mask = new float[capacity];
    }

    public float Probability { get; }

    /// <summary>Whether the last forward applied a mask (training with p &gt; 0).</summary>
    public bool Active { get; private set; }

    /// <summary>x: [n] → y: [n]; in place allowed.</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, bool training, Rng rng)
    {
        int n = x.Length;
        Check.Length(y, n, "Dropout y");
        Active = training && Probability > 0f;
        if (!Active) { x.CopyTo(y); return; } // the identity needs no mask: a prediction-only dropout has none
        if (n > _mask.Length) throw new ShapeException($"Dropout: {n} elements, but the workspace holds {_mask.Length}.");
        float scale = 1f / (1f - Probability);
        Span<float> mask = _mask.AsSpan(0, n);
        for (int i = 0; i < n; i++) mask[i] = rng.NextFloat() < Probability ? 0f : scale;
        TensorPrimitives.Multiply(x, mask, y[..n]);
    }

    /// <summary>dy: [n] → dx += mask ⊙ dy (or dy when inactive).</summary>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = dy.Length;
        Check.Length(dx, n, "Dropout dx");
        if (Active) TensorPrimitives.FusedMultiplyAdd(dy, _mask.AsSpan(0, n), dx[..n], dx[..n]);
        else TensorPrimitives.Add(dx[..n], dy, dx[..n]);
    }
}
