using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// σ(x) and tanh(x) written once, for every vector width and for scalar code alike, so that they give the same bits
/// on every machine: each is a fixed sequence of IEEE operations that round the same way at any width (+, −, ×, ÷,
/// fused multiply-add, comparisons and selects, exponent bits), applied lane by lane. TensorPrimitives' versions are
/// not: their scalar fallback calls the C library, so a model trained with hardware intrinsics off differed.
///
/// exp(x): x = n·ln2 + r with n = round(x·log₂e) and |r| ≤ ln2/2 (Cody and Waite: ln2 in two parts), e^r by its
/// Taylor polynomial to r⁷ (truncation under 6·10⁻⁹ relative), times 2ⁿ built in the exponent bits; x is first
/// clamped to [−87.33, 88] so 2ⁿ stays a normal float. σ(x) = 1/(1 + e^(−x)) with −x clamped at 80, so σ is never
/// subnormal (the smallest is 1.8·10⁻³⁵, which <see cref="Subnormal"/> then flushes). tanh(x) is its odd Taylor
/// polynomial to x¹⁵ for |x| &lt; 0.5 (truncation under 10⁻⁸ relative), else sign(x)·(1 − 2/(e^(2|x|) + 1)).
/// Errors against double precision over the whole float range (ActivationTests; stated in the Core README): σ at most
/// 10⁻⁷ absolute and 2 ulp for inputs above −80 (below, σ is under 2·10⁻³⁵ and flushed to zero anyway); tanh at most
/// 10⁻⁷ absolute and 2·10⁻⁷ relative.
/// </summary>
public static class Activations
{
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Apply<SigmoidOp>(x, y);
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Apply<TanhOp>(x, y);

    public static float Sigmoid(float x) => SigmoidOp.Invoke(new Lane1(x)).Value;
    public static float Tanh(float x) => TanhOp.Invoke(new Lane1(x)).Value;

    /// <summary>σ on every lane, for kernels that fuse it with their other element-wise work (the LSTM cell).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Sigmoid<T>(T x) where T : struct, ILanes<T> => SigmoidOp.Invoke(x);

    /// <summary>tanh on every lane, as <see cref="Sigmoid{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Tanh<T>(T x) where T : struct, ILanes<T> => TanhOp.Invoke(x);

    private interface IOp
    {
        static abstract T Invoke<T>(T x) where T : struct, ILanes<T>;
    }

    private static void Apply<TOp>(ReadOnlySpan<float> x, Span<float> y) where TOp : IOp
    {
        if (y.Length < x.Length) throw new ShapeException($"Activations: the destination has {y.Length} elements for {x.Length} inputs.");
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) TOp.Invoke(Lane16.Load(x[i..])).Store(y[i..]);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) TOp.Invoke(Lane8.Load(x[i..])).Store(y[i..]);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4) TOp.Invoke(Lane4.Load(x[i..])).Store(y[i..]);
        for (; i < n; i++) y[i] = TOp.Invoke(new Lane1(x[i])).Value;
    }

    private const float Log2E = 1.44269504f, Ln2Hi = 0.693145751953125f, Ln2Lo = 1.42860677e-6f;
    private const float RoundMagic = 12582912f; // 1.5·2²³: adding and subtracting it rounds to an integer (to even)

    /// <summary>e^x for x in [−87.33, 88] (callers clamp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Exp<T>(T x) where T : struct, ILanes<T>
    {
        T n = T.Fma(x, T.Create(Log2E), T.Create(RoundMagic)) - T.Create(RoundMagic);
        T r = T.Fma(n, T.Create(-Ln2Hi), x);
        r = T.Fma(n, T.Create(-Ln2Lo), r);
        T p = T.Create(1f / 5040);
        p = T.Fma(p, r, T.Create(1f / 720));
        p = T.Fma(p, r, T.Create(1f / 120));
        p = T.Fma(p, r, T.Create(1f / 24));
        p = T.Fma(p, r, T.Create(1f / 6));
        p = T.Fma(p, r, T.Create(0.5f));
        p = T.Fma(p, r, T.Create(1f));
        p = T.Fma(p, r, T.Create(1f));
        return p * T.Pow2(n);
    }

    private readonly struct SigmoidOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Invoke<T>(T x) where T : struct, ILanes<T>
        {
            T minusX = T.Clamp(T.Create(0f) - x, T.Create(-87.33f), T.Create(80f));
            return T.Create(1f) / (T.Create(1f) + Exp(minusX));
        }
    }

    private readonly struct TanhOp : IOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Invoke<T>(T x) where T : struct, ILanes<T>
        {
            T a = T.Abs(x);
            // |x| < 0.5: x + x·x²·P(x²), the Taylor series of tanh to x¹⁵.
            T s = x * x;
            T p = T.Create(-929569f / 638512875);
            p = T.Fma(p, s, T.Create(21844f / 6081075));
            p = T.Fma(p, s, T.Create(-1382f / 155925));
            p = T.Fma(p, s, T.Create(62f / 2835));
            p = T.Fma(p, s, T.Create(-17f / 315));
            p = T.Fma(p, s, T.Create(2f / 15));
            p = T.Fma(p, s, T.Create(-1f / 3));
            T small = T.Fma(x * s, p, x);
            // Otherwise: 1 − 2/(e^(2|x|) + 1), with x's sign.
            T e = Exp(T.Clamp(a + a, T.Create(0f), T.Create(80f)));
            T large = T.CopySign(T.Create(1f) - T.Create(2f) / (e + T.Create(1f)), x);
            return T.SelectWhereLess(a, T.Create(0.5f), small, large);
        }
    }
}

/// <summary>
/// The operations <see cref="Activations"/> is written in, for one float and for 4, 8 and 16 lanes: each member does
/// the same IEEE operation on every lane, so one algorithm gives the same bits at every width.
/// </summary>
internal interface ILanes<T> where T : struct, ILanes<T>
{
    /// <summary>How many floats one value holds.</summary>
    static abstract int Count { get; }
    /// <summary>The lanes at <paramref name="source"/>[i…]. Each width writes its bounds check inline: one shared helper
    /// (a conditional with an out-of-line throw) made the LSTM cell's pass 60 % slower (perf, SEED forward).</summary>
    static abstract T Load(ReadOnlySpan<float> source, int i);
    /// <summary>Writes the lanes to <paramref name="destination"/>[i…].</summary>
    void Store(Span<float> destination, int i);
    /// <summary>Lanes of magnitude under <see cref="Subnormal.Floor"/> become +0, as <see cref="Subnormal.Flush(float)"/>.</summary>
    static abstract T Flush(T a);
    static abstract T Create(float value);
    static abstract T operator +(T a, T b);
    static abstract T operator -(T a, T b);
    static abstract T operator *(T a, T b);
    static abstract T operator /(T a, T b);
    static abstract T Fma(T a, T b, T c);
    static abstract T Abs(T a);
    /// <summary>a &lt; low → low, a &gt; high → high, else a (NaN stays NaN).</summary>
    static abstract T Clamp(T a, T low, T high);
    /// <summary>|magnitude| with the sign bit of sign.</summary>
    static abstract T CopySign(T magnitude, T sign);
    /// <summary>Lane-wise a &lt; b ? ifLess : otherwise.</summary>
    static abstract T SelectWhereLess(T a, T b, T ifLess, T otherwise);
    /// <summary>2ⁿ for integral n in [−126, 127], built in the exponent bits.</summary>
    static abstract T Pow2(T n);
}

internal readonly struct Lane1(float value) : ILanes<Lane1>
{
    public readonly float Value = value;
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Load(ReadOnlySpan<float> source, int i) => new(source[i]);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int i) => destination[i] = Value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Flush(Lane1 a) => new(Subnormal.Flush(a.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Create(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator +(Lane1 a, Lane1 b) => new(a.Value + b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator -(Lane1 a, Lane1 b) => new(a.Value - b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator *(Lane1 a, Lane1 b) => new(a.Value * b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 operator /(Lane1 a, Lane1 b) => new(a.Value / b.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Fma(Lane1 a, Lane1 b, Lane1 c) => new(MathF.FusedMultiplyAdd(a.Value, b.Value, c.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Abs(Lane1 a) => new(MathF.Abs(a.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Clamp(Lane1 a, Lane1 low, Lane1 high) => new(a.Value < low.Value ? low.Value : a.Value > high.Value ? high.Value : a.Value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 CopySign(Lane1 magnitude, Lane1 sign) => new(MathF.CopySign(magnitude.Value, sign.Value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 SelectWhereLess(Lane1 a, Lane1 b, Lane1 ifLess, Lane1 otherwise) => a.Value < b.Value ? ifLess : otherwise;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane1 Pow2(Lane1 n) => new(BitConverter.Int32BitsToSingle(((int)n.Value + 127) << 23));
}

internal readonly struct Lane4(Vector128<float> value) : ILanes<Lane4>
{
    private readonly Vector128<float> _v = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Load(ReadOnlySpan<float> s) => Load(s, 0);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> s) => Store(s, 0);
    public static int Count => 4;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Load(ReadOnlySpan<float> source, int i)
    {
        if ((uint)i > (uint)source.Length - 4u || source.Length < 4) throw new IndexOutOfRangeException();
        return new(Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int i)
    {
        if ((uint)i > (uint)destination.Length - 4u || destination.Length < 4) throw new IndexOutOfRangeException();
        _v.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Flush(Lane4 a) => new(Subnormal.Flush(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Create(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 operator +(Lane4 a, Lane4 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 operator -(Lane4 a, Lane4 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 operator *(Lane4 a, Lane4 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 operator /(Lane4 a, Lane4 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Fma(Lane4 a, Lane4 b, Lane4 c) => new(Vector128.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Abs(Lane4 a) => new(Vector128.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Clamp(Lane4 a, Lane4 low, Lane4 high) =>
        new(Vector128.ConditionalSelect(Vector128.LessThan(a._v, low._v), low._v, Vector128.ConditionalSelect(Vector128.GreaterThan(a._v, high._v), high._v, a._v)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 CopySign(Lane4 magnitude, Lane4 sign) => new(Vector128.CopySign(magnitude._v, sign._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 SelectWhereLess(Lane4 a, Lane4 b, Lane4 ifLess, Lane4 otherwise) => new(Vector128.ConditionalSelect(Vector128.LessThan(a._v, b._v), ifLess._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane4 Pow2(Lane4 n) => new(Vector128.ShiftLeft(Vector128.ConvertToInt32(n._v) + Vector128.Create(127), 23).AsSingle());
}

internal readonly struct Lane8(Vector256<float> value) : ILanes<Lane8>
{
    private readonly Vector256<float> _v = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Load(ReadOnlySpan<float> s) => Load(s, 0);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> s) => Store(s, 0);
    public static int Count => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Load(ReadOnlySpan<float> source, int i)
    {
        if ((uint)i > (uint)source.Length - 8u || source.Length < 8) throw new IndexOutOfRangeException();
        return new(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int i)
    {
        if ((uint)i > (uint)destination.Length - 8u || destination.Length < 8) throw new IndexOutOfRangeException();
        _v.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Flush(Lane8 a) => new(Subnormal.Flush(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Create(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 operator +(Lane8 a, Lane8 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 operator -(Lane8 a, Lane8 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 operator *(Lane8 a, Lane8 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 operator /(Lane8 a, Lane8 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Fma(Lane8 a, Lane8 b, Lane8 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Abs(Lane8 a) => new(Vector256.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Clamp(Lane8 a, Lane8 low, Lane8 high) =>
        new(Vector256.ConditionalSelect(Vector256.LessThan(a._v, low._v), low._v, Vector256.ConditionalSelect(Vector256.GreaterThan(a._v, high._v), high._v, a._v)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 CopySign(Lane8 magnitude, Lane8 sign) => new(Vector256.CopySign(magnitude._v, sign._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 SelectWhereLess(Lane8 a, Lane8 b, Lane8 ifLess, Lane8 otherwise) => new(Vector256.ConditionalSelect(Vector256.LessThan(a._v, b._v), ifLess._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane8 Pow2(Lane8 n) => new(Vector256.ShiftLeft(Vector256.ConvertToInt32(n._v) + Vector256.Create(127), 23).AsSingle());
}

internal readonly struct Lane16(Vector512<float> value) : ILanes<Lane16>
{
    private readonly Vector512<float> _v = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Load(ReadOnlySpan<float> s) => Load(s, 0);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> s) => Store(s, 0);
    public static int Count => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Load(ReadOnlySpan<float> source, int i)
    {
        if ((uint)i > (uint)source.Length - 16u || source.Length < 16) throw new IndexOutOfRangeException();
        return new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)i));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(Span<float> destination, int i)
    {
        if ((uint)i > (uint)destination.Length - 16u || destination.Length < 16) throw new IndexOutOfRangeException();
        _v.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)i);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Flush(Lane16 a) => new(Subnormal.Flush(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Create(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 operator +(Lane16 a, Lane16 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 operator -(Lane16 a, Lane16 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 operator *(Lane16 a, Lane16 b) => new(a._v * b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 operator /(Lane16 a, Lane16 b) => new(a._v / b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Fma(Lane16 a, Lane16 b, Lane16 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Abs(Lane16 a) => new(Vector512.Abs(a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Clamp(Lane16 a, Lane16 low, Lane16 high) =>
        new(Vector512.ConditionalSelect(Vector512.LessThan(a._v, low._v), low._v, Vector512.ConditionalSelect(Vector512.GreaterThan(a._v, high._v), high._v, a._v)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 CopySign(Lane16 magnitude, Lane16 sign) => new(Vector512.CopySign(magnitude._v, sign._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 SelectWhereLess(Lane16 a, Lane16 b, Lane16 ifLess, Lane16 otherwise) => new(Vector512.ConditionalSelect(Vector512.LessThan(a._v, b._v), ifLess._v, otherwise._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lane16 Pow2(Lane16 n) => new(Vector512.ShiftLeft(Vector512.ConvertToInt32(n._v) + Vector512.Create(127), 23).AsSingle());
}
