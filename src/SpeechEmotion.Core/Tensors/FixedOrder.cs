using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// Dot products and sums in one order whatever the vector width, so they give the same bits on every machine:
/// element k is added into lane k mod 16, each lane accumulates its elements in order (a fused multiply-add for a
/// dot product), and the 16 lanes are then summed by one fixed pairwise tree (0+8, 1+9, …; then 0+4, …). A Vector512
/// holds the 16 lanes, two Vector256 or four Vector128 hold them in halves or quarters, and scalar code keeps them in
/// an array. TensorPrimitives' Dot and Sum do not promise an order: their results change with the vector width.
/// </summary>
public static class FixedOrder
{
    public const int Lanes = 16;

    /// <summary>Σ a[k]·b[k] in the fixed order.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ShapeException($"FixedOrder.Dot: lengths {a.Length} and {b.Length} differ.");
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        int i = 0, n = a.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - Lanes; i += Lanes) acc = Vector512.FusedMultiplyAdd(Vector512.Create(a[i..]), Vector512.Create(b[i..]), acc);
            acc.CopyTo(lanes);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc0 = default, acc1 = default;
            for (; i <= n - Lanes; i += Lanes)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[i..]), Vector256.Create(b[i..]), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[(i + 8)..]), Vector256.Create(b[(i + 8)..]), acc1);
            }
            acc0.CopyTo(lanes); acc1.CopyTo(lanes[8..]);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (; i <= n - Lanes; i += Lanes)
            {
                acc0 = Vector128.FusedMultiplyAdd(Vector128.Create(a[i..]), Vector128.Create(b[i..]), acc0);
                acc1 = Vector128.FusedMultiplyAdd(Vector128.Create(a[(i + 4)..]), Vector128.Create(b[(i + 4)..]), acc1);
                acc2 = Vector128.FusedMultiplyAdd(Vector128.Create(a[(i + 8)..]), Vector128.Create(b[(i + 8)..]), acc2);
                acc3 = Vector128.FusedMultiplyAdd(Vector128.Create(a[(i + 12)..]), Vector128.Create(b[(i + 12)..]), acc3);
            }
            acc0.CopyTo(lanes); acc1.CopyTo(lanes[4..]); acc2.CopyTo(lanes[8..]); acc3.CopyTo(lanes[12..]);
        }
        for (; i < n; i++) lanes[i % Lanes] = MathF.FusedMultiplyAdd(a[i], b[i], lanes[i % Lanes]);
        return Tree(lanes);
    }

    /// <summary>Σ a[k] in the fixed order.</summary>
    public static float Sum(ReadOnlySpan<float> a)
    {
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        int i = 0, n = a.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - Lanes; i += Lanes) acc += Vector512.Create(a[i..]);
            acc.CopyTo(lanes);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc0 = default, acc1 = default;
            for (; i <= n - Lanes; i += Lanes) { acc0 += Vector256.Create(a[i..]); acc1 += Vector256.Create(a[(i + 8)..]); }
            acc0.CopyTo(lanes); acc1.CopyTo(lanes[8..]);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (; i <= n - Lanes; i += Lanes)
            {
                acc0 += Vector128.Create(a[i..]); acc1 += Vector128.Create(a[(i + 4)..]);
                acc2 += Vector128.Create(a[(i + 8)..]); acc3 += Vector128.Create(a[(i + 12)..]);
            }
            acc0.CopyTo(lanes); acc1.CopyTo(lanes[4..]); acc2.CopyTo(lanes[8..]); acc3.CopyTo(lanes[12..]);
        }
        for (; i < n; i++) lanes[i % Lanes] += a[i];
        return Tree(lanes);
    }

    /// <summary>Σ a[k]² in the fixed order.</summary>
    public static float SumOfSquares(ReadOnlySpan<float> a) => Dot(a, a);

    private static float Tree(Span<float> lanes)
    {
        for (int width = Lanes / 2; width >= 1; width /= 2)
            for (int k = 0; k < width; k++) lanes[k] += lanes[k + width];
        return lanes[0];
    }
}
