using SpeechEmotion.Core;
using SpeechEmotion.Core.Tensors;

namespace SpeechEmotion.Core.Tests.Tensors;

public class GemmTests
{
    private static (float[] a, int lda, float[] b, int ldb, float[] c, int ldc) Operands(Rng rng, bool ta, bool tb, int m, int n, int k, int pad)
    {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        int aRows = ta ? k : m, bRows = tb ? n : k;
        return (TestData.Random(rng, Math.Max(1, aRows * lda)), lda, TestData.Random(rng, Math.Max(1, bRows * ldb)), ldb,
            TestData.Random(rng, Math.Max(1, m * ldc)), ldc);
    }

    private static void CompareWithReference(Rng rng, bool ta, bool tb, int m, int n, int k, bool accumulate, int pad, WorkerPool? pool)
    {
        var (a, lda, b, ldb, c, ldc) = Operands(rng, ta, tb, m, n, k, pad);
        var expected = (float[])c.Clone();
        Gemm.MultiplyReference(ta, tb, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
        Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate, pool);
        string what = $"C (transA {ta}, transB {tb}, M {m}, N {n}, K {k}, accumulate {accumulate})";
        if (!tb) TestData.Identical(expected, c, what); // same FMA sequence per element: bit-identical
        else TestData.Close(expected, c, 1e-5, 1e-5, what); // dot products sum in another order
    }

    public static TheoryData<bool, bool> Transposes => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void EverySmallSizeMatchesTheReference(bool ta, bool tb)
    {
        var rng = new Rng(11);
        for (int size = 0; size <= 67; size++)
        {
            CompareWithReference(rng, ta, tb, size, 1 + rng.NextInt(40), 1 + rng.NextInt(40), accumulate: false, pad: 0, pool: null);
            CompareWithReference(rng, ta, tb, 1 + rng.NextInt(40), size, 1 + rng.NextInt(40), accumulate: true, pad: 1, pool: null);
            CompareWithReference(rng, ta, tb, 1 + rng.NextInt(40), 1 + rng.NextInt(40), size, accumulate: size % 2 == 0, pad: 0, pool: null);
        }
    }

    [Theory]
    [MemberData(nameof(Transposes))]
    public void RandomLargerSizesMatchTheReferenceOnTwoThreads(bool ta, bool tb)
    {
        var rng = new Rng(12);
        using var pool = new WorkerPool(2);
        for (int trial = 0; trial < 6; trial++)
            CompareWithReference(rng, ta, tb, 60 + rng.NextInt(150), 60 + rng.NextInt(150), 200 + rng.NextInt(400),
                accumulate: trial % 2 == 1, pad: trial % 3, pool);
    }

    [Fact]
    public void PrepackedBGivesTheSameBitsAsThePlainProduct()
    {
        var rng = new Rng(14);
        using var pool = new WorkerPool(2);
        for (int trial = 0; trial < 40; trial++)
        {
            int m = 1 + rng.NextInt(80), n = 1 + rng.NextInt(90), k = 1 + rng.NextInt(600), pad = trial % 3;
            var (a, lda, b, ldb, c, ldc) = Operands(rng, false, false, m, n, k, pad);
            var expected = (float[])c.Clone();
            bool accumulate = trial % 2 == 0;
            Gemm.MultiplyReference(false, false, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
            var packed = new float[Gemm.PackedLength(k, n)];
            if (trial % 2 == 0) Gemm.PackB(k, n, b, ldb, packed);
            else
            {
                var bt = new float[n * (k + pad)];
                for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * (k + pad) + p] = b[p * ldb + j];
                Gemm.PackBTransposed(k, n, bt, k + pad, packed);
            }
            Gemm.MultiplyPacked(m, n, k, a, lda, packed, c, ldc, accumulate, trial % 4 < 2 ? pool : null);
            TestData.Identical(expected, c, $"C (M {m}, N {n}, K {k}, accumulate {accumulate})");
        }
    }

    /// <summary>A row initialisation (an LSTM's bias) gives the bits of copying it into every row and accumulating:
    /// one row and many, edge panels, K over one block, one and two threads; and it refuses to be combined with accumulate.</summary>
    [Fact]
    public void ARowInitialisationGivesTheBitsOfCopyingItIntoEveryRow()
    {
        var rng = new Rng(41);
        using var pool = new WorkerPool(2);
        for (int trial = 0; trial < 40; trial++)
        {
            int m = trial % 5 == 0 ? 1 : 1 + rng.NextInt(300), n = 1 + rng.NextInt(200), k = trial % 7 == 0 ? 0 : 1 + rng.NextInt(400), pad = trial % 3;
            var (a, lda, b, ldb, c, ldc) = Operands(rng, false, false, m, n, k, pad);
            var bias = TestData.Random(rng, n, 2f);
            var expected = (float[])c.Clone();
            for (int i = 0; i < m; i++) bias.CopyTo(expected.AsSpan(i * ldc, n));
            Gemm.MultiplyReference(false, false, m, n, k, a, lda, b, ldb, expected, ldc, accumulate: true);
            var packed = new float[Gemm.PackedLength(k, n)];
            Gemm.PackB(k, n, b, ldb, packed);
            Gemm.MultiplyPacked(m, n, k, a, lda, packed, c, ldc, accumulate: false, trial % 2 == 0 ? pool : null, rowInit: bias);
            TestData.Identical(expected, c, $"C (M {m}, N {n}, K {k})");
        }
        Assert.Throws<ShapeException>(() => Gemm.MultiplyPacked(2, 3, 4, new float[8], 4, new float[Gemm.PackedLength(4, 3)], new float[6], 3, accumulate: true, rowInit: new float[3]));
        Assert.Throws<ShapeException>(() => Gemm.MultiplyPacked(2, 3, 4, new float[8], 4, new float[Gemm.PackedLength(4, 3)], new float[6], 3, accumulate: false, rowInit: new float[2]));
    }

    /// <summary>A single row of C (batch-1 inference) takes its own four-panel kernel: every width and edge.</summary>
    [Theory]
    [MemberData(nameof(Transposes))]
    public void SingleRowProductsMatchTheReference(bool ta, bool tb)
    {
        var rng = new Rng(15);
        using var pool = new WorkerPool(2);
        foreach (int n in new[] { 63, 64, 65, 127, 128, 200, 300, 1024 })
            CompareWithReference(rng, ta, tb, 1, n, 1 + rng.NextInt(700), accumulate: n % 2 == 0, pad: n % 3, n > 200 ? pool : null);
        for (int trial = 0; trial < 10; trial++)
        {
            int n = 64 + rng.NextInt(400), k = 1 + rng.NextInt(300);
            var (a, lda, b, ldb, c, ldc) = Operands(rng, false, false, 1, n, k, 0);
            var expected = (float[])c.Clone();
            Gemm.MultiplyReference(false, false, 1, n, k, a, lda, b, ldb, expected, ldc, accumulate: true);
            var packed = new float[Gemm.PackedLength(k, n)];
            Gemm.PackB(k, n, b, ldb, packed);
            Gemm.MultiplyPacked(1, n, k, a, lda, packed, c, ldc, accumulate: true, pool);
            TestData.Identical(expected, c, $"C (1 × {n}, K {k}, packed B)");
        }
    }

    /// <summary>A disposed pool's workers are gone: a product run on it must fail at once, not wait for them.</summary>
    [Fact]
    public void ADisposedPoolRefusesWorkInsteadOfHanging()
    {
        var rng = new Rng(16);
        var (a, lda, b, ldb, c, ldc) = Operands(rng, false, false, 200, 300, 200, 0);
        var pool = new WorkerPool(2);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Gemm.Multiply(false, false, 200, 300, 200, a, lda, b, ldb, c, ldc, false, pool));
    }

    [Fact]
    public void PrepackedBRejectsAWrongLength()
    {
        var error = Assert.Throws<ShapeException>(() => Gemm.MultiplyPacked(2, 3, 4, new float[8], 4, new float[5], new float[6], 3, false));
        Assert.Contains("packed B", error.Message);
    }

    [Fact]
    public void OneAndTwoThreadsGiveIdenticalBits()
    {
        var rng = new Rng(13);
        var (a, lda, b, ldb, c, ldc) = Operands(rng, true, false, 300, 130, 700, 0);
        var single = (float[])c.Clone();
        using var pool = new WorkerPool(2);
        Gemm.Multiply(true, false, 300, 130, 700, a, lda, b, ldb, single, ldc, accumulate: true, pool: null);
        Gemm.Multiply(true, false, 300, 130, 700, a, lda, b, ldb, c, ldc, accumulate: true, pool);
        TestData.Identical(single, c, "C");
    }

    /// <summary>Two callers sharing one pool: each must get its own product (the pool serialises runs).</summary>
    [Fact]
    public async Task ConcurrentCallersOnOnePoolGetTheirOwnResults()
    {
        using var pool = new WorkerPool(2);
        var tasks = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            var rng = new Rng((ulong)(100 + seed));
            for (int trial = 0; trial < 20; trial++)
                CompareWithReference(rng, seed == 1, false, 200 + 16 * seed, 300, 128 + trial, accumulate: false, pad: 0, pool);
        })).ToArray();
        await Task.WhenAll(tasks);
        Assert.True(pool.ParallelRuns >= 40);
    }

    [Fact]
    public void KnownProduct()
    {
        float[] a = [1, 2, 3, 4, 5, 6]; // 2×3
        float[] b = [7, 8, 9, 10, 11, 12]; // 3×2
        var c = new float[4];
        Gemm.Multiply(false, false, 2, 2, 3, a, 3, b, 2, c, 2, accumulate: false);
        Assert.Equal([58f, 64f, 139f, 154f], c);
        Gemm.Multiply(false, false, 2, 2, 3, a, 3, b, 2, c, 2, accumulate: true);
        Assert.Equal([116f, 128f, 278f, 308f], c);
    }

    [Fact]
    public void TooShortBuffersThrowNamingTheOperand()
    {
        var a = new float[6]; var b = new float[6];
        var error = Assert.Throws<ShapeException>(() => Gemm.Multiply(false, false, 2, 2, 3, a, 3, b, 2, new float[3], 2, false));
        Assert.Contains("C is 2×2", error.Message);
        error = Assert.Throws<ShapeException>(() => Gemm.Multiply(false, false, 2, 2, 3, new float[5], 3, b, 2, new float[4], 2, false));
        Assert.Contains("A is 2×3", error.Message);
        error = Assert.Throws<ShapeException>(() => Gemm.Multiply(false, false, 2, 2, 3, a, 2, b, 2, new float[4], 2, false));
        Assert.Contains("row stride of A is 2", error.Message);
    }
}
