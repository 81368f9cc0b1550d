using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// The engine never makes a subnormal float. On some processors (the Intel cores seen here) every arithmetic
/// operation that reads or writes one takes a microcode assist, hundreds of cycles, and managed code cannot set the
/// flush-to-zero and denormals-are-zero bits of MXCSR the way PyTorch's <c>set_flush_denormal</c> does. So the
/// kernels flush values under <see cref="Floor"/> (2⁻⁵⁰ ≈ 8.9·10⁻¹⁶) to zero where they are made: the LSTM cell's
/// activations, cell and hidden states (forward), its gate gradients and dc (backward), the recurrent and input
/// gradients after their GEMMs, the softmax's probabilities, the gradients before Adam and Adam's moments and
/// parameters. The floor is far above the subnormal range (2⁻¹²⁶) so that a product of two flushed values, or Adam's
/// (1 − β₂)·g², is still normal; and far below anything that moves a result: a value under 10⁻¹⁵ changes a sum of
/// terms of order 10⁻⁷ or more not at all. Every width (Vector512/256/128 and scalar) flushes the same values, so the
/// flush keeps results bit-identical across them.
/// </summary>
public static class Subnormal
{
    /// <summary>2⁻⁵⁰: values of smaller magnitude become +0 (NaN and ±∞ are kept).</summary>
    public const float Floor = 1f / (1L << 50);

    /// <summary>The floor for squares (Adam's second moment): 2⁻¹⁰⁰.</summary>
    public const float SquareFloor = Floor * Floor;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Flush(float x) => MathF.Abs(x) < Floor ? 0f : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Flush(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(Floor)), Vector512<float>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Flush(Vector256<float> x) =>
        Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(Floor)), Vector256<float>.Zero, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Flush(Vector128<float> x) =>
        Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(Floor)), Vector128<float>.Zero, x);

    /// <summary>Flushes every element of <paramref name="values"/> in place, with the widest vectors the machine has.</summary>
    public static void Flush(Span<float> values)
    {
        int i = 0, n = values.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Flush(Vector512.Create(values[i..])).CopyTo(values[i..]);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Flush(Vector256.Create(values[i..])).CopyTo(values[i..]);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
                Flush(Vector128.Create(values[i..])).CopyTo(values[i..]);
        for (; i < n; i++) values[i] = Flush(values[i]);
    }
}
