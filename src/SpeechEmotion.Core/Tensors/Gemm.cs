using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SpeechEmotion.Core.Tensors;

/// <summary>
/// Row-major single-precision matrix multiply: <c>C[M,N] = op(A)[M,K] · op(B)[K,N]</c>, or <c>+=</c> when
/// <c>accumulate</c> is set (how backward passes add into gradients).
/// op(X) is X or Xᵀ; <c>lda</c>, <c>ldb</c>, <c>ldc</c> are the row strides of the matrices as stored.
///
/// The main path (op(B) = B, so a row of op(B) is contiguous) is a register-blocked micro-kernel: 4 rows of C by
/// two vectors of columns, the widest of Vector512/256/128 the machine has, accumulated with fused multiply-adds
/// in order p = 0…K-1, starting from C itself when accumulating. K is split in blocks of
/// <see cref="KBlock"/> so a panel of B stays in cache while a band of rows sweeps over it; the partial sum
/// goes through C and comes back unchanged, so every element sees the same sequence of roundings whatever the
/// blocking, vector width or thread that computes it. Hence results are bit-identical to
/// <see cref="MultiplyReference"/> for op(B) = B, and for any thread count.
/// op(B) = Bᵀ with op(A) = A is a dot product per element (TensorPrimitives.Dot); Aᵀ·Bᵀ, which no layer uses,
/// runs the scalar reference.
/// </summary>
public static class Gemm
{
    internal const int RowsPerTile = 4;
    internal const int KBlock = 256;
    private const int TilesPerBand = 16;
    private const long ParallelThresholdFlops = 1 << 17;

    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        bool accumulate, WorkerPool? pool = null)
    {
        Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        if (transposeB && transposeA)
        {
            MultiplyReference(transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        if (transposeB)
        {
            MultiplyDot(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
            return;
        }
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                var job = new PanelJob(pa, transposeA ? 1 : lda, transposeA ? lda : 1, pb, ldb, pc, ldc, m, n, k, accumulate);
                long flops = 2L * m * n * k;
                if (pool is null || pool.Threads == 1 || flops < ParallelThresholdFlops || job.WorkItems == 1)
                {
                    for (int w = 0; w < job.WorkItems; w++) job.Execute(w);
                }
                else
                {
                    pool.RunGemm(job);
                }
            }
        }
    }

    /// <summary>The definition, one element at a time, kept as the reference the fast paths are tested against.</summary>
    public static void MultiplyReference(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float sum = accumulate ? c[i * ldc + j] : 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum = MathF.FusedMultiplyAdd(av, bv, sum);
                }
                c[i * ldc + j] = sum;
            }
    }

    private static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"GEMM sizes must be non-negative, got M={m}, N={n}, K={k}.");
        (int aRows, int aCols) = transposeA ? (k, m) : (m, k);
        (int bRows, int bCols) = transposeB ? (n, k) : (k, n);
        CheckMatrix("A", aRows, aCols, aLength, lda);
        CheckMatrix("B", bRows, bCols, bLength, ldb);
        CheckMatrix("C", m, n, cLength, ldc);
    }

    private static void CheckMatrix(string name, int rows, int cols, int length, int stride)
    {
        if (stride < cols) throw new ShapeException($"GEMM: row stride of {name} is {stride}, smaller than its {cols} columns.");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * stride + cols;
        if (length < needed) throw new ShapeException($"GEMM: {name} is {rows}×{cols} with row stride {stride} and needs {needed} elements, but has {length}.");
    }

    private static void MultiplyDot(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var aRow = a.Slice(i * lda, k);
            var cRow = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                float dot = TensorPrimitives.Dot(aRow, b.Slice(j * ldb, k));
                cRow[j] = accumulate ? cRow[j] + dot : dot;
            }
        }
    }

    /// <summary>The pool keeps one of these so a parallel GEMM allocates nothing.</summary>
    internal sealed class PanelJobBox : IParallelWork
    {
        public PanelJob Job;
        public void Execute(int index) => Job.Execute(index);
    }

    /// <summary>
    /// One GEMM call split into work items: each item is one column panel (two vectors wide) by one band of
    /// row tiles. A(i, p) is read as <c>a[i·strideI + p·strideP]</c>, which covers A and Aᵀ alike.
    /// </summary>
    internal readonly unsafe struct PanelJob
    {
        private readonly float* _a, _b, _c;
        private readonly int _strideI, _strideP, _ldb, _ldc, _m, _n, _k, _panelWidth, _rowTiles, _bands;
        private readonly bool _accumulate;

        public PanelJob(float* a, int strideI, int strideP, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate)
        {
            _a = a; _b = b; _c = c; _strideI = strideI; _strideP = strideP; _ldb = ldb; _ldc = ldc;
            _m = m; _n = n; _k = k; _accumulate = accumulate;
            _panelWidth = 2 * VectorWidth;
            _rowTiles = (m + RowsPerTile - 1) / RowsPerTile;
            _bands = (_rowTiles + TilesPerBand - 1) / TilesPerBand;
            int panels = (n + _panelWidth - 1) / _panelWidth;
            WorkItems = panels * _bands;
        }

        public int WorkItems { get; }

        public void Execute(int item)
        {
            int panel = item / _bands, band = item % _bands;
            int j0 = panel * _panelWidth;
            int columns = Math.Min(_panelWidth, _n - j0);
            int tileStart = band * TilesPerBand, tileEnd = Math.Min(_rowTiles, tileStart + TilesPerBand);
            for (int p0 = 0; p0 < _k; p0 += KBlock)
            {
                int p1 = Math.Min(_k, p0 + KBlock);
                bool fromC = _accumulate || p0 > 0;
                for (int tile = tileStart; tile < tileEnd; tile++)
                {
                    int i0 = tile * RowsPerTile;
                    int rows = Math.Min(RowsPerTile, _m - i0);
                    if (columns == _panelWidth) Tile(i0, rows, j0, p0, p1, fromC);
                    else TileScalar(i0, rows, j0, columns, p0, p1, fromC);
                }
            }
        }

        private void Tile(int i0, int rows, int j0, int p0, int p1, bool fromC)
        {
            // Rows past M read row i0's A (always valid) and are never stored.
            float* a0 = _a + i0 * _strideI;
            float* a1 = _a + (i0 + (rows > 1 ? 1 : 0)) * _strideI;
            float* a2 = _a + (i0 + (rows > 2 ? 2 : 0)) * _strideI;
            float* a3 = _a + (i0 + (rows > 3 ? 3 : 0)) * _strideI;
            float* c0 = _c + i0 * _ldc + j0;
            if (Vector512.IsHardwareAccelerated) Kernel512(a0, a1, a2, a3, _strideP, _b + j0, _ldb, c0, _ldc, rows, p0, p1, fromC);
            else if (Vector256.IsHardwareAccelerated) Kernel256(a0, a1, a2, a3, _strideP, _b + j0, _ldb, c0, _ldc, rows, p0, p1, fromC);
            else if (Vector128.IsHardwareAccelerated) Kernel128(a0, a1, a2, a3, _strideP, _b + j0, _ldb, c0, _ldc, rows, p0, p1, fromC);
            else TileScalar(i0, rows, j0, _panelWidth, p0, p1, fromC);
        }

        private void TileScalar(int i0, int rows, int j0, int columns, int p0, int p1, bool fromC)
        {
            for (int r = 0; r < rows; r++)
            {
                float* aRow = _a + (i0 + r) * _strideI;
                float* cRow = _c + (i0 + r) * _ldc + j0;
                for (int j = 0; j < columns; j++)
                {
                    float sum = fromC ? cRow[j] : 0f;
                    for (int p = p0; p < p1; p++) sum = MathF.FusedMultiplyAdd(aRow[p * _strideP], _b[p * _ldb + j0 + j], sum);
                    cRow[j] = sum;
                }
            }
        }
    }

    internal static int VectorWidth =>
        Vector512.IsHardwareAccelerated ? Vector512<float>.Count :
        Vector256.IsHardwareAccelerated ? Vector256<float>.Count :
        Vector128.IsHardwareAccelerated ? Vector128<float>.Count : 8;

    // The three kernels are the same 4×2-vector register block at three widths (the TensorPrimitives shape):
    // for p in [p0, p1): c[r][v] = fma(A(r, p), B[p, v-th vector], c[r][v]).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Kernel512(float* a0, float* a1, float* a2, float* a3, int strideP, float* b, int ldb,
        float* c, int ldc, int rows, int p0, int p1, bool fromC)
    {
        const int W = 16;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (fromC)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + W);
            c10 = rows > 1 ? Vector512.Load(c + ldc) : default; c11 = rows > 1 ? Vector512.Load(c + ldc + W) : default;
            c20 = rows > 2 ? Vector512.Load(c + 2 * ldc) : default; c21 = rows > 2 ? Vector512.Load(c + 2 * ldc + W) : default;
            c30 = rows > 3 ? Vector512.Load(c + 3 * ldc) : default; c31 = rows > 3 ? Vector512.Load(c + 3 * ldc + W) : default;
        }
        else { c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero; }
        for (int p = p0; p < p1; p++)
        {
            float* bRow = b + (long)p * ldb;
            var b0 = Vector512.Load(bRow);
            var b1 = Vector512.Load(bRow + W);
            long ap = (long)p * strideP;
            var x0 = Vector512.Create(a0[ap]); c00 = Vector512.FusedMultiplyAdd(x0, b0, c00); c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(a1[ap]); c10 = Vector512.FusedMultiplyAdd(x1, b0, c10); c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(a2[ap]); c20 = Vector512.FusedMultiplyAdd(x2, b0, c20); c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(a3[ap]); c30 = Vector512.FusedMultiplyAdd(x3, b0, c30); c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Kernel256(float* a0, float* a1, float* a2, float* a3, int strideP, float* b, int ldb,
        float* c, int ldc, int rows, int p0, int p1, bool fromC)
    {
        const int W = 8;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (fromC)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + W);
            c10 = rows > 1 ? Vector256.Load(c + ldc) : default; c11 = rows > 1 ? Vector256.Load(c + ldc + W) : default;
            c20 = rows > 2 ? Vector256.Load(c + 2 * ldc) : default; c21 = rows > 2 ? Vector256.Load(c + 2 * ldc + W) : default;
            c30 = rows > 3 ? Vector256.Load(c + 3 * ldc) : default; c31 = rows > 3 ? Vector256.Load(c + 3 * ldc + W) : default;
        }
        else { c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero; }
        for (int p = p0; p < p1; p++)
        {
            float* bRow = b + (long)p * ldb;
            var b0 = Vector256.Load(bRow);
            var b1 = Vector256.Load(bRow + W);
            long ap = (long)p * strideP;
            var x0 = Vector256.Create(a0[ap]); c00 = Vector256.FusedMultiplyAdd(x0, b0, c00); c01 = Vector256.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector256.Create(a1[ap]); c10 = Vector256.FusedMultiplyAdd(x1, b0, c10); c11 = Vector256.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector256.Create(a2[ap]); c20 = Vector256.FusedMultiplyAdd(x2, b0, c20); c21 = Vector256.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector256.Create(a3[ap]); c30 = Vector256.FusedMultiplyAdd(x3, b0, c30); c31 = Vector256.FusedMultiplyAdd(x3, b1, c31);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Kernel128(float* a0, float* a1, float* a2, float* a3, int strideP, float* b, int ldb,
        float* c, int ldc, int rows, int p0, int p1, bool fromC)
    {
        const int W = 4;
        Vector128<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (fromC)
        {
            c00 = Vector128.Load(c); c01 = Vector128.Load(c + W);
            c10 = rows > 1 ? Vector128.Load(c + ldc) : default; c11 = rows > 1 ? Vector128.Load(c + ldc + W) : default;
            c20 = rows > 2 ? Vector128.Load(c + 2 * ldc) : default; c21 = rows > 2 ? Vector128.Load(c + 2 * ldc + W) : default;
            c30 = rows > 3 ? Vector128.Load(c + 3 * ldc) : default; c31 = rows > 3 ? Vector128.Load(c + 3 * ldc + W) : default;
        }
        else { c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector128<float>.Zero; }
        for (int p = p0; p < p1; p++)
        {
            float* bRow = b + (long)p * ldb;
            var b0 = Vector128.Load(bRow);
            var b1 = Vector128.Load(bRow + W);
            long ap = (long)p * strideP;
            var x0 = Vector128.Create(a0[ap]); c00 = Vector128.FusedMultiplyAdd(x0, b0, c00); c01 = Vector128.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector128.Create(a1[ap]); c10 = Vector128.FusedMultiplyAdd(x1, b0, c10); c11 = Vector128.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector128.Create(a2[ap]); c20 = Vector128.FusedMultiplyAdd(x2, b0, c20); c21 = Vector128.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector128.Create(a3[ap]); c30 = Vector128.FusedMultiplyAdd(x3, b0, c30); c31 = Vector128.FusedMultiplyAdd(x3, b1, c31);
        }
        c00.Store(c); c01.Store(c + W);
        if (rows > 1) { c10.Store(c + ldc); c11.Store(c + ldc + W); }
        if (rows > 2) { c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + W); }
        if (rows > 3) { c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + W); }
    }
}
