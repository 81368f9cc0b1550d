using System.Numerics.Tensors;

namespace SpeechEmotion.Core.Layers;

/// <summary>How a sequence of LSTM outputs becomes one vector per utterance.</summary>
public enum PoolingKind
{
    /// <summary>The state after the last valid step: forward direction at t = length − 1, reverse at t = 0 (PyTorch's h_n).</summary>
    Last,
    /// <summary>The mean of the outputs over the valid steps.</summary>
    Mean,
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
}
