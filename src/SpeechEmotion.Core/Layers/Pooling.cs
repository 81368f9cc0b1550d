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
    /// <summary>Statistics: the mean and the standard deviation of the outputs over the valid steps, side by side, so
    /// the pooled vector is twice as wide (<see cref="Pooling.StatsForward"/>).</summary>
    Stats,
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

    /// <summary>Added to the variance before its square root in <see cref="StatsForward"/>: bounds 1/σ, and so the
    /// gradient, for an output that does not move over an utterance (σ ≥ √10⁻⁵ ≈ 0.0032).</summary>
    public const float StatsVarianceFloor = 1e-5f;

    /// <summary>
    /// Statistics pooling: pooled[b] = [m | σ] [2F] with m = (1/n) Σₜ y[t, b] and σ = √((1/n) Σₜ (y[t, b] − m)² +
    /// <see cref="StatsVarianceFloor"/>) over t &lt; n = lengths[b], each feature by itself (two passes, in t order: the
    /// same bits on every machine).
    /// </summary>
    public static void StatsForward(ReadOnlySpan<float> y, ReadOnlySpan<int> lengths, int steps, int batch, int features, Span<float> pooled)
    {
        Check.Length(y, (long)steps * batch * features, "Pooling y [T, B, F]");
        Check.Length(pooled, 2L * batch * features, "Stats pooled [B, 2F]");
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            float inverse = 1f / length;
            Span<float> mean = pooled.Slice(2 * b * features, features), sd = pooled.Slice((2 * b + 1) * features, features);
            mean.Clear();
            sd.Clear();
            for (int t = 0; t < length; t++)
            {
                ReadOnlySpan<float> yt = y.Slice((t * batch + b) * features, features);
                for (int f = 0; f < features; f++) mean[f] += yt[f];
            }
            for (int f = 0; f < features; f++) mean[f] *= inverse;
            for (int t = 0; t < length; t++)
            {
                ReadOnlySpan<float> yt = y.Slice((t * batch + b) * features, features);
                for (int f = 0; f < features; f++)
                {
                    float d = yt[f] - mean[f];
                    sd[f] += d * d;
                }
            }
            for (int f = 0; f < features; f++) sd[f] = MathF.Sqrt(sd[f] * inverse + StatsVarianceFloor);
        }
    }

    /// <summary>
    /// The gradients of statistics pooling, added into dy [T, B, F]: with [gm | gσ] = dPooled[b] and [m | σ] =
    /// pooled[b] (the forward's output), dy[t, b] += gm / n + gσ (y[t, b] − m) / (n σ) for t &lt; n = lengths[b].
    /// </summary>
    public static void StatsBackward(ReadOnlySpan<float> dPooled, ReadOnlySpan<float> pooled, ReadOnlySpan<float> y, ReadOnlySpan<int> lengths,
        int steps, int batch, int features, Span<float> dy)
    {
        Check.Length(dPooled, 2L * batch * features, "Stats dPooled [B, 2F]");
        Check.Length(pooled, 2L * batch * features, "Stats pooled [B, 2F]");
        Check.Length(dy, (long)steps * batch * features, "Pooling dy [T, B, F]");
        // Per feature, once per sequence: g_m/n and g_σ/(n·σ), each rounded as the per-step expression would round it.
        Span<float> meanShare = features <= 512 ? stackalloc float[features] : new float[features];
        Span<float> spreadShare = features <= 512 ? stackalloc float[features] : new float[features];
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            float inverse = 1f / length;
            ReadOnlySpan<float> gm = dPooled.Slice(2 * b * features, features), gs = dPooled.Slice((2 * b + 1) * features, features);
            ReadOnlySpan<float> mean = pooled.Slice(2 * b * features, features), sd = pooled.Slice((2 * b + 1) * features, features);
            for (int f = 0; f < features; f++)
            {
                meanShare[f] = gm[f] * inverse;
                spreadShare[f] = gs[f] * inverse / sd[f];
            }
            for (int t = 0; t < length; t++)
            {
                ReadOnlySpan<float> yt = y.Slice((t * batch + b) * features, features);
                Span<float> target = dy.Slice((t * batch + b) * features, features);
                for (int f = 0; f < features; f++)
                    target[f] += meanShare[f] + spreadShare[f] * (yt[f] - mean[f]);
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
