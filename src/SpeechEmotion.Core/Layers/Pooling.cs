using SpeechEmotion.Core.Tensors;
using System.Numerics.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>How a sequence of LSTM outputs becomes one vector per utterance.</summary>
public enum PoolingKind
{
    /// <summary>The state after the last valid step: forward direction at t = length − 1, reverse at t = 0 (PyTorch's h_n).</summary>
    Last,
    /// <summary>The mean of the outputs over the valid steps.</summary>
    Mean,
    /// <summary>Attention: a weighted mean of the valid steps' outputs, the weights a softmax over time of each
    /// step's score against one learnt vector (<see cref="Pooling.AttentionForward"/>).</summary>
    Attention,
}

/// <summary>Pooling over valid frames: y: [T, B, F] with lengths [B] → pooled [B, F].</summary>
public static class Pooling
{
    /// <summary>Mean over t &lt; lengths[b].</summary>
    public static void MeanForward(ReadOnlySpan<float> y, ReadOnlySpan<int> lengths, int steps, int batch, int features, Span<float> pooled)
    {
        Check.Length(y, (long)steps * batch * features, "Pooling y [T, B, F]");
        Check.Length(pooled, (long)batch * features, "Pooling pooled [B, F]");
        for (int b = 0; b < batch; b++)
        {
            Span<float> row = pooled.Slice(b * features, features);
            row.Clear();
            for (int t = 0; t < lengths[b]; t++) TensorPrimitives.Add(row, y.Slice((t * batch + b) * features, features), row);
            TensorPrimitives.Multiply(row, 1f / lengths[b], row);
        }
    }

    /// <summary>dy[t, b] += dPooled[b] / lengths[b] for t &lt; lengths[b].</summary>
    public static void MeanBackward(ReadOnlySpan<float> dPooled, ReadOnlySpan<int> lengths, int steps, int batch, int features, Span<float> dy)
    {
        Check.Length(dy, (long)steps * batch * features, "Pooling dy [T, B, F]");
        for (int b = 0; b < batch; b++)
        {
            float scale = 1f / lengths[b];
            ReadOnlySpan<float> row = dPooled.Slice(b * features, features);
            for (int t = 0; t < lengths[b]; t++)
            {
                Span<float> target = dy.Slice((t * batch + b) * features, features);
                TensorPrimitives.FusedMultiplyAdd(row, scale, target, target);
            }
        }
    }

    /// <summary>
    /// Last valid state of the top layer: finalHidden [L·D, B, H] → pooled [B, D·H] = [forward | reverse].
    /// </summary>
    public static void LastForward(ReadOnlySpan<float> finalHidden, int layers, int directions, int batch, int hidden, Span<float> pooled)
    {
        int top = (layers - 1) * directions;
        for (int b = 0; b < batch; b++)
            for (int d = 0; d < directions; d++)
                finalHidden.Slice(((top + d) * batch + b) * hidden, hidden).CopyTo(pooled.Slice(b * directions * hidden + d * hidden, hidden));
    }

    /// <summary>dFinalHidden[top layer] += dPooled, scattered back to [L·D, B, H].</summary>
    public static void LastBackward(ReadOnlySpan<float> dPooled, int layers, int directions, int batch, int hidden, Span<float> dFinalHidden)
    {
        int top = (layers - 1) * directions;
        for (int b = 0; b < batch; b++)
            for (int d = 0; d < directions; d++)
            {
                Span<float> target = dFinalHidden.Slice(((top + d) * batch + b) * hidden, hidden);
                TensorPrimitives.Add(target, dPooled.Slice(b * directions * hidden + d * hidden, hidden), target);
            }
    }

    /// <summary>
    /// Attention pooling: s[t, b] = w · y[t, b] for t &lt; lengths[b], α[t, b] = softmax over those t, pooled[b] =
    /// Σₜ α[t, b] y[t, b]. w [F] is the layer's one parameter (zero at initialisation: the mean); α [T, B] is kept for backward.
    /// </summary>
    public static void AttentionForward(ReadOnlySpan<float> y, ReadOnlySpan<int> lengths, int steps, int batch, int features,
        ReadOnlySpan<float> w, Span<float> alpha, Span<float> pooled)
    {
        Check.Length(y, (long)steps * batch * features, "Pooling y [T, B, F]");
        Check.Length(w, features, "Attention w [F]");
        Check.Length(alpha, (long)steps * batch, "Attention alpha [T, B]");
        Check.Length(pooled, (long)batch * features, "Pooling pooled [B, F]");
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            float max = float.NegativeInfinity;
            for (int t = 0; t < length; t++)
            {
                float score = FixedOrder.Dot(w, y.Slice((t * batch + b) * features, features));
                alpha[t * batch + b] = score;
                max = MathF.Max(max, score);
            }
            float sum = 0f;
            for (int t = 0; t < length; t++) sum += alpha[t * batch + b] = MathF.Exp(alpha[t * batch + b] - max);
            Span<float> row = pooled.Slice(b * features, features);
            row.Clear();
            for (int t = 0; t < steps; t++)
            {
                if (t >= length) { alpha[t * batch + b] = 0f; continue; }
                float a = alpha[t * batch + b] /= sum;
                TensorPrimitives.FusedMultiplyAdd(y.Slice((t * batch + b) * features, features), a, row, row);
            }
        }
    }

    /// <summary>
    /// The gradients of attention pooling, added into dy [T, B, F] and dw [F]: with g = dPooled[b] and dα_t = g · y_t,
    /// dy_t += α_t g + α_t (dα_t − Σ_τ α_τ dα_τ) w and dw += Σ_t α_t (dα_t − Σ_τ α_τ dα_τ) y_t.
    /// </summary>
    public static void AttentionBackward(ReadOnlySpan<float> dPooled, ReadOnlySpan<float> y, ReadOnlySpan<int> lengths, int steps, int batch, int features,
        ReadOnlySpan<float> w, ReadOnlySpan<float> alpha, Span<float> dy, Span<float> dw, Span<float> scratch)
    {
        Check.Length(dy, (long)steps * batch * features, "Pooling dy [T, B, F]");
        Check.Length(dw, features, "Attention dw [F]");
        Check.Length(scratch, steps, "Attention scratch [T]");
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            ReadOnlySpan<float> g = dPooled.Slice(b * features, features);
            float mean = 0f;
            for (int t = 0; t < length; t++)
            {
                scratch[t] = FixedOrder.Dot(g, y.Slice((t * batch + b) * features, features)); // dα_t
                mean += alpha[t * batch + b] * scratch[t];
            }
            for (int t = 0; t < length; t++)
            {
                float a = alpha[t * batch + b], ds = a * (scratch[t] - mean);
                ReadOnlySpan<float> yt = y.Slice((t * batch + b) * features, features);
                Span<float> target = dy.Slice((t * batch + b) * features, features);
                TensorPrimitives.FusedMultiplyAdd(g, a, target, target);
                TensorPrimitives.FusedMultiplyAdd(w, ds, target, target);
                TensorPrimitives.FusedMultiplyAdd(yt, ds, dw, dw);
            }
        }
    }
}
