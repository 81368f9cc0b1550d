using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Layers;

/// <summary>
/// ReLU, forward and backward: y = max(x, 0); the backward reads the forward's output (y &gt; 0 exactly where x &gt; 0),
/// so the head keeps no copy of its input. The backward's vector path takes the widest of Vector512/256/128 and
/// its scalar reference finishes the tail; tests compare the two at every length.
/// </summary>
public static class Relu
{
    /// <summary>ReLU forward: y = max(x, 0). In place allowed.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>ReLU backward from its output: dx += (y &gt; 0) ? dy : 0.</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = SameLength(y.Length, dy.Length, dx.Length, "Relu.Backward");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var mask = Vector512.GreaterThan(Vector512.Create(y[i..]), Vector512<float>.Zero);
                (Vector512.Create(dx[i..]) + (Vector512.Create(dy[i..]) & mask)).CopyTo(dx[i..]);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var mask = Vector256.GreaterThan(Vector256.Create(y[i..]), Vector256<float>.Zero);
                (Vector256.Create(dx[i..]) + (Vector256.Create(dy[i..]) & mask)).CopyTo(dx[i..]);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var mask = Vector128.GreaterThan(Vector128.Create(y[i..]), Vector128<float>.Zero);
                (Vector128.Create(dx[i..]) + (Vector128.Create(dy[i..]) & mask)).CopyTo(dx[i..]);
            }
        BackwardReference(y[i..n], dy[i..n], dx[i..n]);
    }

    /// <summary>The scalar reference of <see cref="Backward"/>.</summary>
    public static void BackwardReference(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = SameLength(y.Length, dy.Length, dx.Length, "Relu.Backward");
        for (int i = 0; i < n; i++) if (y[i] > 0f) dx[i] += dy[i];
    }

    private static int SameLength(int a, int b, int c, string operation)
    {
        if (a != b || a != c) throw new ShapeException($"{operation}: spans must have equal lengths, got {a}, {b}, {c}.");
        return a;
    }
}
