using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// Elementwise kernels that TensorPrimitives does not have, in its shape: the widest of Vector512/256/128
/// chosen at run time, the tail handled by the scalar loop, and the scalar reference kept beside them
/// (tests compare the two at every length). Where TensorPrimitives has the operation we call it instead.
/// </summary>
public static class Kernels
{
    /// <summary>ReLU forward: y = max(x, 0). In place allowed.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>ReLU backward from its output: dx += (y &gt; 0) ? dy : 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = SameLength(y.Length, dy.Length, dx.Length, "ReluBackward");
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
        ReluBackwardReference(y[i..n], dy[i..n], dx[i..n]);
    }

    public static void ReluBackwardReference(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = SameLength(y.Length, dy.Length, dx.Length, "ReluBackward");
        for (int i = 0; i < n; i++) if (y[i] > 0f) dx[i] += dy[i];
    }

    /// <summary>
    /// Backward through one LSTM cell for one sequence, H elements wide (PyTorch's equations):
    /// c = f⊙c' + i⊙g, h = o⊙tanh(c), with i, f, o = σ(·) and g = tanh(·) of the gate pre-activations.
    /// With dh = dy + dhNext and dc = dcNext + dh⊙o⊙(1 − tanh²c):
    /// dâ_i = dc⊙g⊙i(1−i), dâ_f = dc⊙c'⊙f(1−f), dâ_g = dc⊙i⊙(1−g²), dâ_o = dh⊙tanh(c)⊙o(1−o), dc' = dc⊙f.
    /// <paramref name="gates"/> holds [i | f | g | o] activations (4H) on entry and the pre-activation gradients
    /// on return; <paramref name="dc"/> holds dcNext on entry and dc' on return.
    /// </summary>
    public static void LstmCellBackward(Span<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        int h = CheckCell(gates.Length, cPrev.Length, tanhC.Length, dy.Length, dhNext.Length, dc.Length);
        var gi = gates[..h]; var gf = gates.Slice(h, h); var gg = gates.Slice(2 * h, h); var go = gates.Slice(3 * h, h);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j <= h - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var one = Vector512<float>.One;
                var i = Vector512.Create(gi[j..]); var f = Vector512.Create(gf[j..]);
                var g = Vector512.Create(gg[j..]); var o = Vector512.Create(go[j..]);
                var t = Vector512.Create(tanhC[j..]);
                var dh = Vector512.Create(dy[j..]) + Vector512.Create(dhNext[j..]);
                var dcv = Vector512.Create(dc[j..]) + dh * o * (one - t * t);
                (dcv * g * i * (one - i)).CopyTo(gi[j..]);
                (dcv * Vector512.Create(cPrev[j..]) * f * (one - f)).CopyTo(gf[j..]);
                (dcv * i * (one - g * g)).CopyTo(gg[j..]);
                (dh * t * o * (one - o)).CopyTo(go[j..]);
                (dcv * f).CopyTo(dc[j..]);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; j <= h - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var one = Vector256<float>.One;
                var i = Vector256.Create(gi[j..]); var f = Vector256.Create(gf[j..]);
                var g = Vector256.Create(gg[j..]); var o = Vector256.Create(go[j..]);
                var t = Vector256.Create(tanhC[j..]);
                var dh = Vector256.Create(dy[j..]) + Vector256.Create(dhNext[j..]);
                var dcv = Vector256.Create(dc[j..]) + dh * o * (one - t * t);
                (dcv * g * i * (one - i)).CopyTo(gi[j..]);
                (dcv * Vector256.Create(cPrev[j..]) * f * (one - f)).CopyTo(gf[j..]);
                (dcv * i * (one - g * g)).CopyTo(gg[j..]);
                (dh * t * o * (one - o)).CopyTo(go[j..]);
                (dcv * f).CopyTo(dc[j..]);
            }
        CellBackwardScalar(gi[j..], gf[j..], gg[j..], go[j..], cPrev[j..h], tanhC[j..h], dy[j..h], dhNext[j..h], dc[j..h]);
    }

    /// <summary>The scalar reference of <see cref="LstmCellBackward"/>, same argument layout.</summary>
    public static void LstmCellBackwardReference(Span<float> gates, ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        int h = CheckCell(gates.Length, cPrev.Length, tanhC.Length, dy.Length, dhNext.Length, dc.Length);
        CellBackwardScalar(gates[..h], gates.Slice(h, h), gates.Slice(2 * h, h), gates.Slice(3 * h, h), cPrev, tanhC, dy, dhNext, dc);
    }

    private static void CellBackwardScalar(Span<float> gi, Span<float> gf, Span<float> gg, Span<float> go,
        ReadOnlySpan<float> cPrev, ReadOnlySpan<float> tanhC, ReadOnlySpan<float> dy, ReadOnlySpan<float> dhNext, Span<float> dc)
    {
        for (int j = 0; j < dc.Length; j++)
        {
            float i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tanhC[j];
            float dh = dy[j] + dhNext[j];
            float dcv = dc[j] + dh * o * (1f - t * t);
            gi[j] = dcv * g * i * (1f - i);
            gf[j] = dcv * cPrev[j] * f * (1f - f);
            gg[j] = dcv * i * (1f - g * g);
            go[j] = dh * t * o * (1f - o);
            dc[j] = dcv * f;
        }
    }

    private static int CheckCell(int gates, int cPrev, int tanhC, int dy, int dhNext, int dc)
    {
        int h = dc;
        if (gates != 4 * h || cPrev != h || tanhC != h || dy != h || dhNext != h)
            throw new ShapeException($"LstmCellBackward: gates must be 4H and the rest H (H = {h}); got gates {gates}, cPrev {cPrev}, tanhC {tanhC}, dy {dy}, dhNext {dhNext}.");
        return h;
    }

    private static int SameLength(int a, int b, int c, string operation)
    {
        if (a != b || a != c) throw new ShapeException($"{operation}: spans must have equal lengths, got {a}, {b}, {c}.");
        return a;
    }
}
