using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
        int n = a.Length, whole = n - n % Lanes;
        if (!Vector128.IsHardwareAccelerated)
        {
            Span<float> lanes = stackalloc float[Lanes];
            lanes.Clear();
            for (int k = 0; k < n; k++) lanes[k % Lanes] = MathF.FusedMultiplyAdd(a[k], b[k], lanes[k % Lanes]);
            return Tree(lanes);
        }
        // The tail goes in as one more zero-padded block: a lane past the tail adds 0·0, which leaves it as it was (a
        // lane's sum starts at +0 and can never be −0), so the bits are those of the scalar tail.
        Span<float> tailA = stackalloc float[Lanes], tailB = stackalloc float[Lanes];
        tailA.Clear(); tailB.Clear();
        a[whole..].CopyTo(tailA); b[whole..].CopyTo(tailB);
        ref float x = ref MemoryMarshal.GetReference(a), y = ref MemoryMarshal.GetReference(b);
        ref float tx = ref MemoryMarshal.GetReference(tailA), ty = ref MemoryMarshal.GetReference(tailB);
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (nuint i = 0; i < (nuint)whole; i += Lanes) acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, i), Vector512.LoadUnsafe(ref y, i), acc);
            acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref tx), Vector512.LoadUnsafe(ref ty), acc);
            return Tree(acc.GetLower(), acc.GetUpper());
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> acc0 = default, acc1 = default;
            for (nuint i = 0; i < (nuint)whole; i += Lanes)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, i), Vector256.LoadUnsafe(ref y, i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, i + 8), Vector256.LoadUnsafe(ref y, i + 8), acc1);
            }
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref tx), Vector256.LoadUnsafe(ref ty), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref tx, 8), Vector256.LoadUnsafe(ref ty, 8), acc1);
            return Tree(acc0, acc1);
        }
        {
            Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (nuint i = 0; i <= (nuint)whole; i += Lanes)
            {
                bool tail = i == (nuint)whole;
                ref float p = ref tail ? ref tx : ref Unsafe.Add(ref x, i), q = ref tail ? ref ty : ref Unsafe.Add(ref y, i);
                acc0 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref p), Vector128.LoadUnsafe(ref q), acc0);
                acc1 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref p, 4), Vector128.LoadUnsafe(ref q, 4), acc1);
                acc2 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref p, 8), Vector128.LoadUnsafe(ref q, 8), acc2);
                acc3 = Vector128.FusedMultiplyAdd(Vector128.LoadUnsafe(ref p, 12), Vector128.LoadUnsafe(ref q, 12), acc3);
            }
            return Tree(acc0 + acc2, acc1 + acc3);
        }
    }

    /// <summary>The fixed tree of 16 lanes held as two halves: lanes k and k + 8 first, then k and k + 4, and so on.</summary>
    private static float Tree(Vector256<float> low, Vector256<float> high)
    {
        var eight = low + high;
        return Tree(eight.GetLower(), eight.GetUpper());
    }

    /// <summary>The last three levels of the tree, from the eight sums of lanes k and k + 8 (k = 0…7) in two quarters.</summary>
    private static float Tree(Vector128<float> low, Vector128<float> high)
    {
        var four = low + high;
        float s0 = four.GetElement(0) + four.GetElement(2), s1 = four.GetElement(1) + four.GetElement(3);
        return s0 + s1;
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
